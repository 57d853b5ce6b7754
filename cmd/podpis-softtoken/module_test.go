//go:build unix

package main

// These tests load the built module through miekg/pkcs11, as the agent
// and every PKCS#11 application do, and check it against PKCS#11 v2.40:
// the conformance gaps google/pkcs11test found, key generation on every
// GOST parameter set, certificate objects, the security officer.

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/pkcs11"
	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/crypto/gostx509"
	"github.com/podpis/podpis/crypto/streebog"
	"github.com/podpis/podpis/internal/enginetest"
	"github.com/podpis/podpis/internal/softtoken"
	"github.com/podpis/podpis/internal/testdeps"
	"github.com/podpis/podpis/internal/testpki"
	"github.com/podpis/podpis/internal/testtoken"
)

var (
	env *testtoken.Env
	ctx *pkcs11.Ctx
)

func TestMain(m *testing.M) {
	var err error
	env, err = testtoken.Setup()
	if err != nil {
		fmt.Fprintln(os.Stderr, "setup:", err)
		os.Exit(1)
	}
	ctx = pkcs11.New(env.SoftToken)
	if ctx == nil {
		fmt.Fprintln(os.Stderr, "cannot load", env.SoftToken)
		env.Cleanup()
		os.Exit(1)
	}
	code := m.Run()
	env.Cleanup()
	os.Exit(code)
}

// rvOf is the CKR_ code of a miekg/pkcs11 error (CKR_OK for nil).
func rvOf(err error) uint {
	var e pkcs11.Error
	if errors.As(err, &e) {
		return uint(e)
	}
	if err != nil {
		return ^uint(0)
	}
	return pkcs11.CKR_OK
}

// fresh points the module at an empty folder and initialises it; the
// module is finalised when the test ends.
func fresh(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("PODPIS_SOFTTOKEN_DIR", dir)
	if err := ctx.Initialize(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ctx.Finalize() })
	return dir
}

// restart finalises and initialises the module again: what a new process
// finds in the folder.
func restart(t *testing.T) {
	t.Helper()
	if err := ctx.Finalize(); err != nil {
		t.Fatal(err)
	}
	if err := ctx.Initialize(); err != nil {
		t.Fatal(err)
	}
}

func rwSession(t *testing.T) pkcs11.SessionHandle {
	t.Helper()
	h, err := ctx.OpenSession(softtoken.SlotID, pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func login(t *testing.T, h pkcs11.SessionHandle) {
	t.Helper()
	if err := ctx.Login(h, pkcs11.CKU_USER, testtoken.PIN); err != nil {
		t.Fatal(err)
	}
}

// files lists the folder, markers and PIN state aside.
func files(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".pin-state") {
			names = append(names, e.Name())
		}
	}
	return names
}

// TestBeforeInitialize: every entry point, present or not, answers
// CKR_CRYPTOKI_NOT_INITIALIZED before C_Initialize and after C_Finalize.
// The original module answered C_GetInfo and the functions it lacks
// (C_EncryptInit …) with success or CKR_FUNCTION_NOT_SUPPORTED.
func TestBeforeInitialize(t *testing.T) {
	const h = pkcs11.SessionHandle(1)
	calls := map[string]func() error{
		"GetInfo":         func() error { _, err := ctx.GetInfo(); return err },
		"GetSlotList":     func() error { _, err := ctx.GetSlotList(false); return err },
		"GetTokenInfo":    func() error { _, err := ctx.GetTokenInfo(0); return err },
		"OpenSession":     func() error { _, err := ctx.OpenSession(0, pkcs11.CKF_SERIAL_SESSION); return err },
		"CloseSession":    func() error { return ctx.CloseSession(h) },
		"Login":           func() error { return ctx.Login(h, pkcs11.CKU_USER, "1234") },
		"FindObjectsInit": func() error { return ctx.FindObjectsInit(h, nil) },
		"GenerateRandom":  func() error { _, err := ctx.GenerateRandom(h, 8); return err },
		"SeedRandom":      func() error { return ctx.SeedRandom(h, []byte{1}) },
		"GenerateKeyPair": func() error {
			_, _, err := ctx.GenerateKeyPair(h, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_GOSTR3410_KEY_PAIR_GEN, nil)}, nil, nil)
			return err
		},
		"CreateObject":  func() error { _, err := ctx.CreateObject(h, nil); return err },
		"DestroyObject": func() error { return ctx.DestroyObject(h, 1) },
		"GetObjectSize": func() error { _, err := ctx.GetObjectSize(h, 1); return err },
		"InitPIN":       func() error { return ctx.InitPIN(h, "5678") },
		"EncryptInit": func() error {
			return ctx.EncryptInit(h, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_RSA_PKCS, nil)}, 1)
		},
		"GetOperationState": func() error { _, err := ctx.GetOperationState(h); return err },
	}
	check := func(when string) {
		for name, call := range calls {
			if got := rvOf(call()); got != pkcs11.CKR_CRYPTOKI_NOT_INITIALIZED {
				t.Errorf("%s %s: %#x, want CKR_CRYPTOKI_NOT_INITIALIZED", name, when, got)
			}
		}
	}
	check("before C_Initialize")
	fresh(t)
	ctx.Finalize()
	check("after C_Finalize")
	ctx.Initialize() // for the cleanup's C_Finalize
}

