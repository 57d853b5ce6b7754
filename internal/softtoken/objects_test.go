package softtoken

import (
	"bytes"
	"encoding/asn1"
	"os"
	"path/filepath"
	"testing"

	"github.com/podpis/podpis/crypto/gost3410"
)

func restartToken(t *testing.T, tok *Token) {
	t.Helper()
	if rv := tok.Finalize(); rv != CKR_OK {
		t.Fatal(rv)
	}
	if rv := tok.Initialize(); rv != CKR_OK {
		t.Fatal(rv)
	}
}

func findAll(tok *Token, h uint64, tmpl ...Attribute) []uint64 {
	tok.FindObjectsInit(h, tmpl)
	objs, _ := tok.FindObjects(h, 100)
	tok.FindObjectsFinal(h)
	return objs
}

// TestHandMadePairKeepsID: a pair written by hand (NAME.key + NAME.pem)
// whose certificate is destroyed keeps its CKA_ID and label across a
// restart, so that the certificate, installed again under that id, goes
// back beside it. Without NAME.attrs the key alone would not load at all.
func TestHandMadePairKeepsID(t *testing.T) {
	tok, _ := newToken(t)
	h, _ := tok.OpenSession(SlotID, CKF_SERIAL_SESSION|CKF_RW_SESSION)
	if rv := tok.Login(h, CKU_USER, []byte("1234")); rv != CKR_OK {
		t.Fatal(rv)
	}
	certs := findAll(tok, h, Attribute{CKA_CLASS, ulong(CKO_CERTIFICATE)})
	if len(certs) != 1 {
		t.Fatal("no certificate")
	}
	id, _ := tok.AttributeValue(h, certs[0], CKA_ID)
	der, _ := tok.AttributeValue(h, certs[0], CKA_VALUE)
	if rv := tok.DestroyObject(h, certs[0]); rv != CKR_OK {
		t.Fatal(rv)
	}
	restartToken(t, tok)
	h, _ = tok.OpenSession(SlotID, CKF_SERIAL_SESSION|CKF_RW_SESSION)
	tok.Login(h, CKU_USER, []byte("1234"))
	keys := findAll(tok, h, Attribute{CKA_CLASS, ulong(CKO_PRIVATE_KEY)}, Attribute{CKA_ID, id})
	if len(keys) != 1 {
		t.Fatalf("the key under its id after its certificate went: %v (load: %v)", keys, tok.LoadError())
	}
	if label, _ := tok.AttributeValue(h, keys[0], CKA_LABEL); string(label) != "x" {
		t.Errorf("label %q", label)
	}
	if _, rv := tok.CreateObject(h, []Attribute{{CKA_CLASS, ulong(CKO_CERTIFICATE)}, {CKA_TOKEN, bval(true)}, {CKA_ID, id}, {CKA_VALUE, der}}); rv != CKR_OK {
		t.Fatal(rv)
	}
	if _, err := os.Stat(filepath.Join(tok.dir, "x.pem")); err != nil {
		t.Errorf("the certificate is not back as x.pem: %v", err)
	}
}

// TestSessionObjects: a key pair made with CKA_TOKEN false is never
// written and dies with its session.
func TestSessionObjects(t *testing.T) {
	dir := t.TempDir()
	tok := New(dir, "1234")
	tok.Initialize()
	h, _ := tok.OpenSession(SlotID, CKF_SERIAL_SESSION)
	tok.Login(h, CKU_USER, []byte("1234"))
	params, _ := asn1.Marshal(gost3410.CurveTC26256A.OID())
	pub, priv, rv := tok.GenerateKeyPair(h, CKM_GOSTR3410_KEY_PAIR_GEN, []Attribute{{CKA_GOSTR3410_PARAMS, params}}, nil)
	if rv != CKR_OK {
		t.Fatal(rv)
	}
	if v, _ := tok.AttributeValue(h, priv, CKA_TOKEN); !bytes.Equal(v, bval(false)) {
		t.Errorf("CKA_TOKEN of a session key: %x", v)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a session key was written: %v", entries)
	}
	other, _ := tok.OpenSession(SlotID, CKF_SERIAL_SESSION)
	tok.CloseSession(h)
	for _, o := range []uint64{pub, priv} {
		if _, rv := tok.AttributeValue(other, o, CKA_CLASS); rv != CKR_OBJECT_HANDLE_INVALID {
			t.Errorf("object %d outlived its session: %#x", o, rv)
		}
	}
}

