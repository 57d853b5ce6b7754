package gostx509

import (
	"bufio"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/podpis/podpis/crypto/gost3410"
)

// engineVector is one testdata/engine/*.txt: a key, a message and a
// signature made by OpenSSL's GOST engine (testdata/engine/gen.sh).
type engineVector struct {
	file, algorithm, paramset string
	spki, message, signature  []byte
}

func loadEngineVectors(t *testing.T) []engineVector {
	t.Helper()
	files, err := filepath.Glob("testdata/engine/*.txt")
	if err != nil {
		t.Fatal(err)
	}
	var out []engineVector
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		v := engineVector{file: filepath.Base(name)}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<16)
		for sc.Scan() {
			line := sc.Text()
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			key, value, ok := strings.Cut(line, ": ")
			if !ok {
				t.Fatalf("%s: %q", name, line)
			}
			field := map[string]*[]byte{"spki": &v.spki, "message": &v.message, "signature": &v.signature}[key]
			switch {
			case key == "algorithm":
				v.algorithm = value
			case key == "paramset":
				v.paramset = value
			case field != nil:
				if *field, err = hex.DecodeString(value); err != nil {
					t.Fatalf("%s: %s: %v", name, key, err)
				}
			default:
				t.Fatalf("%s: unknown field %q", name, key)
			}
		}
		f.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
		if v.algorithm == "" || v.spki == nil || v.message == nil || v.signature == nil {
			t.Fatalf("%s: incomplete", name)
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		t.Fatal("no vectors in testdata/engine: run gen.sh there")
	}
	return out
}

// TestEngineVectors verifies signatures OpenSSL's GOST engine made, one per
// parameter set it knows, with no engine needed: the key's OID must name
// the curve the engine meant, the signature must verify, and a changed
// message or signature must not. Every curve podpis knows is covered.
func TestEngineVectors(t *testing.T) {
	covered := map[*gost3410.Curve]string{}
	for _, v := range loadEngineVectors(t) {
		pub, err := ParsePKIXPublicKey(v.spki)
		if err != nil {
			t.Errorf("%s: key: %v", v.file, err)
			continue
		}
		if other, dup := covered[pub.Curve()]; dup {
			t.Errorf("%s: curve %s already covered by %s", v.file, pub.Curve().Name(), other)
		}
		covered[pub.Curve()] = v.file
		var alg asn1.ObjectIdentifier
		switch v.algorithm {
		case "gost2012_256":
			alg = OIDSignature256
		case "gost2012_512":
			alg = OIDSignature512
		default:
			t.Fatalf("%s: algorithm %q", v.file, v.algorithm)
		}
		if pub.Curve().Bits() != map[string]int{"gost2012_256": 256, "gost2012_512": 512}[v.algorithm] {
			t.Errorf("%s: %s key on the %d-bit curve %s", v.file, v.algorithm, pub.Curve().Bits(), pub.Curve().Name())
		}
		if err := VerifySignature(alg, v.message, v.signature, pub); err != nil {
			t.Errorf("%s (%s): the engine's signature: %v", v.file, pub.Curve().Name(), err)
		}
		for what, edit := range map[string]func(msg, sig []byte){
			"message":     func(msg, sig []byte) { msg[len(msg)-1] ^= 1 },
			"signature r": func(msg, sig []byte) { sig[len(sig)-1] ^= 1 },
			"signature s": func(msg, sig []byte) { sig[0] ^= 0x80 },
			"r and s swapped": func(msg, sig []byte) {
				h := len(sig) / 2
				copy(sig, append(append([]byte{}, sig[h:]...), sig[:h]...))
			},
		} {
			msg, sig := append([]byte{}, v.message...), append([]byte{}, v.signature...)
			edit(msg, sig)
			if err := VerifySignature(alg, msg, sig, pub); !errors.Is(err, ErrSignature) {
				t.Errorf("%s: changed %s: %v, want ErrSignature", v.file, what, err)
			}
		}
	}
	for _, c := range gost3410.Curves() {
		if _, ok := covered[c]; !ok {
			t.Errorf("no engine vector for %s (%s)", c.Name(), c.OID())
		}
	}
}