// TestInvalidSessionHandle: a handle the module never gave, or one closed,
// is CKR_SESSION_HANDLE_INVALID everywhere, also in the functions the
// module lacks.
func TestInvalidSessionHandle(t *testing.T) {
	fresh(t)
	closed := rwSession(t)
	ctx.CloseSession(closed)
	for _, h := range []pkcs11.SessionHandle{closed, 0xdead} {
		calls := map[string]func() error{
			"CloseSession":    func() error { return ctx.CloseSession(h) },
			"GetSessionInfo":  func() error { _, err := ctx.GetSessionInfo(h); return err },
			"Login":           func() error { return ctx.Login(h, pkcs11.CKU_USER, testtoken.PIN) },
			"Logout":          func() error { return ctx.Logout(h) },
			"FindObjectsInit": func() error { return ctx.FindObjectsInit(h, nil) },
			"GetAttribute": func() error {
				_, err := ctx.GetAttributeValue(h, 1, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_LABEL, nil)})
				return err
			},
			"SignInit": func() error {
				return ctx.SignInit(h, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_GOSTR3410, nil)}, 1)
			},
			"VerifyInit": func() error {
				return ctx.VerifyInit(h, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_GOSTR3410, nil)}, 1)
			},
			"DigestInit": func() error {
				return ctx.DigestInit(h, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_SHA256, nil)})
			},
			"GenerateRandom": func() error { _, err := ctx.GenerateRandom(h, 8); return err },
			"SeedRandom":     func() error { return ctx.SeedRandom(h, []byte{1}) },
			"GenerateKeyPair": func() error {
				_, _, err := ctx.GenerateKeyPair(h, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_GOSTR3410_KEY_PAIR_GEN, nil)}, nil, nil)
				return err
			},
			"GenerateKey": func() error {
				_, err := ctx.GenerateKey(h, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_KEY_GEN, nil)}, nil)
				return err
			},
			"CreateObject":      func() error { _, err := ctx.CreateObject(h, nil); return err },
			"CopyObject":        func() error { _, err := ctx.CopyObject(h, 1, nil); return err },
			"DestroyObject":     func() error { return ctx.DestroyObject(h, 1) },
			"GetObjectSize":     func() error { _, err := ctx.GetObjectSize(h, 1); return err },
			"SetAttributeValue": func() error { return ctx.SetAttributeValue(h, 1, nil) },
			"InitPIN":           func() error { return ctx.InitPIN(h, "5678") },
			"SetPIN":            func() error { return ctx.SetPIN(h, "1234", "5678") },
			"EncryptInit": func() error {
				return ctx.EncryptInit(h, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_RSA_PKCS, nil)}, 1)
			},
			"GetOperationState": func() error { _, err := ctx.GetOperationState(h); return err },
		}
		for name, call := range calls {
			if got := rvOf(call()); got != pkcs11.CKR_SESSION_HANDLE_INVALID {
				t.Errorf("%s(%#x): %#x, want CKR_SESSION_HANDLE_INVALID", name, h, got)
			}
		}
	}
}

// TestRawCalls makes, from C, the calls miekg/pkcs11 cannot: C_Initialize
// with a non-NULL pReserved or only some mutex callbacks
// (CKR_ARGUMENTS_BAD), C_GetFunctionStatus and C_CancelFunction
// (CKR_FUNCTION_NOT_PARALLEL), C_SeedRandom with a NULL seed of non-zero
// length (CKR_ARGUMENTS_BAD; the original module returned CKR_OK).
func TestRawCalls(t *testing.T) {
	testdeps.Need(t, "gcc")
	bin := filepath.Join(t.TempDir(), "rawcalls")
	if out, err := exec.Command("gcc", "-o", bin, "testdata/rawcalls.c", "-ldl").CombinedOutput(); err != nil {
		t.Fatalf("cc: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, env.SoftToken)
	cmd.Env = append(os.Environ(), "PODPIS_SOFTTOKEN_DIR="+t.TempDir())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("rawcalls: %v\n%s", err, out)
	}
	got := map[string]uint64{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		name, v, _ := strings.Cut(line, " ")
		n, err := strconv.ParseUint(v, 0, 64)
		if err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		got[name] = n
	}
	want := map[string]uint64{
		"GetFunctionStatus-before-Initialize": pkcs11.CKR_CRYPTOKI_NOT_INITIALIZED,
		"Initialize-pReserved":                pkcs11.CKR_ARGUMENTS_BAD,
		"Initialize-some-mutex-callbacks":     pkcs11.CKR_ARGUMENTS_BAD,
		"Initialize":                          pkcs11.CKR_OK,
		"OpenSession":                         pkcs11.CKR_OK,
		"GetFunctionStatus":                   pkcs11.CKR_FUNCTION_NOT_PARALLEL,
		"CancelFunction":                      pkcs11.CKR_FUNCTION_NOT_PARALLEL,
		"GetFunctionStatus-bad-session":       pkcs11.CKR_SESSION_HANDLE_INVALID,
		"CancelFunction-bad-session":          pkcs11.CKR_SESSION_HANDLE_INVALID,
		"SeedRandom-NULL":                     pkcs11.CKR_ARGUMENTS_BAD,
		"SeedRandom":                          pkcs11.CKR_OK,
		"SeedRandom-bad-session":              pkcs11.CKR_SESSION_HANDLE_INVALID,
		"Finalize-pReserved":                  pkcs11.CKR_ARGUMENTS_BAD,
		"Finalize":                            pkcs11.CKR_OK,
	}
	for name, w := range want {
		if g, ok := got[name]; !ok || g != w {
			t.Errorf("%s: %#x (present %v), want %#x", name, g, ok, w)
		}
	}
}

func marshalOID(t *testing.T, oid asn1.ObjectIdentifier) []byte {
	t.Helper()
	b, err := asn1.Marshal(oid)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// gostTemplates are the templates of a token GOST key pair on c, as the
// agent's key generation and OpenSC's pkcs11-tool send them.
func gostTemplates(t *testing.T, c *gost3410.Curve, id []byte, label string, extra ...*pkcs11.Attribute) (mech uint, pub, priv []*pkcs11.Attribute) {
	mech, keyType := uint(pkcs11.CKM_GOSTR3410_KEY_PAIR_GEN), uint(pkcs11.CKK_GOSTR3410)
	if c.Size() == 64 {
		mech, keyType = softtoken.CKM_GOSTR3410_512_KEY_PAIR_GEN, softtoken.CKK_GOSTR3410_512
	}
	params := []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_GOSTR3410_PARAMS, marshalOID(t, c.OID())),
		pkcs11.NewAttribute(pkcs11.CKA_GOSTR3411_PARAMS, marshalOID(t, gostx509.DigestOID(c))),
	}
	pub = append([]*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PUBLIC_KEY), pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, keyType),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true), pkcs11.NewAttribute(pkcs11.CKA_VERIFY, true),
		pkcs11.NewAttribute(pkcs11.CKA_ID, id), pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
	}, params...)
	priv = append([]*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PRIVATE_KEY), pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, keyType),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true), pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, true),
		pkcs11.NewAttribute(pkcs11.CKA_SIGN, true), pkcs11.NewAttribute(pkcs11.CKA_ID, id),
		pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
	}, extra...)
	return mech, pub, priv
}

