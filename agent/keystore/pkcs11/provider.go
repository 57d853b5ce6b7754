// Package pkcs11 is the key store over PKCS#11 modules (CryptoPro CSP,
// ViPNet CSP, Rutoken, JaCarta, SoftHSM2, OpenSC, podpis's soft token)
// through github.com/miekg/pkcs11. The C interface stays inside this
// package: callers see keystore types and codes only.
package pkcs11

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"
	"sync"
	"time"
	"unsafe"

	"github.com/miekg/pkcs11"
	"github.com/podpis/podpis/agent/keystore"
	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/crypto/gostx509"
	"github.com/podpis/podpis/crypto/streebog"
)

// TC26 vendor-defined constants (base 0xD4321000), which miekg/pkcs11 does
// not name; checked against OpenSC's pkcs11.h.
const (
	ckkGOSTR3410_512            = 0xD4321003
	ckmGOSTR3410                = pkcs11.CKM_GOSTR3410 // 0x1201
	ckmGOSTR3410_512            = 0xD4321006
	ckmGOSTR3410WithStreebog256 = 0xD4321008
	ckmGOSTR3410WithStreebog512 = 0xD4321009
)

// Options tune a Provider.
type Options struct {
	// Modules are extra module paths (config file, --module).
	Modules []string
	// OnlyModules, when set, disables the search of known paths.
	OnlyModules bool
	// SavedPINLifetime bounds how long «Сохранить пароль» keeps a PIN in
	// memory; zero means 30 minutes.
	SavedPINLifetime time.Duration
	// CallTimeout bounds one call into a module; zero means 20 s. Logging
	// in on a PIN pad gets four times as long.
	CallTimeout time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Provider implements keystore.Provider over every module it could load.
type Provider struct {
	opts    Options
	modules []*Module
	status  []ModuleStatus

	mu   sync.Mutex
	pins map[string]*savedPIN // by module path + token serial + PIN scope
}

type savedPIN struct {
	pin     []byte
	expires time.Time
}

// New loads the known modules present on this system and opts.Modules. A
// module that is missing or fails to load is a diagnosis (Status), not an
// error; New fails only if an explicitly named module cannot be used.
func New(ctx context.Context, opts Options) (*Provider, error) {
	if opts.SavedPINLifetime == 0 {
		opts.SavedPINLifetime = 30 * time.Minute
	}
	if opts.CallTimeout == 0 {
		opts.CallTimeout = 20 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	p := &Provider{opts: opts, pins: map[string]*savedPIN{}}
	candidates := opts.Candidates()
	p.status = Diagnose(ctx, candidates)
	var errs []error
	for _, st := range p.status {
		if st.Loaded {
			m, _ := Open(Candidate{Provider: st.Provider, Path: st.Path})
			p.modules = append(p.modules, m)
		} else if st.Error != "" {
			for _, c := range candidates {
				if c.Path == st.Path && c.Explicit {
					errs = append(errs, errors.New(st.Error))
				}
			}
		}
	}
	if len(errs) > 0 {
		return p, &keystore.Error{Code: keystore.CodeNoProvider, Err: errors.Join(errs...)}
	}
	return p, nil
}

// Name is "pkcs11".
func (p *Provider) Name() string { return "pkcs11" }

// Status returns what New found about every module.
func (p *Provider) Status() []ModuleStatus { return p.status }

// ProviderStatus summarises Status for the agent's info method.
func (p *Provider) ProviderStatus() []keystore.ProviderInfo {
	out := []keystore.ProviderInfo{}
	for _, st := range p.status {
		out = append(out, keystore.ProviderInfo{Name: st.Provider, Library: st.Path, Loaded: st.Loaded, Error: st.Error})
	}
	return out
}

// Close forgets saved PINs. Modules stay loaded for the process: some
// vendors' modules crash when finalised and loaded again.
func (p *Provider) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, s := range p.pins {
		clear(s.pin)
		delete(p.pins, k)
	}
	return nil
}

// location is where a certificate's key lives.
type location struct {
	module *Module
	slot   uint
	serial string
	label  string
	id     []byte // CKA_ID
	cert   *keystore.Certificate
}

var certTemplate = []*pkcs11.Attribute{
	pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_CERTIFICATE),
	pkcs11.NewAttribute(pkcs11.CKA_CERTIFICATE_TYPE, pkcs11.CKC_X_509),
}

