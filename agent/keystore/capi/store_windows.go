package capi

import (
	"context"
	"crypto"
	"crypto/rsa"
	"errors"
	"io"
	"slices"
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
	procCryptSetHashParam                 = advapi32.NewProc("CryptSetHashParam")
	procCryptDestroyHash                  = advapi32.NewProc("CryptDestroyHash")
)

const (
	certKeyProvInfoPropID = 2 // CERT_KEY_PROV_INFO_PROP_ID
	hpHashVal             = 2 // HP_HASHVAL
)

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

// Store lists and signs with the current user's MY store: GOST and RSA
// keys (see Record). The CSP asks
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

// Certificates lists the certificates with GOST or RSA keys of the MY
// store.
func (s *Store) Certificates(ctx context.Context) ([]*keystore.Certificate, error) {
	es, err := s.list()
	out := make([]*keystore.Certificate, 0, len(es))
	for _, e := range es {
		out = append(out, e.cert)
	}
	return out, err
}

// Signer signs with the certificate's key through its CSP: a GOST key
// hashes the message itself (crypto.MessageSigner), an RSA key signs the
// digest it is given.
func (s *Store) Signer(ctx context.Context, id string, _ keystore.PINFunc) (crypto.Signer, error) {
	es, err := s.list()
	if err != nil {
		return nil, err
	}
	for _, e := range es {
		if !strings.EqualFold(e.cert.ID, id) {
			continue
		}
		if pub, ok := e.cert.Cert.PublicKey.(*rsa.PublicKey); ok {
			return &rsaSigner{pub: pub, der: e.der}, nil
		}
		pub, err := gostx509.PublicKey(e.cert.Cert)
		if err != nil {
			return nil, err
		}
		return &gostSigner{pub: pub, der: e.der}, nil
	}
	return nil, keystore.ErrCertNotFound
}

// heldKey is a certificate's private key acquired from its CSP.
type heldKey struct {
	prov      windows.Handle
	spec      uint32
	free      bool
	provType  ProviderType
	container string
	flags     uint32
}

func (k *heldKey) release() {
	if k.free {
		windows.CryptReleaseContext(k.prov, 0)
	}
}

// acquire finds the MY store's own context of the certificate der (the
// key is linked to it, not to a copy) and acquires its key.
func acquire(der []byte) (*heldKey, error) {
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
		if string(unsafe.Slice(c.EncodedCert, c.Length)) == string(der) {
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
	k := &heldKey{provType: ProviderType(info.ProvType), container: windows.UTF16PtrToString(info.ContainerName), flags: info.Flags}
	if _, gost := Type(k.provType); !gost && !IsRSA(k.provType) {
		return nil, ErrKeyType
	}
	if err := windows.CryptAcquireCertificatePrivateKey(inStore, 0, nil, &k.prov, &k.spec, &k.free); err != nil {
		return nil, ErrorOf("CryptAcquireCertificatePrivateKey", uint32(errno(err)))
	}
	return k, nil
}

// signHash signs the hash object with the key and returns CryptSignHash's
// bytes (little-endian, as CryptoAPI writes every signature).
func signHash(hash uintptr, spec uint32) ([]byte, error) {
	var n uint32
	if r, _, e := procCryptSignHashW.Call(hash, uintptr(spec), 0, 0, 0, uintptr(unsafe.Pointer(&n))); r == 0 {
		return nil, ErrorOf("CryptSignHash", uint32(errno(e)))
	}
	sig := make([]byte, n)
	if r, _, e := procCryptSignHashW.Call(hash, uintptr(spec), 0, 0, uintptr(unsafe.Pointer(&sig[0])), uintptr(unsafe.Pointer(&n))); r == 0 {
		return nil, ErrorOf("CryptSignHash", uint32(errno(e)))
	}
	return sig[:n], nil
}

type gostSigner struct {
	pub *gost3410.PublicKey // crypto/x509 cannot read GOST keys
	der []byte
}

func (s *gostSigner) Public() crypto.PublicKey { return s.pub }

// Sign is not offered: the CSP hashes the signed attributes itself
// (SignMessage), so no digest crosses in a byte order we cannot test here.
func (s *gostSigner) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, errors.New("capi: the CSP signs messages, not digests")
}