func attr(t *testing.T, h pkcs11.SessionHandle, o pkcs11.ObjectHandle, typ uint) ([]byte, uint) {
	t.Helper()
	a, err := ctx.GetAttributeValue(h, o, []*pkcs11.Attribute{pkcs11.NewAttribute(typ, nil)})
	if err != nil {
		return nil, rvOf(err)
	}
	return a[0].Value, pkcs11.CKR_OK
}

func findOne(t *testing.T, h pkcs11.SessionHandle, class uint, id []byte) (pkcs11.ObjectHandle, bool) {
	t.Helper()
	if err := ctx.FindObjectsInit(h, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_CLASS, class), pkcs11.NewAttribute(pkcs11.CKA_ID, id)}); err != nil {
		t.Fatal(err)
	}
	objs, _, err := ctx.FindObjects(h, 10)
	ctx.FindObjectsFinal(h)
	if err != nil || len(objs) > 1 {
		t.Fatalf("find class %d id %x: %v %v", class, id, objs, err)
	}
	if len(objs) == 0 {
		return 0, false
	}
	return objs[0], true
}

// gostPublic reads a GOST public key object.
func gostPublic(t *testing.T, h pkcs11.SessionHandle, o pkcs11.ObjectHandle, c *gost3410.Curve) *gost3410.PublicKey {
	t.Helper()
	raw, rv := attr(t, h, o, pkcs11.CKA_VALUE)
	if rv != pkcs11.CKR_OK {
		t.Fatalf("public CKA_VALUE: %#x", rv)
	}
	k, err := gost3410.NewPublicKey(c, raw)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// signGOST signs msg with the hash-and-sign mechanism of c's size and
// checks the signature with our own verifier.
func signGOST(t *testing.T, h pkcs11.SessionHandle, priv pkcs11.ObjectHandle, pub *gost3410.PublicKey) {
	t.Helper()
	msg := []byte("подпись")
	mech, digest := uint(softtoken.CKM_GOSTR3410_WITH_GOSTR3411_12_256), streebog.Sum256(msg)
	d := digest[:]
	if pub.Curve().Size() == 64 {
		mech = softtoken.CKM_GOSTR3410_WITH_GOSTR3411_12_512
		d512 := streebog.Sum512(msg)
		d = d512[:]
	}
	if err := ctx.SignInit(h, []*pkcs11.Mechanism{pkcs11.NewMechanism(mech, nil)}, priv); err != nil {
		t.Fatal(err)
	}
	sig, err := ctx.Sign(h, msg)
	if err != nil {
		t.Fatal(err)
	}
	if !pub.Verify(d, sig) {
		t.Fatal("the generated key's signature does not verify with its public key")
	}
}

// TestGenerateGOST: a key pair on every parameter set, 256-bit with
// CKM_GOSTR3410_KEY_PAIR_GEN and 512-bit with TC26's
// CKM_GOSTR3410_512_KEY_PAIR_GEN: the objects carry the parameter OIDs,
// the private value is unreadable, it signs, and a restart (a new process)
// still has it, from a PEM PKCS#8 key file of mode 0600 that OpenSSL's
// GOST engine reads.
func TestGenerateGOST(t *testing.T) {
	for _, c := range gost3410.Curves() {
		t.Run(c.Name(), func(t *testing.T) {
			dir := fresh(t)
			h := rwSession(t)
			login(t, h)
			id := []byte("id-" + c.Name())
			mech, pubT, privT := gostTemplates(t, c, id, "Ключ "+c.Name())
			pubH, privH, err := ctx.GenerateKeyPair(h, []*pkcs11.Mechanism{pkcs11.NewMechanism(mech, nil)}, pubT, privT)
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range []pkcs11.ObjectHandle{pubH, privH} {
				for typ, want := range map[uint][]byte{
					pkcs11.CKA_GOSTR3410_PARAMS: marshalOID(t, c.OID()), pkcs11.CKA_GOSTR3411_PARAMS: marshalOID(t, gostx509.DigestOID(c)),
					pkcs11.CKA_ID: id, pkcs11.CKA_LABEL: []byte("Ключ " + c.Name()), pkcs11.CKA_LOCAL: {1}, pkcs11.CKA_TOKEN: {1},
				} {
					if v, rv := attr(t, h, o, typ); rv != pkcs11.CKR_OK || !bytes.Equal(v, want) {
						t.Errorf("object %d attribute %#x = %x (%#x), want %x", o, typ, v, rv, want)
					}
				}
			}
			for typ, want := range map[uint][]byte{pkcs11.CKA_SENSITIVE: {1}, pkcs11.CKA_EXTRACTABLE: {0}, pkcs11.CKA_ALWAYS_SENSITIVE: {1}, pkcs11.CKA_NEVER_EXTRACTABLE: {1}} {
				if v, _ := attr(t, h, privH, typ); !bytes.Equal(v, want) {
					t.Errorf("private attribute %#x = %x, want %x", typ, v, want)
				}
			}
			if _, rv := attr(t, h, privH, pkcs11.CKA_VALUE); rv != pkcs11.CKR_ATTRIBUTE_SENSITIVE {
				t.Errorf("private CKA_VALUE: %#x, want CKR_ATTRIBUTE_SENSITIVE", rv)
			}
			pub := gostPublic(t, h, pubH, c)
			signGOST(t, h, privH, pub)

			keys, _ := filepath.Glob(filepath.Join(dir, "*.key"))
			if len(keys) != 1 {
				t.Fatalf("key files: %v", keys)
			}
			for _, f := range append(keys, strings.TrimSuffix(keys[0], ".key")+".attrs") {
				if fi, err := os.Stat(f); err != nil || fi.Mode().Perm() != 0o600 {
					t.Errorf("%s: %v, mode %v", f, err, fi.Mode())
				}
			}
			restart(t)
			h = rwSession(t)
			login(t, h)
			privH2, ok := findOne(t, h, pkcs11.CKO_PRIVATE_KEY, id)
			pubH2, ok2 := findOne(t, h, pkcs11.CKO_PUBLIC_KEY, id)
			if !ok || !ok2 {
				t.Fatal("the key pair is gone after a restart")
			}
			if !gostPublic(t, h, pubH2, c).Equal(pub) {
				t.Fatal("another public key after a restart")
			}
			if v, _ := attr(t, h, privH2, pkcs11.CKA_LOCAL); !bytes.Equal(v, []byte{1}) {
				t.Error("CKA_LOCAL lost in the restart")
			}
			signGOST(t, h, privH2, pub)

			enginetest.Require(t)
			der := enginetest.Run(t, nil, "pkey", "-engine", "gost", "-in", keys[0], "-pubout", "-outform", "DER")
			ep, err := gostx509.ParsePKIXPublicKey(der)
			if err != nil || !ep.Equal(pub) {
				t.Fatalf("OpenSSL's GOST engine reads another key from %s: %v", keys[0], err)
			}
		})
	}
}

// TestGenerateRefused: what a template gets wrong, and generation without
// the user, make no key and write nothing.
func TestGenerateRefused(t *testing.T) {
	c256, c512 := gost3410.CurveTC26256A, gost3410.CurveTC26512A
	mech256, pub256, priv256 := gostTemplates(t, c256, []byte{1}, "k")
	_, pub512, _ := gostTemplates(t, c512, []byte{1}, "k")
	replace := func(tmpl []*pkcs11.Attribute, typ uint, v any) []*pkcs11.Attribute {
		var out []*pkcs11.Attribute
		for _, a := range tmpl {
			if a.Type != typ {
				out = append(out, a)
			}
		}
		if v != nil {
			out = append(out, pkcs11.NewAttribute(typ, v))
		}
		return out
	}
	unknown := marshalOID(t, asn1.ObjectIdentifier{1, 2, 643, 7, 1, 2, 1, 1, 9})
	tests := []struct {
		name      string
		login     bool
		ro        bool
		mech      uint
		pub, priv []*pkcs11.Attribute
		want      uint
	}{
		{"not logged in", false, false, mech256, pub256, priv256, pkcs11.CKR_USER_NOT_LOGGED_IN},
		{"read-only session", true, true, mech256, pub256, priv256, pkcs11.CKR_SESSION_READ_ONLY},
		{"512-bit set with the 256-bit mechanism", true, false, mech256, replace(pub512, pkcs11.CKA_KEY_TYPE, nil), replace(priv256, pkcs11.CKA_KEY_TYPE, nil), pkcs11.CKR_ATTRIBUTE_VALUE_INVALID},
		{"256-bit set with the 512-bit mechanism", true, false, softtoken.CKM_GOSTR3410_512_KEY_PAIR_GEN, replace(pub256, pkcs11.CKA_KEY_TYPE, nil), replace(priv256, pkcs11.CKA_KEY_TYPE, nil), pkcs11.CKR_ATTRIBUTE_VALUE_INVALID},
		{"unknown parameter set", true, false, mech256, replace(pub256, pkcs11.CKA_GOSTR3410_PARAMS, unknown), priv256, pkcs11.CKR_ATTRIBUTE_VALUE_INVALID},
		{"no parameter set", true, false, mech256, replace(pub256, pkcs11.CKA_GOSTR3410_PARAMS, nil), priv256, pkcs11.CKR_TEMPLATE_INCOMPLETE},
		{"GOST R 34.11-94 digest", true, false, mech256, replace(pub256, pkcs11.CKA_GOSTR3411_PARAMS, marshalOID(t, asn1.ObjectIdentifier{1, 2, 643, 2, 2, 30, 1})), priv256, pkcs11.CKR_ATTRIBUTE_VALUE_INVALID},
		{"key type of another mechanism", true, false, mech256, replace(pub256, pkcs11.CKA_KEY_TYPE, pkcs11.CKK_RSA), priv256, pkcs11.CKR_TEMPLATE_INCONSISTENT},
		{"private key on the token without CKA_PRIVATE", true, false, mech256, pub256, replace(priv256, pkcs11.CKA_PRIVATE, false), pkcs11.CKR_TEMPLATE_INCONSISTENT},
		{"public key on the token, private not", true, false, mech256, pub256, replace(priv256, pkcs11.CKA_TOKEN, false), pkcs11.CKR_TEMPLATE_INCONSISTENT},
		{"unknown attribute", true, false, mech256, append(pub256, pkcs11.NewAttribute(0x7777, []byte{1})), priv256, pkcs11.CKR_ATTRIBUTE_TYPE_INVALID},
		{"secret-key mechanism", true, false, pkcs11.CKM_AES_KEY_GEN, pub256, priv256, pkcs11.CKR_MECHANISM_INVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := fresh(t)
			flags := uint(pkcs11.CKF_SERIAL_SESSION | pkcs11.CKF_RW_SESSION)
			if tt.ro {
				flags = pkcs11.CKF_SERIAL_SESSION
			}
			h, err := ctx.OpenSession(0, flags)
			if err != nil {
				t.Fatal(err)
			}
			if tt.login {
				login(t, h)
			}
			_, _, err = ctx.GenerateKeyPair(h, []*pkcs11.Mechanism{pkcs11.NewMechanism(tt.mech, nil)}, tt.pub, tt.priv)
			if got := rvOf(err); got != tt.want {
				t.Errorf("C_GenerateKeyPair: %#x, want %#x", got, tt.want)
			}
			if f := files(t, dir); len(f) != 0 {
				t.Errorf("left behind: %v", f)
			}
			if err := ctx.FindObjectsInit(h, nil); err != nil {
				t.Fatal(err)
			}
			objs, _, _ := ctx.FindObjects(h, 10)
			ctx.FindObjectsFinal(h)
			if len(objs) != 0 {
				t.Errorf("objects left behind: %v", objs)
			}
		})
	}
}

