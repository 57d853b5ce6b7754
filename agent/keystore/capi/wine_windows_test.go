package capi

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"os"
	"testing"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/podpis/podpis/crypto/cms"
)

// TestMYStore imports $PODPIS_CAPI_PFX (password $PODPIS_CAPI_PFX_PASSWORD)
// into the current user's MY store through CryptoAPI, as a person's
// «Установить PFX» does, then lists the store with Store and signs with
// every certificate it offers, writing what it saw to $PODPIS_CAPI_OUT.
// TestMYStoreUnderWine runs it under Wine; on Windows it runs when given
// the same environment.
func TestMYStore(t *testing.T) {
	pfx, out := os.Getenv("PODPIS_CAPI_PFX"), os.Getenv("PODPIS_CAPI_OUT")
	if pfx == "" || out == "" {
		t.Skip("PODPIS_CAPI_PFX and PODPIS_CAPI_OUT not set: TestMYStoreUnderWine runs this under Wine")
	}
	importPFX(t, pfx, os.Getenv("PODPIS_CAPI_PFX_PASSWORD"))

	var rep storeReport
	fail := func(err error) { rep.Errors = append(rep.Errors, err.Error()) }
	ctx := context.Background()
	st := New()
	certs, err := st.Certificates(ctx)
	if err != nil {
		fail(err)
	}
	digest := sha256.Sum256(message)
	for _, c := range certs {
		l := listed{ID: c.ID, CommonName: c.Identity.CommonName, HasKey: c.HasKey, Usable: c.Usable(), Source: c.Source, Container: c.Token}
		s, err := st.Signer(ctx, c.ID, nil)
		if err != nil {
			fail(err)
		} else {
			if l.Signature, err = s.Sign(rand.Reader, digest[:], crypto.SHA256); err != nil {
				fail(err)
			}
			if l.CMS, err = cms.Sign(message, c.Cert, s, nil); err != nil {
				fail(err)
			}
			_, err = s.Sign(rand.Reader, digest[:], &rsa.PSSOptions{Hash: crypto.SHA256})
			l.PSSRefused = errors.Is(err, ErrHash)
		}
		rep.Certificates = append(rep.Certificates, l)
	}
	if rep.CSPs, err = InstalledCSPs(); err != nil {
		fail(err)
	}
	rep.GOST = GOST(rep.CSPs)
	b, _ := json.Marshal(rep)
	if err := os.WriteFile(out, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// importPFX puts the PFX's certificates, with the keys CryptoAPI keeps
// for them, into the current user's MY store.
func importPFX(t *testing.T, path, password string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	blob := windows.CryptDataBlob{Size: uint32(len(b)), Data: &b[0]}
	pfx, err := windows.PFXImportCertStore(&blob, windows.StringToUTF16Ptr(password), windows.CRYPT_USER_KEYSET)
	if err != nil {
		t.Fatalf("PFXImportCertStore: %v", err)
	}
	defer windows.CertCloseStore(pfx, 0)
	my, err := windows.CertOpenStore(windows.CERT_STORE_PROV_SYSTEM, 0, 0, windows.CERT_SYSTEM_STORE_CURRENT_USER,
		uintptr(unsafe.Pointer(windows.StringToUTF16Ptr("MY"))))
	if err != nil {
		t.Fatalf("CertOpenStore MY: %v", err)
	}
	defer windows.CertCloseStore(my, 0)
	n := 0
	for prev := (*windows.CertContext)(nil); ; {
		c, err := windows.CertEnumCertificatesInStore(pfx, prev)
		if err != nil {
			break
		}
		prev = c
		fixKeySpec(t, c)
		if err := windows.CertAddCertificateContextToStore(my, c, windows.CERT_STORE_ADD_REPLACE_EXISTING, nil); err != nil {
			t.Fatalf("CertAddCertificateContextToStore: %v", err)
		}
		n++
	}
	if n == 0 {
		t.Fatal("the PFX holds no certificate")
	}
}

// fixKeySpec records the key as AT_KEYEXCHANGE where Wine's import wrote
// a KeySpec that is none: Wine 8's PFXImportCertStore stores rsaenh's
// PP_KEYSPEC — the specs the provider supports, AT_KEYEXCHANGE|
// AT_SIGNATURE (3) — in CERT_KEY_PROV_INFO, and CryptSignHash then finds
// no key of spec 3 (NTE_NO_KEY). Windows records the spec of the key the
// PFX held: AT_KEYEXCHANGE for an RSA key. The store reads the spec as
// recorded, as it must for CSPs that keep signature keys. (testwine's
// TestCrypt32Limits shows it with CryptoAPI alone.)
func fixKeySpec(t *testing.T, c *windows.CertContext) {
	info, ok := keyProvInfo(c)
	if !ok || info.KeySpec == atKeyExchange || info.KeySpec == atSignature {
		return
	}
	t.Logf("the import recorded KeySpec %d (Wine's PP_KEYSPEC): recording AT_KEYEXCHANGE as Windows does", info.KeySpec)
	fixed := *info
	fixed.KeySpec = atKeyExchange
	if r, _, e := procCertSetCertificateContextProperty.Call(uintptr(unsafe.Pointer(c)), certKeyProvInfoPropID, 0, uintptr(unsafe.Pointer(&fixed))); r == 0 {
		t.Fatalf("CertSetCertificateContextProperty: %v", e)
	}
}

const (
	atKeyExchange = 1 // AT_KEYEXCHANGE
	atSignature   = 2 // AT_SIGNATURE
)

var procCertSetCertificateContextProperty = crypt32.NewProc("CertSetCertificateContextProperty")