// Certificates lists the X.509 certificates on every token, paired with
// their keys; the same certificate seen through two modules is listed once,
// through the preferred one.
func (p *Provider) Certificates(ctx context.Context) ([]*keystore.Certificate, error) {
	locs, err := p.scan(ctx)
	var out []*keystore.Certificate
	for _, l := range locs {
		out = append(out, l.cert)
	}
	return out, err
}

func (p *Provider) scan(ctx context.Context) ([]*location, error) {
	seen := map[string]bool{}
	var out []*location
	var errs []error
	for _, m := range p.modules {
		locs, err := p.scanModule(ctx, m)
		if err != nil {
			errs = append(errs, err)
		}
		for _, l := range locs {
			if seen[l.cert.ID] {
				continue
			}
			seen[l.cert.ID] = true
			out = append(out, l)
		}
	}
	return out, errors.Join(errs...)
}

func (p *Provider) scanModule(ctx context.Context, m *Module) ([]*location, error) {
	var out []*location
	err := m.call(ctx, p.opts.CallTimeout, func(a api) error {
		slots, err := a.GetSlotList(true)
		if err != nil {
			return err
		}
		for _, slot := range slots {
			ti, err := a.GetTokenInfo(slot)
			if err != nil {
				continue // removed between the two calls
			}
			locs, err := scanToken(a, slot, p.opts.Now())
			if err != nil {
				continue
			}
			for _, l := range locs {
				l.module, l.serial, l.label = m, ti.SerialNumber, ti.Label
				l.cert.Provider, l.cert.Token, l.cert.TokenSerial = m.Provider, ti.Label, ti.SerialNumber
			}
			out = append(out, locs...)
		}
		return nil
	})
	return out, classify(m.Path, err)
}

func findAll(a api, sh pkcs11.SessionHandle, tmpl []*pkcs11.Attribute) ([]pkcs11.ObjectHandle, error) {
	if err := a.FindObjectsInit(sh, tmpl); err != nil {
		return nil, err
	}
	defer a.FindObjectsFinal(sh)
	var all []pkcs11.ObjectHandle
	for len(all) < 10000 {
		objs, _, err := a.FindObjects(sh, 64)
		if err != nil {
			return nil, err
		}
		if len(objs) == 0 {
			break
		}
		all = append(all, objs...)
	}
	return all, nil
}

func attr(a api, sh pkcs11.SessionHandle, o pkcs11.ObjectHandle, typ uint) []byte {
	vals, err := a.GetAttributeValue(sh, o, []*pkcs11.Attribute{pkcs11.NewAttribute(typ, nil)})
	if err != nil || len(vals) == 0 {
		return nil
	}
	return vals[0].Value
}

// scanToken reads the certificates of one token without logging in and
// pairs each with a key object by CKA_ID, falling back to the public key.
func scanToken(a api, slot uint, now time.Time) ([]*location, error) {
	sh, err := a.OpenSession(slot, pkcs11.CKF_SERIAL_SESSION)
	if err != nil {
		return nil, err
	}
	defer a.CloseSession(sh)
	certs, err := findAll(a, sh, certTemplate)
	if err != nil {
		return nil, err
	}
	var keyIDs [][]byte
	var pubKeys [][]byte
	for _, class := range []uint{pkcs11.CKO_PRIVATE_KEY, pkcs11.CKO_PUBLIC_KEY} {
		objs, _ := findAll(a, sh, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_CLASS, class)})
		for _, o := range objs {
			keyIDs = append(keyIDs, attr(a, sh, o, pkcs11.CKA_ID))
			if class == pkcs11.CKO_PUBLIC_KEY {
				pubKeys = append(pubKeys, publicKeyValue(a, sh, o))
			}
		}
	}
	dataObjs, _ := findAll(a, sh, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_DATA)})
	var out []*location
	for _, o := range certs {
		der := attr(a, sh, o, pkcs11.CKA_VALUE)
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			continue
		}
		id := attr(a, sh, o, pkcs11.CKA_ID)
		hasKey := false
		for _, k := range keyIDs {
			if len(id) > 0 && bytes.Equal(k, id) {
				hasKey = true
			}
		}
		if !hasKey {
			want := certKeyValue(cert)
			for _, pk := range pubKeys {
				if want != nil && bytes.Equal(pk, want) {
					hasKey = true
				}
			}
		}
		kc := keystore.Examine(cert, hasKey, now)
		kc.Algorithm = algorithmOf(cert)
		if !hasKey && len(keyIDs) == 0 && len(dataObjs) > 0 {
			// Keys as CKO_DATA: a CryptoPro container on this token.
			for i, pr := range kc.Problems {
				if pr == keystore.ProblemNoKey {
					kc.Problems[i] = keystore.ProblemNeedsCSP
				}
			}
		}
		out = append(out, &location{slot: slot, id: id, cert: kc})
	}
	return out, nil
}