// TestGenerateAfterWrongPIN: a wrong PIN leaves the user logged out, and
// generation then makes nothing. The PIN is tried once, never retried.
func TestGenerateAfterWrongPIN(t *testing.T) {
	dir := fresh(t)
	h := rwSession(t)
	if rv := rvOf(ctx.Login(h, pkcs11.CKU_USER, "0000")); rv != pkcs11.CKR_PIN_INCORRECT {
		t.Fatalf("wrong PIN: %#x", rv)
	}
	mech, pub, priv := gostTemplates(t, gost3410.CurveTC26256B, []byte{7}, "k")
	if _, _, err := ctx.GenerateKeyPair(h, []*pkcs11.Mechanism{pkcs11.NewMechanism(mech, nil)}, pub, priv); rvOf(err) != pkcs11.CKR_USER_NOT_LOGGED_IN {
		t.Fatalf("generation after a wrong PIN: %v", err)
	}
	if f := files(t, dir); len(f) != 0 {
		t.Errorf("left behind: %v", f)
	}
}

// TestExtractable: only a key generated not sensitive and extractable
// shows its value; sensitivity latches.
func TestExtractable(t *testing.T) {
	fresh(t)
	h := rwSession(t)
	login(t, h)
	c := gost3410.CurveCryptoProA
	mech, pub, priv := gostTemplates(t, c, []byte{1}, "open", pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, false), pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, true))
	pubH, privH, err := ctx.GenerateKeyPair(h, []*pkcs11.Mechanism{pkcs11.NewMechanism(mech, nil)}, pub, priv)
	if err != nil {
		t.Fatal(err)
	}
	v, rv := attr(t, h, privH, pkcs11.CKA_VALUE)
	if rv != pkcs11.CKR_OK {
		t.Fatalf("extractable CKA_VALUE: %#x", rv)
	}
	k, err := gost3410.NewPrivateKey(c, v)
	if err != nil || !k.PublicKey().Equal(gostPublic(t, h, pubH, c)) {
		t.Fatalf("CKA_VALUE is not the key's: %v", err)
	}
	if err := ctx.SetAttributeValue(h, privH, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, true)}); err != nil {
		t.Fatal(err)
	}
	if _, rv := attr(t, h, privH, pkcs11.CKA_VALUE); rv != pkcs11.CKR_ATTRIBUTE_SENSITIVE {
		t.Errorf("CKA_VALUE after CKA_SENSITIVE was set: %#x", rv)
	}
	err = ctx.SetAttributeValue(h, privH, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, false)})
	if rvOf(err) != pkcs11.CKR_ATTRIBUTE_READ_ONLY {
		t.Errorf("CKA_SENSITIVE back to false: %v", err)
	}
	restart(t)
	h = rwSession(t)
	login(t, h)
	privH, _ = findOne(t, h, pkcs11.CKO_PRIVATE_KEY, []byte{1})
	if _, rv := attr(t, h, privH, pkcs11.CKA_VALUE); rv != pkcs11.CKR_ATTRIBUTE_SENSITIVE {
		t.Errorf("CKA_VALUE readable again after a restart: %#x", rv)
	}
	if v, _ := attr(t, h, privH, pkcs11.CKA_ALWAYS_SENSITIVE); !bytes.Equal(v, []byte{0}) {
		t.Errorf("CKA_ALWAYS_SENSITIVE of a key once readable: %x", v)
	}
}

