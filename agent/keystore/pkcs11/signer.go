package pkcs11

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"
	"slices"
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

// Signer returns a crypto.Signer (also a crypto.MessageSigner) for the
// certificate with the given thumbprint.
func (p *Store) Signer(ctx context.Context, id string, pin keystore.PINFunc) (crypto.Signer, error) {
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
	p   *Store
	loc *location
	pub crypto.PublicKey
	ctx context.Context
	pin keystore.PINFunc
}

func (s *signer) Public() crypto.PublicKey { return s.pub }

// Sign signs a digest with the certificate's key (signDigest says how).
func (s *signer) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	return signDigest(s.pub, digest, opts, s.sign)
}

// signDigest signs a digest for pub through raw, which runs one
// mechanism on the token: GOST with CKM_GOSTR3410(_512) over the Streebog
// digest as is, RSA with CKM_RSA_PKCS over the DigestInfo, ECDSA with
// CKM_ECDSA (the raw r‖s the token returns is encoded as ASN.1).
func signDigest(pub crypto.PublicKey, digest []byte, opts crypto.SignerOpts, raw func(mech uint, data []byte) ([]byte, error)) ([]byte, error) {
	switch pub := pub.(type) {
	case *gost3410.PublicKey:
		mech := uint(ckmGOSTR3410)
		if pub.Curve().Size() == 64 {
			mech = ckmGOSTR3410_512
		}
		return raw(mech, digest)
	case *rsa.PublicKey:
		if opts == nil {
			return nil, errors.New("pkcs11: RSA needs a hash")
		}
		prefix, ok := digestInfoPrefix[opts.HashFunc()]
		if !ok {
			return nil, fmt.Errorf("pkcs11: RSA with %v is not supported", opts.HashFunc())
		}
		return raw(pkcs11.CKM_RSA_PKCS, append(append([]byte{}, prefix...), digest...))
	case *ecdsa.PublicKey:
		sig, err := raw(pkcs11.CKM_ECDSA, digest)
		if err != nil {
			return nil, err
		}
		n := len(sig) / 2
		return asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(sig[:n]), new(big.Int).SetBytes(sig[n:])})
	}
	return nil, fmt.Errorf("pkcs11: unsupported key %T", pub)
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

// sign logs in for this one operation (with a saved PIN, the PIN pad, or
// each PIN the person enters in the prompter — tried as entered, never
// retried by code), signs with the key whose CKA_ID matches the
// certificate's, and logs out again unless the person chose to save the
// PIN.
func (s *signer) sign(mech uint, data []byte) ([]byte, error) {
	sigs, err := s.signAll(mech, [][]byte{data})
	if err != nil {
		return nil, err
	}
	return sigs[0], nil
}

// signAll is sign for several data in one session after one login: a
// batch of documents asks the PIN once. On an error at the k-th data it
// returns the k signatures made before it with the error.
func (s *signer) signAll(mech uint, data [][]byte) ([][]byte, error) {
	l := s.loc
	ti, err := s.tokenInfo()
	if err != nil {
		return nil, err
	}
	scope := keystore.PINScope(s.ctx)
	pin := s.p.savedPIN(l, scope)
	pad := ti.Flags&pkcs11.CKF_PROTECTED_AUTHENTICATION_PATH != 0
	if ti.Flags&pkcs11.CKF_LOGIN_REQUIRED == 0 || pin != nil || pad {
		defer clear(pin)
		sig, err := s.attempt(mech, data, ti, pin, pin != nil, false)
		if pin != nil && errors.Is(err, keystore.ErrPINIncorrect) {
			s.p.forgetPIN(l, scope) // changed on the token since it was saved
		}
		return sig, err
	}
	if s.pin == nil {
		return nil, &keystore.Error{Code: keystore.CodePINRequired}
	}
	var (
		sig     [][]byte
		done    bool
		final   error      // an error that ended the operation
		refused [][32]byte // SHA-256 of the PINs refused in this operation
	)
	req := pinRequest(ti, l)
	var partial [][]byte // signatures made before a failure
	try := func(pin []byte, save bool) (keystore.PINRequest, error) {
		switch {
		case done:
			return req, errors.New("pkcs11: the operation is already done")
		case final != nil:
			return req, final
		}
		h := sha256.Sum256(pin)
		if slices.Contains(refused, h) {
			return req, &keystore.Error{Code: keystore.CodePINIncorrect, Err: errors.New("the same PIN was refused before")}
		}
		var err error
		sig, err = s.attempt(mech, data, ti, pin, false, save)
		switch {
		case err == nil:
			done = true
			return req, nil
		case errors.Is(err, keystore.ErrPINIncorrect):
			refused = append(refused, h)
			// The token's counters after the refusal: the prompt shows
			// them, and a token that has just locked ends it.
			if now, ierr := s.tokenInfo(); ierr == nil {
				ti, req = now, pinRequest(now, l)
				if now.Flags&pkcs11.CKF_USER_PIN_LOCKED != 0 {
					final = &keystore.Error{Code: keystore.CodePINLocked, Err: err}
					return req, final
				}
			}
			return req, err
		default:
			final, partial = err, sig
			return req, err
		}
	}
	err = s.pin(s.ctx, req, try)
	if done {
		return sig, nil
	}
	sig = partial
	if err == nil {
		err = keystore.ErrCancelled // the prompter gave up without a PIN
	}
	var ke *keystore.Error
	if !errors.As(err, &ke) {
		err = &keystore.Error{Code: keystore.CodeCancelled, Err: err}
	}
	return sig, err
}

