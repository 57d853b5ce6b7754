package softtoken

import (
	"crypto/x509/pkix"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/miekg/pkcs11"
	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/crypto/gostx509"
	"github.com/podpis/podpis/crypto/streebog"
	"github.com/podpis/podpis/internal/testpki"
)

// TestConstants checks the standard constants against miekg/pkcs11's
// table, generated from the OASIS headers.
func TestConstants(t *testing.T) {
	pairs := map[string][2]uint64{
		"CKR_PIN_INCORRECT":         {CKR_PIN_INCORRECT, pkcs11.CKR_PIN_INCORRECT},
		"CKR_PIN_LOCKED":            {CKR_PIN_LOCKED, pkcs11.CKR_PIN_LOCKED},
		"CKR_DEVICE_REMOVED":        {CKR_DEVICE_REMOVED, pkcs11.CKR_DEVICE_REMOVED},
		"CKR_TOKEN_NOT_PRESENT":     {CKR_TOKEN_NOT_PRESENT, pkcs11.CKR_TOKEN_NOT_PRESENT},
		"CKR_USER_NOT_LOGGED_IN":    {CKR_USER_NOT_LOGGED_IN, pkcs11.CKR_USER_NOT_LOGGED_IN},
		"CKR_BUFFER_TOO_SMALL":      {CKR_BUFFER_TOO_SMALL, pkcs11.CKR_BUFFER_TOO_SMALL},
		"CKR_KEY_TYPE_INCONSISTENT": {CKR_KEY_TYPE_INCONSISTENT, pkcs11.CKR_KEY_TYPE_INCONSISTENT},
		"CKF_USER_PIN_COUNT_LOW":    {CKF_USER_PIN_COUNT_LOW, pkcs11.CKF_USER_PIN_COUNT_LOW},
		"CKF_USER_PIN_FINAL_TRY":    {CKF_USER_PIN_FINAL_TRY, pkcs11.CKF_USER_PIN_FINAL_TRY},
		"CKF_USER_PIN_LOCKED":       {CKF_USER_PIN_LOCKED, pkcs11.CKF_USER_PIN_LOCKED},
		"CKA_GOSTR3410_PARAMS":      {CKA_GOSTR3410_PARAMS, pkcs11.CKA_GOSTR3410_PARAMS},
		"CKA_GOSTR3411_PARAMS":      {CKA_GOSTR3411_PARAMS, pkcs11.CKA_GOSTR3411_PARAMS},
		"CKA_EC_POINT":              {CKA_EC_POINT, pkcs11.CKA_EC_POINT},
		"CKK_GOSTR3410":             {CKK_GOSTR3410, pkcs11.CKK_GOSTR3410},
		"CKM_GOSTR3410":             {CKM_GOSTR3410, pkcs11.CKM_GOSTR3410},
		"CKM_ECDSA_SHA256":          {CKM_ECDSA_SHA256, pkcs11.CKM_ECDSA_SHA256},
		"CKM_SHA256_RSA_PKCS":       {CKM_SHA256_RSA_PKCS, pkcs11.CKM_SHA256_RSA_PKCS},
		"CKA_ALWAYS_AUTHENTICATE":   {CKA_ALWAYS_AUTHENTICATE, pkcs11.CKA_ALWAYS_AUTHENTICATE},
	}
	for name, p := range pairs {
		if p[0] != p[1] {
			t.Errorf("%s = %#x, miekg/pkcs11 has %#x", name, p[0], p[1])
		}
	}
	// The TC26 vendor range: CKK/CKM_VENDOR_DEFINED | 0x54321000.
	const tc26 = pkcs11.CKM_VENDOR_DEFINED | 0x54321000
	for name, v := range map[string]uint64{"CKK_GOSTR3410_512": CKK_GOSTR3410_512 - 0x003, "CKM_GOSTR3410_512": CKM_GOSTR3410_512 - 0x006,
		"CKM_GOSTR3410_WITH_GOSTR3411_12_256": CKM_GOSTR3410_WITH_GOSTR3411_12_256 - 0x008, "CKM_GOSTR3410_WITH_GOSTR3411_12_512": CKM_GOSTR3410_WITH_GOSTR3411_12_512 - 0x009} {
		if v != tc26 {
			t.Errorf("%s is outside the TC26 vendor range", name)
		}
	}
}