// TestGenerateRSAAndEC: the optional mechanisms make keys that sign and
// that Go's verifiers accept.
func TestGenerateRSAAndEC(t *testing.T) {
	fresh(t)
	h := rwSession(t)
	login(t, h)
	p256, _ := asn1.Marshal(asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7})
	msg := []byte("message")
	digest := sha256.Sum256(msg)
	for _, tc := range []struct {
		name     string
		mech     uint
		pubExtra []*pkcs11.Attribute
		sign     uint
	}{
		{"rsa2048", pkcs11.CKM_RSA_PKCS_KEY_PAIR_GEN, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_MODULUS_BITS, 2048), pkcs11.NewAttribute(pkcs11.CKA_PUBLIC_EXPONENT, []byte{1, 0, 1})}, pkcs11.CKM_SHA256_RSA_PKCS},
		{"ecdsa-p256", pkcs11.CKM_EC_KEY_PAIR_GEN, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_EC_PARAMS, p256)}, pkcs11.CKM_ECDSA_SHA256},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := []byte(tc.name)
			pub := append([]*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true), pkcs11.NewAttribute(pkcs11.CKA_ID, id)}, tc.pubExtra...)
			priv := []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true), pkcs11.NewAttribute(pkcs11.CKA_ID, id), pkcs11.NewAttribute(pkcs11.CKA_SIGN, true)}
			pubH, privH, err := ctx.GenerateKeyPair(h, []*pkcs11.Mechanism{pkcs11.NewMechanism(tc.mech, nil)}, pub, priv)
			if err != nil {
				t.Fatal(err)
			}
			if err := ctx.SignInit(h, []*pkcs11.Mechanism{pkcs11.NewMechanism(tc.sign, nil)}, privH); err != nil {
				t.Fatal(err)
			}
			sig, err := ctx.Sign(h, msg)
			if err != nil {
				t.Fatal(err)
			}
			switch tc.mech {
			case pkcs11.CKM_RSA_PKCS_KEY_PAIR_GEN:
				n, _ := attr(t, h, pubH, pkcs11.CKA_MODULUS)
				k := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: 65537}
				if k.N.BitLen() != 2048 || rsa.VerifyPKCS1v15(k, 5 /* crypto.SHA256 */, digest[:], sig) != nil {
					t.Fatal("RSA signature does not verify")
				}
			case pkcs11.CKM_EC_KEY_PAIR_GEN:
				pt, _ := attr(t, h, pubH, pkcs11.CKA_EC_POINT)
				var raw []byte
				if _, err := asn1.Unmarshal(pt, &raw); err != nil {
					t.Fatal(err)
				}
				x, y := elliptic.Unmarshal(elliptic.P256(), raw)
				k := &ecdsa.PublicKey{Curve: elliptic.P256(), X: x, Y: y}
				if x == nil || !ecdsa.Verify(k, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
					t.Fatal("ECDSA signature does not verify")
				}
			}
			// The module checks its own signature, and a wrong one.
			if err := ctx.VerifyInit(h, []*pkcs11.Mechanism{pkcs11.NewMechanism(tc.sign, nil)}, pubH); err != nil {
				t.Fatal(err)
			}
			if err := ctx.Verify(h, msg, sig); err != nil {
				t.Errorf("C_Verify: %v", err)
			}
			sig[len(sig)-1] ^= 1
			ctx.VerifyInit(h, []*pkcs11.Mechanism{pkcs11.NewMechanism(tc.sign, nil)}, pubH)
			if rv := rvOf(ctx.Verify(h, msg, sig)); rv != pkcs11.CKR_SIGNATURE_INVALID {
				t.Errorf("C_Verify of a wrong signature: %#x", rv)
			}
		})
	}
}

