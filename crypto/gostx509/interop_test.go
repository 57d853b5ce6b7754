package gostx509

import (
	"bytes"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/crypto/streebog"
	"github.com/podpis/podpis/internal/enginetest"
)

// engineKeyText returns what "openssl pkey -text" prints of a key: the
// private key and the public coordinates as big-endian hex.
func engineKeyText(t *testing.T, path string) (d, x, y string) {
	t.Helper()
	out := string(enginetest.Run(t, nil, "pkey", "-engine", "gost", "-in", path, "-text", "-noout"))
	get := func(re string) string {
		m := regexp.MustCompile(re).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no %q in:\n%s", re, out)
		}
		return strings.ToLower(strings.TrimLeft(m[1], "0"))
	}
	return get(`Private key:\s*([0-9A-Fa-f]+)`), get(`X:\s*([0-9A-Fa-f]+)`), get(`Y:\s*([0-9A-Fa-f]+)`)
}

func trimHex(b []byte) string { return strings.TrimLeft(hex.EncodeToString(b), "0") }

func pemFile(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

func curveFor(ps enginetest.Paramset) *gost3410.Curve {
	names := map[string]string{
		"gost2012_256/A": "cryptopro-a", "gost2012_256/B": "cryptopro-b", "gost2012_256/C": "cryptopro-c",
		"gost2012_256/XA": "cryptopro-xcha", "gost2012_256/XB": "cryptopro-xchb",
		"gost2012_256/TCA": "tc26-256-a", "gost2012_256/TCB": "tc26-256-b", "gost2012_256/TCC": "tc26-256-c", "gost2012_256/TCD": "tc26-256-d",
		"gost2012_512/A": "tc26-512-a", "gost2012_512/B": "tc26-512-b", "gost2012_512/C": "tc26-512-c",
	}
	return gost3410.CurveByName(names[ps.Algorithm+"/"+ps.Name])
}

func digestName(c *gost3410.Curve) string {
	if c.Size() == 64 {
		return "-md_gost12_512"
	}
	return "-md_gost12_256"
}

func digestOf(c *gost3410.Curve, msg []byte) []byte {
	if c.Size() == 64 {
		d := streebog.Sum512(msg)
		return d[:]
	}
	d := streebog.Sum256(msg)
	return d[:]
}

// TestEngineInterop checks, for every parameter set, both directions:
// keys and signatures the engine makes are read and verified by us, byte
// for byte the same on re-encoding, and ours are read and verified by it.
func TestEngineInterop(t *testing.T) {
	enginetest.Require(t)
	for _, ps := range enginetest.Paramsets {
		t.Run(ps.Algorithm+"-"+ps.Name, func(t *testing.T) {
			c := curveFor(ps)
			if c == nil {
				t.Fatal("no curve for paramset")
			}
			dir := t.TempDir()
			msg := []byte("Вход в Личный кабинет: " + ps.Name + strings.Repeat("!", 100))
			msgPath := filepath.Join(dir, "msg")
			os.WriteFile(msgPath, msg, 0o600)

			// The engine's key, read by us.
			keyPath := enginetest.GenKey(t, dir, ps)
			der := enginetest.ReadPEM(t, keyPath)
			key, err := ParsePKCS8PrivateKey(der)
			if err != nil {
				t.Fatalf("parsing the engine's key: %v", err)
			}
			if key.Curve() != c {
				t.Fatalf("curve %s, want %s", key.Curve().Name(), c.Name())
			}
			d, x, y := engineKeyText(t, keyPath)
			if trimHex(reverse(key.Bytes())) != d || trimHex(key.PublicKey().X().Bytes()) != x || trimHex(key.PublicKey().Y().Bytes()) != y {
				t.Fatalf("key differs from the engine's: d %s/%x x %s/%x", d, reverse(key.Bytes()), x, key.PublicKey().X())
			}
			if again, _ := MarshalPKCS8PrivateKey(key); !bytes.Equal(again, der) {
				t.Fatalf("PKCS#8 re-encoding differs:\n ours   %x\n engine %x", again, der)
			}
			pubPath := filepath.Join(dir, "pub.pem")
			enginetest.Run(t, nil, "pkey", "-engine", "gost", "-in", keyPath, "-pubout", "-out", pubPath)
			pubDER := enginetest.ReadPEM(t, pubPath)
			pub, err := ParsePKIXPublicKey(pubDER)
			if err != nil || !pub.Equal(key.PublicKey()) {
				t.Fatalf("engine's SubjectPublicKeyInfo: %v", err)
			}
			if again, _ := MarshalPKIXPublicKey(pub); !bytes.Equal(again, pubDER) {
				t.Fatalf("SPKI re-encoding differs:\n ours   %x\n engine %x", again, pubDER)
			}

			// The engine's signature, verified by us.
			sigPath := filepath.Join(dir, "engine.sig")
			enginetest.Run(t, nil, "dgst", "-engine", "gost", digestName(c), "-sign", keyPath, "-out", sigPath, msgPath)
			sig, _ := os.ReadFile(sigPath)
			if !pub.Verify(digestOf(c, msg), sig) {
				t.Fatalf("engine's signature %x rejected", sig)
			}
			sig[len(sig)/3] ^= 4
			if pub.Verify(digestOf(c, msg), sig) {
				t.Fatal("tampered engine signature accepted")
			}

			// Our signature with the engine's key, verified by the engine.
			ours, err := key.Sign(nil, digestOf(c, msg), nil)
			if err != nil {
				t.Fatal(err)
			}
			oursPath := filepath.Join(dir, "ours.sig")
			os.WriteFile(oursPath, ours, 0o600)
			out := enginetest.Run(t, nil, "dgst", "-engine", "gost", digestName(c), "-verify", pubPath, "-signature", oursPath, msgPath)
			if !strings.Contains(string(out), "Verified OK") {
				t.Fatalf("engine rejects our signature: %s", out)
			}
			ours[0] ^= 1
			os.WriteFile(oursPath, ours, 0o600)
			if out, err := enginetest.Try(nil, "dgst", "-engine", "gost", digestName(c), "-verify", pubPath, "-signature", oursPath, msgPath); err == nil {
				t.Fatalf("engine accepts a tampered signature: %s", out)
			}

			// Our key, read by the engine: same public key, and it signs
			// something we verify.
			mine, err := gost3410.GenerateKey(c, nil)
			if err != nil {
				t.Fatal(err)
			}
			mineDER, _ := MarshalPKCS8PrivateKey(mine)
			minePath := filepath.Join(dir, "mine.key")
			pemFile(t, minePath, "PRIVATE KEY", mineDER)
			_, mx, my := engineKeyText(t, minePath)
			if mx != trimHex(mine.PublicKey().X().Bytes()) || my != trimHex(mine.PublicKey().Y().Bytes()) {
				t.Fatalf("engine derives another public key from ours")
			}
			minePub := filepath.Join(dir, "mine.pub")
			enginetest.Run(t, nil, "pkey", "-engine", "gost", "-in", minePath, "-pubout", "-out", minePub)
			if want, _ := MarshalPKIXPublicKey(mine.PublicKey()); !bytes.Equal(enginetest.ReadPEM(t, minePub), want) {
				t.Fatal("engine's SPKI for our key differs from ours")
			}
			enginetest.Run(t, nil, "dgst", "-engine", "gost", digestName(c), "-sign", minePath, "-out", sigPath, msgPath)
			sig, _ = os.ReadFile(sigPath)
			if !mine.PublicKey().Verify(digestOf(c, msg), sig) {
				t.Fatal("engine's signature with our key rejected")
			}
		})
	}
}

// TestEnginePrivateKeyForms covers the other private key encodings the
// engine reads: the wrapped OCTET STRING it writes on request, an INTEGER,
// and a masked key; each must give the public key the engine derives.
func TestEnginePrivateKeyForms(t *testing.T) {
	enginetest.Require(t)
	dir := t.TempDir()
	for _, ps := range []enginetest.Paramset{{Algorithm: "gost2012_256", Name: "TCA"}, {Algorithm: "gost2012_512", Name: "B"}} {
		c := curveFor(ps)
		path := filepath.Join(dir, ps.Name+"-wrapped.key")
		cmd := []string{"genpkey", "-engine", "gost", "-algorithm", ps.Algorithm, "-pkeyopt", "paramset:" + ps.Name, "-out", path}
		t.Setenv("GOST_PK_FORMAT", "LE_OCTET_STRING")
		enginetest.Run(t, nil, cmd...)
		t.Setenv("GOST_PK_FORMAT", "")
		key, err := ParsePKCS8PrivateKey(enginetest.ReadPEM(t, path))
		if err != nil {
			t.Fatalf("%s wrapped form: %v", ps.Name, err)
		}
		_, x, _ := engineKeyText(t, path)
		if x != trimHex(key.PublicKey().X().Bytes()) {
			t.Fatalf("%s wrapped form: wrong key", ps.Name)
		}
		if !bytes.Contains(enginetest.ReadPEM(t, path), append([]byte{0x04, byte(c.Size())}, key.Bytes()...)) {
			t.Fatalf("%s: engine did not write the wrapped form", ps.Name)
		}

		// INTEGER and masked forms, written by hand, read by both.
		base, _ := MarshalPKCS8PrivateKey(key)
		algEnd := len(base) - c.Size() - 2 // the PrivateKey OCTET STRING is last
		for _, form := range []struct {
			name string
			priv []byte
		}{
			{"integer", derInteger(reverse(key.Bytes()))},
			{"masked", maskedKey(t, c, key)},
		} {
			body := append(bytes.Clone(base[2:algEnd]), derOctets(form.priv)...)
			der := append([]byte{0x30}, derLen(len(body))...)
			der = append(der, body...)
			if base[1] > 0x80 {
				t.Fatal("test builds short-form lengths only")
			}
			got, err := ParsePKCS8PrivateKey(der)
			if err != nil || !got.Equal(key) {
				t.Fatalf("%s %s form: %v", ps.Name, form.name, err)
			}
			p := filepath.Join(dir, ps.Name+"-"+form.name+".key")
			pemFile(t, p, "PRIVATE KEY", der)
			if _, ex, _ := engineKeyText(t, p); ex != x {
				t.Fatalf("%s %s form: engine reads another key", ps.Name, form.name)
			}
		}
	}
}

func derLen(n int) []byte {
	if n < 0x80 {
		return []byte{byte(n)}
	}
	return []byte{0x81, byte(n)}
}

func derOctets(b []byte) []byte { return append(append([]byte{0x04}, derLen(len(b))...), b...) }

func derInteger(be []byte) []byte {
	for len(be) > 1 && be[0] == 0 {
		be = be[1:]
	}
	if be[0]&0x80 != 0 {
		be = append([]byte{0}, be...)
	}
	return append(append([]byte{0x02}, derLen(len(be))...), be...)
}

// maskedKey returns d·m^-1 ‖ m (little-endian) for a fixed mask m, which
// unmasks to d.
func maskedKey(t *testing.T, c *gost3410.Curve, key *gost3410.PrivateKey) []byte {
	_, q, _, _, _, _ := c.Params()
	d := newInt(reverse(key.Bytes()))
	m := newInt(bytes.Repeat([]byte{0x35}, c.Size()-1))
	masked := d.Mul(d, m.ModInverse(m, q))
	masked.Mod(masked, q)
	mm := newInt(bytes.Repeat([]byte{0x35}, c.Size()-1))
	return append(reverse(masked.FillBytes(make([]byte, c.Size()))), reverse(mm.FillBytes(make([]byte, c.Size())))...)
}

// TestEngineCertificates: certificates the engine signs (self-signed and
// CA-issued, every key size) parse with crypto/x509 and check with us.
func TestEngineCertificates(t *testing.T) {
	enginetest.Require(t)
	dir := t.TempDir()
	caKey := enginetest.GenKey(t, dir, enginetest.Paramset{Algorithm: "gost2012_512", Name: "A"})
	caCert := filepath.Join(dir, "ca.pem")
	enginetest.Run(t, nil, "req", "-engine", "gost", "-x509", "-new", "-key", caKey, "-subj", "/CN=Test CA/O=podpis", "-days", "30", "-out", caCert)
	ca := parseCertFile(t, caCert)
	caPub, err := PublicKey(ca)
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckCertificateSignature(ca, caPub); err != nil {
		t.Fatalf("self-signed CA: %v", err)
	}
	for _, ps := range []enginetest.Paramset{{Algorithm: "gost2012_256", Name: "TCA"}, {Algorithm: "gost2012_256", Name: "A"}, {Algorithm: "gost2012_512", Name: "C"}} {
		leafKey := enginetest.GenKey(t, dir, ps)
		csr := filepath.Join(dir, ps.Name+".csr")
		leaf := filepath.Join(dir, ps.Name+".pem")
		enginetest.Run(t, nil, "req", "-engine", "gost", "-new", "-key", leafKey, "-subj", "/CN=Иванов Иван/SN=Иванов", "-out", csr)
		enginetest.Run(t, nil, "x509", "-engine", "gost", "-req", "-in", csr, "-CA", caCert, "-CAkey", caKey, "-days", "10", "-set_serial", "7", "-out", leaf)
		cert := parseCertFile(t, leaf)
		if err := CheckCertificateSignature(cert, caPub); err != nil {
			t.Fatalf("%s leaf: %v", ps.Name, err)
		}
		leafPub, _ := PublicKey(cert)
		if err := CheckCertificateSignature(cert, leafPub); err == nil {
			t.Fatalf("%s leaf verifies under its own key", ps.Name)
		}
		bad := bytes.Clone(cert.Raw)
		bad[len(bad)-5] ^= 1
		if badCert, err := x509.ParseCertificate(bad); err == nil {
			if err := CheckCertificateSignature(badCert, caPub); err == nil {
				t.Fatalf("%s: tampered signature accepted", ps.Name)
			}
		}
	}
}

func parseCertFile(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	cert, err := x509.ParseCertificate(enginetest.ReadPEM(t, path))
	if err != nil {
		t.Fatalf("crypto/x509 cannot parse %s: %v", path, err)
	}
	return cert
}
