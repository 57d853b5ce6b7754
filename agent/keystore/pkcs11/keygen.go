package pkcs11

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"

	"github.com/miekg/pkcs11"
	"github.com/podpis/podpis/agent/keystore"
	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/crypto/gostx509"
)

// Key generation mechanisms and key types. The 512-bit ones are TC26's
// vendor-defined values (CK_VENDOR_PKCS11_RU_TEAM_TC26 = 0xD4321000),
// checked against OpenSC's pkcs11.h: CKM_GOSTR3410_512_KEY_PAIR_GEN is
// base|0x005, CKK_GOSTR3410_512 base|0x003.
const (
	ckmGOSTR3410KeyPairGen     = pkcs11.CKM_GOSTR3410_KEY_PAIR_GEN // 0x1200
	ckmGOSTR3410_512KeyPairGen = 0xD4321005
	ckkGOSTR3410               = pkcs11.CKK_GOSTR3410 // 0x30
)

var oidP256 = asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}

// ensure the interface is met.
var _ keystore.KeyMaker = (*Store)(nil)

// token is one token found for key generation.
type token struct {
	module *Module
	slot   uint
	info   pkcs11.TokenInfo
}

func (t *token) label() string { return strings.TrimSpace(t.info.Label) }

// findToken returns the token labelled label, or the only token present
// when label is "".
func (p *Store) findToken(ctx context.Context, label string) (*token, error) {
	var all []*token
	for _, m := range p.modules {
		err := m.call(ctx, p.opts.CallTimeout, func(a api) error {
			slots, err := a.GetSlotList(true)
			if err != nil {
				return err
			}
			for _, s := range slots {
				ti, err := a.GetTokenInfo(s)
				if err != nil || ti.Flags&pkcs11.CKF_TOKEN_INITIALIZED == 0 {
					continue // removed meanwhile, or blank (SoftHSM2's free slot): no place for a key
				}
				all = append(all, &token{module: m, slot: s, info: ti})
			}
			return nil
		})
		if err != nil {
			return nil, classify(m.Path, err)
		}
	}
	var found []*token
	var labels []string
	for _, t := range all {
		labels = append(labels, t.label())
		if label == "" || t.label() == strings.TrimSpace(label) {
			found = append(found, t)
		}
	}
	switch {
	case len(found) == 1:
		return found[0], nil
	case len(found) == 0 && label != "":
		return nil, &keystore.Error{Code: keystore.CodeTokenNotFound, Err: fmt.Errorf("no token %q (tokens: %q)", label, labels)}
	case len(found) == 0:
		return nil, &keystore.Error{Code: keystore.CodeTokenNotFound, Err: errors.New("no token present")}
	}
	return nil, &keystore.Error{Code: keystore.CodeTokenNotFound, Err: fmt.Errorf("several tokens, name one: %q", labels)}
}

// keyTemplates returns the generation mechanism and the public and
// private templates of spec (PKCS#11 v2.40 sections 2.1 (RSA), 2.3 (EC),
// 2.52-2.53 and TC26's «Расширение PKCS#11 для использования российских
// криптографических алгоритмов» (GOST: CKA_GOSTR3410_PARAMS and
// CKA_GOSTR3411_PARAMS hold DER OIDs of the parameter set and of
// Streebog)).
func keyTemplates(spec keystore.KeySpec) (mech uint, pub, priv []*pkcs11.Attribute, err error) {
	switch spec.Algorithm {
	case keystore.KeyGOST:
		if spec.Curve == nil {
			return 0, nil, nil, errors.New("no GOST parameter set")
		}
		curve, _ := asn1.Marshal(spec.Curve.OID())
		digest, _ := asn1.Marshal(gostx509.DigestOID(spec.Curve))
		mech, kt := uint(ckmGOSTR3410KeyPairGen), uint(ckkGOSTR3410)
		if spec.Curve.Size() == 64 {
			mech, kt = ckmGOSTR3410_512KeyPairGen, ckkGOSTR3410_512
		}
		params := []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, kt),
			pkcs11.NewAttribute(pkcs11.CKA_GOSTR3410_PARAMS, curve),
			pkcs11.NewAttribute(pkcs11.CKA_GOSTR3411_PARAMS, digest),
		}
		return mech, params, params, nil
	case keystore.KeyRSA:
		if spec.Bits != 2048 && spec.Bits != 3072 {
			return 0, nil, nil, fmt.Errorf("RSA of %d bits", spec.Bits)
		}
		return pkcs11.CKM_RSA_PKCS_KEY_PAIR_GEN, []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_RSA),
			pkcs11.NewAttribute(pkcs11.CKA_MODULUS_BITS, spec.Bits),
			pkcs11.NewAttribute(pkcs11.CKA_PUBLIC_EXPONENT, []byte{1, 0, 1}),
		}, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_RSA)}, nil
	case keystore.KeyECDSA:
		params, _ := asn1.Marshal(oidP256)
		return pkcs11.CKM_EC_KEY_PAIR_GEN, []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_EC),
			pkcs11.NewAttribute(pkcs11.CKA_EC_PARAMS, params),
		}, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_EC)}, nil
	}
	return 0, nil, nil, fmt.Errorf("unknown key algorithm %d", spec.Algorithm)
}

