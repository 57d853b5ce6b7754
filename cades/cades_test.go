package cades_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/podpis/podpis/cades"
	"github.com/podpis/podpis/crypto/cms"
	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/crypto/gostx509"
	"github.com/podpis/podpis/crypto/tsp"
	"github.com/podpis/podpis/internal/enginetest"
	"github.com/podpis/podpis/internal/testpki"
	"github.com/podpis/podpis/internal/testtsa"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// engineSigner is a key and self-signed certificate the GOST engine made
// on one parameter set.
type engineSigner struct {
	cert     *x509.Certificate
	key      *gost3410.PrivateKey
	certPath string
}

func newEngineSigner(t *testing.T, dir string, ps enginetest.Paramset, cn string) engineSigner {
	keyPath := enginetest.GenKey(t, dir, ps)
	certPath := filepath.Join(dir, cn+".pem")
	enginetest.Run(t, nil, "req", "-engine", "gost", "-x509", "-new", "-key", keyPath,
		"-subj", "/CN="+cn, "-days", "2", "-out", certPath)
	cert, err := x509.ParseCertificate(enginetest.ReadPEM(t, certPath))
	if err != nil {
		t.Fatal(err)
	}
	key, err := gostx509.ParsePKCS8PrivateKey(enginetest.ReadPEM(t, keyPath))
	if err != nil {
		t.Fatal(err)
	}
	return engineSigner{cert: cert, key: key, certPath: certPath}
}

// TestTOpenSSL: on every parameter set, a CAdES-T we make (detached,
// attached, co-signed) is accepted by `openssl cms -verify`, and each
// signer's signature-time-stamp by `openssl ts -verify` over that
// signer's signature value.
func TestTOpenSSL(t *testing.T) {
	enginetest.Require(t)
	tsa := testtsa.Start(t, testtsa.GOST256)
	opts := cades.Options{TSA: &tsp.Client{URL: tsa.URL, Verify: tsp.VerifyOptions{Roots: []*x509.Certificate{tsa.Root}}}}
	ctx := context.Background()
	for i, ps := range enginetest.Paramsets {
		t.Run(ps.Algorithm+"-"+ps.Name, func(t *testing.T) {
			dir := t.TempDir()
			s := newEngineSigner(t, dir, ps, "Подписант")
			content := []byte("договор № " + ps.Name)
			contentPath := filepath.Join(dir, "content")
			os.WriteFile(contentPath, content, 0o600)
			forms := []struct {
				name     string
				detached bool
				cosign   bool
			}{{"detached", true, false}}
			if i == 0 || i == len(enginetest.Paramsets)-1 {
				forms = append(forms, struct {
					name     string
					detached bool
					cosign   bool
				}{"attached", false, false}, struct {
					name     string
					detached bool
					cosign   bool
				}{"cosigned", true, true})
			}
			for _, f := range forms {
				msg, err := cms.Sign(content, s.cert, s.key, &cms.SignOptions{Detached: f.detached})
				if err != nil {
					t.Fatal(err)
				}
				cafiles := []string{s.certPath}
				if f.cosign {
					other := newEngineSigner(t, dir, enginetest.Paramsets[(i+1)%len(enginetest.Paramsets)], "Второй")
					var out bytes.Buffer
					if err := cms.CoSign(&out, bytes.NewReader(msg), bytes.NewReader(content), other.cert, other.key, nil); err != nil {
						t.Fatal(err)
					}
					msg = out.Bytes()
					cafiles = append(cafiles, other.certPath)
				}
				ext, err := cades.Extend(ctx, msg, cades.T, opts)
				if err != nil {
					t.Fatalf("%s: %v", f.name, err)
				}
				sigPath := filepath.Join(dir, f.name+".sig")
				os.WriteFile(sigPath, ext, 0o600)
				ca := filepath.Join(dir, f.name+"-ca.pem")
				var bundle []byte
				for _, c := range cafiles {
					b, _ := os.ReadFile(c)
					bundle = append(bundle, b...)
				}
				os.WriteFile(ca, bundle, 0o600)
				args := []string{"cms", "-verify", "-engine", "gost", "-binary", "-inform", "DER", "-in", sigPath, "-CAfile", ca, "-out", os.DevNull}
				if f.detached {
					args = append(args, "-content", contentPath)
				}
				if out, err := enginetest.Try(nil, args...); err != nil {
					t.Fatalf("%s: openssl cms -verify refused our CAdES-T: %v\n%s", f.name, err, out)
				}
				if f.detached {
					// The check above can fail: other content is refused.
					os.WriteFile(contentPath+".other", append(content, '!'), 0o600)
					args[len(args)-1] = contentPath + ".other"
					if _, err := enginetest.Try(nil, args...); err == nil {
						t.Fatalf("%s: openssl cms -verify accepted other content", f.name)
					}
				}
				sd, err := cms.Parse(ext)
				if err != nil {
					t.Fatal(err)
				}
				want := 1
				if f.cosign {
					want = 2
				}
				if len(sd.Signers) != want {
					t.Fatalf("%s: %d signers", f.name, len(sd.Signers))
				}
				for _, si := range sd.Signers {
					stamps := si.Unsigned(cades.OIDSignatureTimeStamp)
					if len(stamps) != 1 {
						t.Fatalf("%s: %d signature-time-stamps", f.name, len(stamps))
					}
					if err := tsa.Verify(stamps[0], si.Signature); err != nil {
						t.Fatalf("%s: openssl ts -verify: %v", f.name, err)
					}
					// The imprint is the signer's own Streebog.
					tok, _ := tsp.ParseToken(stamps[0])
					if !tok.Info.HashAlgorithm.Equal(si.DigestAlgorithm) {
						t.Fatalf("%s: imprint %v for a %v signer", f.name, tok.Info.HashAlgorithm, si.DigestAlgorithm)
					}
				}
				// Extending again adds nothing: every signer has its stamp.
				hits := tsa.Hits.Load()
				again, err := cades.Extend(ctx, ext, cades.T, opts)
				if err != nil || !bytes.Equal(again, ext) || tsa.Hits.Load() != hits {
					t.Fatalf("%s: extending a CAdES-T again changed it (%v)", f.name, err)
				}
			}
		})
	}
}