// TestConcurrentGeneration: generation runs outside the token's lock;
// keys generated at once in several sessions, while another session
// searches, all land with distinct handles (run with -race).
func TestConcurrentGeneration(t *testing.T) {
	tok := New(t.TempDir(), "1234")
	tok.Initialize()
	first, _ := tok.OpenSession(SlotID, CKF_SERIAL_SESSION|CKF_RW_SESSION)
	tok.Login(first, CKU_USER, []byte("1234"))
	params, _ := asn1.Marshal(gost3410.CurveTC26512A.OID())
	const n = 8
	handles := make(chan uint64, 2*n)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 50; i++ {
			findAll(tok, first)
		}
	}()
	errs := make(chan RV, n)
	for i := 0; i < n; i++ {
		go func() {
			h, _ := tok.OpenSession(SlotID, CKF_SERIAL_SESSION|CKF_RW_SESSION)
			pub, priv, rv := tok.GenerateKeyPair(h, CKM_GOSTR3410_512_KEY_PAIR_GEN,
				[]Attribute{{CKA_GOSTR3410_PARAMS, params}}, []Attribute{{CKA_TOKEN, bval(true)}})
			handles <- pub
			handles <- priv
			errs <- rv
		}()
	}
	seen := map[uint64]bool{}
	for i := 0; i < n; i++ {
		if rv := <-errs; rv != CKR_OK {
			t.Fatalf("generation: %#x", rv)
		}
	}
	<-done
	for i := 0; i < 2*n; i++ {
		h := <-handles
		if seen[h] {
			t.Fatalf("handle %d given twice", h)
		}
		seen[h] = true
	}
	restartToken(t, tok)
	h, _ := tok.OpenSession(SlotID, CKF_SERIAL_SESSION)
	tok.Login(h, CKU_USER, []byte("1234"))
	if got := findAll(tok, h, Attribute{CKA_CLASS, ulong(CKO_PRIVATE_KEY)}); len(got) != n {
		t.Errorf("%d keys after a restart, want %d", len(got), n)
	}
}

// BenchmarkGenerateKeyPair: a token key pair, written to the folder, per
// parameter-set size (what C_GenerateKeyPair costs the agent's request).
func BenchmarkGenerateKeyPair(b *testing.B) {
	for _, c := range []*gost3410.Curve{gost3410.CurveTC26256A, gost3410.CurveTC26256B, gost3410.CurveTC26512A, gost3410.CurveTC26512C} {
		mech := uint64(CKM_GOSTR3410_KEY_PAIR_GEN)
		if c.Size() == 64 {
			mech = CKM_GOSTR3410_512_KEY_PAIR_GEN
		}
		params, _ := asn1.Marshal(c.OID())
		b.Run(c.Name(), func(b *testing.B) {
			tok := New(b.TempDir(), "1234")
			tok.Initialize()
			h, _ := tok.OpenSession(SlotID, CKF_SERIAL_SESSION|CKF_RW_SESSION)
			tok.Login(h, CKU_USER, []byte("1234"))
			for i := 0; i < b.N; i++ {
				if _, _, rv := tok.GenerateKeyPair(h, mech, []Attribute{{CKA_GOSTR3410_PARAMS, params}}, []Attribute{{CKA_TOKEN, bval(true)}}); rv != CKR_OK {
					b.Fatal(rv)
				}
			}
		})
	}
}