// issue makes a certificate for pub from a test CA.
func issue(t *testing.T, pub *gost3410.PublicKey, cn string) *x509.Certificate {
	ca := testpki.Root(t, gost3410.CurveTC26256A, "Тестовый УЦ", time.Now())
	return testpki.Issue(t, &x509.Certificate{
		Subject: pkix.Name{CommonName: cn}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(1, 0, 0),
		KeyUsage: x509.KeyUsageDigitalSignature,
	}, ca.Cert, pub, ca.Key)
}

func certTemplate(cert *x509.Certificate, id []byte, label string) []*pkcs11.Attribute {
	serial, _ := asn1.Marshal(cert.SerialNumber)
	return []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_CERTIFICATE), pkcs11.NewAttribute(pkcs11.CKA_CERTIFICATE_TYPE, pkcs11.CKC_X_509),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true), pkcs11.NewAttribute(pkcs11.CKA_ID, id), pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
		pkcs11.NewAttribute(pkcs11.CKA_SUBJECT, cert.RawSubject), pkcs11.NewAttribute(pkcs11.CKA_ISSUER, cert.RawIssuer),
		pkcs11.NewAttribute(pkcs11.CKA_SERIAL_NUMBER, serial), pkcs11.NewAttribute(pkcs11.CKA_VALUE, cert.Raw),
	}
}

