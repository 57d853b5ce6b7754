package certreq

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/crypto/gostx509"
	"github.com/podpis/podpis/internal/enginetest"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

func fullRequest(t testing.TB) *Request {
	t.Helper()
	s, err := ParseSubject(goodSubject + ",T=Директор,O=ООО Ромашка,OU=Бухгалтерия,INNLE=7707083893,OGRN=1027700132195,KPP=773601001")
	if err != nil {
		t.Fatal(err)
	}
	return &Request{Subject: s, Policies: []string{"1.2.643.100.113.1"}, IdentKind: IdentRemoteCert}
}

// curveFor names our curve for an engine parameter set.
func curveFor(ps enginetest.Paramset) *gost3410.Curve {
	return gost3410.CurveByName(map[string]string{
		"gost2012_256/A": "cryptopro-a", "gost2012_256/B": "cryptopro-b", "gost2012_256/C": "cryptopro-c",
		"gost2012_256/XA": "cryptopro-xcha", "gost2012_256/XB": "cryptopro-xchb",
		"gost2012_256/TCA": "tc26-256-a", "gost2012_256/TCB": "tc26-256-b", "gost2012_256/TCC": "tc26-256-c", "gost2012_256/TCD": "tc26-256-d",
		"gost2012_512/A": "tc26-512-a", "gost2012_512/B": "tc26-512-b", "gost2012_512/C": "tc26-512-c",
	}[ps.Algorithm+"/"+ps.Name])
}

// nameTags returns the ASN.1 string tag of each attribute of a DER Name,
// by dotted OID.
func nameTags(t *testing.T, name []byte) map[string]cbasn1.Tag {
	t.Helper()
	out := map[string]cbasn1.Tag{}
	s := cryptobyte.String(name)
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) {
		t.Fatal("malformed Name")
	}
	for !seq.Empty() {
		var set, atv cryptobyte.String
		var oid asn1.ObjectIdentifier
		var tag cbasn1.Tag
		var val cryptobyte.String
		if !seq.ReadASN1(&set, cbasn1.SET) || !set.ReadASN1(&atv, cbasn1.SEQUENCE) ||
			!atv.ReadASN1ObjectIdentifier(&oid) || !atv.ReadAnyASN1(&val, &tag) {
			t.Fatal("malformed RDN")
		}
		out[oid.String()] = tag
	}
	return out
}

// checkProfile: the subject's types are those of the profile, and the
// extensions carry what was asked.
func checkProfile(t *testing.T, rawSubject []byte, exts map[string][]byte, pub crypto.PublicKey) {
	t.Helper()
	tags := nameTags(t, rawSubject)
	for oid, want := range map[string]cbasn1.Tag{
		"1.2.643.100.3": 18, "1.2.643.3.131.1.1": 18, "1.2.643.100.4": 18, "1.2.643.100.1": 18,
		"1.2.840.113549.1.9.1": cbasn1.IA5String, "2.5.4.6": cbasn1.PrintableString,
		"2.5.4.3": cbasn1.UTF8String, "2.5.4.4": cbasn1.UTF8String, "2.5.4.42": cbasn1.UTF8String, "2.5.4.9": cbasn1.UTF8String,
	} {
		if tags[oid] != want {
			t.Errorf("attribute %s: tag %d, want %d", oid, tags[oid], want)
		}
	}
	id, _ := KeyID(pub)
	ski := exts["2.5.29.14"]
	if !bytes.HasSuffix(ski, id) {
		t.Errorf("subjectKeyIdentifier %x, want %x", ski, id)
	}
	if v := exts["1.2.643.100.114"]; !bytes.Equal(v, []byte{2, 1, 1}) {
		t.Errorf("IdentificationKind %x", v)
	}
	if v := exts["1.2.643.100.111"]; !bytes.Equal(v, append([]byte{12, 6}, "podpis"...)) {
		t.Errorf("subjectSignTool %x", v)
	}
	for _, oid := range []string{"2.5.29.15", "2.5.29.37", "2.5.29.32"} {
		if exts[oid] == nil {
			t.Errorf("no extension %s", oid)
		}
	}
}

