package cms

import (
	"bufio"
	"bytes"
	"crypto/subtle"
	"encoding/asn1"
	"errors"
	"fmt"
	"hash"
	"io"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// MaxStreamOverhead bounds what ParseStream holds of a message besides its
// content (certificates, CRLs, SignerInfos): the content itself, of any
// size, is only hashed.
const MaxStreamOverhead = 16 << 20

// ParseStream reads a DER or BER ContentInfo holding SignedData from r in
// memory independent of the encapsulated content's size: the content, of
// any length and in any BER form, goes through the digest of every
// algorithm the message lists in digestAlgorithms (and to content, when
// not nil) and is not kept, so the returned SignedData has a nil Content
// and Attached set. VerifySigner then checks the signers against those
// digests; a detached message needs HashContent first.
func ParseStream(r io.Reader, content io.Writer) (*SignedData, error) {
	p := &streamParser{s: newBERStream(r)}
	if err := p.head(); err != nil {
		return nil, err
	}
	hashes := map[string]*hashOf{}
	for _, oid := range p.digestOIDs {
		if d := digestByOID(oid); d != nil {
			hashes[oid.String()] = &hashOf{d: d, h: d.new()}
		}
	}
	var sink io.Writer = multiHash(hashes)
	if content != nil {
		sink = io.MultiWriter(sink, content)
	}
	attached, err := p.content(sink)
	if err != nil {
		return nil, err
	}
	if err := p.tail(); err != nil {
		return nil, err
	}
	sd, err := p.signedData()
	if err != nil {
		return nil, err
	}
	if attached {
		sd.Attached = true
		sd.digests = map[string][]byte{}
		for k, h := range hashes {
			sd.digests[k] = h.h.Sum(nil)
		}
	}
	return sd, nil
}

// HashContent reads the content of a detached signature and keeps its
// digest for each algorithm the signers name, so that VerifySigner needs
// no content. On an attached message it checks that r is the content
// carried, failing with ErrDigestMismatch otherwise.
func (sd *SignedData) HashContent(r io.Reader) error {
	hashes := map[string]*hashOf{}
	for _, si := range sd.Signers {
		if d := digestByOID(si.DigestAlgorithm); d != nil {
			hashes[d.oid.String()] = &hashOf{d: d, h: d.new()}
		}
	}
	if _, err := io.Copy(multiHash(hashes), r); err != nil {
		return fmt.Errorf("cms: reading the content: %w", err)
	}
	got := map[string][]byte{}
	for k, h := range hashes {
		got[k] = h.h.Sum(nil)
	}
	if !sd.Attached {
		sd.digests = got
		return nil
	}
	for k, sum := range got {
		want, err := sd.contentDigest(digestByOID(hashes[k].d.oid))
		if err != nil {
			return err
		}
		if subtle.ConstantTimeCompare(sum, want) != 1 {
			return ErrDigestMismatch
		}
	}
	return nil
}

// contentDigest is the digest of the message's content with d: from the
// streamed digests, or computed over Content.
func (sd *SignedData) contentDigest(d *digestAlg) ([]byte, error) {
	if sd.digests != nil {
		sum, ok := sd.digests[d.oid.String()]
		if !ok {
			return nil, fmt.Errorf("%w: digest %v not listed in digestAlgorithms", ErrMalformed, d.oid)
		}
		return sum, nil
	}
	if !sd.Attached {
		return nil, ErrNoContent
	}
	h := d.new()
	h.Write(sd.Content)
	return h.Sum(nil), nil
}

type hashOf struct {
	d *digestAlg
	h hash.Hash
}

type multiHash map[string]*hashOf

func (m multiHash) Write(p []byte) (int, error) {
	for _, h := range m {
		h.h.Write(p)
	}
	return len(p), nil
}

// streamParser reads a SignedData in three steps: head (up to the
// content), content, tail (certificates, CRLs, SignerInfos), keeping the
// small parts as DER for the in-memory parser.
type streamParser struct {
	s          *berStream
	outer      []frame // ContentInfo, [0], SignedData
	encap      frame
	version    []byte // DER INTEGER
	digestAlgs []byte // DER SET
	digestOIDs []asn1.ObjectIdentifier
	ctype      []byte // DER OBJECT IDENTIFIER
	rest       [][]byte
}

func (p *streamParser) head() error {
	s := p.s
	open := func(want byte) error {
		f, err := s.open(want)
		if err != nil {
			return err
		}
		p.outer = append(p.outer, f)
		return nil
	}
	if err := open(0x30); err != nil {
		return err
	}
	oid, err := s.element(0x06, 64)
	if err != nil {
		return err
	}
	if !bytes.Equal(oid, appendTLV(nil, []byte{0x06}, oidSignedDataBody())) {
		return fmt.Errorf("%w: content type is not signedData", ErrMalformed)
	}
	if err := open(0xa0); err != nil {
		return err
	}
	if err := open(0x30); err != nil {
		return err
	}
	if p.version, err = s.element(0x02, 16); err != nil {
		return err
	}
	if p.digestAlgs, err = s.element(0x31, 4096); err != nil {
		return err
	}
	set := cryptobyte.String(p.digestAlgs)
	var algs cryptobyte.String
	if !set.ReadASN1(&algs, cbasn1.SET) {
		return ErrMalformed
	}
	var ok bool
	if p.digestOIDs, ok = listedDigests(algs); !ok {
		return ErrMalformed
	}
	if p.encap, err = s.open(0x30); err != nil {
		return err
	}
	p.ctype, err = s.element(0x06, 1024)
	return err
}

// content streams the encapsulated content, if any, to w.
func (p *streamParser) content(w io.Writer) (attached bool, err error) {
	s := p.s
	end, err := s.atEnd(p.encap)
	if err != nil || end {
		return false, s.close(p.encap, err)
	}
	explicit, err := s.open(0xa0)
	if err != nil {
		return false, err
	}
	if err := s.octets(w, 0); err != nil {
		return false, err
	}
	if err := s.close(explicit, nil); err != nil {
		return false, err
	}
	return true, s.close(p.encap, nil)
}

// tail reads the rest of SignedData and the ends of what encloses it.
func (p *streamParser) tail() error {
	s := p.s
	sdFrame := p.outer[2]
	budget := MaxStreamOverhead
	for {
		end, err := s.atEnd(sdFrame)
		if err != nil {
			return err
		}
		if end {
			break
		}
		if len(p.rest) == 3 {
			return fmt.Errorf("%w: more than certificates, CRLs and SignerInfos", ErrMalformed)
		}
		el, err := s.element(0, budget)
		if err != nil {
			return err
		}
		budget -= len(el)
		p.rest = append(p.rest, el)
	}
	for i := len(p.outer) - 1; i >= 0; i-- {
		if err := s.close(p.outer[i], nil); err != nil {
			return err
		}
	}
	if _, err := s.r.ReadByte(); err != io.EOF {
		return fmt.Errorf("%w: trailing data", ErrMalformed)
	}
	return nil
}

// signedData parses the held parts as the detached message they make.
func (p *streamParser) signedData() (*SignedData, error) {
	var body []byte
	body = append(body, p.version...)
	body = append(body, p.digestAlgs...)
	body = appendTLV(body, []byte{0x30}, p.ctype)
	for _, el := range p.rest {
		body = append(body, el...)
	}
	sd := appendTLV(nil, []byte{0x30}, body)
	ci := appendTLV(nil, []byte{0x06}, oidSignedDataBody())
	ci = append(ci, appendTLV(nil, []byte{0xa0}, sd)...)
	return parseDER(appendTLV(nil, []byte{0x30}, ci))
}

// berStream reads BER from a stream, counting its position so that
// definite lengths can be checked without holding what they enclose.
type berStream struct {
	r   *bufio.Reader
	pos int64
	buf []byte // for copying content, allocated once
}

func newBERStream(r io.Reader) *berStream {
	return &berStream{r: bufio.NewReaderSize(r, 64<<10)}
}

// frame is an open constructed element: indefinite, or ending at end.
type frame struct {
	indefinite bool
	end        int64
}

const maxOctetsDepth = 8

func (s *berStream) readByte() (byte, error) {
	b, err := s.r.ReadByte()
	if err != nil {
		return 0, fmt.Errorf("%w: truncated", ErrMalformed)
	}
	s.pos++
	return b, nil
}

// header reads a tag (low-number form only: CMS needs no other) and a
// length; raw is both as read.
func (s *berStream) header() (tag byte, length int64, indefinite bool, raw []byte, err error) {
	if tag, err = s.readByte(); err != nil {
		return
	}
	if tag&0x1f == 0x1f {
		return 0, 0, false, nil, fmt.Errorf("%w: high tag number", ErrMalformed)
	}
	raw = append(raw, tag)
	b, err := s.readByte()
	if err != nil {
		return
	}
	raw = append(raw, b)
	switch {
	case b < 0x80:
		length = int64(b)
	case b == 0x80:
		if tag&0x20 == 0 {
			return 0, 0, false, nil, fmt.Errorf("%w: indefinite length on a primitive", ErrMalformed)
		}
		indefinite = true
	default:
		k := int(b & 0x7f)
		if k > 7 {
			return 0, 0, false, nil, fmt.Errorf("%w: bad length", ErrMalformed)
		}
		for range k {
			c, err := s.readByte()
			if err != nil {
				return 0, 0, false, nil, err
			}
			raw = append(raw, c)
			length = length<<8 | int64(c)
		}
	}
	return tag, length, indefinite, raw, nil
}

// open reads the header of a constructed element with tag want.
func (s *berStream) open(want byte) (frame, error) {
	tag, n, indef, _, err := s.header()
	if err != nil {
		return frame{}, err
	}
	if tag != want {
		return frame{}, fmt.Errorf("%w: tag %#x where %#x belongs", ErrMalformed, tag, want)
	}
	return frame{indefinite: indef, end: s.pos + n}, nil
}

// atEnd says whether f has no more elements.
func (s *berStream) atEnd(f frame) (bool, error) {
	if !f.indefinite {
		if s.pos > f.end {
			return false, fmt.Errorf("%w: element overruns its parent", ErrMalformed)
		}
		return s.pos == f.end, nil
	}
	b, err := s.r.Peek(2)
	if err != nil {
		return false, fmt.Errorf("%w: missing end-of-contents", ErrMalformed)
	}
	return b[0] == 0 && b[1] == 0, nil
}

// close ends f: reads its end-of-contents, or checks its length was met.
func (s *berStream) close(f frame, err error) error {
	if err != nil {
		return err
	}
	if !f.indefinite {
		if s.pos != f.end {
			return fmt.Errorf("%w: element overruns its parent", ErrMalformed)
		}
		return nil
	}
	for range 2 {
		b, err := s.readByte()
		if err != nil {
			return err
		}
		if b != 0 {
			return fmt.Errorf("%w: missing end-of-contents", ErrMalformed)
		}
	}
	return nil
}

// element reads one whole element of tag want (any tag if 0), at most max
// bytes, and returns it as DER.
func (s *berStream) element(want byte, max int) ([]byte, error) {
	raw, err := s.raw(nil, 0, &max)
	if err != nil {
		return nil, err
	}
	if want != 0 && raw[0] != want {
		return nil, fmt.Errorf("%w: tag %#x where %#x belongs", ErrMalformed, raw[0], want)
	}
	der, err := toDER(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return der, nil
}

// raw appends one element as found to out, within the budget left.
func (s *berStream) raw(out []byte, depth int, left *int) ([]byte, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("%w: nested deeper than %d", ErrMalformed, maxDepth)
	}
	_, n, indef, hdr, err := s.header()
	if err != nil {
		return nil, err
	}
	if *left -= len(hdr); *left < 0 || n > int64(*left) {
		return nil, fmt.Errorf("%w: element over %d bytes", ErrMalformed, MaxStreamOverhead)
	}
	out = append(out, hdr...)
	if !indef {
		*left -= int(n)
		start := len(out)
		if need := start + int(n); need > cap(out) {
			// Doubling: what is held is then at most twice what came.
			grown := make([]byte, start, max(need, 2*cap(out)))
			copy(grown, out)
			out = grown
		}
		out = out[:start+int(n)]
		if _, err := io.ReadFull(s.r, out[start:]); err != nil {
			return nil, fmt.Errorf("%w: truncated", ErrMalformed)
		}
		s.pos += n
		return out, nil
	}
	for {
		if b, err := s.r.Peek(2); err != nil {
			return nil, fmt.Errorf("%w: missing end-of-contents", ErrMalformed)
		} else if b[0] == 0 && b[1] == 0 {
			s.r.Discard(2)
			s.pos += 2
			if *left -= 2; *left < 0 {
				return nil, fmt.Errorf("%w: element over %d bytes", ErrMalformed, MaxStreamOverhead)
			}
			return append(out, 0, 0), nil
		}
		if out, err = s.raw(out, depth+1, left); err != nil {
			return nil, err
		}
	}
}

// octets copies an OCTET STRING's value to w: primitive of any length, or
// constructed of segments, each primitive or again constructed.
func (s *berStream) octets(w io.Writer, depth int) error {
	if depth > maxOctetsDepth {
		return fmt.Errorf("%w: OCTET STRING segments nested deeper than %d", ErrMalformed, maxOctetsDepth)
	}
	tag, n, indef, _, err := s.header()
	if err != nil {
		return err
	}
	switch tag {
	case 0x04:
		if s.buf == nil {
			s.buf = make([]byte, 32<<10)
		}
		k, err := io.CopyBuffer(w, io.LimitReader(s.r, n), s.buf)
		if err == nil && k < n {
			err = io.EOF
		}
		s.pos += k
		if err != nil {
			if errors.Is(err, io.EOF) {
				return fmt.Errorf("%w: truncated", ErrMalformed)
			}
			return err
		}
		return nil
	case 0x24:
		f := frame{indefinite: indef, end: s.pos + n}
		for {
			end, err := s.atEnd(f)
			if err != nil {
				return err
			}
			if end {
				return s.close(f, nil)
			}
			if err := s.octets(w, depth+1); err != nil {
				return err
			}
		}
	}
	return fmt.Errorf("%w: content is not an OCTET STRING", ErrMalformed)
}
