package softtoken

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"hash"
	"os"
	"path/filepath"
)

// session is one PKCS#11 session: at most one object search and one
// signature in progress. Login state is the token's, shared by all
// sessions, as PKCS#11 has it.
type session struct {
	rw bool
	// search
	finding bool
	found   []uint64
	// signing
	signing bool
	mech    uint64
	signKey *object
	hashing interface {
		Write([]byte) (int, error)
		Sum([]byte) []byte
	}
	gotParts bool
	// verifying
	verify verifyOp
	// digesting
	digest       hash.Hash
	digestParts  bool // C_DigestUpdate was called
	digestSingle bool // C_Digest asked the length
}

// verifyOp is a C_VerifyInit … C_Verify(Final) in progress.
type verifyOp struct {
	active  bool
	mech    uint64
	key     *object
	hashing interface {
		Write([]byte) (int, error)
		Sum([]byte) []byte
	}
}

// pinState persists the wrong-PIN counter in the folder, as a real token
// keeps it across sessions and processes.
// A user PIN the SO set (C_InitPIN) or the user changed (C_SetPIN) is kept
// as a salted SHA-256 and overrides PODPIS_SOFTTOKEN_PIN.
type pinState struct {
	Failures   int    `json:"failures"`
	SOFailures int    `json:"soFailures,omitempty"`
	PINSalt    []byte `json:"pinSalt,omitempty"`
	PINHash    []byte `json:"pinHash,omitempty"`
}

func pinHash(salt, pin []byte) []byte {
	h := sha256.New()
	h.Write(salt)
	h.Write(pin)
	return h.Sum(nil)
}

// userPINMatches checks pin against the stored PIN, else the configured one.
func (t *Token) userPINMatches(st pinState, pin []byte) bool {
	if st.PINHash != nil {
		return subtle.ConstantTimeCompare(pinHash(st.PINSalt, pin), st.PINHash) == 1
	}
	return subtle.ConstantTimeCompare(pin, []byte(t.pin)) == 1
}

func setUserPIN(st *pinState, pin []byte) {
	st.PINSalt = make([]byte, 16)
	rand.Read(st.PINSalt)
	st.PINHash = pinHash(st.PINSalt, pin)
}

func (t *Token) statePath() string { return filepath.Join(t.dir, ".pin-state") }

func (t *Token) readState() pinState {
	var s pinState
	if b, err := os.ReadFile(t.statePath()); err == nil {
		json.Unmarshal(b, &s)
	}
	return s
}

func (t *Token) writeState(s pinState) error {
	b, _ := json.Marshal(s)
	return writeAtomic(t.statePath(), b)
}

func (t *Token) OpenSession(slot, flags uint64) (uint64, RV) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if rv := t.check(slot); rv != CKR_OK {
		return 0, rv
	}
	if flags&CKF_SERIAL_SESSION == 0 {
		return 0, CKR_SESSION_PARALLEL_NOT_SUPPORTED
	}
	if !t.Present() {
		return 0, CKR_TOKEN_NOT_PRESENT
	}
	if t.login && t.who == CKU_SO && flags&CKF_RW_SESSION == 0 {
		return 0, CKR_SESSION_READ_WRITE_SO_EXISTS
	}
	t.nextSession++
	t.sessions[t.nextSession] = &session{rw: flags&CKF_RW_SESSION != 0}
	return t.nextSession, CKR_OK
}

func (t *Token) CloseSession(h uint64) RV {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.initialized {
		return CKR_CRYPTOKI_NOT_INITIALIZED
	}
	if _, ok := t.sessions[h]; !ok {
		return CKR_SESSION_HANDLE_INVALID
	}
	delete(t.sessions, h)
	t.dropSessionObjects(h)
	if len(t.sessions) == 0 {
		t.login = false // logout when the last session closes
	}
	return CKR_OK
}

func (t *Token) CloseAllSessions(slot uint64) RV {
	t.mu.Lock()
	defer t.mu.Unlock()
	if rv := t.check(slot); rv != CKR_OK {
		return rv
	}
	for h := range t.sessions {
		t.dropSessionObjects(h)
	}
	t.sessions = map[uint64]*session{}
	t.login = false
	return CKR_OK
}

// dropSessionObjects destroys the objects session h made.
func (t *Token) dropSessionObjects(h uint64) {
	for handle, o := range t.objects {
		if o.file == "" && o.session == h {
			delete(t.objects, handle)
		}
	}
}

// sessionFor returns a live session; a removed token invalidates them.
func (t *Token) sessionFor(h uint64) (*session, RV) {
	if !t.initialized {
		return nil, CKR_CRYPTOKI_NOT_INITIALIZED
	}
	s, ok := t.sessions[h]
	if !ok {
		return nil, CKR_SESSION_HANDLE_INVALID
	}
	if !t.Present() {
		return nil, CKR_DEVICE_REMOVED
	}
	return s, CKR_OK
}

