package cms

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/podpis/podpis/crypto/gost3410"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// FuzzParse: no panic, and parse → marshal → parse gives what the first
// parse gave. The package has no marshaller of a parsed SignedData (Sign
// builds from a key), so remarshal writes the DER of exactly what Parse
// kept: anything Parse reads but drops (unsigned attributes, CRLs,
// algorithm parameters, versions, other certificate formats) cannot change
// its result, and everything it keeps must survive a round trip through
// DER. Signatures are also checked, as a verifier would.
func FuzzParse(f *testing.F) {
	key, _ := gost3410.GenerateKey(gost3410.CurveTC26256A, nil)
	cert := selfSigned(f, key)
	for _, o := range []SignOptions{{}, {Detached: true}, {NoSignedAttributes: true}} {
		der, _ := Sign([]byte("seed"), cert, key, &o)
		f.Add(der)
		f.Add(indefinite(der))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sd, err := Parse(data)
		if err != nil {
			return
		}
		for _, si := range sd.Signers {
			if c, err := si.FindCertificate(sd.Certificates); err == nil {
				sd.VerifySigner(si, c, []byte("seed"))
			}
		}
		der := remarshal(sd)
		sd2, err := Parse(der)
		if err != nil {
			t.Fatalf("the DER of a parsed message does not parse: %v", err)
		}
		if err := sameSignedData(sd, sd2); err != "" {
			t.Fatalf("parse → marshal → parse: %s", err)
		}
		if again := remarshal(sd2); !bytes.Equal(der, again) {
			t.Fatal("the DER of a parsed message is not stable")
		}
	})
}

// TestRemarshal: the fuzzer's marshaller writes what Sign wrote for a
// message without parameters, unsigned attributes or CRLs, so the round
// trip it checks is not vacuous.
func TestRemarshal(t *testing.T) {
	key, _ := gost3410.GenerateKey(gost3410.CurveTC26512A, nil)
	cert := selfSigned(t, key)
	for _, o := range []SignOptions{{}, {Detached: true}, {NoSignedAttributes: true}} {
		der, err := Sign([]byte("content"), cert, key, &o)
		if err != nil {
			t.Fatal(err)
		}
		sd, err := Parse(der)
		if err != nil {
			t.Fatal(err)
		}
		sd2, err := Parse(remarshal(sd))
		if err != nil {
			t.Fatalf("%+v: %v", o, err)
		}
		if e := sameSignedData(sd, sd2); e != "" {
			t.Fatalf("%+v: %s", o, e)
		}
		// The remarshalled message still verifies: the signed attributes
		// and the signature went through unchanged.
		if err := sd2.VerifySigner(sd2.Signers[0], sd2.Certificates[0], []byte("content")); err != nil {
			t.Fatalf("%+v: %v", o, err)
		}
	}
}

// remarshal writes the DER ContentInfo of what Parse kept of a message.
func remarshal(sd *SignedData) []byte {
	b := cryptobyte.NewBuilder(nil)
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oidSignedData)
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1Int64(1)
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
					for _, si := range sd.Signers {
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(si.DigestAlgorithm) })
					}
				})
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					addOID(b, sd.ContentType)
					if sd.Content != nil {
						b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
							b.AddASN1OctetString(sd.Content)
						})
					}
				})
				if len(sd.Certificates) > 0 {
					b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
						for _, c := range sd.Certificates {
							b.AddBytes(c.Raw)
						}
					})
				}
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
					for _, si := range sd.Signers {
						addSignerInfo(b, si)
					}
				})
			})
		})
	})
	return b.BytesOrPanic()
}

func addSignerInfo(b *cryptobyte.Builder, si *SignerInfo) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		if si.SerialNumber != nil {
			b.AddASN1Int64(1)
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddBytes(si.Issuer)
				b.AddASN1BigInt(si.SerialNumber)
			})
		} else {
			b.AddASN1Int64(3)
			b.AddASN1(cbasn1.Tag(0).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(si.SubjectKeyID) })
		}
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(si.DigestAlgorithm) })
		if si.HasSignedAttributes {
			// signedAttrs is the SET the signature covers; in the message
			// it is [0] IMPLICIT.
			b.AddBytes(append([]byte{0xa0}, si.signedAttrs[1:]...))
		}
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(si.SignatureAlgorithm) })
		b.AddASN1OctetString(si.Signature)
	})
}

// sameSignedData says how two parses differ, or "" when they do not.
func sameSignedData(a, b *SignedData) string {
	switch {
	case !a.ContentType.Equal(b.ContentType):
		return "content type"
	case (a.Content == nil) != (b.Content == nil) || !bytes.Equal(a.Content, b.Content):
		return "content"
	case len(a.Certificates) != len(b.Certificates):
		return "number of certificates"
	case len(a.Signers) != len(b.Signers):
		return "number of signers"
	}
	for i := range a.Certificates {
		if !a.Certificates[i].Equal(b.Certificates[i]) {
			return "certificate"
		}
	}
	for i := range a.Signers {
		x, y := *a.Signers[i], *b.Signers[i]
		if (x.SerialNumber == nil) != (y.SerialNumber == nil) || x.SerialNumber != nil && x.SerialNumber.Cmp(y.SerialNumber) != 0 {
			return "signer serial number"
		}
		x.SerialNumber, y.SerialNumber = nil, nil
		if !reflect.DeepEqual(x, y) {
			return "signer info"
		}
	}
	return ""
}
