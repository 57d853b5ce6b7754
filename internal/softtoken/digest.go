package softtoken

import (
	"crypto/sha256"
	"hash"

	"github.com/podpis/podpis/crypto/streebog"
)

// Digest mechanisms: Streebog (TC26's CKM_GOSTR3411_12_256/512) and
// SHA-256, computed in software as a GOST token's driver does.
const (
	CKM_SHA256           = 0x250
	CKM_GOSTR3411_12_256 = 0xD4321012
	CKM_GOSTR3411_12_512 = 0xD4321013
	CKR_KEY_INDIGESTIBLE = 0x067
)

var digests = map[uint64]func() hash.Hash{
	CKM_SHA256:           sha256.New,
	CKM_GOSTR3411_12_256: func() hash.Hash { return streebog.New256() },
	CKM_GOSTR3411_12_512: func() hash.Hash { return streebog.New512() },
}

func (t *Token) DigestInit(h, mech uint64) RV {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, rv := t.sessionFor(h)
	if rv != CKR_OK {
		return rv
	}
	if s.digest != nil {
		return CKR_OPERATION_ACTIVE
	}
	newHash, ok := digests[mech]
	if !ok {
		return CKR_MECHANISM_INVALID
	}
	s.digest, s.digestParts, s.digestSingle = newHash(), false, false
	return CKR_OK
}

// DigestLen is the length the active digest will have, asked by C_Digest
// (single) or C_DigestFinal. Mixing the one-part and the multi-part
// forms is CKR_OPERATION_ACTIVE and, like every error, ends the operation.
func (t *Token) DigestLen(h uint64, single bool) (int, RV) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, rv := t.sessionFor(h)
	if rv != CKR_OK {
		return 0, rv
	}
	if s.digest == nil {
		return 0, CKR_OPERATION_NOT_INITIALIZED
	}
	if single && s.digestParts || !single && s.digestSingle {
		s.digest = nil
		return 0, CKR_OPERATION_ACTIVE
	}
	s.digestSingle = single
	return s.digest.Size(), CKR_OK
}

// DigestAbort ends the digest after an error in the caller's arguments.
func (t *Token) DigestAbort(h uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if s, rv := t.sessionFor(h); rv == CKR_OK {
		s.digest = nil
	}
}

// Digest hashes data in one part and ends the operation.
func (t *Token) Digest(h uint64, data []byte) ([]byte, RV) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, rv := t.sessionFor(h)
	if rv != CKR_OK {
		return nil, rv
	}
	if s.digest == nil || s.digestParts {
		return nil, CKR_OPERATION_NOT_INITIALIZED
	}
	d := s.digest
	s.digest = nil
	d.Write(data)
	return d.Sum(nil), CKR_OK
}

func (t *Token) DigestUpdate(h uint64, part []byte) RV {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, rv := t.sessionFor(h)
	if rv != CKR_OK {
		return rv
	}
	if s.digest == nil {
		return CKR_OPERATION_NOT_INITIALIZED
	}
	if s.digestSingle {
		s.digest = nil
		return CKR_OPERATION_ACTIVE
	}
	s.digestParts = true
	s.digest.Write(part)
	return CKR_OK
}

// DigestKey refuses every key: the token's keys are private and never
// leave it, not even through a hash.
func (t *Token) DigestKey(h, key uint64) RV {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, rv := t.sessionFor(h)
	if rv != CKR_OK {
		return rv
	}
	if s.digest == nil {
		return CKR_OPERATION_NOT_INITIALIZED
	}
	if _, rv := t.object(key); rv != CKR_OK {
		return CKR_KEY_HANDLE_INVALID
	}
	return CKR_KEY_INDIGESTIBLE
}

func (t *Token) DigestFinal(h uint64) ([]byte, RV) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, rv := t.sessionFor(h)
	if rv != CKR_OK {
		return nil, rv
	}
	if s.digest == nil {
		return nil, CKR_OPERATION_NOT_INITIALIZED
	}
	d := s.digest
	s.digest = nil
	return d.Sum(nil), CKR_OK
}
