package cms

import (
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/crypto/gostx509"
	"github.com/podpis/podpis/internal/enginetest"
)

type engineSigner struct {
	cert     *x509.Certificate
	key      *gost3410.PrivateKey
	certPath string
}

func engineKey(t *testing.T, dir string, ps enginetest.Paramset, cn string) engineSigner {
	t.Helper()
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

// engineVerify runs openssl cms -verify on der (every signer must verify)
// with both signers' certificates as trust anchors.
func engineVerify(t *testing.T, dir string, der []byte, content []byte, cas ...string) error {
	t.Helper()
	in := filepath.Join(dir, "in.der")
	os.WriteFile(in, der, 0o600)
	bundle := filepath.Join(dir, "cas.pem")
	var all []byte
	for _, c := range cas {
		b, _ := os.ReadFile(c)
		all = append(all, b...)
	}
	os.WriteFile(bundle, all, 0o600)
	args := []string{"cms", "-verify", "-engine", "gost", "-binary", "-inform", "DER", "-in", in,
		"-CAfile", bundle, "-purpose", "any", "-out", filepath.Join(dir, "out")}
	if content != nil {
		msg := filepath.Join(dir, "content")
		os.WriteFile(msg, content, 0o600)
		args = append(args, "-content", msg)
	}
	out, err := enginetest.Try(nil, args...)
	if err != nil {
		return errors.New(string(out))
	}
	return nil
}

// TestSignDigestAndCoSignEngine: for every parameter set, a signature
// over a digest computed apart (as the agent hashes a stream) and a
// co-signature added to it by a key of another size, and to an attached
// message the engine made, are accepted by openssl cms -verify -engine
// gost for every signer; a changed content, or a co-signer's digest of
// another content, is refused.
func TestSignDigestAndCoSignEngine(t *testing.T) {
	enginetest.Require(t)
	for i, ps := range enginetest.Paramsets {
		t.Run(ps.Algorithm+"-"+ps.Name, func(t *testing.T) {
			dir := t.TempDir()
			first := engineKey(t, dir, ps, "Первый")
			other := enginetest.Paramsets[(i+len(enginetest.Paramsets)/2)%len(enginetest.Paramsets)]
			second := engineKey(t, dir, other, "Второй")
			msg := []byte("договор № " + strings.Repeat(ps.Name, 1000))

			h, _ := NewHash(first.key.Public())
			for i := 0; i < len(msg); i += 100 {
				h.Write(msg[i:min(i+100, len(msg))])
			}
			der, err := SignDigest(h.Sum(nil), first.cert, first.key, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := engineVerify(t, dir, der, msg, first.certPath); err != nil {
				t.Fatalf("engine rejects SignDigest: %v", err)
			}
			bad := append([]byte{}, msg...)
			bad[len(bad)-1] ^= 1
			if engineVerify(t, dir, der, bad, first.certPath) == nil {
				t.Fatal("engine accepts SignDigest over other content")
			}

			h2, _ := NewHash(second.key.Public())
			h2.Write(msg)
			co, err := CoSignDigest(der, h2.Sum(nil), second.cert, second.key, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := engineVerify(t, dir, co, msg, first.certPath, second.certPath); err != nil {
				t.Fatalf("engine rejects detached co-signature: %v", err)
			}
			checkSigners(t, co, msg, 2)

			h2.Reset()
			h2.Write(bad)
			wrong, err := CoSignDigest(der, h2.Sum(nil), second.cert, second.key, nil)
			if err != nil {
				t.Fatal(err)
			}
			if engineVerify(t, dir, wrong, msg, first.certPath, second.certPath) == nil {
				t.Fatal("engine accepts a co-signer over other content")
			}

			// An attached message the engine made, co-signed by us.
			msgPath := filepath.Join(dir, "msg")
			os.WriteFile(msgPath, msg, 0o600)
			att := filepath.Join(dir, "att.der")
			enginetest.Run(t, nil, "cms", "-sign", "-engine", "gost", "-binary", "-nodetach", "-signer", first.certPath,
				"-inkey", filepath.Join(dir, ps.Algorithm+"-"+ps.Name+".key"), "-in", msgPath, "-outform", "DER", "-out", att)
			attDER, _ := os.ReadFile(att)
			co, err = CoSignDigest(attDER, nil, second.cert, second.key, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := engineVerify(t, dir, co, nil, first.certPath, second.certPath); err != nil {
				t.Fatalf("engine rejects attached co-signature: %v", err)
			}
			checkSigners(t, co, nil, 2)
		})
	}
}

func checkSigners(t *testing.T, der, detached []byte, n int) {
	t.Helper()
	sd, err := Parse(der)
	if err != nil {
		t.Fatal(err)
	}
	if len(sd.Signers) != n {
		t.Fatalf("%d signers, want %d", len(sd.Signers), n)
	}
	for _, si := range sd.Signers {
		c, err := si.FindCertificate(sd.Certificates)
		if err != nil {
			t.Fatal(err)
		}
		if err := sd.VerifySigner(si, c, detached); err != nil {
			t.Fatalf("signer %s: %v", c.Subject, err)
		}
	}
}

// TestSignDigestRefuses: a digest of the wrong length (a Streebog-256
// digest for a 512-bit key: a page's hash that is not the key's) and a
// detached message co-signed without the content's digest are errors,
// never a signature.
func TestSignDigestRefuses(t *testing.T) {
	enginetest.Require(t)
	dir := t.TempDir()
	s := engineKey(t, dir, enginetest.Paramset{Algorithm: "gost2012_512", Name: "A"}, "Подписант")
	for _, n := range []int{0, 32, 63, 65} {
		if der, err := SignDigest(make([]byte, n), s.cert, s.key, nil); !errors.Is(err, ErrDigestSize) || der != nil {
			t.Errorf("digest of %d bytes: %v", n, err)
		}
	}
	h, _ := NewHash(s.key.Public())
	der, err := SignDigest(h.Sum(nil), s.cert, s.key, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := CoSignDigest(der, nil, s.cert, s.key, nil); !errors.Is(err, ErrNoContent) {
		t.Errorf("co-sign of detached without digest: %v", err)
	}
	if _, err := CoSignDigest(der[:len(der)-3], h.Sum(nil), s.cert, s.key, nil); !errors.Is(err, ErrMalformed) {
		t.Errorf("co-sign of truncated: %v", err)
	}
}