// SignMessage hashes msg with the key's Streebog in the CSP and signs it.
func (s *gostSigner) SignMessage(_ io.Reader, msg []byte, _ crypto.SignerOpts) ([]byte, error) {
	k, err := acquire(s.der)
	if err != nil {
		return nil, err
	}
	defer k.release()
	ti, gost := Type(k.provType)
	if !gost {
		return nil, ErrKeyType
	}
	var hash uintptr
	if r, _, e := procCryptCreateHash.Call(uintptr(k.prov), uintptr(ti.HashID), 0, 0, uintptr(unsafe.Pointer(&hash))); r == 0 {
		return nil, ErrorOf("CryptCreateHash", uint32(errno(e)))
	}
	defer procCryptDestroyHash.Call(hash)
	if len(msg) > 0 {
		if r, _, e := procCryptHashData.Call(hash, uintptr(unsafe.Pointer(&msg[0])), uintptr(len(msg)), 0); r == 0 {
			return nil, ErrorOf("CryptHashData", uint32(errno(e)))
		}
	}
	sig, err := signHash(hash, k.spec)
	if err != nil {
		return nil, err
	}
	return FromCAPI(sig), nil
}

type rsaSigner struct {
	pub *rsa.PublicKey
	der []byte
}

func (s *rsaSigner) Public() crypto.PublicKey { return s.pub }

// Sign makes a PKCS #1 v1.5 signature of digest through the key's CSP.
func (s *rsaSigner) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if _, pss := opts.(*rsa.PSSOptions); pss {
		return nil, ErrHash // CryptSignHash pads with PKCS #1 v1.5 only
	}
	alg, ok := HashID(opts.HashFunc())
	if !ok || len(digest) != opts.HashFunc().Size() {
		return nil, ErrHash
	}
	k, err := acquire(s.der)
	if err != nil {
		return nil, err
	}
	defer k.release()
	if !IsRSA(k.provType) {
		return nil, ErrKeyType
	}
	prov := k.prov
	var hash uintptr
	r, _, e := procCryptCreateHash.Call(uintptr(prov), uintptr(alg), 0, 0, uintptr(unsafe.Pointer(&hash)))
	if r == 0 && uint32(errno(e)) == nteBadAlgID && k.provType != ProvRSAAES {
		// Microsoft's older RSA providers (type 1, where PFX imports put
		// keys) know no SHA-2; the AES provider reads the same container.
		var aes windows.Handle
		if err := windows.CryptAcquireContext(&aes, windows.StringToUTF16Ptr(k.container), nil, uint32(ProvRSAAES),
			windows.CRYPT_SILENT|k.flags&windows.CRYPT_MACHINE_KEYSET); err != nil {
			return nil, ErrorOf("CryptAcquireContext", uint32(errno(err)))
		}
		defer windows.CryptReleaseContext(aes, 0)
		prov = aes
		r, _, e = procCryptCreateHash.Call(uintptr(prov), uintptr(alg), 0, 0, uintptr(unsafe.Pointer(&hash)))
	}
	if r == 0 {
		return nil, ErrorOf("CryptCreateHash", uint32(errno(e)))
	}
	defer procCryptDestroyHash.Call(hash)
	if r, _, e := procCryptSetHashParam.Call(hash, hpHashVal, uintptr(unsafe.Pointer(&digest[0])), 0); r == 0 {
		return nil, ErrorOf("CryptSetHashParam", uint32(errno(e)))
	}
	sig, err := signHash(hash, k.spec)
	if err != nil {
		return nil, err
	}
	slices.Reverse(sig) // CryptoAPI's little-endian integer; PKCS #1 is big-endian
	return sig, nil
}

func errno(err error) windows.Errno {
	var e windows.Errno
	if errors.As(err, &e) {
		return e
	}
	return windows.Errno(0x80004005) // E_FAIL
}
