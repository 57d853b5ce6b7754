package cms

import (
	"errors"
	"fmt"
)

// Limits of the BER normalizer: CMS from the field nests a few levels deep
// and a login message is small, so anything beyond these is hostile.
const (
	maxDepth    = 32
	maxElements = 1 << 16
)

var errBER = errors.New("cms: malformed BER")

// toDER converts a BER encoding (indefinite lengths, constructed strings,
// non-minimal lengths, as CryptoPro CSP and others write them) into DER, so
// that the rest of the package can parse with cryptobyte. DER input comes out
// byte for byte the same. Set ordering is kept as found: a signature covers
// the bytes its signer produced.
func toDER(in []byte) ([]byte, error) {
	p := &berParser{in: in}
	out, err := p.element(0, nil)
	if err != nil {
		return nil, err
	}
	if p.pos != len(in) {
		return nil, fmt.Errorf("%w: %d trailing bytes", errBER, len(in)-p.pos)
	}
	return out, nil
}

type berParser struct {
	in       []byte
	pos      int
	elements int
}

// element parses one TLV at p.pos and appends its DER form to out.
func (p *berParser) element(depth int, out []byte) ([]byte, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("%w: nested deeper than %d", errBER, maxDepth)
	}
	if p.elements++; p.elements > maxElements {
		return nil, fmt.Errorf("%w: more than %d elements", errBER, maxElements)
	}
	tag, err := p.tag()
	if err != nil {
		return nil, err
	}
	constructed := tag[0]&0x20 != 0
	length, indefinite, err := p.length()
	if err != nil {
		return nil, err
	}
	if indefinite && !constructed {
		return nil, fmt.Errorf("%w: indefinite length on a primitive", errBER)
	}
	if !constructed {
		body := p.in[p.pos : p.pos+length]
		p.pos += length
		return appendTLV(out, tag, body), nil
	}
	// A constructed string (OCTET STRING, BIT STRING, …) becomes primitive.
	universalString := tag[0]&0xc0 == 0 && len(tag) == 1 && isString(tag[0]&0x1f)
	var body []byte
	end := p.pos + length
	for {
		if indefinite {
			if p.pos+2 > len(p.in) {
				return nil, fmt.Errorf("%w: missing end-of-contents", errBER)
			}
			if p.in[p.pos] == 0 && p.in[p.pos+1] == 0 {
				p.pos += 2
				break
			}
		} else if p.pos >= end {
			if p.pos > end {
				return nil, fmt.Errorf("%w: element overruns its parent", errBER)
			}
			break
		}
		if universalString {
			child, err := p.element(depth+1, nil)
			if err != nil {
				return nil, err
			}
			ctag, cbody, _ := splitTLV(child)
			if len(ctag) != 1 || ctag[0] != tag[0]&^0x20 {
				return nil, fmt.Errorf("%w: string segment of another type", errBER)
			}
			body = append(body, cbody...)
			continue
		}
		body, err = p.element(depth+1, body)
		if err != nil {
			return nil, err
		}
	}
	if universalString {
		tag = []byte{tag[0] &^ 0x20}
	}
	return appendTLV(out, tag, body), nil
}

func isString(n byte) bool {
	switch n {
	case 3, 4, 12, 19, 20, 22, 26, 30: // BIT, OCTET, UTF8, Printable, T61, IA5, Visible, BMP
		return true
	}
	return false
}

func (p *berParser) tag() ([]byte, error) {
	start := p.pos
	if p.pos >= len(p.in) {
		return nil, fmt.Errorf("%w: truncated", errBER)
	}
	b := p.in[p.pos]
	p.pos++
	if b&0x1f == 0x1f { // high tag number form
		for i := 0; ; i++ {
			if p.pos >= len(p.in) || i > 4 {
				return nil, fmt.Errorf("%w: bad tag", errBER)
			}
			c := p.in[p.pos]
			p.pos++
			if c&0x80 == 0 {
				break
			}
		}
	}
	return p.in[start:p.pos], nil
}

func (p *berParser) length() (n int, indefinite bool, err error) {
	if p.pos >= len(p.in) {
		return 0, false, fmt.Errorf("%w: truncated", errBER)
	}
	b := p.in[p.pos]
	p.pos++
	switch {
	case b < 0x80:
		n = int(b)
	case b == 0x80:
		return 0, true, nil
	default:
		k := int(b & 0x7f)
		if k > 4 || p.pos+k > len(p.in) {
			return 0, false, fmt.Errorf("%w: bad length", errBER)
		}
		for i := 0; i < k; i++ {
			n = n<<8 | int(p.in[p.pos+i])
		}
		p.pos += k
	}
	if n < 0 || n > len(p.in)-p.pos {
		return 0, false, fmt.Errorf("%w: length %d exceeds the input", errBER, n)
	}
	return n, false, nil
}

func appendTLV(out, tag, body []byte) []byte {
	out = append(out, tag...)
	n := len(body)
	switch {
	case n < 0x80:
		out = append(out, byte(n))
	case n < 0x100:
		out = append(out, 0x81, byte(n))
	case n < 0x10000:
		out = append(out, 0x82, byte(n>>8), byte(n))
	case n < 0x1000000:
		out = append(out, 0x83, byte(n>>16), byte(n>>8), byte(n))
	default:
		out = append(out, 0x84, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(out, body...)
}

// splitTLV splits a DER element made by appendTLV.
func splitTLV(der []byte) (tag, body []byte, ok bool) {
	i := 1
	if der[0]&0x1f == 0x1f {
		for der[i]&0x80 != 0 {
			i++
		}
		i++
	}
	tag = der[:i]
	l := int(der[i])
	i++
	if l >= 0x80 {
		k := l & 0x7f
		l = 0
		for j := 0; j < k; j++ {
			l = l<<8 | int(der[i+j])
		}
		i += k
	}
	return tag, der[i : i+l], true
}
