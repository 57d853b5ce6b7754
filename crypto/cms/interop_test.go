package cms

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/crypto/gostx509"
	"github.com/podpis/podpis/internal/enginetest"
)

// TestEngineCMS: for every parameter set, CMS the engine makes (attached,
// detached, without signed attributes) verifies with us and fails when
// tampered; CMS we make with the engine's key verifies with the engine.
func TestEngineCMS(t *testing.T) {
	enginetest.Require(t)
	for _, ps := range enginetest.Paramsets {
		t.Run(ps.Algorithm+"-"+ps.Name, func(t *testing.T) {
			dir := t.TempDir()
			keyPath := enginetest.GenKey(t, dir, ps)
			certPath := filepath.Join(dir, "cert.pem")
			enginetest.Run(t, nil, "req", "-engine", "gost", "-x509", "-new", "-key", keyPath,
				"-subj", "/CN=Подписант", "-days", "2", "-out", certPath)
			cert, err := x509.ParseCertificate(enginetest.ReadPEM(t, certPath))
			if err != nil {
				t.Fatal(err)
			}
			msg := []byte("challenge: " + strings.Repeat(ps.Name, 50))
			msgPath := filepath.Join(dir, "msg")
			os.WriteFile(msgPath, msg, 0o600)
			for _, mode := range []struct {
				name     string
				args     []string
				detached bool
			}{
				{"attached", []string{"-nodetach"}, false},
				{"detached", nil, true},
				{"noattr", []string{"-nodetach", "-noattr"}, false},
			} {
				out := filepath.Join(dir, mode.name+".der")
				args := append([]string{"cms", "-sign", "-engine", "gost", "-binary", "-signer", certPath, "-inkey", keyPath,
					"-in", msgPath, "-outform", "DER", "-out", out}, mode.args...)
				enginetest.Run(t, nil, args...)
				der, _ := os.ReadFile(out)
				sd, err := Parse(der)
				if err != nil {
					t.Fatalf("%s: %v", mode.name, err)
				}
				si := sd.Signers[0]
				signer, err := si.FindCertificate(sd.Certificates)
				if err != nil {
					t.Fatalf("%s: %v", mode.name, err)
				}
				var detached []byte
				if mode.detached {
					detached = msg
				}
				if err := sd.VerifySigner(si, signer, detached); err != nil {
					t.Fatalf("%s: engine's CMS rejected: %v", mode.name, err)
				}
				if mode.name == "noattr" && si.HasSignedAttributes {
					t.Fatal("-noattr made signed attributes")
				}
				bad := append([]byte{}, msg...)
				bad[3] ^= 1
				if mode.detached {
					if err := sd.VerifySigner(si, signer, bad); err == nil {
						t.Fatalf("%s: tampered content accepted", mode.name)
					}
				} else {
					sd.Content = bad
					if err := sd.VerifySigner(si, signer, nil); !errors.Is(err, ErrDigestMismatch) && !errors.Is(err, ErrBadSignature) {
						t.Fatalf("%s: tampered content: %v", mode.name, err)
					}
				}
			}

			// Ours, verified by the engine.
			key, err := gostx509.ParsePKCS8PrivateKey(enginetest.ReadPEM(t, keyPath))
			if err != nil {
				t.Fatal(err)
			}
			// The engine verifies a content type it does not know (with
			// -binary), as podpis's login type, beyond an int.
			for _, opts := range []SignOptions{{}, {Detached: true}, {NoSignedAttributes: true}, {ContentType: bigArcType}, {ContentType: bigArcType, Detached: true}} {
				der, err := Sign(msg, cert, key, &opts)
				if err != nil {
					t.Fatal(err)
				}
				ours := filepath.Join(dir, "ours.der")
				os.WriteFile(ours, der, 0o600)
				args := []string{"cms", "-verify", "-engine", "gost", "-binary", "-inform", "DER", "-in", ours,
					"-CAfile", certPath, "-purpose", "any", "-out", filepath.Join(dir, "out")}
				if opts.Detached {
					args = append(args, "-content", msgPath)
				}
				if out, err := enginetest.Try(nil, args...); err != nil {
					t.Fatalf("%+v: engine rejects our CMS: %v\n%s", opts, err, out)
				}
				if got, _ := os.ReadFile(filepath.Join(dir, "out")); string(got) != string(msg) {
					t.Fatalf("%+v: engine extracted %q", opts, got)
				}
				der[len(der)-10] ^= 1 // inside the signature value
				os.WriteFile(ours, der, 0o600)
				if out, err := enginetest.Try(nil, args...); err == nil {
					t.Fatalf("%+v: engine accepts a tampered signature: %s", opts, out)
				}
			}
		})
	}
}

