package softtoken

import (
	"encoding/json"
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
}

// pinState persists the wrong-PIN counter in the folder, as a real token
// keeps it across sessions and processes.
type pinState struct {
	Failures int `json:"failures"`
}

func (t *Token) statePath() string { return filepath.Join(t.dir, ".pin-state") }

func (t *Token) readState() pinState {
	var s pinState
	if b, err := os.ReadFile(t.statePath()); err == nil {
		json.Unmarshal(b, &s)
	}
	return s
}

func (t *Token) writeState(s pinState) {
	b, _ := json.Marshal(s)
	os.WriteFile(t.statePath(), b, 0o600)
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
	if len(t.sessions) == 0 {
		t.loggedIn = false // logout when the last session closes
	}
	return CKR_OK
}

func (t *Token) CloseAllSessions(slot uint64) RV {
	t.mu.Lock()
	defer t.mu.Unlock()
	if rv := t.check(slot); rv != CKR_OK {
		return rv
	}
	t.sessions = map[uint64]*session{}
	t.loggedIn = false
	return CKR_OK
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
	switch {
	case s.rw && t.loggedIn:
		state, flags = CKS_RW_USER_FUNCTIONS, flags|CKF_RW_SESSION
	case s.rw:
		state, flags = CKS_RW_PUBLIC_SESSION, flags|CKF_RW_SESSION
	case t.loggedIn:
		state = CKS_RO_USER_FUNCTIONS
	default:
		state = CKS_RO_PUBLIC_SESSION
	}
	return state, flags, CKR_OK
}

// Login checks the user PIN. A wrong PIN counts against MaxPINTries,
// persisted in the folder; a locked token refuses even the right PIN.
func (t *Token) Login(h, userType uint64, pin []byte) RV {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, rv := t.sessionFor(h); rv != CKR_OK {
		return rv
	}
	if userType != CKU_USER {
		return CKR_USER_TYPE_INVALID
	}
	if t.loggedIn {
		return CKR_USER_ALREADY_LOGGED_IN
	}
	st := t.readState()
	if st.Failures >= MaxPINTries {
		return CKR_PIN_LOCKED
	}
	if len(pin) == 0 && t.marker(".pinpad") {
		t.loggedIn = true // entered on the simulated PIN pad
		return CKR_OK
	}
	if len(pin) < 4 || len(pin) > 64 {
		return CKR_PIN_LEN_RANGE
	}
	if string(pin) != t.pin {
		st.Failures++
		t.writeState(st)
		if st.Failures >= MaxPINTries {
			return CKR_PIN_LOCKED
		}
		return CKR_PIN_INCORRECT
	}
	if st.Failures != 0 {
		t.writeState(pinState{})
	}
	t.loggedIn = true
	return CKR_OK
}

func (t *Token) Logout(h uint64) RV {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, rv := t.sessionFor(h); rv != CKR_OK {
		return rv
	}
	if !t.loggedIn {
		return CKR_USER_NOT_LOGGED_IN
	}
	t.loggedIn = false
	return CKR_OK
}
