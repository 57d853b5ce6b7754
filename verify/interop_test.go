package verify

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/podpis/podpis/crypto/cms"
	"github.com/podpis/podpis/crypto/gostx509"
	"github.com/podpis/podpis/internal/enginetest"
	"github.com/podpis/podpis/login"
)

// enginePKI is a hierarchy made entirely by OpenSSL's GOST engine.
type enginePKI struct {
	dir                 string
	rootCert, interCert string
	rootKey, interKey   string
	root, inter         *x509.Certificate
}

func writeFile(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func loadCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	c, err := x509.ParseCertificate(enginetest.ReadPEM(t, path))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newEnginePKI(t *testing.T, dir, name string) *enginePKI {
	p := &enginePKI{dir: dir}
	caExt := writeFile(t, filepath.Join(dir, "ca.ext"),
		"basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n")
	caDir := filepath.Join(dir, "ca")
	os.Mkdir(caDir, 0o700)
	p.rootKey = enginetest.GenKey(t, caDir, enginetest.Paramset{Algorithm: "gost2012_512", Name: "A"})
	p.rootCert = filepath.Join(dir, name+"-root.pem")
	enginetest.Run(t, nil, "req", "-engine", "gost", "-x509", "-new", "-key", p.rootKey, "-subj", "/CN="+name+" Root/O=Test",
		"-days", "3650", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-out", p.rootCert)
	p.interKey = enginetest.GenKey(t, caDir, enginetest.Paramset{Algorithm: "gost2012_256", Name: "TCA"})
	csr := filepath.Join(dir, "inter.csr")
	p.interCert = filepath.Join(dir, name+"-inter.pem")
	enginetest.Run(t, nil, "req", "-engine", "gost", "-new", "-key", p.interKey, "-subj", "/CN="+name+" Issuing CA/O=Test", "-out", csr)
	enginetest.Run(t, nil, "x509", "-engine", "gost", "-req", "-in", csr, "-CA", p.rootCert, "-CAkey", p.rootKey,
		"-set_serial", "2", "-days", "1825", "-extfile", caExt, "-out", p.interCert)
	p.root, p.inter = loadCert(t, p.rootCert), loadCert(t, p.interCert)
	return p
}

var serialCounter = 100

// leaf issues a person's certificate on ps with the given key usage.
func (p *enginePKI) leaf(t *testing.T, ps enginetest.Paramset, keyUsage string) (cert, key string) {
	serialCounter++
	name := fmt.Sprintf("%s-%s-%d", ps.Algorithm, ps.Name, serialCounter)
	key = enginetest.GenKey(t, p.dir, ps)
	renamed := filepath.Join(p.dir, name+".key")
	os.Rename(key, renamed)
	key = renamed
	ext := writeFile(t, filepath.Join(p.dir, name+".ext"), "keyUsage=critical,"+keyUsage+
		"\nextendedKeyUsage=clientAuth,emailProtection\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n")
	csr := filepath.Join(p.dir, name+".csr")
	cert = filepath.Join(p.dir, name+".pem")
	enginetest.Run(t, nil, "req", "-engine", "gost", "-new", "-utf8", "-key", key,
		"-subj", "/CN=Иванов Иван/SN=Иванов/GN=Иван Иванович/1.2.643.100.3=12345678901/1.2.643.3.131.1.1=771234567890", "-out", csr)
	enginetest.Run(t, nil, "x509", "-engine", "gost", "-req", "-in", csr, "-CA", p.interCert, "-CAkey", p.interKey,
		"-set_serial", fmt.Sprint(serialCounter), "-days", "30", "-extfile", ext, "-out", cert)
	return cert, key
}

// opensslAccepts asks the engine whether it verifies sig (with content for
// a detached one) against root, at time at.
func opensslAccepts(p *enginePKI, rootCert, sig, content string, at time.Time) bool {
	args := []string{"cms", "-verify", "-engine", "gost", "-binary", "-inform", "DER", "-in", sig,
		"-CAfile", rootCert, "-certfile", p.interCert, "-out", os.DevNull, "-attime", fmt.Sprint(at.Unix())}
	if content != "" {
		args = append(args, "-content", content)
	}
	_, err := enginetest.Try(nil, args...)
	return err == nil
}

// TestEngineJudgement: what the engine makes is judged by verify as
// OpenSSL judges it, and stricter on key usage.
func TestEngineJudgement(t *testing.T) {
	enginetest.Require(t)
	dir := t.TempDir()
	p := newEnginePKI(t, dir, "Test")
	other := newEnginePKI(t, t.TempDir(), "Other")
	now := time.Now().Add(time.Minute) // after every certificate below is issued
	msg := writeFile(t, filepath.Join(dir, "msg"), "Вход в Личный кабинет")
	otherMsg := writeFile(t, filepath.Join(dir, "other"), "Вход в чужой кабинет")
	garbage := writeFile(t, filepath.Join(dir, "garbage"), "\x30\x82\x01\x00 not cms at all")

	type verdict struct {
		name     string
		sig      string
		content  string
		root     *enginePKI
		at       time.Time
		want     error // nil: valid
		stricter bool  // we reject what OpenSSL accepts
	}
	var cases []verdict
	for _, ps := range enginetest.Paramsets {
		cert, key := p.leaf(t, ps, "digitalSignature,nonRepudiation")
		base := filepath.Join(dir, fmt.Sprintf("%s-%s", ps.Algorithm, ps.Name))
		sign := func(suffix string, extra ...string) string {
			out := base + suffix + ".der"
			args := append([]string{"cms", "-sign", "-engine", "gost", "-binary", "-signer", cert, "-inkey", key,
				"-certfile", p.interCert, "-in", msg, "-outform", "DER", "-out", out}, extra...)
			enginetest.Run(t, nil, args...)
			return out
		}
		attached := sign("-attached", "-nodetach")
		detached := sign("-detached")
		noattr := sign("-noattr", "-nodetach", "-noattr")
		name := ps.Algorithm + "-" + ps.Name
		cases = append(cases,
			verdict{name + " attached", attached, "", p, now, nil, false},
			verdict{name + " detached", detached, msg, p, now, nil, false},
			verdict{name + " without signed attributes", noattr, "", p, now, nil, false},
			verdict{name + " detached, other content", detached, otherMsg, p, now, ErrContentMismatch, false},
			verdict{name + " after expiry", attached, "", p, now.AddDate(0, 2, 0), ErrExpired, false},
			verdict{name + " before validity", attached, "", p, now.AddDate(0, 0, -2), ErrNotYetValid, false},
			verdict{name + " unrelated root", attached, "", other, now, ErrUntrusted, false},
		)
	}
	// Tampering with one attached signature (TC26 256 A).
	cert, key := p.leaf(t, enginetest.Paramset{Algorithm: "gost2012_256", Name: "TCA"}, "digitalSignature")
	good := filepath.Join(dir, "good.der")
	enginetest.Run(t, nil, "cms", "-sign", "-engine", "gost", "-binary", "-signer", cert, "-inkey", key,
		"-certfile", p.interCert, "-in", msg, "-outform", "DER", "-out", good, "-nodetach")
	der, _ := os.ReadFile(good)
	mutate := func(name string, f func([]byte) []byte) string {
		path := filepath.Join(dir, name+".der")
		os.WriteFile(path, f(append([]byte{}, der...)), 0o600)
		return path
	}
	contentAt := strings.Index(string(der), "Вход")
	cases = append(cases,
		verdict{"tampered content", mutate("tampered", func(b []byte) []byte { b[contentAt] ^= 1; return b }), "", p, now, ErrContentMismatch, false},
		verdict{"flipped signature bit", mutate("flipped", func(b []byte) []byte { b[len(b)-5] ^= 0x10; return b }), "", p, now, ErrBadSignature, false},
		verdict{"truncated", mutate("truncated", func(b []byte) []byte { return b[:len(b)/2] }), "", p, now, ErrMalformed, false},
		verdict{"garbage", garbage, "", p, now, ErrMalformed, false},
	)
	// Key usage without digitalSignature/nonRepudiation.
	kuCert, kuKey := p.leaf(t, enginetest.Paramset{Algorithm: "gost2012_256", Name: "TCB"}, "keyEncipherment")
	ku := filepath.Join(dir, "ku.der")
	enginetest.Run(t, nil, "cms", "-sign", "-engine", "gost", "-binary", "-signer", kuCert, "-inkey", kuKey,
		"-certfile", p.interCert, "-in", msg, "-outform", "DER", "-out", ku, "-nodetach")
	cases = append(cases, verdict{"key usage keyEncipherment only", ku, "", p, now, ErrKeyUsage, true})

	for _, c := range cases {
		sig, _ := os.ReadFile(c.sig)
		var content []byte
		if c.content != "" {
			content, _ = os.ReadFile(c.content)
		}
		at := c.at
		v, err := New(Config{Origins: []string{origin}, Roots: []*x509.Certificate{c.root.root}, Intermediates: []*x509.Certificate{p.inter}, Now: func() time.Time { return at }})
		if err != nil {
			t.Fatal(err)
		}
		res, err := v.VerifySignature(context.Background(), sig, content)
		if (c.want == nil) != (err == nil) || (c.want != nil && !errors.Is(err, c.want)) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
			continue
		}
		if err == nil && (res.Identity.SNILS != "12345678901" || res.Identity.INN != "771234567890" || len(res.Chain) != 3) {
			t.Errorf("%s: identity %+v, chain %d", c.name, res.Identity, len(res.Chain))
		}
		openssl := opensslAccepts(p, c.root.rootCert, c.sig, c.content, at)
		if openssl != (c.want == nil) && !(c.stricter && openssl) {
			t.Errorf("%s: OpenSSL accepts=%v, we say %v", c.name, openssl, err)
		}
	}
	t.Logf("%d cases judged", len(cases))

	// Two signers: a document signature verifies both; a login refuses it.
	a, ak := p.leaf(t, enginetest.Paramset{Algorithm: "gost2012_256", Name: "TCA"}, "digitalSignature")
	b, bk := p.leaf(t, enginetest.Paramset{Algorithm: "gost2012_512", Name: "A"}, "digitalSignature")
	two := filepath.Join(dir, "two.der")
	enginetest.Run(t, nil, "cms", "-sign", "-engine", "gost", "-binary", "-nodetach", "-in", msg, "-outform", "DER",
		"-signer", a, "-inkey", ak, "-signer", b, "-inkey", bk, "-certfile", p.interCert, "-out", two)
	twoLogin := filepath.Join(dir, "two-login.der")
	enginetest.Run(t, nil, "cms", "-sign", "-engine", "gost", "-binary", "-nodetach", "-in", msg, "-outform", "DER",
		"-econtent_type", login.OID.String(),
		"-signer", a, "-inkey", ak, "-signer", b, "-inkey", bk, "-certfile", p.interCert, "-out", twoLogin)
	twoDER, _ := os.ReadFile(two)
	v2, _ := New(Config{Origins: []string{origin}, Roots: []*x509.Certificate{p.root}, Intermediates: []*x509.Certificate{p.inter}, Now: func() time.Time { return now }})
	if _, err := v2.VerifySignature(context.Background(), twoDER, nil); err != nil {
		t.Errorf("two signers, document: %v", err)
	}
	if _, err := v2.VerifyLogin(context.Background(), twoDER, "https://lk.example.ru"); !errors.Is(err, ErrWrongPurpose) {
		t.Errorf("two signers as data, login: %v", err)
	}
	twoLoginDER, _ := os.ReadFile(twoLogin)
	if _, err := v2.VerifyLogin(context.Background(), twoLoginDER, "https://lk.example.ru"); !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "2 signers") {
		t.Errorf("two signers, login: %v", err)
	}

	// The reverse: CMS we build with the engine's keys verifies in OpenSSL
	// through the same chain.
	for _, ps := range []enginetest.Paramset{{Algorithm: "gost2012_256", Name: "TCA"}, {Algorithm: "gost2012_512", Name: "C"}, {Algorithm: "gost2012_256", Name: "B"}} {
		certPath, keyPath := p.leaf(t, ps, "digitalSignature")
		key, err := gostx509.ParsePKCS8PrivateKey(enginetest.ReadPEM(t, keyPath))
		if err != nil {
			t.Fatal(err)
		}
		content, _ := os.ReadFile(msg)
		for _, detached := range []bool{false, true} {
			der, err := cms.Sign(content, loadCert(t, certPath), key, &cms.SignOptions{Detached: detached, Certificates: []*x509.Certificate{p.inter}})
			if err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(dir, "ours.der")
			os.WriteFile(out, der, 0o600)
			c := ""
			if detached {
				c = msg
			}
			if !opensslAccepts(p, p.rootCert, out, c, now) {
				t.Errorf("%s detached=%v: OpenSSL rejects our CMS", ps.Name, detached)
			}
		}
	}
}

