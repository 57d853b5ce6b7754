package cms

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"

	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/internal/testpki"
)

// selfSigned makes a signing certificate for key (GOST, RSA or ECDSA).
func selfSigned(t testing.TB, key crypto.Signer) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		Subject:   pkix.Name{CommonName: "cms test"},
		NotBefore: time.Now().Add(-time.Hour),
		NotAfter:  time.Now().Add(time.Hour),
		KeyUsage:  x509.KeyUsageDigitalSignature,
	}
	return testpki.Issue(t, tmpl, tmpl, key.Public(), key)
}

type keyCase struct {
	name string
	key  crypto.Signer
}

func testKeys(t testing.TB) []keyCase {
	var out []keyCase
	for _, c := range gost3410.Curves() {
		k, err := gost3410.GenerateKey(c, nil)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, keyCase{c.Name(), k})
	}
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	ek, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ek3, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	return append(out, keyCase{"rsa2048", rk}, keyCase{"ecdsa-p256", ek}, keyCase{"ecdsa-p384", ek3})
}

func TestSignVerify(t *testing.T) {
	content := []byte(`{"format":"podpis-auth:1","origin":"https://lk.example.ru"}`)
	for _, kc := range testKeys(t) {
		t.Run(kc.name, func(t *testing.T) {
			cert := selfSigned(t, kc.key)
			for _, opts := range []SignOptions{{}, {Detached: true}, {NoSignedAttributes: true}, {Detached: true, NoSignedAttributes: true}} {
				der, err := Sign(content, cert, kc.key, &opts)
				if err != nil {
					t.Fatal(err)
				}
				sd, err := Parse(der)
				if err != nil {
					t.Fatal(err)
				}
				if len(sd.Signers) != 1 || len(sd.Certificates) != 1 {
					t.Fatalf("%d signers, %d certificates", len(sd.Signers), len(sd.Certificates))
				}
				if opts.Detached != (sd.Content == nil) {
					t.Fatalf("detached=%v but content %q", opts.Detached, sd.Content)
				}
				si := sd.Signers[0]
				signer, err := si.FindCertificate(sd.Certificates)
				if err != nil || !signer.Equal(cert) {
					t.Fatalf("signer certificate: %v", err)
				}
				var detached []byte
				if opts.Detached {
					detached = content
				}
				if err := sd.VerifySigner(si, signer, detached); err != nil {
					t.Fatalf("%+v: %v", opts, err)
				}
				if !opts.NoSignedAttributes {
					if si.SigningTime.IsZero() || time.Since(si.SigningTime) > time.Minute || len(si.SigningCertHashes) != 1 {
						t.Fatalf("signed attributes: %+v", si)
					}
				}
				// The content changed: digest mismatch (or a bad signature
				// without attributes).
				other := append(bytes.Clone(content), '!')
				if opts.Detached {
					if err := sd.VerifySigner(si, signer, other); !errors.Is(err, ErrDigestMismatch) && !errors.Is(err, ErrBadSignature) {
						t.Fatalf("other content: %v", err)
					}
					if err := sd.VerifySigner(si, signer, nil); !errors.Is(err, ErrNoContent) {
						t.Fatalf("no content: %v", err)
					}
				} else {
					sd.Content = other
					if err := sd.VerifySigner(si, signer, nil); !errors.Is(err, ErrDigestMismatch) && !errors.Is(err, ErrBadSignature) {
						t.Fatalf("tampered content: %v", err)
					}
					sd.Content = content
				}
				si.Signature[len(si.Signature)/2] ^= 1
				if err := sd.VerifySigner(si, signer, detached); !errors.Is(err, ErrBadSignature) {
					t.Fatalf("flipped signature bit: %v", err)
				}
			}
		})
	}
}

// TestSigningCertificateAttribute: a signature made with one certificate but
// claimed for another one with the same key is rejected.
func TestSigningCertificateAttribute(t *testing.T) {
	key, _ := gost3410.GenerateKey(gost3410.CurveTC26256A, nil)
	a := selfSigned(t, key)
	b := selfSigned(t, key)
	der, _ := Sign([]byte("x"), a, key, nil)
	sd, _ := Parse(der)
	if err := sd.VerifySigner(sd.Signers[0], b, nil); !errors.Is(err, ErrSignerMismatch) {
		t.Fatalf("got %v", err)
	}
	if _, err := Sign([]byte("x"), a, mustKey(t), nil); err == nil {
		t.Fatal("signing with a key that is not the certificate's succeeded")
	}
}