// SessionInfo returns the state and flags of a session.
func (t *Token) SessionInfo(h uint64) (state, flags uint64, rv RV) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, rv := t.sessionFor(h)
	if rv != CKR_OK {
		return 0, 0, rv
	}
	flags = CKF_SERIAL_SESSION
	if s.rw {
		flags |= CKF_RW_SESSION
	}
	switch {
	case t.login && t.who == CKU_SO:
		state = CKS_RW_SO_FUNCTIONS
	case s.rw && t.login:
		state = CKS_RW_USER_FUNCTIONS
	case s.rw:
		state = CKS_RW_PUBLIC_SESSION
	case t.login:
		state = CKS_RO_USER_FUNCTIONS
	default:
		state = CKS_RO_PUBLIC_SESSION
	}
	return state, flags, CKR_OK
}

// Login checks the user's or the security officer's PIN. A wrong PIN
// counts against MaxPINTries (each user has a counter), persisted in the
// folder; a locked PIN refuses even the right one. The SO's only power is
// C_InitPIN, which sets a new user PIN and unlocks it: the token's PUK.
func (t *Token) Login(h, userType uint64, pin []byte) RV {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, rv := t.sessionFor(h); rv != CKR_OK {
		return rv
	}
	if userType != CKU_USER && userType != CKU_SO {
		return CKR_USER_TYPE_INVALID
	}
	if t.login {
		if t.who == userType {
			return CKR_USER_ALREADY_LOGGED_IN
		}
		return CKR_USER_ANOTHER_ALREADY_LOGGED_IN
	}
	if userType == CKU_SO {
		for _, s := range t.sessions {
			if !s.rw {
				return CKR_SESSION_READ_ONLY_EXISTS
			}
		}
	}
	st := t.readState()
	failures := &st.Failures
	if userType == CKU_SO {
		failures = &st.SOFailures
	}
	if *failures >= MaxPINTries {
		return CKR_PIN_LOCKED
	}
	if len(pin) == 0 && t.marker(".pinpad") {
		t.login, t.who = true, userType // entered on the simulated PIN pad
		return CKR_OK
	}
	if len(pin) < 4 || len(pin) > 64 {
		return CKR_PIN_LEN_RANGE
	}
	good := t.userPINMatches(st, pin)
	if userType == CKU_SO {
		good = subtle.ConstantTimeCompare(pin, []byte(t.soPIN)) == 1
	}
	if !good {
		*failures++
		if t.writeState(st) != nil {
			return CKR_DEVICE_ERROR // never let a failure go uncounted
		}
		if *failures >= MaxPINTries {
			return CKR_PIN_LOCKED
		}
		return CKR_PIN_INCORRECT
	}
	if *failures != 0 {
		*failures = 0
		t.writeState(st)
	}
	t.login, t.who = true, userType
	return CKR_OK
}

// InitPIN sets the user PIN: only the SO, in a read/write session. It
// also clears the user's wrong-PIN counter, unlocking a locked token.
func (t *Token) InitPIN(h uint64, pin []byte) RV {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, rv := t.sessionFor(h)
	if rv != CKR_OK {
		return rv
	}
	if !t.login || t.who != CKU_SO {
		return CKR_USER_NOT_LOGGED_IN
	}
	if !s.rw {
		return CKR_SESSION_READ_ONLY
	}
	if len(pin) < 4 || len(pin) > 64 {
		return CKR_PIN_LEN_RANGE
	}
	st := t.readState()
	setUserPIN(&st, pin)
	st.Failures = 0
	if t.writeState(st) != nil {
		return CKR_DEVICE_ERROR
	}
	return CKR_OK
}

// SetPIN changes the logged-in user's PIN (old PIN checked, counted like
// a login). The SO's PIN comes from the configuration and is not changed.
func (t *Token) SetPIN(h uint64, oldPIN, newPIN []byte) RV {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, rv := t.sessionFor(h)
	if rv != CKR_OK {
		return rv
	}
	if !s.rw {
		return CKR_SESSION_READ_ONLY
	}
	if !t.userIn() {
		return CKR_USER_NOT_LOGGED_IN
	}
	if len(newPIN) < 4 || len(newPIN) > 64 {
		return CKR_PIN_LEN_RANGE
	}
	st := t.readState()
	if st.Failures >= MaxPINTries {
		return CKR_PIN_LOCKED
	}
	if !t.userPINMatches(st, oldPIN) {
		st.Failures++
		if t.writeState(st) != nil {
			return CKR_DEVICE_ERROR
		}
		if st.Failures >= MaxPINTries {
			return CKR_PIN_LOCKED
		}
		return CKR_PIN_INCORRECT
	}
	setUserPIN(&st, newPIN)
	st.Failures = 0
	if t.writeState(st) != nil {
		return CKR_DEVICE_ERROR
	}
	return CKR_OK
}

func (t *Token) Logout(h uint64) RV {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, rv := t.sessionFor(h); rv != CKR_OK {
		return rv
	}
	if !t.login {
		return CKR_USER_NOT_LOGGED_IN
	}
	t.login = false
	return CKR_OK
}
