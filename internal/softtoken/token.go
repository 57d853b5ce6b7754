// Package softtoken is the model behind podpis's GOST PKCS#11 soft token
// (cmd/podpis-softtoken): one slot whose token holds the key pairs and
// certificates of a folder, and behaves like a vendor's GOST token (Rutoken,
// CryptoPro's PKCS#11): TC26 key types and mechanisms, CKA_GOSTR3410_PARAMS,
// private objects only after login, a wrong-PIN counter that locks the
// token, CKM_GOSTR3410 over a digest the caller computed, key pairs
// generated on the token (CKM_GOSTR3410_KEY_PAIR_GEN and TC26's
// CKM_GOSTR3410_512_KEY_PAIR_GEN on every parameter set, RSA and EC too),
// certificates stored beside their keys, and a security officer whose one
// power is C_InitPIN: the PUK that unlocks a locked user PIN.
//
// The folder holds NAME.key (PEM PKCS#8: GOST as OpenSSL's GOST engine
// writes it, RSA or EC) with NAME.pem (its certificate); each pair is one
// key and certificate labelled NAME. Keys the token generates and
// certificates it is given (C_GenerateKeyPair, C_CreateObject) are written
// the same way, mode 0600, each file atomically, with NAME.attrs keeping
// what the files cannot say (CKA_ID, CKA_LABEL, sensitivity and its
// history). Session objects (CKA_TOKEN false) are never written. The
// PIN state (.pin-state) keeps the wrong-PIN counters and a PIN the SO or
// the user set, salted and hashed.
//
// Marker files simulate hardware events for tests: ".removed" takes the
// token out of the slot, ".hang" makes signing block, ".fail-init" makes
// initialisation fail, ".pinpad" makes it a token with a PIN pad
// (protected authentication path: C_Login without a PIN succeeds, as if
// the person typed it on the reader).
//
// Every method returns a PKCS#11 return value; the exports only convert C
// arguments.
package softtoken

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// RV is a PKCS#11 return value.
type RV uint64

// SlotID is the token's only slot.
const SlotID = 0

// MaxPINTries is how many wrong PINs lock the token.
const MaxPINTries = 3

// Token is the soft token. Its methods are safe for concurrent use.
type Token struct {
	mu          sync.Mutex
	dir, pin    string
	soPIN       string
	initialized bool
	objects     map[uint64]*object
	nextHandle  uint64
	sessions    map[uint64]*session
	nextSession uint64
	login       bool   // someone is logged in:
	who         uint64 // CKU_USER or CKU_SO
	loadErr     error
}

// DefaultSOPIN is the security officer's PIN unless PODPIS_SOFTTOKEN_SO_PIN
// says otherwise (SoftHSM2's test tokens use the same).
const DefaultSOPIN = "87654321"

// New returns the token over dir with user PIN pin and the default SO PIN.
func New(dir, pin string) *Token { return &Token{dir: dir, pin: pin, soPIN: DefaultSOPIN} }

// userIn reports whether the user (not the SO) is logged in.
func (t *Token) userIn() bool { return t.login && t.who == CKU_USER }

// FromEnv configures the token from PODPIS_SOFTTOKEN_DIR (default
// ~/.podpis/softtoken) and PODPIS_SOFTTOKEN_PIN (default 1234), read with
// getenv: a module loaded into a running process must read the C library's
// current environment, not the snapshot a Go runtime takes at start-up.
func FromEnv(getenv func(string) string) *Token {
	dir := getenv("PODPIS_SOFTTOKEN_DIR")
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".podpis", "softtoken")
	}
	pin := getenv("PODPIS_SOFTTOKEN_PIN")
	if pin == "" {
		pin = "1234"
	}
	t := New(dir, pin)
	if so := getenv("PODPIS_SOFTTOKEN_SO_PIN"); so != "" {
		t.soPIN = so
	}
	return t
}

func (t *Token) marker(name string) bool {
	_, err := os.Stat(filepath.Join(t.dir, name))
	return err == nil
}

// Initialize loads the folder.
func (t *Token) Initialize() RV {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.initialized {
		return CKR_CRYPTOKI_ALREADY_INITIALIZED
	}
	if t.marker(".fail-init") {
		return CKR_DEVICE_ERROR
	}
	objs, err := load(t.dir)
	t.objects, t.nextHandle, t.loadErr = map[uint64]*object{}, 0, err
	for _, o := range objs {
		t.add(o)
	}
	t.sessions = map[uint64]*session{}
	t.login = false
	t.initialized = true
	return CKR_OK
}

// Finalize closes everything.
func (t *Token) Finalize() RV {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.initialized {
		return CKR_CRYPTOKI_NOT_INITIALIZED
	}
	t.initialized = false
	t.sessions = nil
	t.objects = nil
	return CKR_OK
}

// SlotInfo describes the slot.
type SlotInfo struct {
	Description, Manufacturer string
	Flags                     uint64
}

// TokenInfo describes the token.
type TokenInfo struct {
	Label, Manufacturer, Model, Serial string
	Flags                              uint64
	Sessions                           uint64
	MinPIN, MaxPIN                     uint64
	UTCTime                            string
}