// TestCertificateObjects: a certificate goes beside its key as NAME.pem
// and survives a restart with its attributes; one for another key, a
// malformed one or one whose attributes contradict it are refused and
// write nothing; C_DestroyObject removes the files.
func TestCertificateObjects(t *testing.T) {
	dir := fresh(t)
	h := rwSession(t)
	login(t, h)
	c := gost3410.CurveTC26512B
	id := []byte{0xca, 0xfe}
	mech, pubT, privT := gostTemplates(t, c, id, "Иванов")
	pubH, _, err := ctx.GenerateKeyPair(h, []*pkcs11.Mechanism{pkcs11.NewMechanism(mech, nil)}, pubT, privT)
	if err != nil {
		t.Fatal(err)
	}
	pub := gostPublic(t, h, pubH, c)
	cert := issue(t, pub, "Иванов Иван")
	other := issue(t, testpki.NewKey(t, c).PublicKey(), "Петров")
	before := files(t, dir)

	bad := []struct {
		name string
		tmpl []*pkcs11.Attribute
		want uint
	}{
		{"another key's certificate under this CKA_ID", certTemplate(other, id, "x"), pkcs11.CKR_ATTRIBUTE_VALUE_INVALID},
		{"not a certificate", append(certTemplate(cert, id, "x")[:8], pkcs11.NewAttribute(pkcs11.CKA_VALUE, []byte("not DER"))), pkcs11.CKR_ATTRIBUTE_VALUE_INVALID},
		{"subject that is not the certificate's", append(certTemplate(cert, id, "x"), pkcs11.NewAttribute(pkcs11.CKA_SUBJECT, other.RawSubject)), pkcs11.CKR_TEMPLATE_INCONSISTENT},
		{"no value", certTemplate(cert, id, "x")[:8], pkcs11.CKR_TEMPLATE_INCOMPLETE},
		{"a private key", []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PRIVATE_KEY), pkcs11.NewAttribute(pkcs11.CKA_VALUE, []byte{1})}, pkcs11.CKR_ATTRIBUTE_VALUE_INVALID},
	}
	for _, b := range bad {
		if _, err := ctx.CreateObject(h, b.tmpl); rvOf(err) != b.want {
			t.Errorf("%s: %v, want %#x", b.name, err, b.want)
		}
	}
	if after := files(t, dir); strings.Join(after, " ") != strings.Join(before, " ") {
		t.Errorf("refused certificates changed the folder: %v → %v", before, after)
	}

	certH, err := ctx.CreateObject(h, certTemplate(cert, id, "Иванов Иван (УЦ)"))
	if err != nil {
		t.Fatal(err)
	}
	if n, err := ctx.GetObjectSize(h, certH); err != nil || n < uint(len(cert.Raw)) {
		t.Errorf("C_GetObjectSize: %d %v", n, err)
	}
	keys, _ := filepath.Glob(filepath.Join(dir, "*.key"))
	pemPath := strings.TrimSuffix(keys[0], ".key") + ".pem"
	if fi, err := os.Stat(pemPath); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the certificate is not beside its key as %s: %v", pemPath, err)
	}
	restart(t)
	h = rwSession(t)
	certH, ok := findOne(t, h, pkcs11.CKO_CERTIFICATE, id)
	if !ok {
		t.Fatal("the certificate is gone after a restart")
	}
	serial, _ := asn1.Marshal(cert.SerialNumber)
	for typ, want := range map[uint][]byte{
		pkcs11.CKA_VALUE: cert.Raw, pkcs11.CKA_SUBJECT: cert.RawSubject, pkcs11.CKA_ISSUER: cert.RawIssuer,
		pkcs11.CKA_SERIAL_NUMBER: serial, pkcs11.CKA_LABEL: []byte("Иванов Иван (УЦ)"), pkcs11.CKA_ID: id,
	} {
		if v, rv := attr(t, h, certH, typ); rv != pkcs11.CKR_OK || !bytes.Equal(v, want) {
			t.Errorf("certificate attribute %#x after a restart: %x (%#x)", typ, v, rv)
		}
	}
	// Destroying needs the objects' owner: a read-only session may not.
	ro, _ := ctx.OpenSession(0, pkcs11.CKF_SERIAL_SESSION)
	if rv := rvOf(ctx.DestroyObject(ro, certH)); rv != pkcs11.CKR_SESSION_READ_ONLY {
		t.Errorf("destroy in a read-only session: %#x", rv)
	}
	if err := ctx.DestroyObject(h, certH); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(pemPath); !os.IsNotExist(err) {
		t.Errorf("%s survives C_DestroyObject: %v", pemPath, err)
	}
	restart(t)
	h = rwSession(t)
	login(t, h)
	if _, ok := findOne(t, h, pkcs11.CKO_CERTIFICATE, id); ok {
		t.Error("a destroyed certificate came back")
	}
	privH, ok := findOne(t, h, pkcs11.CKO_PRIVATE_KEY, id)
	if !ok {
		t.Fatal("destroying the certificate took the key")
	}
	if err := ctx.DestroyObject(h, privH); err != nil {
		t.Fatal(err)
	}
	restart(t)
	h = rwSession(t)
	login(t, h)
	if _, ok := findOne(t, h, pkcs11.CKO_PRIVATE_KEY, id); ok {
		t.Error("a destroyed key came back")
	}
	if f := files(t, dir); len(f) != 0 {
		t.Errorf("left in the folder: %v", f)
	}
}

