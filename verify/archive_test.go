package verify

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/podpis/podpis/crypto/cms"
	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/internal/enginetest"
)

// TestEngineArchive2001: an archive made by OpenSSL's GOST engine with GOST
// R 34.10-2001 and GOST R 34.11-94 on each CryptoPro parameter set — a CA,
// a signer it issued without a keyUsage extension (a v1-style leaf), CMS
// attached and detached — verifies as a document (RFC 5280 on the absent
// keyUsage), streamed and held; a spoilt signature is BAD_SIGNATURE, other
// content CONTENT_MISMATCH, a foreign CA UNTRUSTED. podpis refuses to sign
// with such a certificate.
func TestEngineArchive2001(t *testing.T) {
	enginetest.Require(t)
	ctx := context.Background()
	content := bytes.Repeat([]byte("Архивный документ 2015 года. "), 3000)
	for _, ps := range []string{"A", "B", "C", "XA", "XB"} {
		t.Run(ps, func(t *testing.T) {
			dir := t.TempDir()
			gen := func(name string) string {
				p := filepath.Join(dir, name+".key")
				enginetest.Run(t, nil, "genpkey", "-engine", "gost", "-algorithm", "gost2001", "-pkeyopt", "paramset:"+ps, "-out", p)
				return p
			}
			caKey, leafKey := gen("ca"), gen("leaf")
			caCert := filepath.Join(dir, "ca.pem")
			enginetest.Run(t, nil, "req", "-engine", "gost", "-utf8", "-x509", "-new", "-key", caKey, "-md_gost94", "-subj", "/CN=Архивный УЦ",
				"-days", "3650", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-out", caCert)
			csr, leafCert := filepath.Join(dir, "leaf.csr"), filepath.Join(dir, "leaf.pem")
			enginetest.Run(t, nil, "req", "-engine", "gost", "-utf8", "-new", "-key", leafKey, "-md_gost94", "-subj", "/CN=Подписант архива", "-out", csr)
			// No -extfile: the leaf has no extensions at all.
			enginetest.Run(t, nil, "x509", "-engine", "gost", "-req", "-in", csr, "-CA", caCert, "-CAkey", caKey, "-md_gost94",
				"-set_serial", "7", "-days", "365", "-out", leafCert)
			root, leaf := loadCert(t, caCert), loadCert(t, leafCert)
			msgPath := filepath.Join(dir, "doc")
			os.WriteFile(msgPath, content, 0o600)

			v, err := New(Config{Roots: []*x509.Certificate{root}, Revocation: RevocationOff})
			if err != nil {
				t.Fatal(err)
			}
			stranger := newTestPKI(t)
			vForeign, _ := New(Config{Roots: []*x509.Certificate{stranger.root}, Revocation: RevocationOff})
			for _, detached := range []bool{false, true} {
				out := filepath.Join(dir, "sig.der")
				args := []string{"cms", "-sign", "-engine", "gost", "-binary", "-md", "md_gost94", "-signer", leafCert, "-inkey", leafKey,
					"-certfile", caCert, "-in", msgPath, "-outform", "DER", "-out", out}
				if !detached {
					args = append(args, "-nodetach")
				}
				enginetest.Run(t, nil, args...)
				sig, _ := os.ReadFile(out)
				var given []byte
				if detached {
					given = content
				}
				res, err := v.VerifySignature(ctx, sig, given)
				if err != nil {
					t.Fatalf("detached %v: the engine's 2001 archive: %v", detached, err)
				}
				if res.Identity.CommonName != "Подписант архива" || len(res.Chain) != 2 {
					t.Fatalf("detached %v: %+v", detached, res.Identity)
				}
				var r io.Reader
				if detached {
					r = bytes.NewReader(content)
				}
				doc, err := v.VerifyDocument(ctx, bytes.NewReader(sig), r)
				if err != nil || !doc.Valid() {
					t.Fatalf("detached %v: streamed: %v %+v", detached, err, doc)
				}
				spoilt := bytes.Clone(sig)
				spoilt[len(spoilt)-5] ^= 1 // inside the signature value, the message's last element
				if _, err := v.VerifySignature(ctx, spoilt, given); !errors.Is(err, ErrBadSignature) {
					t.Fatalf("detached %v: spoilt signature: %v", detached, err)
				}
				if detached {
					other := bytes.Clone(content)
					other[100] ^= 1
					if _, err := v.VerifySignature(ctx, sig, other); !errors.Is(err, ErrContentMismatch) {
						t.Fatalf("other content: %v", err)
					}
				}
				if _, err := vForeign.VerifySignature(ctx, sig, given); !errors.Is(err, ErrUntrusted) {
					t.Fatalf("detached %v: foreign CA: %v", detached, err)
				}
			}
			key, _ := gost3410.GenerateKey(gost3410.CurveCryptoProA, nil)
			if _, err := cms.Sign(content, leaf, key, nil); !errors.Is(err, cms.ErrUnsupported) {
				t.Fatalf("signing with a GOST R 34.10-2001 certificate: %v", err)
			}
			var sink bytes.Buffer
			if _, err := cms.NewWriter(&sink, leaf, key, nil); !errors.Is(err, cms.ErrUnsupported) {
				t.Fatalf("streaming with a GOST R 34.10-2001 certificate: %v", err)
			}
		})
	}
}
