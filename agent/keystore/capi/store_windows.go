package capi

import (
	"context"
	"crypto"
	"errors"
	"io"
	"strings"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/podpis/podpis/agent/keystore"
	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/crypto/gostx509"
)

var (
	crypt32  = windows.NewLazySystemDLL("crypt32.dll")
	advapi32 = windows.NewLazySystemDLL("advapi32.dll")

	procCertGetCertificateContextProperty = crypt32.NewProc("CertGetCertificateContextProperty")
	procCryptCreateHash                   = advapi32.NewProc("CryptCreateHash")
	procCryptHashData                     = advapi32.NewProc("CryptHashData")
	procCryptSignHashW                    = advapi32.NewProc("CryptSignHashW")
	procCryptDestroyHash                  = advapi32.NewProc("CryptDestroyHash")
)

const certKeyProvInfoPropID = 2 // CERT_KEY_PROV_INFO_PROP_ID

// cryptKeyProvInfo is CRYPT_KEY_PROV_INFO.
type cryptKeyProvInfo struct {
	ContainerName *uint16
	ProvName      *uint16
	ProvType      uint32
	Flags         uint32
	ProvParamsLen uint32
	ProvParams    uintptr
	KeySpec       uint32
}

// Store lists and signs with the current user's MY store. The CSP asks
// its own password (with its own «Сохранить пароль»), so podpis asks none.
type Store struct{}

// New opens nothing yet: the store is read on each listing, as people
// install certificates while podpis runs.
func New() *Store { return &Store{} }

func (*Store) Name() string { return "Windows: Личное хранилище (CryptoAPI)" }
func (*Store) Close() error { return nil }

type entry struct {
	cert *keystore.Certificate
	der  []byte
}

func (s *Store) list() ([]entry, error) {
	name, _ := windows.UTF16PtrFromString("MY")
	st, err := windows.CertOpenSystemStore(0, name)
	if err != nil {
		return nil, ErrorOf("CertOpenSystemStore", uint32(errno(err)))
	}
	defer windows.CertCloseStore(st, 0)
	var out []entry
	var prev *windows.CertContext
	for {
		ctx, err := windows.CertEnumCertificatesInStore(st, prev)
		if err != nil {
			break // CRYPT_E_NOT_FOUND: the end
		}
		prev = ctx
		der := append([]byte{}, unsafe.Slice(ctx.EncodedCert, ctx.Length)...)
		info, ok := keyProvInfo(ctx)
		if !ok {
			continue // no private key here
		}
		c, ok := Record(der, ProviderType(info.ProvType), windows.UTF16PtrToString(info.ProvName),
			windows.UTF16PtrToString(info.ContainerName), time.Now())
		if !ok {
			continue
		}
		out = append(out, entry{cert: c, der: der})
	}
	return out, nil
}

func keyProvInfo(ctx *windows.CertContext) (*cryptKeyProvInfo, bool) {
	var size uint32
	r, _, _ := procCertGetCertificateContextProperty.Call(uintptr(unsafe.Pointer(ctx)), certKeyProvInfoPropID, 0, uintptr(unsafe.Pointer(&size)))
	if r == 0 || size < uint32(unsafe.Sizeof(cryptKeyProvInfo{})) {
		return nil, false
	}
	buf := make([]byte, size)
	r, _, _ = procCertGetCertificateContextProperty.Call(uintptr(unsafe.Pointer(ctx)), certKeyProvInfoPropID, uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&size)))
	if r == 0 {
		return nil, false
	}
	return (*cryptKeyProvInfo)(unsafe.Pointer(&buf[0])), true
}

// Certificates lists the GOST certificates with keys of the MY store.
func (s *Store) Certificates(ctx context.Context) ([]*keystore.Certificate, error) {
	es, err := s.list()
	out := make([]*keystore.Certificate, 0, len(es))
	for _, e := range es {
		out = append(out, e.cert)
	}
	return out, err
}