// TestTSAFailureIsAnError: a TSA that is down or lies is an error, never a
// silent CAdES-BES.
func TestTSAFailureIsAnError(t *testing.T) {
	tsa := testtsa.Start(t, testtsa.RSA)
	at := time.Now()
	root := testpki.Root(t, gost3410.CurveTC26256A, "УЦ", at)
	cert, key := root.Person(t, gost3410.CurveTC26256A, pkix.Name{CommonName: "Иванов"}, at, nil)
	msg, err := cms.Sign([]byte("x"), cert, key, &cms.SignOptions{Detached: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := cades.Extend(ctx, msg, cades.T, cades.Options{}); !errors.Is(err, cades.ErrNoTSA) {
		t.Fatalf("no TSA: %v", err)
	}
	tsa.Down.Store(true)
	if _, err := cades.Extend(ctx, msg, cades.T, cades.Options{TSA: &tsp.Client{URL: tsa.URL}}); !errors.Is(err, tsp.ErrUnavailable) {
		t.Fatalf("TSA down: %v", err)
	}
	tsa.Down.Store(false)
	other := testtsa.Start(t, testtsa.GOST256)
	untrusted := &tsp.Client{URL: tsa.URL, Verify: tsp.VerifyOptions{Roots: []*x509.Certificate{other.Root}}}
	if _, err := cades.Extend(ctx, msg, cades.T, cades.Options{TSA: untrusted}); !errors.Is(err, tsp.ErrBadResponse) {
		t.Fatalf("TSA not trusted: %v", err)
	}
}

// xl1Fixture is a GOST hierarchy (root, sub CA, signer) whose CRLs are
// served by the test, and a signature of the signer.
type xl1Fixture struct {
	root, sub   *testpki.Issuer
	rootCRL     *testpki.RevServer
	subCRL      *testpki.RevServer
	cert        *x509.Certificate
	key         *gost3410.PrivateKey
	msg         []byte
	tsa         *testtsa.TSA
	content     []byte
	curve       *gost3410.Curve
	certificate []*x509.Certificate // the CAs, for Options.Certificates
}

func newXL1Fixture(t *testing.T, c *gost3410.Curve) *xl1Fixture {
	at := time.Now()
	f := &xl1Fixture{curve: c, content: []byte("доверенность")}
	f.root = testpki.Root(t, c, "Корневой УЦ", at)
	f.rootCRL = f.root.Serve(t)
	f.sub = f.root.SubCA(t, c, "УЦ ООО", at)
	f.subCRL = f.sub.Serve(t)
	// The sub CA's certificate names the root's CRL: reissue it so.
	tmpl := testpki.CATemplate("УЦ ООО", at)
	tmpl.CRLDistributionPoints = []string{f.rootCRL.CRLURL}
	f.sub.Cert = testpki.Issue(t, tmpl, f.root.Cert, f.sub.Key.Public(), f.root.Key)
	f.cert, f.key = f.sub.Person(t, c, pkix.Name{CommonName: "Петров Пётр"}, at, func(x *x509.Certificate) {
		x.CRLDistributionPoints = []string{f.subCRL.CRLURL}
	})
	var err error
	if f.msg, err = cms.Sign(f.content, f.cert, f.key, &cms.SignOptions{Detached: true}); err != nil {
		t.Fatal(err)
	}
	f.tsa = testtsa.Start(t, testtsa.GOST256)
	f.certificate = []*x509.Certificate{f.sub.Cert, f.root.Cert}
	return f
}

func (f *xl1Fixture) options() cades.Options {
	return cades.Options{TSA: &tsp.Client{URL: f.tsa.URL}, Certificates: f.certificate}
}

// TestXL1Structure compares the unsigned attributes of our X Long Type 1
// with the shape ETSI TS 101 733 (6.2, 6.3) gives them and CryptoPro
// writes them: signature-time-stamp, complete-certificate-references
// (OtherCertID with OtherHashAlgAndValue and IssuerSerial, one per CA),
// complete-revocation-references (one CrlOcspRef per certificate of the
// path, the root's empty), the CAdES-C timestamp, certificate-values,
// revocation-values (crlVals here: the CAs publish CRLs).
func TestXL1Structure(t *testing.T) {
	f := newXL1Fixture(t, gost3410.CurveTC26256A)
	ext, err := cades.Extend(context.Background(), f.msg, cades.XL1, f.options())
	if err != nil {
		t.Fatal(err)
	}
	sd, err := cms.Parse(ext)
	if err != nil {
		t.Fatal(err)
	}
	var got strings.Builder
	for _, a := range sd.Signers[0].UnsignedAttrs {
		shape(&got, cryptobyte.String(a.Raw), 0)
	}
	const want = `SEQUENCE
 OID 1.2.840.113549.1.9.16.2.14
 SET
  SEQUENCE
   OID 1.2.840.113549.1.7.2
   [0]
    SEQUENCE …
SEQUENCE
 OID 1.2.840.113549.1.9.16.2.21
 SET
  SEQUENCE
   SEQUENCE
    SEQUENCE
     SEQUENCE
      OID 1.2.643.7.1.1.2.2
      NULL
     OCTET STRING
    SEQUENCE
     SEQUENCE
      [4]
       SEQUENCE …
     INTEGER
   SEQUENCE
    SEQUENCE
     SEQUENCE
      OID 1.2.643.7.1.1.2.2
      NULL
     OCTET STRING
    SEQUENCE
     SEQUENCE
      [4]
       SEQUENCE …
     INTEGER
SEQUENCE
 OID 1.2.840.113549.1.9.16.2.22
 SET
  SEQUENCE
   SEQUENCE
    [0]
     SEQUENCE
      SEQUENCE
       SEQUENCE
        SEQUENCE
         SEQUENCE
          OID 1.2.643.7.1.1.2.2
          NULL
         OCTET STRING
        SEQUENCE
         SEQUENCE …
         UTCTime
         INTEGER
   SEQUENCE
    [0]
     SEQUENCE
      SEQUENCE
       SEQUENCE
        SEQUENCE
         SEQUENCE
          OID 1.2.643.7.1.1.2.2
          NULL
         OCTET STRING
        SEQUENCE
         SEQUENCE …
         UTCTime
         INTEGER
   SEQUENCE
SEQUENCE
 OID 1.2.840.113549.1.9.16.2.25
 SET
  SEQUENCE
   OID 1.2.840.113549.1.7.2
   [0]
    SEQUENCE …
SEQUENCE
 OID 1.2.840.113549.1.9.16.2.23
 SET
  SEQUENCE
   SEQUENCE …
   SEQUENCE …
   SEQUENCE …
SEQUENCE
 OID 1.2.840.113549.1.9.16.2.24
 SET
  SEQUENCE
   [0]
    SEQUENCE
     SEQUENCE …
     SEQUENCE …
`
	if got.String() != want {
		t.Fatalf("X Long Type 1 attributes:\n%s\nwant\n%s", got.String(), want)
	}
	// The CAdES-C timestamp covers the signature, its timestamp and the
	// references; openssl ts -verify agrees.
	si := sd.Signers[0]
	var raws [][]byte
	for _, a := range si.UnsignedAttrs[:3] {
		raws = append(raws, a.Raw)
	}
	x1 := cades.X1Data(si.Signature, raws[:1], raws[1], raws[2])
	if err := f.tsa.Verify(si.Unsigned(cades.OIDEscTimeStamp)[0], x1); err != nil {
		t.Fatalf("openssl ts -verify of the CAdES-C timestamp: %v", err)
	}
	// The values are the ones referenced.
	v, ok, err := cades.ReadValues(si)
	if err != nil || !ok {
		t.Fatalf("ReadValues: %v %v", ok, err)
	}
	for _, c := range v.Certificates[:2] {
		if !v.Referenced(c.Raw) {
			t.Fatalf("%s not referenced", c.Subject)
		}
	}
	for _, l := range v.CRLs {
		if !v.Referenced(l) {
			t.Fatal("a CRL not referenced")
		}
	}
	if len(v.CRLs) != 2 {
		t.Fatalf("%d CRLs, want the sub CA's and the root's", len(v.CRLs))
	}
	// openssl still verifies the signature itself.
	dir := t.TempDir()
	sig, content, ca := filepath.Join(dir, "sig"), filepath.Join(dir, "content"), filepath.Join(dir, "ca.pem")
	os.WriteFile(sig, ext, 0o600)
	os.WriteFile(content, f.content, 0o600)
	os.WriteFile(ca, append(pemOf(f.root.Cert), pemOf(f.sub.Cert)...), 0o600)
	if out, err := enginetest.Try(nil, "cms", "-verify", "-engine", "gost", "-binary", "-inform", "DER", "-in", sig,
		"-content", content, "-CAfile", ca, "-out", os.DevNull); err != nil {
		t.Fatalf("openssl cms -verify refused our X Long Type 1: %v\n%s", err, out)
	}
}

func pemOf(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

// TestXL1Revoked: a signer revoked before signing gets no X Long: the
// collection fails with the revocation.
func TestXL1Revoked(t *testing.T) {
	f := newXL1Fixture(t, gost3410.CurveTC26256A)
	f.subCRL.Revoke(f.cert.SerialNumber, time.Now().Add(-time.Hour))
	_, err := cades.Extend(context.Background(), f.msg, cades.XL1, f.options())
	if !errors.Is(err, cades.ErrRevocation) {
		t.Fatalf("revoked signer: %v", err)
	}
	// Without the CAs, the chain is unknown.
	opts := f.options()
	opts.Certificates = nil
	if _, err := cades.Extend(context.Background(), f.msg, cades.XL1, opts); !errors.Is(err, cades.ErrChain) {
		t.Fatalf("no CA certificates: %v", err)
	}
}

// shape writes the tag tree of DER, OIDs spelled out, elements below the
// fifth level of a certificate or token elided.
func shape(w *strings.Builder, s cryptobyte.String, depth int) {
	for !s.Empty() {
		var el cryptobyte.String
		var tag cbasn1.Tag
		if !s.ReadAnyASN1(&el, &tag) {
			fmt.Fprintf(w, "%s!bad\n", strings.Repeat(" ", depth))
			return
		}
		pad := strings.Repeat(" ", depth)
		switch {
		case tag == cbasn1.OBJECT_IDENTIFIER:
			var oid asn1.ObjectIdentifier
			asn1.Unmarshal(append([]byte{0x06, byte(len(el))}, el...), &oid)
			fmt.Fprintf(w, "%sOID %s\n", pad, oid)
		case tag == cbasn1.SEQUENCE && isOpaque(el):
			fmt.Fprintf(w, "%sSEQUENCE …\n", pad)
		case tag&0x20 != 0:
			fmt.Fprintf(w, "%s%s\n", pad, tagName(tag))
			shape(w, el, depth+1)
		default:
			fmt.Fprintf(w, "%s%s\n", pad, tagName(tag))
		}
	}
}

// isOpaque: a certificate, CRL, token body or Name, whose inside is not
// CAdES's business.
func isOpaque(el cryptobyte.String) bool {
	var first cryptobyte.String
	var tag cbasn1.Tag
	probe := el
	if !probe.ReadAnyASN1(&first, &tag) {
		return false
	}
	// tbsCertificate starts with [0] { INTEGER } (its version),
	// tbsCertList and a SignedData body with an INTEGER; a Name is a
	// SEQUENCE OF SET.
	if tag == cbasn1.SET {
		return true
	}
	if tag != cbasn1.SEQUENCE {
		return tag == cbasn1.INTEGER && probe.PeekASN1Tag(cbasn1.SET)
	}
	var inner cryptobyte.String
	var itag cbasn1.Tag
	if !first.ReadAnyASN1(&inner, &itag) {
		return false
	}
	return itag == cbasn1.INTEGER || itag == cbasn1.Tag(0).Constructed().ContextSpecific() && inner.PeekASN1Tag(cbasn1.INTEGER)
}

func tagName(t cbasn1.Tag) string {
	switch t {
	case cbasn1.SEQUENCE:
		return "SEQUENCE"
	case cbasn1.SET:
		return "SET"
	case cbasn1.INTEGER:
		return "INTEGER"
	case cbasn1.OCTET_STRING:
		return "OCTET STRING"
	case cbasn1.NULL:
		return "NULL"
	case cbasn1.UTCTime:
		return "UTCTime"
	case cbasn1.GeneralizedTime:
		return "GeneralizedTime"
	}
	if t&0x80 != 0 {
		return fmt.Sprintf("[%d]", t&0x1f)
	}
	return fmt.Sprintf("tag %#x", uint8(t))
}

// iitXLong is the shape of the references of a real CAdES-X Long made by
// IIT's library for Ukraine's «Дія» (test-cases/asics/cades-x-long.asics
// of github.com/olexnzarov/perehliadach, 2023: an ECDSA signer under a
// qualified CA under the central CA, OCSP for both; the repository has no
// licence, so its structure is recorded here, not the file). Its hashes
// are OtherHash's bare sha1Hash, ours OtherHashAlgAndValue; normalised
// below to the same line.
const iitXLong = `SEQUENCE
 OID 1.2.840.113549.1.9.16.2.21
 SET
  SEQUENCE
   SEQUENCE
    OCTET STRING
    SEQUENCE
     SEQUENCE
      [4]
       SEQUENCE …
     INTEGER
   SEQUENCE
    OCTET STRING
    SEQUENCE
     SEQUENCE
      [4]
       SEQUENCE …
     INTEGER
SEQUENCE
 OID 1.2.840.113549.1.9.16.2.22
 SET
  SEQUENCE
   SEQUENCE
    [1]
     SEQUENCE
      SEQUENCE
       SEQUENCE
        SEQUENCE
         [1]
          SEQUENCE …
         GeneralizedTime
        OCTET STRING
   SEQUENCE
    [1]
     SEQUENCE
      SEQUENCE
       SEQUENCE
        SEQUENCE
         [1]
          SEQUENCE …
         GeneralizedTime
        OCTET STRING
   SEQUENCE
`

// TestXLongLikeIIT: for the same hierarchy (signer, CA, root; OCSP for
// the first two) our complete certificate and revocation references have
// the shape of the references in IIT's X Long, the root's CrlOcspRef
// empty as in theirs; package verify reads theirs (hashes in either form).
func TestXLongLikeIIT(t *testing.T) {
	now := time.Now()
	rootKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	tmpl := testpki.CATemplate("Central certification authority", now)
	root := &testpki.Issuer{Cert: testpki.Issue(t, tmpl, tmpl, &rootKey.PublicKey, rootKey), Key: rootKey}
	rootRev := root.Serve(t)
	subKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	tmpl = testpki.CATemplate("Qualified Trust Services Provider", now)
	tmpl.OCSPServer = []string{rootRev.OCSPURL}
	sub := &testpki.Issuer{Cert: testpki.Issue(t, tmpl, root.Cert, &subKey.PublicKey, rootKey), Key: subKey}
	subRev := sub.Serve(t)
	leafKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := testpki.Issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "Signer"}, NotBefore: now.Add(-time.Hour),
		NotAfter: now.AddDate(1, 0, 0), KeyUsage: x509.KeyUsageDigitalSignature, OCSPServer: []string{subRev.OCSPURL}},
		sub.Cert, &leafKey.PublicKey, subKey)
	msg, err := cms.Sign([]byte("Service Agreement"), leaf, leafKey, &cms.SignOptions{Detached: true})
	if err != nil {
		t.Fatal(err)
	}
	tsa := testtsa.Start(t, testtsa.RSA)
	xl, err := cades.Extend(context.Background(), msg, cades.XL1, cades.Options{TSA: &tsp.Client{URL: tsa.URL},
		Certificates: []*x509.Certificate{sub.Cert, root.Cert}})
	if err != nil {
		t.Fatal(err)
	}
	sd, _ := cms.Parse(xl)
	var got strings.Builder
	for _, a := range sd.Signers[0].UnsignedAttrs {
		if a.Type.Equal(cades.OIDCertificateRefs) || a.Type.Equal(cades.OIDRevocationRefs) {
			shape(&got, cryptobyte.String(a.Raw), 0)
		}
	}
	if norm := bareHashes(got.String()); norm != iitXLong {
		t.Fatalf("our references:\n%s\nIIT's:\n%s", norm, iitXLong)
	}
}