// publicKeyValue is the comparable value of a public key object.
func publicKeyValue(a api, sh pkcs11.SessionHandle, o pkcs11.ObjectHandle) []byte {
	for _, t := range []uint{pkcs11.CKA_VALUE, pkcs11.CKA_MODULUS, pkcs11.CKA_EC_POINT} {
		if v := attr(a, sh, o, t); len(v) > 0 {
			return v
		}
	}
	return nil
}

// certKeyValue is the same value computed from a certificate.
func certKeyValue(cert *x509.Certificate) []byte {
	if g, err := gostx509.PublicKey(cert); err == nil {
		return g.Bytes()
	}
	switch k := cert.PublicKey.(type) {
	case *rsa.PublicKey:
		return k.N.Bytes()
	case *ecdsa.PublicKey:
		raw, err := k.Bytes()
		if err != nil {
			return nil
		}
		point, _ := asn1.Marshal(raw)
		return point
	}
	return nil
}

func algorithmOf(cert *x509.Certificate) string {
	if g, err := gostx509.PublicKey(cert); err == nil {
		return fmt.Sprintf("GOST R 34.10-2012 %d (%s)", g.Curve().Bits(), g.Curve().Name())
	}
	return cert.PublicKeyAlgorithm.String()
}

// Signer returns a crypto.Signer (also a crypto.MessageSigner) for the
// certificate with the given thumbprint.
func (p *Provider) Signer(ctx context.Context, id string, pin keystore.PINFunc) (crypto.Signer, error) {
	locs, _ := p.scan(ctx)
	for _, l := range locs {
		if l.cert.ID != id {
			continue
		}
		if !l.cert.HasKey {
			return nil, &keystore.Error{Code: keystore.CodeCertNotFound, Err: fmt.Errorf("no private key for %s", id)}
		}
		pub := l.cert.Cert.PublicKey
		if g, err := gostx509.PublicKey(l.cert.Cert); err == nil {
			pub = g
		}
		return &signer{p: p, loc: l, pub: pub, ctx: ctx, pin: pin}, nil
	}
	return nil, &keystore.Error{Code: keystore.CodeCertNotFound, Err: fmt.Errorf("certificate %s", id)}
}

type signer struct {
	p   *Provider
	loc *location
	pub crypto.PublicKey
	ctx context.Context
	pin keystore.PINFunc
}

func (s *signer) Public() crypto.PublicKey { return s.pub }

// Sign signs a digest: GOST with CKM_GOSTR3410(_512) over the Streebog
// digest as is, RSA with CKM_RSA_PKCS over the DigestInfo, ECDSA with
// CKM_ECDSA (the raw r‖s the token returns is encoded as ASN.1).
func (s *signer) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	switch pub := s.pub.(type) {
	case *gost3410.PublicKey:
		mech := uint(ckmGOSTR3410)
		if pub.Curve().Size() == 64 {
			mech = ckmGOSTR3410_512
		}
		return s.sign(mech, digest)
	case *rsa.PublicKey:
		prefix, ok := digestInfoPrefix[opts.HashFunc()]
		if !ok {
			return nil, fmt.Errorf("pkcs11: RSA with %v is not supported", opts.HashFunc())
		}
		return s.sign(pkcs11.CKM_RSA_PKCS, append(append([]byte{}, prefix...), digest...))
	case *ecdsa.PublicKey:
		raw, err := s.sign(pkcs11.CKM_ECDSA, digest)
		if err != nil {
			return nil, err
		}
		n := len(raw) / 2
		return asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(raw[:n]), new(big.Int).SetBytes(raw[n:])})
	}
	return nil, fmt.Errorf("pkcs11: unsupported key %T", s.pub)
}