func newToken(t *testing.T) (*Token, *gost3410.PrivateKey) {
	dir := t.TempDir()
	ca := testpki.Root(t, gost3410.CurveTC26256A, "CA", time.Now())
	cert, key := ca.Person(t, gost3410.CurveTC26256A, pkix.Name{CommonName: "x"}, time.Now(), nil)
	der, _ := gostx509.MarshalPKCS8PrivateKey(key)
	os.WriteFile(filepath.Join(dir, "x.key"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
	os.WriteFile(filepath.Join(dir, "x.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o600)
	os.WriteFile(filepath.Join(dir, "broken.key"), []byte("junk"), 0o600)
	tok := New(dir, "1234")
	if rv := tok.Initialize(); rv != CKR_OK {
		t.Fatal(rv)
	}
	return tok, key
}

func TestModel(t *testing.T) {
	tok, key := newToken(t)
	if tok.LoadError() == nil {
		t.Error("a broken key file was not reported")
	}
	if rv := tok.Initialize(); rv != CKR_CRYPTOKI_ALREADY_INITIALIZED {
		t.Errorf("second Initialize: %#x", rv)
	}
	h, rv := tok.OpenSession(SlotID, CKF_SERIAL_SESSION)
	if rv != CKR_OK {
		t.Fatal(rv)
	}
	if _, rv := tok.OpenSession(SlotID, 0); rv != CKR_SESSION_PARALLEL_NOT_SUPPORTED {
		t.Errorf("non-serial session: %#x", rv)
	}
	find := func(class uint64) []uint64 {
		tok.FindObjectsInit(h, []Attribute{{CKA_CLASS, ulong(class)}})
		objs, _ := tok.FindObjects(h, 10)
		tok.FindObjectsFinal(h)
		return objs
	}
	if len(find(CKO_CERTIFICATE)) != 1 || len(find(CKO_PUBLIC_KEY)) != 1 || len(find(CKO_PRIVATE_KEY)) != 0 {
		t.Fatal("object visibility before login")
	}
	if rv := tok.SignInit(h, CKM_GOSTR3410, 3); rv != CKR_USER_NOT_LOGGED_IN {
		t.Errorf("SignInit before login: %#x", rv)
	}
	if rv := tok.Login(h, CKU_SO, []byte(DefaultSOPIN)); rv != CKR_SESSION_READ_ONLY_EXISTS {
		t.Errorf("SO login beside a read-only session: %#x", rv)
	}
	if rv := tok.Login(h, 7, []byte("1234")); rv != CKR_USER_TYPE_INVALID {
		t.Errorf("unknown user type: %#x", rv)
	}
	if rv := tok.Login(h, CKU_USER, []byte("1234")); rv != CKR_OK {
		t.Fatal(rv)
	}
	priv := find(CKO_PRIVATE_KEY)
	if len(priv) != 1 {
		t.Fatal("private key not visible after login")
	}
	if _, rv := tok.AttributeValue(h, priv[0], CKA_VALUE); rv != CKR_ATTRIBUTE_SENSITIVE {
		t.Errorf("private value readable: %#x", rv)
	}
	if rv := tok.SignInit(h, CKM_GOSTR3410_512, priv[0]); rv != CKR_KEY_TYPE_INCONSISTENT {
		t.Errorf("512 mechanism on a 256 key: %#x", rv)
	}
	if rv := tok.SignInit(h, 0x12345, priv[0]); rv != CKR_MECHANISM_INVALID {
		t.Errorf("unknown mechanism: %#x", rv)
	}
	// Raw mechanism: the digest as is; hash-and-sign: the message.
	msg := []byte("message")
	d := streebog.Sum256(msg)
	tok.SignInit(h, CKM_GOSTR3410, priv[0])
	if _, rv := tok.Sign(h, d[:31]); rv != CKR_DATA_LEN_RANGE {
		t.Errorf("short digest: %#x", rv)
	}
	tok.SignInit(h, CKM_GOSTR3410, priv[0])
	sig, rv := tok.Sign(h, d[:])
	if rv != CKR_OK || !key.PublicKey().Verify(d[:], sig) {
		t.Fatalf("raw GOST signature: %#x", rv)
	}
	tok.SignInit(h, CKM_GOSTR3410_WITH_GOSTR3411_12_256, priv[0])
	tok.SignUpdate(h, msg[:3])
	tok.SignUpdate(h, msg[3:])
	sig, rv = tok.SignFinal(h)
	if rv != CKR_OK || !key.PublicKey().Verify(d[:], sig) {
		t.Fatalf("multi-part GOST signature: %#x", rv)
	}
	if _, rv := tok.Sign(h, d[:]); rv != CKR_OPERATION_NOT_INITIALIZED {
		t.Errorf("Sign without SignInit: %#x", rv)
	}
	tok.CloseSession(h)
	h2, _ := tok.OpenSession(SlotID, CKF_SERIAL_SESSION)
	if state, _, _ := tok.SessionInfo(h2); state != CKS_RO_PUBLIC_SESSION {
		t.Errorf("closing the last session did not log out: state %d", state)
	}
	if rv := tok.Finalize(); rv != CKR_OK {
		t.Fatal(rv)
	}
	if _, rv := tok.OpenSession(SlotID, CKF_SERIAL_SESSION); rv != CKR_CRYPTOKI_NOT_INITIALIZED {
		t.Errorf("after Finalize: %#x", rv)
	}
}
