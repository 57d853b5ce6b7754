package trust

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"unsafe"

	"golang.org/x/sys/windows"
)

// WindowsRoot is the current user's «Доверенные корневые центры
// сертификации» store, which Edge, Chrome and (with enterprise roots, on by
// default) Firefox read on Windows. Adding to it shows Windows's own
// confirmation: the person sees and approves the change.
type WindowsRoot struct{}

func (WindowsRoot) ID() string      { return "windows:CurrentUser\\Root" }
func (WindowsRoot) Browser() string { return "Windows (Edge, Chrome, Firefox)" }

// openRoot opens the user's Root system store: what the browsers trust,
// and where Add puts the CA (into its registry part, HKCU\Software\
// Microsoft\SystemCertificates\Root).
func openRoot() (windows.Handle, error) { return openRootAs(windows.CERT_STORE_PROV_SYSTEM) }

// openRootRegistry opens the registry part of it alone, the physical store
// the CA went into: deleting through the system store (a collection of
// physical stores) does not reach the registry under Wine 8 — the delete
// succeeds and the certificate is back once the store is reopened — while
// deleting from the physical store does, on Windows as under Wine.
func openRootRegistry() (windows.Handle, error) {
	return openRootAs(windows.CERT_STORE_PROV_SYSTEM_REGISTRY)
}

func openRootAs(provider uintptr) (windows.Handle, error) {
	name, _ := windows.UTF16PtrFromString("Root")
	return windows.CertOpenStore(provider, 0, 0, windows.CERT_SYSTEM_STORE_CURRENT_USER, uintptr(unsafe.Pointer(name)))
}

func (WindowsRoot) Add(ca *x509.Certificate, name string) error {
	st, err := openRoot()
	if err != nil {
		return err
	}
	defer windows.CertCloseStore(st, 0)
	ctx, err := windows.CertCreateCertificateContext(windows.X509_ASN_ENCODING|windows.PKCS_7_ASN_ENCODING, &ca.Raw[0], uint32(len(ca.Raw)))
	if err != nil {
		return err
	}
	defer windows.CertFreeCertificateContext(ctx)
	return windows.CertAddCertificateContextToStore(st, ctx, windows.CERT_STORE_ADD_REPLACE_EXISTING, nil)
}

// find calls f with our certificate's context in the store open gives, if
// it is there.
func find(open func() (windows.Handle, error), e Entry, f func(*windows.CertContext) error) (bool, error) {
	st, err := open()
	if err != nil {
		return false, err
	}
	defer windows.CertCloseStore(st, 0)
	var prev *windows.CertContext
	for {
		ctx, err := windows.CertEnumCertificatesInStore(st, prev)
		if err != nil {
			if errors.Is(err, windows.Errno(windows.CRYPT_E_NOT_FOUND)) {
				return false, nil
			}
			return false, err
		}
		der := unsafe.Slice(ctx.EncodedCert, ctx.Length)
		sum := sha256.Sum256(der)
		if hex.EncodeToString(sum[:]) == e.Fingerprint {
			// Deleting frees the context it is given: hand it a copy and
			// end the enumeration with the original.
			err := f(windows.CertDuplicateCertificateContext(ctx))
			windows.CertFreeCertificateContext(ctx)
			return true, err
		}
		prev = ctx
	}
}

func (WindowsRoot) Has(e Entry) (bool, error) {
	return find(openRoot, e, func(c *windows.CertContext) error { return windows.CertFreeCertificateContext(c) })
}

// Remove deletes the CA and looks again: a deletion the store reports but
// did not make (see openRootRegistry) is an error, not «удалён».
func (r WindowsRoot) Remove(e Entry) error {
	if _, err := find(openRootRegistry, e, windows.CertDeleteCertificateFromStore); err != nil {
		return err
	}
	if still, err := r.Has(e); err != nil || still {
		return errors.Join(ErrStillTrusted, err)
	}
	return nil
}

// UserStores are the current user's stores podpis installs its CA into.
func UserStores() []Store { return []Store{WindowsRoot{}} }

// Open reaches a store by its manifest ID.
func Open(id string) (Store, bool) {
	if id == (WindowsRoot{}).ID() {
		return WindowsRoot{}, true
	}
	return nil, false
}