// noKeygen are the module's answers that mean it cannot make this key.
var noKeygen = []uint{pkcs11.CKR_MECHANISM_INVALID, pkcs11.CKR_FUNCTION_NOT_SUPPORTED, pkcs11.CKR_MECHANISM_PARAM_INVALID,
	pkcs11.CKR_TEMPLATE_INCONSISTENT, pkcs11.CKR_ATTRIBUTE_VALUE_INVALID, pkcs11.CKR_DOMAIN_PARAMS_INVALID, pkcs11.CKR_CURVE_NOT_SUPPORTED}

// GenerateKey implements keystore.KeyMaker.
func (p *Store) GenerateKey(ctx context.Context, req keystore.KeyRequest, pin keystore.PINFunc, use func(*keystore.NewKey) error) error {
	mech, pubT, privT, err := keyTemplates(req.Spec)
	if err != nil {
		return &keystore.Error{Code: keystore.CodeNoKeygen, Err: err}
	}
	t, err := p.findToken(ctx, req.Token)
	if err != nil {
		return err
	}
	// A module that does not list the mechanism is not asked (nor is the
	// person asked a PIN for nothing).
	offered := false
	err = t.module.call(ctx, p.opts.CallTimeout, func(a api) error {
		mechs, err := a.GetMechanismList(t.slot)
		for _, m := range mechs {
			offered = offered || m.Mechanism == mech
		}
		return err
	})
	if err != nil {
		return classify("C_GetMechanismList", err)
	}
	if !offered {
		return &keystore.Error{Code: keystore.CodeNoKeygen, Err: fmt.Errorf("token %q does not offer mechanism 0x%x", t.label(), mech)}
	}
	if t.info.Flags&pkcs11.CKF_USER_PIN_LOCKED != 0 {
		return &keystore.Error{Code: keystore.CodePINLocked, Err: errors.New("token reports the user PIN locked")}
	}
	if err := keystore.AskConsent(ctx, keystore.Consent{Token: t.label()}); err != nil {
		return err
	}
	pad := t.info.Flags&pkcs11.CKF_PROTECTED_AUTHENTICATION_PATH != 0
	var code []byte
	if t.info.Flags&pkcs11.CKF_LOGIN_REQUIRED != 0 && !pad {
		if pin == nil {
			return &keystore.Error{Code: keystore.CodePINRequired}
		}
		code, err = takePIN(ctx, pin, keystore.PINRequest{Token: t.label(), NewKey: true,
			TriesLow: t.info.Flags&pkcs11.CKF_USER_PIN_COUNT_LOW != 0, FinalTry: t.info.Flags&pkcs11.CKF_USER_PIN_FINAL_TRY != 0})
		if err != nil {
			var ke *keystore.Error
			if errors.As(err, &ke) {
				return err
			}
			return &keystore.Error{Code: keystore.CodeCancelled, Err: err}
		}
	}
	defer clear(code)
	label := req.Label
	if label == "" {
		label = "podpis " + p.opts.Now().Format("2006-01-02 15:04")
	}
	// The key id is the public key's, known only once the key exists: the
	// pair is made under a temporary id, then given its own.
	tmpID := []byte(fmt.Sprintf("podpis-new-%d", p.opts.Now().UnixNano()))
	common := func(class uint, private bool) []*pkcs11.Attribute {
		return []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_CLASS, class),
			pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
			pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, private),
			pkcs11.NewAttribute(pkcs11.CKA_ID, tmpID),
			pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
		}
	}
	pubT = append(common(pkcs11.CKO_PUBLIC_KEY, false), append(pubT, pkcs11.NewAttribute(pkcs11.CKA_VERIFY, true))...)
	privT = append(common(pkcs11.CKO_PRIVATE_KEY, true), append(privT,
		pkcs11.NewAttribute(pkcs11.CKA_SIGN, true),
		// Sensitive always: even a key the person let be exported
		// leaves the token only wrapped, never in the clear.
		pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, true),
		pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, req.Extractable))...)

	timeout := p.opts.CallTimeout * 4 // a token takes its time to generate; a PIN pad waits for the person
	var (
		sh             pkcs11.SessionHandle
		pubH, privH    pkcs11.ObjectHandle
		pub            crypto.PublicKey
		id             []byte
		open, loggedIn bool
	)
	err = t.module.call(ctx, timeout, func(a api) (err error) {
		sh, err = a.OpenSession(t.slot, pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION)
		if err != nil {
			return fmt.Errorf("C_OpenSession: %w", err)
		}
		open = true
		if t.info.Flags&pkcs11.CKF_LOGIN_REQUIRED != 0 || pad {
			if err := a.Login(sh, pkcs11.CKU_USER, pinString(code)); err != nil && !isRV(err, pkcs11.CKR_USER_ALREADY_LOGGED_IN) {
				return fmt.Errorf("C_Login: %w", err)
			}
			loggedIn = true
		}
		pubH, privH, err = a.GenerateKeyPair(sh, []*pkcs11.Mechanism{pkcs11.NewMechanism(mech, nil)}, pubT, privT)
		if err != nil {
			for _, rv := range noKeygen {
				if isRV(err, rv) {
					return &keystore.Error{Code: keystore.CodeNoKeygen, Err: fmt.Errorf("C_GenerateKeyPair: %w", err)}
				}
			}
			return fmt.Errorf("C_GenerateKeyPair: %w", err)
		}
		pub, err = readPublicKey(a, sh, pubH, req.Spec)
		if err != nil {
			a.DestroyObject(sh, privH)
			a.DestroyObject(sh, pubH)
			return err
		}
		id, err = keyID(pub)
		if err != nil {
			a.DestroyObject(sh, privH)
			a.DestroyObject(sh, pubH)
			return err
		}
		set := []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_ID, id)}
		if a.SetAttributeValue(sh, pubH, set) != nil || a.SetAttributeValue(sh, privH, set) != nil {
			// A token that keeps ids fixed: both keep the temporary one.
			a.SetAttributeValue(sh, pubH, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_ID, tmpID)})
			id = tmpID
		}
		return nil
	})
	closeSession := func(destroy bool) {
		if !open {
			return
		}
		t.module.call(context.WithoutCancel(ctx), p.opts.CallTimeout, func(a api) error {
			if destroy && privH != 0 {
				if a.DestroyObject(sh, privH) != nil && loggedIn {
					// Logged out meanwhile (another session of ours
					// logged out: a login is the application's, not the
					// session's), which hides the private key: log in
					// again and find it by its id.
					a.Login(sh, pkcs11.CKU_USER, pinString(code))
					keys, _ := findAll(a, sh, []*pkcs11.Attribute{
						pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PRIVATE_KEY),
						pkcs11.NewAttribute(pkcs11.CKA_ID, id),
					})
					for _, o := range keys {
						a.DestroyObject(sh, o)
					}
				}
				a.DestroyObject(sh, pubH)
			}
			if loggedIn {
				a.Logout(sh)
			}
			return a.CloseSession(sh)
		})
	}
	if err != nil {
		closeSession(false) // the key pair, if any, was destroyed inside
		var ke *keystore.Error
		if errors.As(err, &ke) {
			return err
		}
		return classify(t.module.Path, err)
	}
	k := &keystore.NewKey{ID: id, Token: t.label(), Signer: &sessionSigner{p: p, t: t, ctx: ctx, sh: sh, key: privH, pub: pub}}
	if err := use(k); err != nil {
		closeSession(true)
		return err
	}
	closeSession(false)
	return nil
}