func (t *Token) check(slot uint64) RV {
	if !t.initialized {
		return CKR_CRYPTOKI_NOT_INITIALIZED
	}
	if slot != SlotID {
		return CKR_SLOT_ID_INVALID
	}
	return CKR_OK
}

// Initialized reports whether C_Initialize has run (and C_Finalize not).
func (t *Token) Initialized() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.initialized
}

// CheckSession is what a call that needs only a live session checks:
// C_GenerateRandom, C_SeedRandom, C_GetFunctionStatus, C_CancelFunction.
func (t *Token) CheckSession(h uint64) RV {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, rv := t.sessionFor(h)
	return rv
}

// Present reports whether the token is in the slot.
func (t *Token) Present() bool { return !t.marker(".removed") }

func (t *Token) SlotInfo(slot uint64) (SlotInfo, RV) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if rv := t.check(slot); rv != CKR_OK {
		return SlotInfo{}, rv
	}
	flags := uint64(CKF_REMOVABLE_DEVICE)
	if t.Present() {
		flags |= CKF_TOKEN_PRESENT
	}
	return SlotInfo{Description: "podpis soft token slot", Manufacturer: "podpis", Flags: flags}, CKR_OK
}

func (t *Token) TokenInfo(slot uint64) (TokenInfo, RV) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if rv := t.check(slot); rv != CKR_OK {
		return TokenInfo{}, rv
	}
	if !t.Present() {
		return TokenInfo{}, CKR_TOKEN_NOT_PRESENT
	}
	flags := uint64(CKF_RNG | CKF_LOGIN_REQUIRED | CKF_USER_PIN_INITIALIZED | CKF_TOKEN_INITIALIZED)
	st := t.readState()
	switch f := st.SOFailures; {
	case f >= MaxPINTries:
		flags |= CKF_SO_PIN_LOCKED
	case f == MaxPINTries-1:
		flags |= CKF_SO_PIN_FINAL_TRY | CKF_SO_PIN_COUNT_LOW
	case f > 0:
		flags |= CKF_SO_PIN_COUNT_LOW
	}
	if t.marker(".pinpad") {
		flags |= CKF_PROTECTED_AUTHENTICATION_PATH
	}
	switch f := st.Failures; {
	case f >= MaxPINTries:
		flags |= CKF_USER_PIN_LOCKED
	case f == MaxPINTries-1:
		flags |= CKF_USER_PIN_FINAL_TRY | CKF_USER_PIN_COUNT_LOW
	case f > 0:
		flags |= CKF_USER_PIN_COUNT_LOW
	}
	sum := sha256.Sum256([]byte(t.dir))
	return TokenInfo{
		Label: "podpis soft token", Manufacturer: "podpis", Model: "GOST soft token",
		Serial: fmt.Sprintf("%X", sum[:8]), Flags: flags, Sessions: uint64(len(t.sessions)),
		MinPIN: 4, MaxPIN: 64, UTCTime: time.Now().UTC().Format("20060102150405") + "00",
	}, CKR_OK
}

// Mechanisms lists the supported mechanisms with their key size range in
// bits and flags.
func (t *Token) Mechanisms() map[uint64][3]uint64 {
	return map[uint64][3]uint64{
		CKM_SHA256:                          {0, 0, CKF_DIGEST},
		CKM_GOSTR3411_12_256:                {0, 0, CKF_DIGEST},
		CKM_GOSTR3411_12_512:                {0, 0, CKF_DIGEST},
		CKM_GOSTR3410_KEY_PAIR_GEN:          {256, 256, CKF_GENERATE_KEY_PAIR},
		CKM_GOSTR3410_512_KEY_PAIR_GEN:      {512, 512, CKF_GENERATE_KEY_PAIR},
		CKM_RSA_PKCS_KEY_PAIR_GEN:           {1024, 4096, CKF_GENERATE_KEY_PAIR},
		CKM_EC_KEY_PAIR_GEN:                 {256, 521, CKF_GENERATE_KEY_PAIR},
		CKM_GOSTR3410:                       {256, 256, CKF_SIGN | CKF_VERIFY},
		CKM_GOSTR3410_512:                   {512, 512, CKF_SIGN | CKF_VERIFY},
		CKM_GOSTR3410_WITH_GOSTR3411_12_256: {256, 256, CKF_SIGN | CKF_VERIFY},
		CKM_GOSTR3410_WITH_GOSTR3411_12_512: {512, 512, CKF_SIGN | CKF_VERIFY},
		CKM_RSA_PKCS:                        {1024, 4096, CKF_SIGN | CKF_VERIFY},
		CKM_SHA256_RSA_PKCS:                 {1024, 4096, CKF_SIGN | CKF_VERIFY},
		CKM_ECDSA:                           {256, 521, CKF_SIGN | CKF_VERIFY},
		CKM_ECDSA_SHA256:                    {256, 521, CKF_SIGN | CKF_VERIFY},
	}
}

// LoadError reports keys of the folder that could not be read.
func (t *Token) LoadError() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.loadErr
}