// TestSecurityOfficer: the SO logs in with its own PIN
// (PODPIS_SOFTTOKEN_SO_PIN), and C_InitPIN by the SO sets a new user PIN
// and unlocks a locked one: the token's PUK. Nobody else may call it.
func TestSecurityOfficer(t *testing.T) {
	t.Setenv("PODPIS_SOFTTOKEN_SO_PIN", "11223344")
	dir := fresh(t)
	// A user PIN locked by three wrong tries (written, not tried: real
	// tokens lock too).
	os.WriteFile(filepath.Join(dir, ".pin-state"), []byte(`{"failures":3}`), 0o600)
	restart(t)
	h := rwSession(t)
	if rv := rvOf(ctx.Login(h, pkcs11.CKU_USER, testtoken.PIN)); rv != pkcs11.CKR_PIN_LOCKED {
		t.Fatalf("locked user PIN: %#x", rv)
	}
	if rv := rvOf(ctx.InitPIN(h, "5678")); rv != pkcs11.CKR_USER_NOT_LOGGED_IN {
		t.Errorf("C_InitPIN without the SO: %#x", rv)
	}
	if rv := rvOf(ctx.Login(h, pkcs11.CKU_SO, softtoken.DefaultSOPIN)); rv != pkcs11.CKR_PIN_INCORRECT {
		t.Errorf("the default SO PIN where another is configured: %#x", rv)
	}
	if err := ctx.Login(h, pkcs11.CKU_SO, "11223344"); err != nil {
		t.Fatal(err)
	}
	if info, _ := ctx.GetSessionInfo(h); info.State != pkcs11.CKS_RW_SO_FUNCTIONS {
		t.Errorf("SO session state %d", info.State)
	}
	if rv := rvOf(ctx.Login(h, pkcs11.CKU_USER, testtoken.PIN)); rv != pkcs11.CKR_USER_ANOTHER_ALREADY_LOGGED_IN {
		t.Errorf("user login over the SO: %#x", rv)
	}
	// The SO is not the user: no private objects, no keys.
	mech, pub, priv := gostTemplates(t, gost3410.CurveTC26256A, []byte{1}, "k")
	if _, _, err := ctx.GenerateKeyPair(h, []*pkcs11.Mechanism{pkcs11.NewMechanism(mech, nil)}, pub, priv); rvOf(err) != pkcs11.CKR_USER_NOT_LOGGED_IN {
		t.Errorf("generation by the SO: %v", err)
	}
	if err := ctx.InitPIN(h, "5678"); err != nil {
		t.Fatal(err)
	}
	ctx.Logout(h)
	if rv := rvOf(ctx.Login(h, pkcs11.CKU_USER, testtoken.PIN)); rv != pkcs11.CKR_PIN_INCORRECT {
		t.Errorf("the old user PIN after C_InitPIN: %#x", rv)
	}
	restart(t) // the new PIN is the folder's, not the process's
	h = rwSession(t)
	if err := ctx.Login(h, pkcs11.CKU_USER, "5678"); err != nil {
		t.Fatalf("the PIN the SO set: %v", err)
	}
	if err := ctx.SetPIN(h, "5678", "8765"); err != nil {
		t.Fatal(err)
	}
	ctx.Logout(h)
	if err := ctx.Login(h, pkcs11.CKU_USER, "8765"); err != nil {
		t.Fatalf("the PIN the user set: %v", err)
	}
}

// TestPKCS11Tool runs OpenSC's pkcs11-tool against the module: its
// self-test, and key generation on GOST parameter sets the way it sends
// them.
func TestPKCS11Tool(t *testing.T) {
	testdeps.Need(t, "pkcs11-tool")
	dir := t.TempDir()
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("pkcs11-tool", append([]string{"--module", env.SoftToken, "--login", "--pin", testtoken.PIN}, args...)...)
		cmd.Env = append(os.Environ(), "PODPIS_SOFTTOKEN_DIR="+dir)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("pkcs11-tool %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	for i, kt := range []string{"GOSTR3410-2012-256:A", "GOSTR3410-2012-256:B", "GOSTR3410-2012-512:A", "GOSTR3410-2012-512:C", "EC:prime256v1", "rsa:2048"} {
		out := run("--keypairgen", "--key-type", kt, "--id", fmt.Sprintf("%02x", i+1), "--label", kt)
		if !strings.Contains(out, "Key pair generated") {
			t.Errorf("--keypairgen %s:\n%s", kt, out)
		}
	}
	// A GOST signature made and checked through pkcs11-tool, and checked
	// again by our verifier against the key file; a changed message fails.
	msg, sig := filepath.Join(dir, "msg"), filepath.Join(dir, "sig")
	os.WriteFile(msg, []byte("документ"), 0o600)
	run("--sign", "--id", "04", "-m", "GOSTR3410-WITH-GOSTR3411-12-512", "-i", msg, "-o", sig)
	if out := run("--verify", "--id", "04", "-m", "GOSTR3410-WITH-GOSTR3411-12-512", "-i", msg, "--signature-file", sig); !strings.Contains(out, "Signature is valid") {
		t.Errorf("pkcs11-tool --verify:\n%s", out)
	}
	os.WriteFile(msg, []byte("документ?"), 0o600)
	if out := run("--verify", "--id", "04", "-m", "GOSTR3410-WITH-GOSTR3411-12-512", "-i", msg, "--signature-file", sig); !strings.Contains(out, "Invalid signature") {
		t.Errorf("pkcs11-tool --verify of a changed message:\n%s", out)
	}
	keyFiles, _ := filepath.Glob(filepath.Join(dir, "*.key"))
	signature, _ := os.ReadFile(sig)
	digest := streebog.Sum512([]byte("документ"))
	verified := false
	for _, f := range keyFiles {
		der, err := pemFileBytes(f)
		if err != nil {
			t.Fatal(err)
		}
		if k, err := gostx509.ParsePKCS8PrivateKey(der); err == nil && k.PublicKey().Verify(digest[:], signature) {
			verified = true
		}
	}
	if !verified {
		t.Error("pkcs11-tool's GOST signature verifies with no key in the folder")
	}

	out := run("--test")
	if !strings.Contains(out, "No errors") || !strings.Contains(out, "RSA-PKCS: OK") {
		t.Errorf("pkcs11-tool --test:\n%s", out)
	}
	keys, _ := filepath.Glob(filepath.Join(dir, "*.key"))
	if len(keys) != 6 {
		t.Errorf("pkcs11-tool's keys in the folder: %v", keys)
	}
}

func pemFileBytes(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, fmt.Errorf("%s: no PEM block", path)
	}
	return blk.Bytes, nil
}