func mustKey(t testing.TB) *gost3410.PrivateKey {
	k, err := gost3410.GenerateKey(gost3410.CurveTC26256A, nil)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// indefinite re-encodes DER with indefinite lengths on every constructed
// element and splits OCTET STRINGs into constructed chunks, as BER allows.
func indefinite(der []byte) []byte {
	var out []byte
	for len(der) > 0 {
		tag, body, _ := splitTLV(der)
		l := lengthOfHeader(der)
		if tag[0]&0x20 != 0 {
			out = append(out, tag...)
			out = append(out, 0x80)
			out = append(out, indefinite(body)...)
			out = append(out, 0, 0)
		} else if tag[0] == 0x04 && len(body) > 3 {
			out = append(out, 0x24, 0x80)
			for i := 0; i < len(body); i += 3 {
				chunk := body[i:min(i+3, len(body))]
				out = appendTLV(out, []byte{0x04}, chunk)
			}
			out = append(out, 0, 0)
		} else {
			out = append(out, der[:l+len(body)]...)
		}
		der = der[l+len(body):]
	}
	return out
}

func lengthOfHeader(der []byte) int {
	i := 1
	if der[i] < 0x80 {
		return 2
	}
	return 2 + int(der[i]&0x7f)
}

func TestBER(t *testing.T) {
	key, _ := gost3410.GenerateKey(gost3410.CurveCryptoProA, nil)
	cert := selfSigned(t, key)
	der, _ := Sign([]byte("content of some length"), cert, key, nil)
	ber := indefinite(der)
	if bytes.Equal(ber, der) {
		t.Fatal("test did not make BER")
	}
	back, err := toDER(ber)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back, der) {
		t.Fatal("BER does not normalise to the original DER")
	}
	sd, err := Parse(ber)
	if err != nil {
		t.Fatal(err)
	}
	if err := sd.VerifySigner(sd.Signers[0], sd.Certificates[0], nil); err != nil {
		t.Fatal(err)
	}
	if d, _ := toDER(der); !bytes.Equal(d, der) {
		t.Fatal("DER is not left as is")
	}
}

func TestParseRejects(t *testing.T) {
	key, _ := gost3410.GenerateKey(gost3410.CurveTC26256A, nil)
	der, _ := Sign([]byte("abc"), selfSigned(t, key), key, nil)
	for i := 0; i < len(der); i++ {
		if _, err := Parse(der[:i]); err == nil {
			t.Fatalf("truncated to %d bytes: accepted", i)
		}
	}
	deep := bytes.Repeat([]byte{0x30, 0x80}, 100)
	for _, bad := range [][]byte{nil, {0x30}, {0x30, 0x00}, {0x30, 0x84, 0xff, 0xff, 0xff, 0xff}, deep, append(bytes.Clone(der), 0)} {
		if _, err := Parse(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("Parse(%x…): %v", bad[:min(len(bad), 8)], err)
		}
	}
}

// bigArcType is a content type under 2.25 whose last arc (a UUID, 128 bits)
// fits no int: encoding/asn1 cannot carry it.
var bigArcType = func() x509.OID {
	oid, err := x509.ParseOID("2.25.37206362184723365910724984244601700857")
	if err != nil {
		panic(err)
	}
	return oid
}()

// TestContentType: a content type beyond an int is written and read back
// in both places (eContentType and the contentType attribute); a message
// whose eContentType is swapped for id-data, or whose attributes are
// dropped, no longer verifies.
func TestContentType(t *testing.T) {
	key := mustKey(t)
	cert := selfSigned(t, key)
	der, err := Sign([]byte("doc"), cert, key, &SignOptions{ContentType: bigArcType})
	if err != nil {
		t.Fatal(err)
	}
	sd, err := Parse(der)
	if err != nil {
		t.Fatal(err)
	}
	si := sd.Signers[0]
	if !sd.ContentType.Equal(bigArcType) || !si.AttrContentType.Equal(bigArcType) || sd.ContentType.String() != bigArcType.String() {
		t.Fatalf("content type %v, attribute %v", sd.ContentType, si.AttrContentType)
	}
	if err := sd.VerifySigner(si, cert, nil); err != nil {
		t.Fatal(err)
	}
	// The zero option is id-data.
	plain, _ := Sign([]byte("doc"), cert, key, nil)
	if psd, _ := Parse(plain); !psd.ContentType.Equal(OIDData) || !psd.Signers[0].AttrContentType.Equal(OIDData) {
		t.Fatalf("default content type %v", psd.ContentType)
	}

	// Relabel the content as id-data: the attribute still says otherwise.
	sd.ContentType = OIDData
	if err := sd.VerifySigner(si, cert, nil); !errors.Is(err, ErrContentType) {
		t.Fatalf("eContentType relabelled to id-data: %v", err)
	}
	sd.ContentType = bigArcType

	// Without attributes only id-data may be signed or verified.
	if _, err := Sign([]byte("doc"), cert, key, &SignOptions{ContentType: bigArcType, NoSignedAttributes: true}); err == nil {
		t.Fatal("signed a non-data type without attributes")
	}
	noattr, _ := Sign([]byte("doc"), cert, key, &SignOptions{NoSignedAttributes: true})
	nsd, _ := Parse(noattr)
	nsd.ContentType = bigArcType
	if err := nsd.VerifySigner(nsd.Signers[0], cert, nil); !errors.Is(err, ErrContentType) {
		t.Fatalf("non-data type without attributes: %v", err)
	}

	// Invalid OID encodings are malformed, not a panic.
	for _, bad := range [][]byte{{0x06, 0x00}, {0x06, 0x01, 0x80}, {0x06, 0x02, 0x2a, 0x86}} {
		s := cryptobyte.String(bad)
		var oid x509.OID
		if readOID(&s, &oid) {
			t.Errorf("readOID(%x) accepted", bad)
		}
	}
}