// keyID is SHA-1 of the subjectPublicKey bits (RFC 5280 4.2.1.2 method 1),
// what certreq writes as the request's subjectKeyIdentifier.
func keyID(pub crypto.PublicKey) ([]byte, error) {
	var spki []byte
	var err error
	if g, ok := pub.(*gost3410.PublicKey); ok {
		spki, err = gostx509.MarshalPKIXPublicKey(g)
	} else {
		spki, err = x509.MarshalPKIXPublicKey(pub)
	}
	if err != nil {
		return nil, err
	}
	var info struct {
		Alg  asn1.RawValue
		Bits asn1.BitString
	}
	if _, err := asn1.Unmarshal(spki, &info); err != nil {
		return nil, err
	}
	h := sha1.Sum(info.Bits.Bytes)
	return h[:], nil
}

// readPublicKey reads the new public key object.
func readPublicKey(a api, sh pkcs11.SessionHandle, o pkcs11.ObjectHandle, spec keystore.KeySpec) (crypto.PublicKey, error) {
	switch spec.Algorithm {
	case keystore.KeyGOST:
		raw := attr(a, sh, o, pkcs11.CKA_VALUE)
		if len(raw) == 2*spec.Curve.Size()+2 && raw[0] == 0x04 {
			raw = raw[2:] // some modules wrap it in an OCTET STRING
		}
		k, err := gost3410.NewPublicKey(spec.Curve, raw)
		if err != nil {
			return nil, fmt.Errorf("pkcs11: the new GOST public key: %w", err)
		}
		return k, nil
	case keystore.KeyRSA:
		n, e := attr(a, sh, o, pkcs11.CKA_MODULUS), attr(a, sh, o, pkcs11.CKA_PUBLIC_EXPONENT)
		if len(n) == 0 || len(e) == 0 || len(e) > 4 {
			return nil, errors.New("pkcs11: the new RSA public key is unreadable")
		}
		return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}, nil
	case keystore.KeyECDSA:
		point := attr(a, sh, o, pkcs11.CKA_EC_POINT)
		var inner []byte
		if rest, err := asn1.Unmarshal(point, &inner); err == nil && len(rest) == 0 {
			point = inner
		}
		k, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), point)
		if err != nil {
			return nil, fmt.Errorf("pkcs11: the new EC public key: %w", err)
		}
		return k, nil
	}
	return nil, errors.New("pkcs11: unknown key algorithm")
}

