package softtoken

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"math/big"

	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/crypto/streebog"
)

// VerifyInit starts checking a signature with a public key object, with
// the mechanisms the token signs with.
func (t *Token) VerifyInit(h, mech, key uint64) RV {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, rv := t.sessionFor(h)
	if rv != CKR_OK {
		return rv
	}
	if s.verify.active {
		return CKR_OPERATION_ACTIVE
	}
	o, rv := t.object(key)
	if rv != CKR_OK || o.class != CKO_PUBLIC_KEY {
		return CKR_KEY_HANDLE_INVALID
	}
	want, ok := mechanismKeyTypes[mech]
	if !ok {
		return CKR_MECHANISM_INVALID
	}
	if want != o.keyType {
		return CKR_KEY_TYPE_INCONSISTENT
	}
	if string(o.attrs[CKA_VERIFY]) != string(bval(true)) {
		return CKR_KEY_FUNCTION_NOT_PERMITTED
	}
	s.verify = verifyOp{active: true, mech: mech, key: o}
	switch mech {
	case CKM_GOSTR3410_WITH_GOSTR3411_12_256:
		s.verify.hashing = streebog.New256()
	case CKM_GOSTR3410_WITH_GOSTR3411_12_512:
		s.verify.hashing = streebog.New512()
	case CKM_SHA256_RSA_PKCS, CKM_ECDSA_SHA256:
		s.verify.hashing = sha256.New()
	}
	return CKR_OK
}

// Verify checks a single-part signature and ends the operation.
func (t *Token) Verify(h uint64, data, sig []byte) RV {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, rv := t.sessionFor(h)
	if rv != CKR_OK {
		return rv
	}
	op := s.verify
	if !op.active {
		return CKR_OPERATION_NOT_INITIALIZED
	}
	s.verify = verifyOp{}
	if op.hashing != nil {
		op.hashing.Write(data)
		data = op.hashing.Sum(nil)
	}
	return verify(op, data, sig)
}

func (t *Token) VerifyUpdate(h uint64, part []byte) RV {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, rv := t.sessionFor(h)
	if rv != CKR_OK {
		return rv
	}
	if !s.verify.active {
		return CKR_OPERATION_NOT_INITIALIZED
	}
	if s.verify.hashing == nil {
		s.verify = verifyOp{}
		return CKR_FUNCTION_NOT_SUPPORTED // raw mechanisms are single-part
	}
	s.verify.hashing.Write(part)
	return CKR_OK
}

func (t *Token) VerifyFinal(h uint64, sig []byte) RV {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, rv := t.sessionFor(h)
	if rv != CKR_OK {
		return rv
	}
	op := s.verify
	if !op.active || op.hashing == nil {
		return CKR_OPERATION_NOT_INITIALIZED
	}
	s.verify = verifyOp{}
	return verify(op, op.hashing.Sum(nil), sig)
}

func verify(op verifyOp, digest, sig []byte) RV {
	switch k := op.key.pubKey.(type) {
	case *gost3410.PublicKey:
		if len(sig) != 2*k.Curve().Size() {
			return CKR_SIGNATURE_LEN_RANGE
		}
		if len(digest) != k.Curve().Size() {
			return CKR_DATA_LEN_RANGE
		}
		if !k.Verify(digest, sig) {
			return CKR_SIGNATURE_INVALID
		}
	case *rsa.PublicKey:
		if len(sig) != k.Size() {
			return CKR_SIGNATURE_LEN_RANGE
		}
		var err error
		if op.mech == CKM_SHA256_RSA_PKCS {
			err = rsa.VerifyPKCS1v15(k, crypto.SHA256, digest, sig)
		} else {
			err = rsa.VerifyPKCS1v15(k, 0, digest, sig)
		}
		if err != nil {
			return CKR_SIGNATURE_INVALID
		}
	case *ecdsa.PublicKey:
		n := (k.Curve.Params().BitSize + 7) / 8
		if len(sig) != 2*n {
			return CKR_SIGNATURE_LEN_RANGE
		}
		r, s := new(big.Int).SetBytes(sig[:n]), new(big.Int).SetBytes(sig[n:])
		if !ecdsa.Verify(k, digest, r, s) {
			return CKR_SIGNATURE_INVALID
		}
	default:
		return CKR_GENERAL_ERROR
	}
	return CKR_OK
}