// SignMessage lets a GOST token hash the message itself when it offers
// CKM_GOSTR3410_WITH_GOSTR3411_12_256/512; otherwise podpis hashes with
// Streebog and the token signs the digest.
func (s *signer) SignMessage(rand io.Reader, msg []byte, opts crypto.SignerOpts) ([]byte, error) {
	if pub, ok := s.pub.(*gost3410.PublicKey); ok {
		mech := uint(ckmGOSTR3410WithStreebog256)
		if pub.Curve().Size() == 64 {
			mech = ckmGOSTR3410WithStreebog512
		}
		if s.offers(mech) {
			return s.sign(mech, msg)
		}
		if pub.Curve().Size() == 64 {
			d := streebog.Sum512(msg)
			return s.Sign(rand, d[:], opts)
		}
		d := streebog.Sum256(msg)
		return s.Sign(rand, d[:], opts)
	}
	h := opts.HashFunc()
	if h == 0 {
		return nil, errors.New("pkcs11: SignMessage needs a hash")
	}
	if _, ok := s.pub.(*rsa.PublicKey); ok && h == crypto.SHA256 && s.offers(pkcs11.CKM_SHA256_RSA_PKCS) {
		return s.sign(pkcs11.CKM_SHA256_RSA_PKCS, msg)
	}
	hh := h.New()
	hh.Write(msg)
	return s.Sign(rand, hh.Sum(nil), opts)
}

func (s *signer) offers(mech uint) bool {
	found := false
	s.loc.module.call(s.ctx, s.p.opts.CallTimeout, func(a api) error {
		mechs, err := a.GetMechanismList(s.loc.slot)
		for _, m := range mechs {
			if m.Mechanism == mech {
				found = true
			}
		}
		return err
	})
	return found
}

var digestInfoPrefix = map[crypto.Hash][]byte{
	crypto.SHA256: {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20},
	crypto.SHA384: {0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30},
	crypto.SHA512: {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40},
}

// pinKey: a saved PIN belongs to one token and one scope (the site's
// origin, keystore.WithPINScope): saving it for one site is no consent
// for another.
func (p *Provider) pinKey(l *location, scope string) string {
	return l.module.Path + "\x00" + l.serial + "\x00" + scope
}

// savedPIN returns a copy of the PIN saved for the token and scope, for
// the caller to clear: the saved one may be cleared by expiry or
// forgetPIN meanwhile.
func (p *Provider) savedPIN(l *location, scope string) []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := p.pinKey(l, scope)
	s, ok := p.pins[k]
	if !ok {
		return nil
	}
	if p.opts.Now().After(s.expires) {
		clear(s.pin)
		delete(p.pins, k)
		return nil
	}
	return append([]byte{}, s.pin...)
}

func (p *Provider) savePIN(l *location, scope string, pin []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := p.pinKey(l, scope)
	if old, ok := p.pins[k]; ok {
		clear(old.pin)
	}
	p.pins[k] = &savedPIN{pin: append([]byte{}, pin...), expires: p.opts.Now().Add(p.opts.SavedPINLifetime)}
}

func (p *Provider) forgetPIN(l *location, scope string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s, ok := p.pins[p.pinKey(l, scope)]; ok {
		clear(s.pin)
		delete(p.pins, p.pinKey(l, scope))
	}
}

