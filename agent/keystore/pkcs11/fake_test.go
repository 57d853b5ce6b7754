package pkcs11

import (
	"crypto/x509/pkix"
	"testing"
	"time"

	"github.com/miekg/pkcs11"
	"github.com/podpis/podpis/agent/keystore"
	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/internal/testpki"
)

// fakeAPI is a token with fixed objects, for cases no module here makes:
// a CryptoPro container written to a Rutoken shows through Rutoken's
// module as certificates plus CKO_DATA, with no key objects.
type fakeAPI struct {
	api
	objects map[pkcs11.ObjectHandle]map[uint][]byte
	found   []pkcs11.ObjectHandle
}

func (f *fakeAPI) OpenSession(uint, uint) (pkcs11.SessionHandle, error) { return 1, nil }
func (f *fakeAPI) CloseSession(pkcs11.SessionHandle) error              { return nil }
func (f *fakeAPI) FindObjectsFinal(pkcs11.SessionHandle) error          { return nil }
func (f *fakeAPI) FindObjectsInit(_ pkcs11.SessionHandle, tmpl []*pkcs11.Attribute) error {
	f.found = nil
	for h, attrs := range f.objects {
		match := true
		for _, a := range tmpl {
			if string(attrs[a.Type]) != string(a.Value) {
				match = false
			}
		}
		if match {
			f.found = append(f.found, h)
		}
	}
	return nil
}
func (f *fakeAPI) FindObjects(_ pkcs11.SessionHandle, max int) ([]pkcs11.ObjectHandle, bool, error) {
	n := min(max, len(f.found))
	out := f.found[:n]
	f.found = f.found[n:]
	return out, false, nil
}
func (f *fakeAPI) GetAttributeValue(_ pkcs11.SessionHandle, o pkcs11.ObjectHandle, a []*pkcs11.Attribute) ([]*pkcs11.Attribute, error) {
	return []*pkcs11.Attribute{pkcs11.NewAttribute(a[0].Type, f.objects[o][a[0].Type])}, nil
}

func TestCryptoProContainerOnRutoken(t *testing.T) {
	ca := testpki.Root(t, gost3410.CurveCryptoProA, "УЦ", time.Now())
	cert, _ := ca.Person(t, gost3410.CurveCryptoProA, pkix.Name{CommonName: "Контейнер"}, time.Now(), nil)
	ulong := func(v uint) []byte { return pkcs11.NewAttribute(pkcs11.CKA_CLASS, v).Value }
	f := &fakeAPI{objects: map[pkcs11.ObjectHandle]map[uint][]byte{
		1: {pkcs11.CKA_CLASS: ulong(pkcs11.CKO_CERTIFICATE), pkcs11.CKA_CERTIFICATE_TYPE: ulong(pkcs11.CKC_X_509),
			pkcs11.CKA_VALUE: cert.Raw, pkcs11.CKA_ID: []byte{1}},
		2: {pkcs11.CKA_CLASS: ulong(pkcs11.CKO_DATA), pkcs11.CKA_LABEL: []byte("header.key")},
		3: {pkcs11.CKA_CLASS: ulong(pkcs11.CKO_DATA), pkcs11.CKA_LABEL: []byte("primary.key")},
	}}
	locs, err := scanToken(f, 0, time.Now())
	if err != nil || len(locs) != 1 {
		t.Fatalf("%v, %d certificates", err, len(locs))
	}
	c := locs[0].cert
	if c.HasKey || len(c.Problems) != 1 || c.Problems[0] != keystore.ProblemNeedsCSP {
		t.Fatalf("problems %v, want only %s", c.Problems, keystore.ProblemNeedsCSP)
	}
}