// Signer signs with the certificate's key through its CSP.
func (s *Store) Signer(ctx context.Context, id string, _ keystore.PINFunc) (crypto.Signer, error) {
	es, err := s.list()
	if err != nil {
		return nil, err
	}
	for _, e := range es {
		if strings.EqualFold(e.cert.ID, id) {
			pub, err := gostx509.PublicKey(e.cert.Cert)
			if err != nil {
				return nil, err
			}
			return &signer{pub: pub, der: e.der}, nil
		}
	}
	return nil, keystore.ErrCertNotFound
}

type signer struct {
	pub *gost3410.PublicKey // crypto/x509 cannot read GOST keys
	der []byte
}

func (s *signer) Public() crypto.PublicKey { return s.pub }

// Sign is not offered: the CSP hashes the signed attributes itself
// (SignMessage), so no digest crosses in a byte order we cannot test here.
func (s *signer) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, errors.New("capi: the CSP signs messages, not digests")
}

// SignMessage hashes msg with the key's Streebog in the CSP and signs it.
func (s *signer) SignMessage(_ io.Reader, msg []byte, _ crypto.SignerOpts) ([]byte, error) {
	// The key is linked to the store's own context of the certificate.
	st, err := windows.CertOpenSystemStore(0, windows.StringToUTF16Ptr("MY"))
	if err != nil {
		return nil, ErrorOf("CertOpenSystemStore", uint32(errno(err)))
	}
	defer windows.CertCloseStore(st, 0)
	var inStore *windows.CertContext
	for prev := (*windows.CertContext)(nil); ; {
		c, err := windows.CertEnumCertificatesInStore(st, prev)
		if err != nil {
			return nil, keystore.ErrCertNotFound
		}
		prev = c
		if string(unsafe.Slice(c.EncodedCert, c.Length)) == string(s.der) {
			inStore = windows.CertDuplicateCertificateContext(c)
			windows.CertFreeCertificateContext(c)
			break
		}
	}
	defer windows.CertFreeCertificateContext(inStore)
	info, ok := keyProvInfo(inStore)
	if !ok {
		return nil, keystore.ErrCertNotFound
	}
	ti, gost := Type(ProviderType(info.ProvType))
	if !gost {
		return nil, ErrNotGOST
	}
	var prov windows.Handle
	var keySpec uint32
	var mustFree bool
	if err := windows.CryptAcquireCertificatePrivateKey(inStore, 0, nil, &prov, &keySpec, &mustFree); err != nil {
		return nil, ErrorOf("CryptAcquireCertificatePrivateKey", uint32(errno(err)))
	}
	if mustFree {
		defer windows.CryptReleaseContext(prov, 0)
	}
	var hash uintptr
	if r, _, e := procCryptCreateHash.Call(uintptr(prov), uintptr(ti.HashID), 0, 0, uintptr(unsafe.Pointer(&hash))); r == 0 {
		return nil, ErrorOf("CryptCreateHash", uint32(errno(e)))
	}
	defer procCryptDestroyHash.Call(hash)
	if len(msg) > 0 {
		if r, _, e := procCryptHashData.Call(hash, uintptr(unsafe.Pointer(&msg[0])), uintptr(len(msg)), 0); r == 0 {
			return nil, ErrorOf("CryptHashData", uint32(errno(e)))
		}
	}
	var n uint32
	if r, _, e := procCryptSignHashW.Call(hash, uintptr(keySpec), 0, 0, 0, uintptr(unsafe.Pointer(&n))); r == 0 {
		return nil, ErrorOf("CryptSignHash", uint32(errno(e)))
	}
	sig := make([]byte, n)
	if r, _, e := procCryptSignHashW.Call(hash, uintptr(keySpec), 0, 0, uintptr(unsafe.Pointer(&sig[0])), uintptr(unsafe.Pointer(&n))); r == 0 {
		return nil, ErrorOf("CryptSignHash", uint32(errno(e)))
	}
	return FromCAPI(sig[:n]), nil
}

func errno(err error) windows.Errno {
	var e windows.Errno
	if errors.As(err, &e) {
		return e
	}
	return windows.Errno(0x80004005) // E_FAIL
}