// sign logs in for this one operation (with a saved PIN, the PIN pad, or
// the PIN the prompter returns: asked once, never retried), signs with the
// key whose CKA_ID matches the certificate's, and logs out again unless the
// user chose to save the PIN.
func (s *signer) sign(mech uint, data []byte) ([]byte, error) {
	l := s.loc
	var ti pkcs11.TokenInfo
	err := l.module.call(s.ctx, s.p.opts.CallTimeout, func(a api) (err error) {
		ti, err = a.GetTokenInfo(l.slot)
		return err
	})
	if err != nil {
		return nil, classify("C_GetTokenInfo", err)
	}
	if ti.SerialNumber != l.serial {
		return nil, &keystore.Error{Code: keystore.CodeTokenRemoved, Err: errors.New("another token is in the slot")}
	}
	if ti.Flags&pkcs11.CKF_USER_PIN_LOCKED != 0 {
		return nil, &keystore.Error{Code: keystore.CodePINLocked, Err: errors.New("token reports the user PIN locked")}
	}
	scope := keystore.PINScope(s.ctx)
	pin := s.p.savedPIN(l, scope)
	fromSaved := pin != nil
	pad := ti.Flags&pkcs11.CKF_PROTECTED_AUTHENTICATION_PATH != 0
	save := false
	if ti.Flags&pkcs11.CKF_LOGIN_REQUIRED != 0 && pin == nil && !pad {
		if s.pin == nil {
			return nil, &keystore.Error{Code: keystore.CodePINRequired}
		}
		pin, save, err = s.pin(s.ctx, keystore.PINRequest{
			Token: ti.Label, Certificate: l.cert,
			TriesLow: ti.Flags&pkcs11.CKF_USER_PIN_COUNT_LOW != 0, FinalTry: ti.Flags&pkcs11.CKF_USER_PIN_FINAL_TRY != 0,
		})
		if err != nil {
			var ke *keystore.Error
			if errors.As(err, &ke) {
				return nil, err
			}
			return nil, &keystore.Error{Code: keystore.CodeCancelled, Err: err}
		}
	}
	defer clear(pin) // savePIN keeps its own copy
	timeout := s.p.opts.CallTimeout
	if pad {
		timeout *= 4 // the person types on the reader
	}
	var sig []byte
	err = l.module.call(s.ctx, timeout, func(a api) error {
		sh, err := a.OpenSession(l.slot, pkcs11.CKF_SERIAL_SESSION)
		if err != nil {
			return fmt.Errorf("C_OpenSession: %w", err)
		}
		defer a.CloseSession(sh)
		loggedIn := false
		if ti.Flags&pkcs11.CKF_LOGIN_REQUIRED != 0 || pad {
			err := a.Login(sh, pkcs11.CKU_USER, pinString(pin))
			if isRV(err, pkcs11.CKR_USER_ALREADY_LOGGED_IN) && !fromSaved && !pad {
				// Logged in since a PIN was saved for another site: the
				// PIN just typed is checked all the same, or a wrong one
				// would be "saved" for this site.
				a.Logout(sh)
				err = a.Login(sh, pkcs11.CKU_USER, pinString(pin))
			}
			if err != nil && !isRV(err, pkcs11.CKR_USER_ALREADY_LOGGED_IN) {
				return fmt.Errorf("C_Login: %w", err)
			}
			loggedIn = true
		}
		if loggedIn && !save && !fromSaved {
			defer a.Logout(sh)
		}
		keys, err := findAll(a, sh, []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PRIVATE_KEY),
			pkcs11.NewAttribute(pkcs11.CKA_ID, l.id),
		})
		if err != nil {
			return fmt.Errorf("C_FindObjects: %w", err)
		}
		if len(keys) == 0 {
			return errNoKey
		}
		if err := a.SignInit(sh, []*pkcs11.Mechanism{pkcs11.NewMechanism(mech, nil)}, keys[0]); err != nil {
			return fmt.Errorf("C_SignInit: %w", err)
		}
		sig, err = a.Sign(sh, data)
		if err != nil {
			return fmt.Errorf("C_Sign: %w", err)
		}
		return nil
	})
	if errors.Is(err, errNoKey) {
		return nil, &keystore.Error{Code: keystore.CodeCertNotFound, Err: err}
	}
	if err != nil {
		err = classify(l.module.Path, err)
		if fromSaved && errors.Is(err, keystore.ErrPINIncorrect) {
			s.p.forgetPIN(l, scope) // changed on the token since it was saved
		}
		return nil, err
	}
	if save {
		s.p.savePIN(l, scope, pin)
	}
	return sig, nil
}

var errNoKey = errors.New("pkcs11: private key not found on the token")

// pinString gives miekg/pkcs11's Login(string) the PIN's own bytes, not a
// Go copy that nobody could clear: the string lives only for the call,
// and the caller clears pin afterwards. (Login copies it once more into C
// memory, which it frees without clearing: beyond our reach.)
func pinString(pin []byte) string {
	return unsafe.String(unsafe.SliceData(pin), len(pin))
}