// TestEngineLogin: for every parameter set, a login we sign under
// id-podpis-login verifies with OpenSSL's engine (which does not know the
// type: -binary), and one the engine signs under that type (-econtent_type)
// passes ExamineLogin; the same document signed by the engine as data is
// refused as a login.
func TestEngineLogin(t *testing.T) {
	enginetest.Require(t)
	dir := t.TempDir()
	p := newEnginePKI(t, dir, "Login")
	const site = "https://lk.example.ru"
	for _, ps := range enginetest.Paramsets {
		t.Run(ps.Algorithm+"-"+ps.Name, func(t *testing.T) {
			now := time.Now()
			certPath, keyPath := p.leaf(t, ps, "digitalSignature")
			key, err := gostx509.ParsePKCS8PrivateKey(enginetest.ReadPEM(t, keyPath))
			if err != nil {
				t.Fatal(err)
			}
			doc := login.NewDocument(site, "challenge-"+ps.Name, now).Marshal()
			docPath := writeFile(t, filepath.Join(dir, ps.Algorithm+ps.Name+".json"), string(doc))
			der, err := cms.Sign(doc, loadCert(t, certPath), key, &cms.SignOptions{ContentType: login.OID, Certificates: []*x509.Certificate{p.inter}})
			if err != nil {
				t.Fatal(err)
			}
			ours := writeFile(t, filepath.Join(dir, ps.Algorithm+ps.Name+"-ours.der"), string(der))
			at := now.Add(time.Minute)
			if !opensslAccepts(p, p.rootCert, ours, "", at) {
				t.Errorf("OpenSSL rejects our login CMS")
			}
			v, _ := New(Config{Origins: []string{site}, Roots: []*x509.Certificate{p.root}, Now: func() time.Time { return at }})
			theirs := filepath.Join(dir, ps.Algorithm+ps.Name+"-theirs.der")
			enginetest.Run(t, nil, "cms", "-sign", "-engine", "gost", "-binary", "-nodetach", "-econtent_type", login.OID.String(),
				"-signer", certPath, "-inkey", keyPath, "-certfile", p.interCert, "-in", docPath, "-outform", "DER", "-out", theirs)
			theirsDER, _ := os.ReadFile(theirs)
			if _, got, err := v.ExamineLogin(context.Background(), theirsDER, site); err != nil || got.Challenge != "challenge-"+ps.Name {
				t.Errorf("engine's login CMS: %v", err)
			}
			asData := filepath.Join(dir, ps.Algorithm+ps.Name+"-data.der")
			enginetest.Run(t, nil, "cms", "-sign", "-engine", "gost", "-binary", "-nodetach",
				"-signer", certPath, "-inkey", keyPath, "-certfile", p.interCert, "-in", docPath, "-outform", "DER", "-out", asData)
			asDataDER, _ := os.ReadFile(asData)
			if _, _, err := v.ExamineLogin(context.Background(), asDataDER, site); !errors.Is(err, ErrWrongPurpose) {
				t.Errorf("engine's data CMS of a login document: %v", err)
			}
		})
	}
}