// requestParts reads a DER request by hand (crypto/x509 does not know
// GOST keys): the subject and the requested extensions' values.
func requestParts(t *testing.T, der []byte) (subject []byte, exts map[string][]byte) {
	t.Helper()
	s := cryptobyte.String(der)
	var req, info, name, attrs cryptobyte.String
	var version int64
	if !s.ReadASN1(&req, cbasn1.SEQUENCE) || !req.ReadASN1(&info, cbasn1.SEQUENCE) ||
		!info.ReadASN1Integer(&version) || !info.ReadASN1Element(&name, cbasn1.SEQUENCE) ||
		!info.SkipASN1(cbasn1.SEQUENCE) || !info.ReadASN1(&attrs, cbasn1.Tag(0).Constructed().ContextSpecific()) {
		t.Fatal("malformed request")
	}
	exts = map[string][]byte{}
	var attr, values, list cryptobyte.String
	var oid asn1.ObjectIdentifier
	if !attrs.ReadASN1(&attr, cbasn1.SEQUENCE) || !attr.ReadASN1ObjectIdentifier(&oid) || !oid.Equal(oidExtensionRequest) ||
		!attr.ReadASN1(&values, cbasn1.SET) || !values.ReadASN1(&list, cbasn1.SEQUENCE) {
		t.Fatal("no extensionRequest")
	}
	for !list.Empty() {
		var ext, val cryptobyte.String
		var eoid asn1.ObjectIdentifier
		if !list.ReadASN1(&ext, cbasn1.SEQUENCE) || !ext.ReadASN1ObjectIdentifier(&eoid) {
			t.Fatal("malformed extension")
		}
		ext.SkipOptionalASN1(cbasn1.BOOLEAN)
		if !ext.ReadASN1(&val, cbasn1.OCTET_STRING) {
			t.Fatal("malformed extension value")
		}
		exts[eoid.String()] = val
	}
	return name, exts
}

// openSSLCA writes the configuration of a minimal openssl ca in dir: any
// subject, the requested extensions copied, 30 days.
func openSSLCA(t *testing.T, dir string) string {
	t.Helper()
	ca := filepath.Join(dir, "ca")
	os.MkdirAll(filepath.Join(ca, "new"), 0o700)
	os.WriteFile(filepath.Join(ca, "index.txt"), nil, 0o600)
	os.WriteFile(filepath.Join(ca, "serial"), []byte("1000\n"), 0o600)
	conf := filepath.Join(dir, "ca.cnf")
	os.WriteFile(conf, []byte(`[ca]
default_ca = podpis
[podpis]
database = `+ca+`/index.txt
new_certs_dir = `+ca+`/new
serial = `+ca+`/serial
default_md = default
default_days = 30
policy = any
copy_extensions = copy
unique_subject = no
[any]
commonName = supplied
`), 0o600)
	return conf
}

// certtoolVerdicts records GnuTLS's verdict per parameter set, for the
// test log.
var certtoolVerdicts sync.Map

