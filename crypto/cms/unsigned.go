package cms

import (
	"encoding/asn1"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// readAttribute reads one Attribute ::= SEQUENCE { attrType, attrValues SET }.
func readAttribute(s *cryptobyte.String) (Attribute, error) {
	var raw, attr, values cryptobyte.String
	var a Attribute
	if !s.ReadASN1Element(&raw, cbasn1.SEQUENCE) {
		return a, ErrMalformed
	}
	attr = raw
	if !attr.ReadASN1(&attr, cbasn1.SEQUENCE) || !attr.ReadASN1ObjectIdentifier(&a.Type) ||
		!attr.ReadASN1(&values, cbasn1.SET) || !attr.Empty() {
		return a, ErrMalformed
	}
	for !values.Empty() {
		var v cryptobyte.String
		var tag cbasn1.Tag
		if !values.ReadAnyASN1Element(&v, &tag) {
			return a, ErrMalformed
		}
		a.Values = append(a.Values, append([]byte{}, v...))
	}
	a.Raw = append([]byte{}, raw...)
	return a, nil
}

// Unsigned returns the values of the unsigned attributes of type oid, in
// order, over all its instances.
func (info *SignerInfo) Unsigned(oid asn1.ObjectIdentifier) [][]byte {
	var out [][]byte
	for _, a := range info.UnsignedAttrs {
		if a.Type.Equal(oid) {
			out = append(out, a.Values...)
		}
	}
	return out
}

// MarshalAttribute returns the DER Attribute of type oid with values (DER
// elements), for AddUnsigned.
func MarshalAttribute(oid asn1.ObjectIdentifier, values ...[]byte) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oid)
		b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
			for _, v := range sortedDER(values) {
				b.AddBytes(v)
			}
		})
	})
	return b.BytesOrPanic()
}

// AddUnsigned returns msg (DER or BER SignedData) as DER with attrs (DER
// Attributes, from MarshalAttribute) appended to the unsigned attributes
// of signer number signer (0-based, in the message's order). The
// signature and everything it covers are kept byte for byte: unsigned
// attributes are outside the signature (RFC 5652, 5.3), which is why
// CAdES-T and CAdES-X add their timestamps and validation data there. The
// unsigned attributes stay in the order they were added, since a CAdES-C
// timestamp hashes them in that order.
func AddUnsigned(msg []byte, signer int, attrs ...[]byte) ([]byte, error) {
	parts, err := splitSignedData(msg)
	if err != nil {
		return nil, err
	}
	if signer < 0 || signer >= len(parts.signers) {
		return nil, fmt.Errorf("cms: no signer %d in a message of %d", signer, len(parts.signers))
	}
	si, err := appendUnsigned(parts.signers[signer], attrs)
	if err != nil {
		return nil, err
	}
	parts.signers[signer] = si
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oidSignedData)
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1Int64(parts.version)
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
					for _, a := range parts.digestAlgs {
						b.AddBytes(a)
					}
				})
				b.AddBytes(parts.encap)
				if parts.certs != nil {
					b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
						for _, c := range parts.certs {
							b.AddBytes(c)
						}
					})
				}
				if parts.crls != nil {
					b.AddBytes(parts.crls)
				}
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
					for _, s := range parts.signers {
						b.AddBytes(s)
					}
				})
			})
		})
	})
	return b.Bytes()
}

// appendUnsigned rewrites one DER SignerInfo with attrs after its unsigned
// attributes.
func appendUnsigned(si []byte, attrs [][]byte) ([]byte, error) {
	in := cryptobyte.String(si)
	var body cryptobyte.String
	if !in.ReadASN1(&body, cbasn1.SEQUENCE) || !in.Empty() {
		return nil, ErrMalformed
	}
	// Everything up to the signature value is kept as it is.
	head := len(body)
	var tag cbasn1.Tag
	var el cryptobyte.String
	rest := body
	for !rest.Empty() && !rest.PeekASN1Tag(cbasn1.Tag(1).Constructed().ContextSpecific()) {
		if !rest.ReadAnyASN1Element(&el, &tag) {
			return nil, ErrMalformed
		}
	}
	head -= len(rest)
	var old cryptobyte.String
	if !rest.Empty() && (!rest.ReadASN1(&old, cbasn1.Tag(1).Constructed().ContextSpecific()) || !rest.Empty()) {
		return nil, ErrMalformed
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(body[:head])
		b.AddASN1(cbasn1.Tag(1).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddBytes(old)
			for _, a := range attrs {
				b.AddBytes(a)
			}
		})
	})
	return b.Bytes()
}
