package cms

import (
	"crypto"
	"crypto/x509"
	"errors"
	"hash"
	"io"
)

// StreamChunk is the size of the OCTET STRING segments a Writer emits for
// attached content: the memory it holds whatever the document's size.
const StreamChunk = 64 << 10

// Writer makes a SignedData with one signer while the content is written to
// it, in memory independent of the content's size: the content goes
// through the digest as it comes and, when attached, straight to the output
// as a BER constructed OCTET STRING of StreamChunk segments inside
// indefinite lengths (RFC 5652, 5.2 allows BER; OpenSSL's cms -stream
// writes the same). A detached signature is DER, written by Close. Close
// signs (the token's PIN is asked then, by the key) and writes the rest.
//
// The signature always has signed attributes: without them it would cover
// the content itself, which a token that hashes by itself would need whole.
type Writer struct {
	p    *signerParams
	h    hash.Hash
	out  io.Writer
	cw   *chunkWriter // attached only
	done bool
	err  error
}

// NewWriter returns a Writer writing the message to out; opts as for Sign,
// but NoSignedAttributes is refused.
func NewWriter(out io.Writer, cert *x509.Certificate, key crypto.Signer, opts *SignOptions) (*Writer, error) {
	if opts != nil && opts.NoSignedAttributes {
		return nil, errors.New("cms: a streamed signature needs signed attributes")
	}
	p, err := newSignerParams(cert, key, opts)
	if err != nil {
		return nil, err
	}
	w := &Writer{p: p, h: p.dalg.new(), out: out}
	if !p.opts.Detached {
		w.cw = &chunkWriter{out: out, buf: make([]byte, 0, StreamChunk), head: streamHead(p.contentType, [][]byte{algorithmNULL(p.dalg.oid)})}
	}
	return w, nil
}

// Write hashes p and, when attached, passes it on to the output.
func (w *Writer) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if w.done {
		return 0, errors.New("cms: write after Close")
	}
	w.h.Write(p)
	if w.cw == nil {
		return len(p), nil
	}
	n, err := w.cw.Write(p)
	w.err = err
	return n, err
}

// Close signs and writes the rest of the message. The output is complete
// only if Close returns nil.
func (w *Writer) Close() error {
	if w.err != nil || w.done {
		return w.err
	}
	w.done = true
	if w.cw != nil {
		if w.err = w.cw.flush(); w.err != nil {
			return w.err
		}
	}
	si, err := w.p.signerInfo(w.h.Sum(nil), nil)
	if err != nil {
		w.err = err
		return err
	}
	var out []byte
	if w.cw == nil {
		out = assembleDER(w.p.contentType, nil, false, [][]byte{algorithmNULL(w.p.dalg.oid)}, certRaws(w.p.certs), [][]byte{si})
	} else {
		out = streamTail(nil, certRaws(w.p.certs), [][]byte{si})
	}
	_, w.err = w.out.Write(out)
	return w.err
}

// streamHead is an attached SignedData up to its first content segment:
// ContentInfo, [0], SignedData, encapContentInfo, its [0] and the
// constructed OCTET STRING, all of indefinite length.
func streamHead(contentType x509.OID, digestAlgs [][]byte) []byte {
	out := []byte{0x30, 0x80}
	out = appendTLV(out, []byte{0x06}, oidSignedDataBody())
	out = append(out, 0xa0, 0x80, 0x30, 0x80)
	out = append(out, 0x02, 0x01, 0x01) // version 1, as Sign writes
	var set []byte
	for _, a := range sortedDER(digestAlgs) {
		set = append(set, a...)
	}
	out = appendTLV(out, []byte{0x31}, set)
	out = append(out, 0x30, 0x80)
	ct, _ := contentType.MarshalBinary()
	out = appendTLV(out, []byte{0x06}, ct)
	return append(out, 0xa0, 0x80, 0x24, 0x80)
}

// streamTail closes what streamHead opened (the OCTET STRING, [0],
// encapContentInfo) and writes the certificates, CRLs (DER elements
// [1], kept as found) and SignerInfos, then the end-of-contents of
// SignedData, [0] and ContentInfo.
func streamTail(crls []byte, certs, signerInfos [][]byte) []byte {
	out := []byte{0, 0, 0, 0, 0, 0}
	var body []byte
	for _, c := range sortedDER(certs) {
		body = append(body, c...)
	}
	out = appendTLV(out, []byte{0xa0}, body)
	out = append(out, crls...)
	body = body[:0]
	for _, si := range signerInfos {
		body = append(body, si...)
	}
	out = appendTLV(out, []byte{0x31}, body)
	return append(out, 0, 0, 0, 0, 0, 0)
}

func oidSignedDataBody() []byte {
	oid, _ := x509.OIDFromInts([]uint64{1, 2, 840, 113549, 1, 7, 2})
	body, _ := oid.MarshalBinary()
	return body
}