// tokenInfo reads the token's state and checks that it is the token the
// certificate was found on and that its PIN is not locked.
func (s *signer) tokenInfo() (pkcs11.TokenInfo, error) {
	l := s.loc
	var ti pkcs11.TokenInfo
	err := l.module.call(s.ctx, s.p.opts.CallTimeout, func(a api) (err error) {
		ti, err = a.GetTokenInfo(l.slot)
		return err
	})
	if err != nil {
		return ti, classify("C_GetTokenInfo", err)
	}
	if ti.SerialNumber != l.serial {
		return ti, &keystore.Error{Code: keystore.CodeTokenRemoved, Err: errors.New("another token is in the slot")}
	}
	if ti.Flags&pkcs11.CKF_USER_PIN_LOCKED != 0 {
		return ti, &keystore.Error{Code: keystore.CodePINLocked, Err: errors.New("token reports the user PIN locked")}
	}
	return ti, nil
}

// cspModules are the vendors (known.Modules) whose PKCS#11 modules show
// each key container as a token labelled with the container's name: their
// prompt asks «пароль контейнера ключей», as the CSPs' own dialogs do.
var cspModules = map[string]bool{"CryptoPro CSP": true, "ViPNet CSP": true}

// pinRequest is what the prompt is told of the token: its label (a CSP's
// container name) and the PKCS#11 warnings about tries left.
func pinRequest(ti pkcs11.TokenInfo, l *location) keystore.PINRequest {
	req := keystore.PINRequest{
		Token: ti.Label, Certificate: l.cert, Container: cspModules[l.module.Vendor],
		TriesLow: ti.Flags&pkcs11.CKF_USER_PIN_COUNT_LOW != 0, FinalTry: ti.Flags&pkcs11.CKF_USER_PIN_FINAL_TRY != 0,
	}
	if req.FinalTry {
		req.TriesLeft = 1
	}
	return req
}

// attempt logs in with pin (nil: the PIN pad, or no login needed), signs
// and logs out unless save or fromSaved. It saves the PIN when save and
// the token took it.
func (s *signer) attempt(mech uint, data [][]byte, ti pkcs11.TokenInfo, pin []byte, fromSaved, save bool) ([][]byte, error) {
	l := s.loc
	pad := ti.Flags&pkcs11.CKF_PROTECTED_AUTHENTICATION_PATH != 0
	timeout := s.p.opts.CallTimeout
	if pad {
		timeout *= 4 // the person types on the reader
	}
	var sigs [][]byte
	err := l.module.call(s.ctx, timeout*time.Duration(1+len(data)/64), func(a api) error {
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
		for _, d := range data {
			if err := a.SignInit(sh, []*pkcs11.Mechanism{pkcs11.NewMechanism(mech, nil)}, keys[0]); err != nil {
				return fmt.Errorf("C_SignInit: %w", err)
			}
			sig, err := a.Sign(sh, d)
			if err != nil {
				return fmt.Errorf("C_Sign: %w", err)
			}
			sigs = append(sigs, sig)
		}
		return nil
	})
	if errors.Is(err, errNoKey) {
		return sigs, &keystore.Error{Code: keystore.CodeCertNotFound, Err: err}
	}
	if err != nil {
		return sigs, classify(l.module.Path, err)
	}
	if save {
		s.p.savePIN(l, keystore.PINScope(s.ctx), pin)
	}
	return sigs, nil
}

var errNoKey = errors.New("pkcs11: private key not found on the token")

// pinString gives miekg/pkcs11's Login(string) the PIN's own bytes, not a
// Go copy that nobody could clear: the string lives only for the call,
// and the caller clears pin afterwards. (Login copies it once more into C
// memory, which it frees without clearing: beyond our reach.)
func pinString(pin []byte) string {
	return unsafe.String(unsafe.SliceData(pin), len(pin))
}