// TestEngineStreamCoSign: for every parameter set, what Writer streams
// (attached BER of indefinite length, and detached) and what CoSign adds
// to a message the engine made (attached with -stream, and detached) is
// accepted by the engine's cms -verify, every signer of it; and the
// engine's streamed BER verifies with ParseStream. A co-signed message
// whose added signature is spoilt is refused by the engine.
func TestEngineStreamCoSign(t *testing.T) {
	enginetest.Require(t)
	content := bytes.Repeat([]byte("Договор поставки. "), 9000) // over two segments
	for _, ps := range enginetest.Paramsets {
		t.Run(ps.Algorithm+"-"+ps.Name, func(t *testing.T) {
			dir := t.TempDir()
			var keys []*gost3410.PrivateKey
			var certs []*x509.Certificate
			var certPaths []string
			for i, name := range []string{"Первый подписант", "Второй подписант"} {
				sub := filepath.Join(dir, fmt.Sprint(i))
				os.Mkdir(sub, 0o700)
				keyPath := enginetest.GenKey(t, sub, ps)
				certPath := filepath.Join(sub, "cert.pem")
				enginetest.Run(t, nil, "req", "-engine", "gost", "-x509", "-new", "-key", keyPath,
					"-subj", "/CN="+name, "-days", "2", "-out", certPath)
				cert, err := x509.ParseCertificate(enginetest.ReadPEM(t, certPath))
				if err != nil {
					t.Fatal(err)
				}
				key, err := gostx509.ParsePKCS8PrivateKey(enginetest.ReadPEM(t, keyPath))
				if err != nil {
					t.Fatal(err)
				}
				keys, certs, certPaths = append(keys, key), append(certs, cert), append(certPaths, certPath)
			}
			caFile := filepath.Join(dir, "both.pem")
			a, _ := os.ReadFile(certPaths[0])
			b, _ := os.ReadFile(certPaths[1])
			os.WriteFile(caFile, append(a, b...), 0o600)
			msgPath := filepath.Join(dir, "msg")
			os.WriteFile(msgPath, content, 0o600)
			engineVerifies := func(der []byte, detached bool) error {
				p := filepath.Join(dir, "ours.der")
				os.WriteFile(p, der, 0o600)
				args := []string{"cms", "-verify", "-engine", "gost", "-binary", "-inform", "DER", "-in", p,
					"-CAfile", caFile, "-purpose", "any", "-out", filepath.Join(dir, "out")}
				if detached {
					args = append(args, "-content", msgPath)
				}
				if out, err := enginetest.Try(nil, args...); err != nil {
					return fmt.Errorf("%v: %s", err, out)
				}
				if got, _ := os.ReadFile(filepath.Join(dir, "out")); !bytes.Equal(got, content) {
					return fmt.Errorf("engine extracted %d bytes", len(got))
				}
				return nil
			}
			for _, detached := range []bool{false, true} {
				ours := streamSign(t, content, certs[0], keys[0], &SignOptions{Detached: detached})
				if err := engineVerifies(ours, detached); err != nil {
					t.Fatalf("detached %v: engine rejects our streamed CMS: %v", detached, err)
				}
				// The engine's own, co-signed by us.
				out := filepath.Join(dir, "engine.der")
				args := []string{"cms", "-sign", "-engine", "gost", "-binary", "-signer", certPaths[0],
					"-inkey", filepath.Join(dir, "0", ps.Algorithm+"-"+ps.Name+".key"), "-in", msgPath, "-outform", "DER", "-out", out}
				if !detached {
					args = append(args, "-nodetach", "-stream")
				}
				enginetest.Run(t, nil, args...)
				engineDER, _ := os.ReadFile(out)
				sd, err := ParseStream(bytes.NewReader(engineDER), nil)
				if err != nil {
					t.Fatalf("detached %v: ParseStream of the engine's CMS: %v", detached, err)
				}
				var given io.Reader
				if detached {
					sd.HashContent(bytes.NewReader(content))
					given = bytes.NewReader(content)
				}
				if err := verifyAll(sd, nil); err != nil {
					t.Fatalf("detached %v: engine's CMS streamed: %v", detached, err)
				}
				var co bytes.Buffer
				if err := CoSign(&co, bytes.NewReader(engineDER), given, certs[1], keys[1], nil); err != nil {
					t.Fatal(err)
				}
				if err := engineVerifies(co.Bytes(), detached); err != nil {
					t.Fatalf("detached %v: engine rejects the co-signed CMS: %v", detached, err)
				}
				held, err := Parse(co.Bytes())
				if err != nil || len(held.Signers) != 2 {
					t.Fatalf("co-signed: %v", err)
				}
				spoilt := co.Bytes()
				if detached {
					spoilt[len(spoilt)-10] ^= 1 // the last SignerInfo's signature: ours
				} else {
					spoilt[len(spoilt)-16] ^= 1 // before the six end-of-contents octets
				}
				if err := engineVerifies(spoilt, detached); err == nil {
					t.Fatalf("detached %v: engine accepts a spoilt co-signature", detached)
				}
			}
		})
	}
}