// selfSignature is certtool --crq-info's "Self signature:" verdict.
func selfSignature(info []byte) string {
	for _, line := range strings.Split(string(info), "\n") {
		if v, ok := strings.CutPrefix(line, "Self signature: "); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// opensslVerifies runs openssl req -verify and reads its verdict: OpenSSL 3
// exits 0 when the self-signature does not verify ("verify failure"), so
// the exit code alone would pass a broken request.
func opensslVerifies(t *testing.T, args ...string) (bool, []byte) {
	t.Helper()
	cmd := exec.Command("openssl", append([]string{"req", "-verify", "-noout"}, args...)...)
	cmd.Env = append(os.Environ(), "OPENSSL_CONF=/dev/null")
	out, err := cmd.CombinedOutput()
	return err == nil && bytes.Contains(out, []byte("verify OK")) && !bytes.Contains(out, []byte("failure")), out
}

// TestEngineAcceptsRequests: for every parameter set, OpenSSL's GOST
// engine verifies the request's signature, GnuTLS reads it, and the
// engine issues a certificate from it (openssl x509 -req, and openssl ca
// as a CA runs it) that carries the subject's types and the requested
// extensions.
func TestEngineAcceptsRequests(t *testing.T) {
	enginetest.Require(t)
	enginetest.RequireCerttool(t)
	dir := t.TempDir()
	caKey := enginetest.GenKey(t, dir, enginetest.Paramset{Algorithm: "gost2012_256", Name: "TCA"})
	caCert := filepath.Join(dir, "ca.pem")
	enginetest.Run(t, nil, "req", "-engine", "gost", "-x509", "-new", "-key", caKey, "-subj", "/CN=Test CA", "-days", "30", "-out", caCert)
	caConf := openSSLCA(t, dir)
	for _, ps := range enginetest.Paramsets {
		t.Run(ps.Algorithm+"-"+ps.Name, func(t *testing.T) {
			c := curveFor(ps)
			key, err := gost3410.GenerateKey(c, rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			r := fullRequest(t)
			der, err := Create(nil, r, key)
			if err != nil {
				t.Fatal(err)
			}
			subject, exts := requestParts(t, der)
			checkProfile(t, subject, exts, key.Public())
			in := filepath.Join(dir, ps.Algorithm+"-"+ps.Name+".csr")
			os.WriteFile(in, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}), 0o600)
			if ok, out := opensslVerifies(t, "-engine", "gost", "-in", in); !ok {
				t.Fatalf("openssl req -verify:\n%s", out)
			}
			// GnuTLS reads the request, subject and extensions; whether it
			// verifies the self-signature depends on the parameter set
			// (GnuTLS 3.7 on 4 of the 12), so its verdict must be the one
			// it gives a request OpenSSL's engine made on the same set.
			info := enginetest.Certtool(t, "--crq-info", "--infile", in)
			for _, want := range []string{"SNILS=11223344595", "INN=500100732259", "CN=Иванов Иван Иванович", "1.2.643.100.113.1", "1.2.643.100.114"} {
				if !bytes.Contains(info, []byte(want)) {
					t.Errorf("certtool --crq-info does not show %s:\n%s", want, info)
				}
			}
			engineKey := enginetest.GenKey(t, t.TempDir(), ps) // not over the CA's key of the same set
			engineReq := filepath.Join(dir, ps.Algorithm+"-"+ps.Name+"-engine.csr")
			enginetest.Run(t, nil, "req", "-engine", "gost", "-new", "-key", engineKey, "-subj", "/CN=x", "-out", engineReq)
			ours, theirs := selfSignature(info), selfSignature(enginetest.Certtool(t, "--crq-info", "--infile", engineReq))
			if ours == "" || ours != theirs {
				t.Errorf("certtool: self signature %q, on the engine's request %q", ours, theirs)
			}
			certtoolVerdicts.Store(c.Name(), ours)
			certPath := filepath.Join(dir, ps.Algorithm+"-"+ps.Name+".pem")
			enginetest.Run(t, nil, "x509", "-req", "-engine", "gost", "-in", in, "-CA", caCert, "-CAkey", caKey,
				"-days", "30", "-copy_extensions", "copy", "-set_serial", "7", "-out", certPath)
			cert, err := x509.ParseCertificate(enginetest.ReadPEM(t, certPath))
			if err != nil {
				t.Fatal(err)
			}
			pub, err := gostx509.PublicKey(cert)
			if err != nil || !pub.Equal(key.Public()) {
				t.Fatalf("issued certificate's key: %v", err)
			}
			certExts := map[string][]byte{}
			for _, e := range cert.Extensions {
				certExts[e.Id.String()] = e.Value
			}
			checkProfile(t, cert.RawSubject, certExts, key.Public())
			if cert.KeyUsage != x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment {
				t.Errorf("KeyUsage %v", cert.KeyUsage)
			}

			// And as a CA runs it: openssl ca, the subject as requested.
			caPath := filepath.Join(dir, ps.Algorithm+"-"+ps.Name+"-ca.pem")
			enginetest.Run(t, nil, "ca", "-engine", "gost", "-batch", "-config", caConf, "-cert", caCert, "-keyfile", caKey,
				"-preserveDN", "-notext", "-in", in, "-out", caPath)
			issued, err := x509.ParseCertificate(enginetest.ReadPEM(t, caPath))
			if err != nil {
				t.Fatal(err)
			}
			if pub, err := gostx509.PublicKey(issued); err != nil || !pub.Equal(key.Public()) {
				t.Fatalf("openssl ca: the certificate's key: %v", err)
			}
			caExts := map[string][]byte{}
			for _, e := range issued.Extensions {
				caExts[e.Id.String()] = e.Value
			}
			checkProfile(t, issued.RawSubject, caExts, key.Public())
		})
	}
	certtoolVerdicts.Range(func(k, v any) bool { t.Logf("certtool self signature %s: %s", k, v); return true })
}

// A request whose signature was spoiled is refused by OpenSSL's engine
// and by GnuTLS (on a set it verifies): the checks above are not vacuous.
func TestEngineRefusesSpoiledRequest(t *testing.T) {
	enginetest.Require(t)
	enginetest.RequireCerttool(t)
	key, _ := gost3410.GenerateKey(gost3410.CurveByName("tc26-512-a"), rand.Reader)
	der, err := Create(nil, fullRequest(t), key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	good, bad := filepath.Join(dir, "good.csr"), filepath.Join(dir, "bad.csr")
	os.WriteFile(good, der, 0o600)
	der[len(der)-1] ^= 1
	os.WriteFile(bad, der, 0o600)
	if ok, out := opensslVerifies(t, "-engine", "gost", "-inform", "DER", "-in", good); !ok {
		t.Fatalf("openssl refuses the good request:\n%s", out)
	}
	if ok, out := opensslVerifies(t, "-engine", "gost", "-inform", "DER", "-in", bad); ok {
		t.Fatalf("openssl: a spoiled signature verified:\n%s", out)
	}
	if v := selfSignature(enginetest.Certtool(t, "--crq-info", "--inder", "--infile", good)); v != "verified" {
		t.Errorf("certtool, good request: %q", v)
	}
	if v := selfSignature(enginetest.Certtool(t, "--crq-info", "--inder", "--infile", bad)); v != "FAILED" {
		t.Errorf("certtool, spoiled request: %q", v)
	}
}

// TestRSAAndECDSA: crypto/x509 and OpenSSL accept the request of an RSA
// and an ECDSA key.
func TestRSAAndECDSA(t *testing.T) {
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	ek, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	for _, k := range []crypto.Signer{rk, ek} {
		der, err := Create(nil, fullRequest(t), k)
		if err != nil {
			t.Fatal(err)
		}
		csr, err := x509.ParseCertificateRequest(der)
		if err != nil {
			t.Fatal(err)
		}
		if err := csr.CheckSignature(); err != nil {
			t.Errorf("%T: %v", k, err)
		}
		if !strings.Contains(csr.Subject.String(), "Иванов") {
			t.Errorf("subject %s", csr.Subject)
		}
		exts := map[string][]byte{}
		for _, e := range csr.Extensions {
			exts[e.Id.String()] = e.Value
		}
		checkProfile(t, csr.RawSubject, exts, k.Public())
		in := filepath.Join(t.TempDir(), "req.der")
		os.WriteFile(in, der, 0o600)
		if ok, out := opensslVerifies(t, "-inform", "DER", "-in", in); !ok {
			t.Errorf("openssl req -verify %T:\n%s", k, out)
		}
	}
}

// badSigner signs with another key than the one it names.
type badSigner struct {
	crypto.Signer
	other crypto.Signer
}

func (b badSigner) Public() crypto.PublicKey { return b.other.Public() }

// TestCreateRefuses: a key whose signature does not verify (a token
// signing with another key than the one it reported) gives no request;
// nor does an invalid field, with no signature asked for.
func TestCreateRefuses(t *testing.T) {
	c := gost3410.CurveByName("tc26-512-a")
	k1, _ := gost3410.GenerateKey(c, rand.Reader)
	k2, _ := gost3410.GenerateKey(c, rand.Reader)
	if der, err := Create(nil, fullRequest(t), badSigner{k1, k2}); err == nil {
		t.Errorf("a wrong signature made a request (%d bytes)", len(der))
	}
	r := fullRequest(t)
	r.Subject = append(r.Subject[:0:0], r.Subject...)
	for i := range r.Subject {
		if r.Subject[i].Key == "SNILS" {
			r.Subject[i].Value = "11223344596"
		}
	}
	counting := &countingSigner{Signer: k1}
	if _, err := Create(nil, r, counting); err == nil || counting.n != 0 {
		t.Errorf("a bad SNILS: %v, %d signatures", err, counting.n)
	}
}

type countingSigner struct {
	crypto.Signer
	n int
}

func (c *countingSigner) Sign(r io.Reader, d []byte, o crypto.SignerOpts) ([]byte, error) {
	c.n++
	return c.Signer.Sign(r, d, o)
}
