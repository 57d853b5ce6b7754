// Package softtoken is the model behind podpis's GOST PKCS#11 soft token
// (cmd/podpis-softtoken): one slot whose token holds the key pairs and
// certificates of a folder, and behaves like a vendor's GOST token (Rutoken,
// CryptoPro's PKCS#11): TC26 key types and mechanisms, CKA_GOSTR3410_PARAMS,
// private objects only after login, a wrong-PIN counter that locks the
// token, CKM_GOSTR3410 over a digest the caller computed.
//
// The folder holds NAME.key (PEM PKCS#8: GOST as OpenSSL's GOST engine
// writes it, RSA or EC) with NAME.pem (its certificate); each pair is one
// key and certificate labelled NAME. Marker files simulate hardware
// events for tests: ".removed" takes the token out of the slot, ".hang"
// makes signing block, ".fail-init" makes initialisation fail, ".pinpad"
// makes it a token with a PIN pad (protected authentication path: C_Login
// without a PIN succeeds, as if the person typed it on the reader).
//
// Every method returns a PKCS#11 return value; the exports only convert C
// arguments.
package softtoken

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/crypto/gostx509"
	"github.com/podpis/podpis/crypto/streebog"
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
	initialized bool
	objects     []*object // handle = index + 1
	sessions    map[uint64]*session
	nextSession uint64
	loggedIn    bool
	loadErr     error
}

type object struct {
	class   uint64
	private bool
	attrs   map[uint64][]byte
	key     crypto.Signer // private keys only
	keyType uint64
}

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

// New returns the token over dir with user PIN pin.
func New(dir, pin string) *Token { return &Token{dir: dir, pin: pin} }

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
	return New(dir, pin)
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
	t.objects, t.loadErr = load(t.dir)
	t.sessions = map[uint64]*session{}
	t.loggedIn = false
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

// load reads every NAME.key with its NAME.pem.
func load(dir string) ([]*object, error) {
	keys, _ := filepath.Glob(filepath.Join(dir, "*.key"))
	sort.Strings(keys)
	var objs []*object
	var errs []error
	for _, kp := range keys {
		name := strings.TrimSuffix(filepath.Base(kp), ".key")
		o, err := loadPair(kp, filepath.Join(dir, name+".pem"), name)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
			continue
		}
		objs = append(objs, o...)
	}
	return objs, errors.Join(errs...)
}

func pemBytes(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, errors.New("no PEM block")
	}
	return blk.Bytes, nil
}

func bval(b bool) []byte {
	if b {
		return []byte{1}
	}
	return []byte{0}
}

func ulong(v uint64) []byte {
	b := make([]byte, 8)
	for i := range b {
		b[i] = byte(v >> (8 * i)) // host order: little-endian on every supported platform
	}
	return b
}