// sessionSigner signs with a key just generated, in the session that made
// it (logged in once, with the PIN asked for the generation).
type sessionSigner struct {
	p   *Store
	t   *token
	ctx context.Context
	sh  pkcs11.SessionHandle
	key pkcs11.ObjectHandle
	pub crypto.PublicKey
}

func (s *sessionSigner) Public() crypto.PublicKey { return s.pub }

func (s *sessionSigner) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	return signDigest(s.pub, digest, opts, func(mech uint, data []byte) ([]byte, error) {
		var sig []byte
		err := s.t.module.call(s.ctx, s.p.opts.CallTimeout, func(a api) (err error) {
			if err := a.SignInit(s.sh, []*pkcs11.Mechanism{pkcs11.NewMechanism(mech, nil)}, s.key); err != nil {
				return fmt.Errorf("C_SignInit: %w", err)
			}
			sig, err = a.Sign(s.sh, data)
			return err
		})
		return sig, classify(s.t.module.Path, err)
	})
}

// takePIN asks for a PIN that the caller then tries once, at C_Login in
// its own session (key generation and installation log in where they
// work): the window closes on OK, and a wrong PIN ends the operation with
// PIN_INCORRECT — it is never tried again by code.
func takePIN(ctx context.Context, pin keystore.PINFunc, req keystore.PINRequest) ([]byte, error) {
	var code []byte
	err := pin(ctx, req, func(p []byte, _ bool) (keystore.PINRequest, error) {
		code = bytes.Clone(p)
		return req, nil
	})
	if err != nil {
		clear(code)
		return nil, err
	}
	return code, nil
}
