package cms

import (
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