func loadPair(keyPath, certPath, label string) ([]*object, error) {
	keyDER, err := pemBytes(keyPath)
	if err != nil {
		return nil, err
	}
	certDER, err := pemBytes(certPath)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(certDER)
	if err != nil {
		return nil, err
	}
	var signer crypto.Signer
	if k, err := gostx509.ParsePKCS8PrivateKey(keyDER); err == nil {
		signer = k
	} else if !errors.Is(err, gostx509.ErrNotGOST) {
		return nil, err
	} else {
		k, err := x509.ParsePKCS8PrivateKey(keyDER)
		if err != nil {
			return nil, err
		}
		var ok bool
		if signer, ok = k.(crypto.Signer); !ok {
			return nil, fmt.Errorf("unsupported key %T", k)
		}
	}
	if !publicMatches(signer.Public(), cert) {
		return nil, errors.New("the key does not belong to the certificate")
	}
	idSum := sha1.Sum(cert.RawSubjectPublicKeyInfo)
	id := idSum[:]
	common := func(class uint64, private bool) map[uint64][]byte {
		return map[uint64][]byte{
			CKA_CLASS: ulong(class), CKA_TOKEN: bval(true), CKA_PRIVATE: bval(private),
			CKA_LABEL: []byte(label), CKA_ID: id,
		}
	}
	certObj := &object{class: CKO_CERTIFICATE, attrs: common(CKO_CERTIFICATE, false)}
	certObj.attrs[CKA_CERTIFICATE_TYPE] = ulong(CKC_X_509)
	certObj.attrs[CKA_VALUE] = cert.Raw
	certObj.attrs[CKA_SUBJECT] = cert.RawSubject
	certObj.attrs[CKA_ISSUER] = cert.RawIssuer
	serial, _ := asn1.Marshal(cert.SerialNumber)
	certObj.attrs[CKA_SERIAL_NUMBER] = serial

	priv := &object{class: CKO_PRIVATE_KEY, private: true, attrs: common(CKO_PRIVATE_KEY, true), key: signer}
	pub := &object{class: CKO_PUBLIC_KEY, attrs: common(CKO_PUBLIC_KEY, false)}
	for _, o := range []*object{priv, pub} {
		for _, a := range []uint64{CKA_ENCRYPT, CKA_DECRYPT, CKA_WRAP, CKA_UNWRAP, CKA_DERIVE, CKA_LOCAL,
			CKA_MODIFIABLE, CKA_SIGN_RECOVER, CKA_VERIFY_RECOVER, CKA_SIGN, CKA_VERIFY} {
			o.attrs[a] = bval(false)
		}
	}
	priv.attrs[CKA_SIGN] = bval(true)
	priv.attrs[CKA_SENSITIVE] = bval(true)
	priv.attrs[CKA_ALWAYS_SENSITIVE] = bval(true)
	priv.attrs[CKA_EXTRACTABLE] = bval(false)
	priv.attrs[CKA_NEVER_EXTRACTABLE] = bval(true)
	priv.attrs[CKA_ALWAYS_AUTHENTICATE] = bval(false)
	priv.attrs[CKA_SUBJECT] = cert.RawSubject
	pub.attrs[CKA_VERIFY] = bval(true)
	switch k := signer.Public().(type) {
	case *gost3410.PublicKey:
		c := k.Curve()
		priv.keyType = CKK_GOSTR3410
		if c.Size() == 64 {
			priv.keyType = CKK_GOSTR3410_512
		}
		curveOID, _ := asn1.Marshal(c.OID())
		hashOID, _ := asn1.Marshal(gostx509.DigestOID(c))
		for _, o := range []*object{priv, pub} {
			o.attrs[CKA_GOSTR3410_PARAMS] = curveOID
			o.attrs[CKA_GOSTR3411_PARAMS] = hashOID
		}
		pub.attrs[CKA_VALUE] = k.Bytes()
	case *rsa.PublicKey:
		priv.keyType = CKK_RSA
		for _, o := range []*object{priv, pub} {
			o.attrs[CKA_MODULUS] = k.N.Bytes()
			o.attrs[CKA_PUBLIC_EXPONENT] = big.NewInt(int64(k.E)).Bytes()
		}
	case *ecdsa.PublicKey:
		priv.keyType = CKK_EC
		spki, _ := x509.MarshalPKIXPublicKey(k)
		var info struct {
			Alg struct {
				Algorithm  asn1.ObjectIdentifier
				Parameters asn1.RawValue
			}
			Key asn1.BitString
		}
		if _, err := asn1.Unmarshal(spki, &info); err != nil {
			return nil, err
		}
		point, _ := asn1.Marshal(info.Key.Bytes)
		for _, o := range []*object{priv, pub} {
			o.attrs[CKA_EC_PARAMS] = info.Alg.Parameters.FullBytes
		}
		pub.attrs[CKA_EC_POINT] = point
	default:
		return nil, fmt.Errorf("unsupported key %T", k)
	}
	pub.keyType = priv.keyType
	priv.attrs[CKA_KEY_TYPE] = ulong(priv.keyType)
	pub.attrs[CKA_KEY_TYPE] = ulong(priv.keyType)
	return []*object{certObj, pub, priv}, nil
}

