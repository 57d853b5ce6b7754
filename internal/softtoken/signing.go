package softtoken

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"time"

	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/crypto/streebog"
)

// mechanismKeyTypes says which keys each mechanism accepts.
var mechanismKeyTypes = map[uint64]uint64{
	CKM_GOSTR3410:                       CKK_GOSTR3410,
	CKM_GOSTR3410_WITH_GOSTR3411_12_256: CKK_GOSTR3410,
	CKM_GOSTR3410_512:                   CKK_GOSTR3410_512,
	CKM_GOSTR3410_WITH_GOSTR3411_12_512: CKK_GOSTR3410_512,
	CKM_RSA_PKCS:                        CKK_RSA,
	CKM_SHA256_RSA_PKCS:                 CKK_RSA,
	CKM_ECDSA:                           CKK_EC,
	CKM_ECDSA_SHA256:                    CKK_EC,
}

func (t *Token) SignInit(h, mech, key uint64) RV {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, rv := t.sessionFor(h)
	if rv != CKR_OK {
		return rv
	}
	if s.signing {
		return CKR_OPERATION_ACTIVE
	}
	o, rv := t.object(key)
	if !t.userIn() && (rv != CKR_OK || o.private) {
		return CKR_USER_NOT_LOGGED_IN // token keys are all private
	}
	if rv != CKR_OK || o.class != CKO_PRIVATE_KEY {
		return CKR_KEY_HANDLE_INVALID
	}
	if string(o.attrs[CKA_SIGN]) != string(bval(true)) {
		return CKR_KEY_FUNCTION_NOT_PERMITTED // made with CKA_SIGN false
	}
	want, ok := mechanismKeyTypes[mech]
	if !ok {
		return CKR_MECHANISM_INVALID
	}
	if want != o.keyType {
		return CKR_KEY_TYPE_INCONSISTENT
	}
	s.signing, s.mech, s.signKey, s.gotParts = true, mech, o, false
	switch mech {
	case CKM_GOSTR3410_WITH_GOSTR3411_12_256:
		s.hashing = streebog.New256()
	case CKM_GOSTR3410_WITH_GOSTR3411_12_512:
		s.hashing = streebog.New512()
	case CKM_SHA256_RSA_PKCS, CKM_ECDSA_SHA256:
		s.hashing = sha256.New()
	default:
		s.hashing = nil
	}
	return CKR_OK
}

// SignatureLen is the length Sign will produce for the active operation.
func (t *Token) SignatureLen(h uint64) (int, RV) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, rv := t.sessionFor(h)
	if rv != CKR_OK {
		return 0, rv
	}
	if !s.signing {
		return 0, CKR_OPERATION_NOT_INITIALIZED
	}
	return signatureLen(s.signKey), CKR_OK
}

func signatureLen(o *object) int {
	switch k := o.key.Public().(type) {
	case *gost3410.PublicKey:
		return 2 * k.Curve().Size()
	case *rsa.PublicKey:
		return k.Size()
	case *ecdsa.PublicKey:
		return 2 * ((k.Curve.Params().BitSize + 7) / 8)
	}
	return 0
}

// Sign finishes a single-part signature over data (a digest for the raw
// mechanisms) and ends the operation.
func (t *Token) Sign(h uint64, data []byte) ([]byte, RV) {
	t.mu.Lock()
	s, rv := t.sessionFor(h)
	if rv != CKR_OK {
		if s2, ok := t.sessions[h]; ok {
			s2.signing = false
		}
		t.mu.Unlock()
		return nil, rv
	}
	if !s.signing || s.gotParts {
		t.mu.Unlock()
		return nil, CKR_OPERATION_NOT_INITIALIZED
	}
	if s.hashing != nil {
		s.hashing.Write(data)
		data = s.hashing.Sum(nil)
	}
	o, mech := s.signKey, s.mech
	s.signing = false
	t.mu.Unlock()
	return t.sign(o, mech, data)
}

func (t *Token) SignUpdate(h uint64, part []byte) RV {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, rv := t.sessionFor(h)
	if rv != CKR_OK {
		return rv
	}
	if !s.signing {
		return CKR_OPERATION_NOT_INITIALIZED
	}
	if s.hashing == nil {
		s.signing = false
		return CKR_FUNCTION_NOT_SUPPORTED // raw mechanisms are single-part
	}
	s.gotParts = true
	s.hashing.Write(part)
	return CKR_OK
}

func (t *Token) SignFinal(h uint64) ([]byte, RV) {
	t.mu.Lock()
	s, rv := t.sessionFor(h)
	if rv != CKR_OK {
		t.mu.Unlock()
		return nil, rv
	}
	if !s.signing || s.hashing == nil {
		t.mu.Unlock()
		return nil, CKR_OPERATION_NOT_INITIALIZED
	}
	digest := s.hashing.Sum(nil)
	o, mech := s.signKey, s.mech
	s.signing = false
	t.mu.Unlock()
	return t.sign(o, mech, digest)
}

// sign runs outside the lock: a hanging token (.hang) blocks only its
// caller, as a real device would.
func (t *Token) sign(o *object, mech uint64, digest []byte) ([]byte, RV) {
	for t.marker(".hang") {
		time.Sleep(50 * time.Millisecond)
	}
	if !t.Present() {
		return nil, CKR_DEVICE_REMOVED
	}
	switch k := o.key.(type) {
	case *gost3410.PrivateKey:
		if len(digest) != k.Curve().Size() {
			return nil, CKR_DATA_LEN_RANGE
		}
		sig, err := k.Sign(rand.Reader, digest, nil)
		if err != nil {
			return nil, CKR_GENERAL_ERROR
		}
		return sig, CKR_OK
	case *rsa.PrivateKey:
		var sig []byte
		var err error
		if mech == CKM_SHA256_RSA_PKCS {
			sig, err = rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, digest)
		} else {
			// CKM_RSA_PKCS: the caller supplies the DigestInfo.
			sig, err = rsa.SignPKCS1v15(rand.Reader, k, 0, digest)
		}
		if err != nil {
			return nil, CKR_DATA_LEN_RANGE
		}
		return sig, CKR_OK
	case *ecdsa.PrivateKey:
		r, s, err := ecdsa.Sign(rand.Reader, k, digest)
		if err != nil {
			return nil, CKR_GENERAL_ERROR
		}
		n := (k.Curve.Params().BitSize + 7) / 8
		out := make([]byte, 2*n)
		r.FillBytes(out[:n])
		s.FillBytes(out[n:])
		return out, CKR_OK
	}
	return nil, CKR_GENERAL_ERROR
}
