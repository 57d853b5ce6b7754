// Package capi is the key store of Windows: the certificates of the
// current user's «Личное» (MY) store whose keys CryptoPro CSP or ViPNet
// CSP hold behind CryptoAPI, where most people's GOST certificates live
// and CryptoPro's PKCS#11 component is often not installed — and the RSA
// certificates people keep there for foreign sites, whose keys Microsoft's
// RSA providers (or a smart card's CSP of the same types) hold. The store
// itself is Windows-only; what can be reasoned about anywhere — the
// provider table, CryptoAPI's byte order, its error codes — is here and
// tested on Linux.
package capi

import (
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/podpis/podpis/agent/keystore"
	"github.com/podpis/podpis/crypto/gostx509"
)

// ProviderType is a CryptoAPI provider type (dwProvType).
type ProviderType uint32

// Provider types of the GOST CSPs.
const (
	ProvGOST2001      ProviderType = 75 // CryptoPro, GOST R 34.10-2001
	ProvViPNet2012256 ProviderType = 77 // ViPNet CSP, GOST R 34.10-2012 256
	ProvViPNet2012512 ProviderType = 78 // ViPNet CSP, GOST R 34.10-2012 512
	ProvGOST2012256   ProviderType = 80 // CryptoPro, GOST R 34.10-2012 256
	ProvGOST2012512   ProviderType = 81 // CryptoPro, GOST R 34.10-2012 512
)

// Provider types of RSA keys: Microsoft's software providers and the
// smart-card CSPs registered under the same types. PROV_RSA_SIG (2) is not
// among them: ViPNet's GOST R 34.10-2001 provider («Infotecs Cryptographic
// Service Provider») is registered under type 2.
const (
	ProvRSAFull     ProviderType = 1
	ProvRSASChannel ProviderType = 12
	ProvRSAAES      ProviderType = 24
)

// IsRSA says whether a provider type holds RSA keys podpis signs with
// through CryptSignHash (PKCS #1 v1.5).
func IsRSA(t ProviderType) bool {
	switch t {
	case ProvRSAFull, ProvRSASChannel, ProvRSAAES:
		return true
	}
	return false
}

// Streebog and GOST R 34.11-94 hash algorithm identifiers (ALG_ID) of the
// GOST CSPs.
const (
	calgGR3411         uint32 = 0x801e
	calgGR3411_2012256 uint32 = 0x8021
	calgGR3411_2012512 uint32 = 0x8022
)

// TypeInfo is what podpis knows of a provider type.
type TypeInfo struct {
	Vendor string // «КриптоПро CSP», «ViPNet CSP»
	Key    string // the key's algorithm, for people
	HashID uint32 // the CryptCreateHash algorithm that goes with the key
	Bits   int    // signature size: 2×256 or 2×512 bits
}

var types = map[ProviderType]TypeInfo{
	ProvGOST2001:      {"КриптоПро CSP", "ГОСТ Р 34.10-2001", calgGR3411, 256},
	ProvGOST2012256:   {"КриптоПро CSP", "ГОСТ Р 34.10-2012 (256 бит)", calgGR3411_2012256, 256},
	ProvGOST2012512:   {"КриптоПро CSP", "ГОСТ Р 34.10-2012 (512 бит)", calgGR3411_2012512, 512},
	ProvViPNet2012256: {"ViPNet CSP", "ГОСТ Р 34.10-2012 (256 бит)", calgGR3411_2012256, 256},
	ProvViPNet2012512: {"ViPNet CSP", "ГОСТ Р 34.10-2012 (512 бит)", calgGR3411_2012512, 512},
}

// Type describes a GOST provider type; ok is false for the others (RSA:
// see IsRSA).
func Type(t ProviderType) (TypeInfo, bool) {
	ti, ok := types[t]
	return ti, ok
}