func publicMatches(pub crypto.PublicKey, cert *x509.Certificate) bool {
	if g, ok := pub.(*gost3410.PublicKey); ok {
		cp, err := gostx509.PublicKey(cert)
		return err == nil && cp.Equal(g)
	}
	eq, ok := pub.(interface{ Equal(crypto.PublicKey) bool })
	return ok && eq.Equal(cert.PublicKey)
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
	if t.marker(".pinpad") {
		flags |= CKF_PROTECTED_AUTHENTICATION_PATH
	}
	switch f := t.readState().Failures; {
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
		CKM_GOSTR3410:                       {256, 256, CKF_SIGN},
		CKM_GOSTR3410_512:                   {512, 512, CKF_SIGN},
		CKM_GOSTR3410_WITH_GOSTR3411_12_256: {256, 256, CKF_SIGN},
		CKM_GOSTR3410_WITH_GOSTR3411_12_512: {512, 512, CKF_SIGN},
		CKM_RSA_PKCS:                        {1024, 4096, CKF_SIGN},
		CKM_SHA256_RSA_PKCS:                 {1024, 4096, CKF_SIGN},
		CKM_ECDSA:                           {256, 521, CKF_SIGN},
		CKM_ECDSA_SHA256:                    {256, 521, CKF_SIGN},
	}
}

// LoadError reports keys of the folder that could not be read.
func (t *Token) LoadError() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.loadErr
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

// Attribute is one entry of a search template.
type Attribute struct {
	Type  uint64
	Value []byte
}

func (t *Token) visible(o *object) bool { return !o.private || t.loggedIn }

func (t *Token) FindObjectsInit(h uint64, template []Attribute) RV {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, rv := t.sessionFor(h)
	if rv != CKR_OK {
		return rv
	}
	if s.finding {
		return CKR_OPERATION_ACTIVE
	}
	s.finding, s.found = true, nil
	for i, o := range t.objects {
		if !t.visible(o) {
			continue
		}
		match := true
		for _, a := range template {
			if v, ok := o.attrs[a.Type]; !ok || string(v) != string(a.Value) {
				match = false
				break
			}
		}
		if match {
			s.found = append(s.found, uint64(i+1))
		}
	}
	return CKR_OK
}

func (t *Token) FindObjects(h uint64, max int) ([]uint64, RV) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, rv := t.sessionFor(h)
	if rv != CKR_OK {
		return nil, rv
	}
	if !s.finding {
		return nil, CKR_OPERATION_NOT_INITIALIZED
	}
	n := min(max, len(s.found))
	out := s.found[:n]
	s.found = s.found[n:]
	return out, CKR_OK
}

func (t *Token) FindObjectsFinal(h uint64) RV {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, rv := t.sessionFor(h)
	if rv != CKR_OK {
		return rv
	}
	if !s.finding {
		return CKR_OPERATION_NOT_INITIALIZED
	}
	s.finding, s.found = false, nil
	return CKR_OK
}

func (t *Token) object(handle uint64) (*object, RV) {
	if handle == 0 || handle > uint64(len(t.objects)) {
		return nil, CKR_OBJECT_HANDLE_INVALID
	}
	o := t.objects[handle-1]
	if !t.visible(o) {
		return nil, CKR_OBJECT_HANDLE_INVALID
	}
	return o, CKR_OK
}

// AttributeValue returns one attribute of an object: nil with
// CKR_ATTRIBUTE_TYPE_INVALID when the object has none, and
// CKR_ATTRIBUTE_SENSITIVE for a private key's value.
func (t *Token) AttributeValue(h, handle, typ uint64) ([]byte, RV) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, rv := t.sessionFor(h); rv != CKR_OK {
		return nil, rv
	}
	o, rv := t.object(handle)
	if rv != CKR_OK {
		return nil, rv
	}
	if o.class == CKO_PRIVATE_KEY && typ == CKA_VALUE {
		return nil, CKR_ATTRIBUTE_SENSITIVE
	}
	v, ok := o.attrs[typ]
	if !ok {
		return nil, CKR_ATTRIBUTE_TYPE_INVALID
	}
	return v, CKR_OK
}

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
	if !t.loggedIn {
		return CKR_USER_NOT_LOGGED_IN
	}
	o, rv := t.object(key)
	if rv != CKR_OK || o.class != CKO_PRIVATE_KEY {
		return CKR_KEY_HANDLE_INVALID
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