// bareHashes turns each OtherHashAlgAndValue of a shape into the line of
// a bare OtherHash.
func bareHashes(shape string) string {
	lines := strings.Split(shape, "\n")
	var out []string
	for i := 0; i < len(lines); i++ {
		pad := lines[i][:len(lines[i])-len(strings.TrimLeft(lines[i], " "))]
		if i+4 < len(lines) && lines[i] == pad+"SEQUENCE" && lines[i+1] == pad+" SEQUENCE" &&
			strings.HasPrefix(lines[i+2], pad+"  OID ") && lines[i+3] == pad+"  NULL" && lines[i+4] == pad+" OCTET STRING" {
			out = append(out, pad+"OCTET STRING")
			i += 4
			continue
		}
		out = append(out, lines[i])
	}
	return strings.Join(out, "\n")
}

// TestReferencedBareSHA1: references in OtherHash's bare sha1Hash form
// (IIT's) name their values as the explicit form does; a value not
// referenced is not taken for one.
func TestReferencedBareSHA1(t *testing.T) {
	now := time.Now()
	root := testpki.Root(t, gost3410.CurveTC26256A, "УЦ", now)
	cert, key := root.Person(t, gost3410.CurveTC26256A, pkix.Name{CommonName: "Иванов"}, now, nil)
	msg, _ := cms.Sign([]byte("x"), cert, key, &cms.SignOptions{Detached: true})
	crl := root.CRL(t, nil, now.Add(-time.Minute), now.Add(time.Hour))
	other := root.CRL(t, nil, now.Add(-time.Minute), now.Add(2*time.Hour))
	sha := func(b []byte) []byte { s := sha1.Sum(b); return s[:] }
	seq := func(f func(*cryptobyte.Builder)) []byte {
		var b cryptobyte.Builder
		b.AddASN1(cbasn1.SEQUENCE, f)
		return b.BytesOrPanic()
	}
	certRefs := seq(func(b *cryptobyte.Builder) { // SEQUENCE OF OtherCertID { sha1Hash }
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1OctetString(sha(root.Cert.Raw)) })
	})
	revRefs := seq(func(b *cryptobyte.Builder) { // CrlOcspRef { crlids [0] CRLListID { SEQUENCE OF CrlValidatedID { sha1Hash } } }
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1OctetString(sha(crl)) })
					})
				})
			})
		})
	})
	values := func(crls ...[]byte) []byte {
		return seq(func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					for _, c := range crls {
						b.AddBytes(c)
					}
				})
			})
		})
	}
	out, err := cms.AddUnsigned(msg, 0,
		cms.MarshalAttribute(cades.OIDCertificateRefs, certRefs),
		cms.MarshalAttribute(cades.OIDRevocationRefs, revRefs),
		cms.MarshalAttribute(cades.OIDCertValues, seq(func(b *cryptobyte.Builder) { b.AddBytes(root.Cert.Raw) })),
		cms.MarshalAttribute(cades.OIDRevocationValues, values(crl, other)))
	if err != nil {
		t.Fatal(err)
	}
	sd, _ := cms.Parse(out)
	v, ok, err := cades.ReadValues(sd.Signers[0])
	if err != nil || !ok || len(v.CRLs) != 2 || len(v.Certificates) != 1 {
		t.Fatalf("ReadValues: %v %v %+v", ok, err, v)
	}
	if !v.Referenced(crl) || !v.Referenced(root.Cert.Raw) {
		t.Fatal("a value referenced by its SHA-1 is not found")
	}
	if v.Referenced(other) || v.Referenced(cert.Raw) {
		t.Fatal("a value not referenced is taken for one")
	}
}