// GOSTTypes lists the provider types podpis signs with, for diagnostics.
func GOSTTypes() []ProviderType {
	var out []ProviderType
	for t := range types {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

// FromCAPI turns a signature as CryptSignHash returns it — the whole
// value in little-endian order — into the one CMS and X.509 carry (RFC
// 4490, RFC 9215): the same bytes, reversed.
func FromCAPI(sig []byte) []byte {
	out := slices.Clone(sig)
	slices.Reverse(out)
	return out
}

// ToCAPI is the inverse, for CryptVerifySignature and tests.
func ToCAPI(sig []byte) []byte { return FromCAPI(sig) }

// HashID is the CryptCreateHash algorithm (ALG_ID) for a digest an RSA key
// signs; ok is false for a hash CryptoAPI does not name.
func HashID(h crypto.Hash) (id uint32, ok bool) {
	switch h {
	case crypto.SHA1:
		return 0x8004, true // CALG_SHA1
	case crypto.SHA256:
		return 0x800c, true // CALG_SHA_256
	case crypto.SHA384:
		return 0x800d, true // CALG_SHA_384
	case crypto.SHA512:
		return 0x800e, true // CALG_SHA_512
	}
	return 0, false
}

// Windows error codes a GOST CSP or the smart-card stack returns.
const (
	errCancelled          uint32 = 0x800704C7 // HRESULT_FROM_WIN32(ERROR_CANCELLED)
	nteBadKeyset          uint32 = 0x80090016
	nteKeysetNotDef       uint32 = 0x80090019
	nteBadKeysetParam     uint32 = 0x8009001F
	nteProvTypeNotDef     uint32 = 0x80090017
	nteBadAlgID           uint32 = 0x80090008
	scardENoSmartcard     uint32 = 0x8010000C
	scardWRemovedCard     uint32 = 0x80100069
	scardWWrongCHV        uint32 = 0x8010006B
	scardWCHVBlocked      uint32 = 0x8010006C
	scardWCancelledByUser uint32 = 0x8010006E
	scardECancelled       uint32 = 0x80100002
	scardENoReadersAvail  uint32 = 0x8010002E
)

// ErrorOf maps a CryptoAPI failure (its HRESULT) to the keystore's codes,
// keeping the Windows code in the message for support staff.
func ErrorOf(op string, hr uint32) error {
	if hr != 0 && hr < 0x10000 {
		hr |= 0x80070000 // a Win32 error as its HRESULT
	}
	code := keystore.CodeProviderError
	switch hr {
	case scardWWrongCHV:
		code = keystore.CodePINIncorrect
	case scardWCHVBlocked:
		code = keystore.CodePINLocked
	case scardWCancelledByUser, scardECancelled, errCancelled:
		code = keystore.CodeCancelled
	case scardENoSmartcard, scardWRemovedCard, scardENoReadersAvail:
		code = keystore.CodeTokenRemoved
	case nteBadKeyset, nteKeysetNotDef, nteBadKeysetParam:
		code = keystore.CodeCertNotFound // the key container is not there
	case nteProvTypeNotDef:
		code = keystore.CodeNoProvider
	}
	return &keystore.Error{Code: code, Err: fmt.Errorf("%s: 0x%08X", op, hr)}
}

// Record turns a store entry — the certificate's bytes and its key's
// CRYPT_KEY_PROV_INFO — into the keystore's model; ok is false for a
// certificate podpis does not sign with here: a provider neither GOST nor
// RSA (a CNG key storage provider: type 0), an entry whose certificate's
// key is not of its provider's kind, or unreadable bytes.
func Record(der []byte, provType ProviderType, provName, container string, now time.Time) (*keystore.Certificate, bool) {
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, false
	}
	var source string
	if ti, gost := Type(provType); gost {
		if _, err := gostx509.PublicKey(cert); err != nil {
			return nil, false // not a GOST key: the signer could not use it
		}
		source = fmt.Sprintf("%s (%s, тип %d)", ti.Vendor, provName, provType)
	} else if _, rsaKey := cert.PublicKey.(*rsa.PublicKey); rsaKey && IsRSA(provType) {
		source = fmt.Sprintf("%s (RSA, тип %d)", provName, provType)
	} else {
		return nil, false
	}
	c := keystore.Examine(cert, true, now)
	c.Source = source
	c.Token = container
	return c, true
}

// InstalledCSP is a provider registered with CryptoAPI (under
// HKLM\SOFTWARE\Microsoft\Cryptography\Defaults\Provider).
type InstalledCSP struct {
	Name string
	Type ProviderType
}

// GOST keeps the providers podpis signs with: the answer to «Не
// установлен криптопровайдер» on Windows.
func GOST(all []InstalledCSP) []InstalledCSP {
	return slices.DeleteFunc(slices.Clone(all), func(c InstalledCSP) bool { _, ok := Type(c.Type); return !ok })
}

// ErrKeyType says the certificate's key is held by a provider type podpis
// does not sign with through this store.
var ErrKeyType = errors.New("capi: neither a GOST nor an RSA provider")

// ErrHash says an RSA signature was asked for with a hash or padding
// CryptSignHash does not make (PSS, or a hash without an ALG_ID).
var ErrHash = errors.New("capi: unsupported hash or padding for an RSA key")
