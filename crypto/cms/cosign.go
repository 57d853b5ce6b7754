package cms

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"slices"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// CoSign adds a parallel signer (RFC 5652, 5.1: SignerInfos is a SET) to the
// SignedData read from msg and writes the co-signed message to out, in
// memory independent of the content's size. The existing signers are kept
// byte for byte and are not verified here: that is the verifier's job, for
// each signer. An attached message's content is streamed from msg to out
// (as Writer writes it, BER of indefinite length) through the co-signer's
// digest; a detached message needs its content streamed again from
// content, and stays detached and DER. The co-signer signs the message's
// content type, which must be opts.ContentType (id-data when zero), so a
// co-signer never signs a type it did not mean to.
func CoSign(out io.Writer, msg, content io.Reader, cert *x509.Certificate, key crypto.Signer, opts *SignOptions) error {
	if opts != nil && (opts.NoSignedAttributes || opts.Detached) {
		return errors.New("cms: a co-signature has signed attributes and keeps the message's form")
	}
	sp, err := newSignerParams(cert, key, opts)
	if err != nil {
		return err
	}
	p := &streamParser{s: newBERStream(msg)}
	if err := p.head(); err != nil {
		return err
	}
	var ct []byte
	ctBody := cryptobyte.String(p.ctype)
	if !ctBody.ReadASN1((*cryptobyte.String)(&ct), cbasn1.OBJECT_IDENTIFIER) {
		return ErrMalformed
	}
	want, _ := sp.contentType.MarshalBinary()
	if !bytes.Equal(ct, want) {
		return fmt.Errorf("%w: the message's content type is not the one to co-sign", ErrContentType)
	}
	digestAlgs := p.digestAlgList()
	if !slices.ContainsFunc(digestAlgs, func(a []byte) bool { return bytes.Equal(a, algorithmNULL(sp.dalg.oid)) }) {
		digestAlgs = append(digestAlgs, algorithmNULL(sp.dalg.oid))
	}
	h := sp.dalg.new()
	// Attached content goes out as it comes in: the header is written
	// before the first byte and only if there is content.
	var cw *chunkWriter
	if end, err := p.s.atEnd(p.encap); err != nil {
		return err
	} else if !end {
		cw = &chunkWriter{out: out, buf: make([]byte, 0, StreamChunk), head: streamHead(sp.contentType, digestAlgs)}
	}
	var sink io.Writer = h
	if cw != nil {
		sink = io.MultiWriter(h, cw)
	}
	attached, err := p.content(sink)
	if err != nil {
		return err
	}
	if err := p.tail(); err != nil {
		return err
	}
	sd, err := p.signedData()
	if err != nil {
		return err
	}
	if !attached {
		if content == nil {
			return ErrNoContent
		}
		if _, err := io.Copy(h, content); err != nil {
			return fmt.Errorf("cms: reading the content: %w", err)
		}
	} else if content != nil {
		return errors.New("cms: the message carries its content; co-sign it without another")
	}
	si, err := sp.signerInfo(h.Sum(nil), nil)
	if err != nil {
		return err
	}
	certs := certRaws(sd.Certificates)
	for _, c := range certRaws(sp.certs) {
		if !slices.ContainsFunc(certs, func(have []byte) bool { return bytes.Equal(have, c) }) {
			certs = append(certs, c)
		}
	}
	signers := append(p.signerInfoList(), si)
	if !attached {
		_, err := out.Write(assembleDER(sd.ContentType, nil, false, digestAlgs, certs, signers))
		return err
	}
	if err := cw.flush(); err != nil {
		return err
	}
	_, err = out.Write(streamTail(p.crls(), certs, signers))
	return err
}

// chunkWriter writes what it is given as OCTET STRING segments of
// StreamChunk bytes, after head; flush writes head if nothing did.
type chunkWriter struct {
	out  io.Writer
	buf  []byte
	head []byte
}

func (c *chunkWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		k := min(len(p), StreamChunk-len(c.buf))
		c.buf = append(c.buf, p[:k]...)
		p = p[k:]
		if len(c.buf) == StreamChunk {
			if err := c.flush(); err != nil {
				return n - len(p), err
			}
		}
	}
	return n, nil
}

func (c *chunkWriter) flush() error {
	if c.head != nil {
		if _, err := c.out.Write(c.head); err != nil {
			return err
		}
		c.head = nil
	}
	if len(c.buf) == 0 {
		return nil
	}
	var hdr [6]byte
	h := appendTLVHeader(hdr[:0], 0x04, len(c.buf))
	if _, err := c.out.Write(h); err != nil {
		return err
	}
	_, err := c.out.Write(c.buf)
	c.buf = c.buf[:0]
	return err
}

// digestAlgList is the message's DER AlgorithmIdentifiers.
func (p *streamParser) digestAlgList() [][]byte {
	return elementsOf(p.digestAlgs, cbasn1.SET)
}

// signerInfoList is the message's DER SignerInfos, as found.
func (p *streamParser) signerInfoList() [][]byte {
	for _, el := range p.rest {
		if el[0] == 0x31 {
			return elementsOf(el, cbasn1.SET)
		}
	}
	return nil
}

// crls is the message's CRLs element [1], or nil.
func (p *streamParser) crls() []byte {
	for _, el := range p.rest {
		if el[0] == 0xa1 {
			return el
		}
	}
	return nil
}

func elementsOf(der []byte, tag cbasn1.Tag) [][]byte {
	s := cryptobyte.String(der)
	var body cryptobyte.String
	if !s.ReadASN1(&body, tag) {
		return nil
	}
	var out [][]byte
	for !body.Empty() {
		var el cryptobyte.String
		var t cbasn1.Tag
		if !body.ReadAnyASN1Element(&el, &t) {
			return nil
		}
		out = append(out, el)
	}
	return out
}

// appendTLVHeader appends a DER tag and length (as appendTLV writes them).
func appendTLVHeader(out []byte, tag byte, n int) []byte {
	out = append(out, tag)
	switch {
	case n < 0x80:
		return append(out, byte(n))
	case n < 0x100:
		return append(out, 0x81, byte(n))
	case n < 0x10000:
		return append(out, 0x82, byte(n>>8), byte(n))
	case n < 0x1000000:
		return append(out, 0x83, byte(n>>16), byte(n>>8), byte(n))
	}
	return append(out, 0x84, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}
