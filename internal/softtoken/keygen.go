package softtoken

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/asn1"
	"os"

	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/crypto/gostx509"
)

// template is an application's attribute template by type.
type template map[uint64][]byte

// boolAttrs are the CK_BBOOL attributes a template may set on a key.
var boolAttrs = map[uint64]bool{
	CKA_TOKEN: true, CKA_PRIVATE: true, CKA_SENSITIVE: true, CKA_EXTRACTABLE: true, CKA_MODIFIABLE: true,
	CKA_SIGN: true, CKA_VERIFY: true, CKA_ENCRYPT: true, CKA_DECRYPT: true, CKA_WRAP: true, CKA_UNWRAP: true,
	CKA_SIGN_RECOVER: true, CKA_VERIFY_RECOVER: true, CKA_DERIVE: true, CKA_ALWAYS_AUTHENTICATE: true,
	ckaCopyable: true, ckaDestroyable: true,
}

const (
	ckaCopyable    = 0x171
	ckaDestroyable = 0x172
	ckaGOST28147   = 0x252 // CKA_GOST28147_PARAMS: encryption parameters, accepted and ignored
)

// otherAttrs are the non-boolean attributes a key template may carry.
var otherAttrs = map[uint64]bool{
	CKA_CLASS: true, CKA_KEY_TYPE: true, CKA_LABEL: true, CKA_ID: true, CKA_SUBJECT: true,
	CKA_START_DATE: true, CKA_END_DATE: true, CKA_GOSTR3410_PARAMS: true, CKA_GOSTR3411_PARAMS: true,
	ckaGOST28147: true, CKA_EC_PARAMS: true, CKA_MODULUS_BITS: true, CKA_PUBLIC_EXPONENT: true,
}

func parseTemplate(attrs []Attribute) (template, RV) {
	tm := template{}
	for _, a := range attrs {
		switch {
		case boolAttrs[a.Type]:
			if len(a.Value) != 1 {
				return nil, CKR_ATTRIBUTE_VALUE_INVALID
			}
		case otherAttrs[a.Type]:
		default:
			return nil, CKR_ATTRIBUTE_TYPE_INVALID
		}
		tm[a.Type] = a.Value
	}
	return tm, CKR_OK
}

// flag reads a boolean attribute, def when absent.
func (tm template) flag(a uint64, def bool) bool {
	v, ok := tm[a]
	if !ok {
		return def
	}
	return v[0] != 0
}

// checkULong: when the template names a for class or key type, it must
// be want.
func (tm template) checkULong(a, want uint64) RV {
	v, ok := tm[a]
	if !ok {
		return CKR_OK
	}
	if got, ok := parseULong(v); !ok || got != want {
		return CKR_TEMPLATE_INCONSISTENT
	}
	return CKR_OK
}

// one returns the attribute from the public template, else the private.
func one(pub, priv template, a uint64) ([]byte, bool) {
	if v, ok := pub[a]; ok {
		return v, true
	}
	v, ok := priv[a]
	return v, ok
}

// generate makes the key for mech from the templates.
func generate(mech uint64, pub, priv template) (crypto.Signer, uint64, RV) {
	switch mech {
	case CKM_GOSTR3410_KEY_PAIR_GEN, CKM_GOSTR3410_512_KEY_PAIR_GEN:
		keyType, size := uint64(CKK_GOSTR3410), 32
		if mech == CKM_GOSTR3410_512_KEY_PAIR_GEN {
			keyType, size = CKK_GOSTR3410_512, 64
		}
		der, ok := one(pub, priv, CKA_GOSTR3410_PARAMS)
		if !ok {
			return nil, 0, CKR_TEMPLATE_INCOMPLETE
		}
		var id asn1.ObjectIdentifier
		if rest, err := asn1.Unmarshal(der, &id); err != nil || len(rest) != 0 {
			return nil, 0, CKR_ATTRIBUTE_VALUE_INVALID
		}
		c := gost3410.CurveByOID(id)
		if c == nil || c.Size() != size {
			return nil, 0, CKR_ATTRIBUTE_VALUE_INVALID
		}
		// The digest is the curve size's Streebog: a GOST R 34.11-94 or
		// other digest would be a key the token cannot sign with.
		if der, ok := one(pub, priv, CKA_GOSTR3411_PARAMS); ok {
			want, _ := asn1.Marshal(gostx509.DigestOID(c))
			if string(der) != string(want) {
				return nil, 0, CKR_ATTRIBUTE_VALUE_INVALID
			}
		}
		k, err := gost3410.GenerateKey(c, rand.Reader)
		if err != nil {
			return nil, 0, CKR_GENERAL_ERROR
		}
		return k, keyType, CKR_OK
	case CKM_EC_KEY_PAIR_GEN:
		der, ok := one(pub, priv, CKA_EC_PARAMS)
		if !ok {
			return nil, 0, CKR_TEMPLATE_INCOMPLETE
		}
		var id asn1.ObjectIdentifier
		if rest, err := asn1.Unmarshal(der, &id); err != nil || len(rest) != 0 {
			return nil, 0, CKR_ATTRIBUTE_VALUE_INVALID
		}
		curves := map[string]elliptic.Curve{
			"1.2.840.10045.3.1.7": elliptic.P256(), "1.3.132.0.34": elliptic.P384(), "1.3.132.0.35": elliptic.P521(),
		}
		c, ok := curves[id.String()]
		if !ok {
			return nil, 0, CKR_ATTRIBUTE_VALUE_INVALID
		}
		k, err := ecdsa.GenerateKey(c, rand.Reader)
		if err != nil {
			return nil, 0, CKR_GENERAL_ERROR
		}
		return k, CKK_EC, CKR_OK
	case CKM_RSA_PKCS_KEY_PAIR_GEN:
		v, ok := pub[CKA_MODULUS_BITS]
		if !ok {
			return nil, 0, CKR_TEMPLATE_INCOMPLETE
		}
		bits, ok := parseULong(v)
		if !ok || bits < 1024 || bits > 4096 {
			return nil, 0, CKR_ATTRIBUTE_VALUE_INVALID
		}
		// Go generates with e = 65537 only.
		if e, ok := pub[CKA_PUBLIC_EXPONENT]; ok && string(trimZeros(e)) != "\x01\x00\x01" {
			return nil, 0, CKR_ATTRIBUTE_VALUE_INVALID
		}
		k, err := rsa.GenerateKey(rand.Reader, int(bits))
		if err != nil {
			return nil, 0, CKR_GENERAL_ERROR
		}
		return k, CKK_RSA, CKR_OK
	}
	return nil, 0, CKR_MECHANISM_INVALID
}

func trimZeros(b []byte) []byte {
	for len(b) > 0 && b[0] == 0 {
		b = b[1:]
	}
	return b
}

// GenerateKeyPair makes a key pair on the token (C_GenerateKeyPair): GOST
// R 34.10-2012 256 on every parameter set with CKM_GOSTR3410_KEY_PAIR_GEN,
// 512 with TC26's CKM_GOSTR3410_512_KEY_PAIR_GEN, EC (P-256/384/521) and
// RSA (1024–4096, e = 65537). Only the logged-in user generates: nothing
// is made, nothing written, before login. A private key is sensitive and
// not extractable unless its template says otherwise; token objects
// (CKA_TOKEN) are written to the folder before the call returns.
func (t *Token) GenerateKeyPair(h, mech uint64, pubAttrs, privAttrs []Attribute) (pubH, privH uint64, rv RV) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, rv := t.sessionFor(h)
	if rv != CKR_OK {
		return 0, 0, rv
	}
	pub, rv := parseTemplate(pubAttrs)
	if rv != CKR_OK {
		return 0, 0, rv
	}
	priv, rv := parseTemplate(privAttrs)
	if rv != CKR_OK {
		return 0, 0, rv
	}
	if _, ok := t.Mechanisms()[mech]; !ok || mech != CKM_GOSTR3410_KEY_PAIR_GEN && mech != CKM_GOSTR3410_512_KEY_PAIR_GEN &&
		mech != CKM_EC_KEY_PAIR_GEN && mech != CKM_RSA_PKCS_KEY_PAIR_GEN {
		return 0, 0, CKR_MECHANISM_INVALID
	}
	wantType := map[uint64]uint64{CKM_GOSTR3410_KEY_PAIR_GEN: CKK_GOSTR3410, CKM_GOSTR3410_512_KEY_PAIR_GEN: CKK_GOSTR3410_512,
		CKM_EC_KEY_PAIR_GEN: CKK_EC, CKM_RSA_PKCS_KEY_PAIR_GEN: CKK_RSA}[mech]
	for _, c := range []RV{pub.checkULong(CKA_CLASS, CKO_PUBLIC_KEY), priv.checkULong(CKA_CLASS, CKO_PRIVATE_KEY),
		pub.checkULong(CKA_KEY_TYPE, wantType), priv.checkULong(CKA_KEY_TYPE, wantType)} {
		if c != CKR_OK {
			return 0, 0, c
		}
	}
	onToken, pubOnToken := priv.flag(CKA_TOKEN, false), pub.flag(CKA_TOKEN, false)
	if pubOnToken && !onToken {
		return 0, 0, CKR_TEMPLATE_INCONSISTENT // the public half lives in the private key's file
	}
	privPrivate, pubPrivate := priv.flag(CKA_PRIVATE, true), pub.flag(CKA_PRIVATE, false)
	if onToken && !privPrivate {
		// A key on the token signs only after the PIN, always.
		return 0, 0, CKR_TEMPLATE_INCONSISTENT
	}
	if onToken && !s.rw {
		return 0, 0, CKR_SESSION_READ_ONLY
	}
	// Anything private or on the token needs the user: a session pair of
	// public objects (PKCS#11 allows it; pkcs11test makes them) does not.
	needUser := onToken || privPrivate || pubPrivate
	if needUser && !t.userIn() {
		return 0, 0, CKR_USER_NOT_LOGGED_IN
	}
	// Generating (seconds for RSA 4096) runs outside the lock, as signing
	// does; what it relied on is checked again after.
	t.mu.Unlock()
	key, keyType, rv := generate(mech, pub, priv)
	t.mu.Lock()
	if rv != CKR_OK {
		return 0, 0, rv
	}
	if s2, rv := t.sessionFor(h); rv != CKR_OK {
		return 0, 0, rv
	} else if s2 != s {
		return 0, 0, CKR_SESSION_HANDLE_INVALID // closed and its handle reused meanwhile
	}
	if needUser && !t.userIn() {
		return 0, 0, CKR_USER_NOT_LOGGED_IN // logged out meanwhile
	}
	sensitive, extractable := priv.flag(CKA_SENSITIVE, true), priv.flag(CKA_EXTRACTABLE, false)
	id, ok := one(priv, pub, CKA_ID)
	if !ok {
		id = spkiID(key.Public())
	}
	label, _ := one(priv, pub, CKA_LABEL)
	pubObj, privObj, err := keyObjects(key, id, string(label), keyFlags{
		private: privPrivate, sensitive: sensitive, extractable: extractable,
		alwaysSensitive: sensitive, neverExtractable: !extractable, local: true, genMechanism: mech,
	})
	if err != nil || pubObj.keyType != keyType {
		return 0, 0, CKR_GENERAL_ERROR
	}
	// The template's own capabilities, and its subject and dates, as given.
	for _, pair := range []struct {
		o  *object
		tm template
	}{{pubObj, pub}, {privObj, priv}} {
		for _, a := range []uint64{CKA_SIGN, CKA_VERIFY, CKA_ENCRYPT, CKA_DECRYPT, CKA_WRAP, CKA_UNWRAP, CKA_DERIVE,
			CKA_SIGN_RECOVER, CKA_VERIFY_RECOVER, CKA_SUBJECT, CKA_START_DATE, CKA_END_DATE} {
			if v, ok := pair.tm[a]; ok {
				pair.o.attrs[a] = v
			}
		}
	}
	pubObj.private = pubPrivate
	pubObj.attrs[CKA_PRIVATE] = bval(pubObj.private)
	pubObj.attrs[CKA_TOKEN], privObj.attrs[CKA_TOKEN] = bval(pubOnToken), bval(onToken)
	if !onToken {
		pubObj.session, privObj.session = h, h
		return t.add(pubObj), t.add(privObj), CKR_OK
	}
	name := t.newFileName("key-")
	privObj.file = name
	if pubOnToken {
		pubObj.file = name
	} else {
		pubObj.session = h
	}
	pubH, privH = t.add(pubObj), t.add(privObj)
	// NAME.attrs first: a key file without it would not load.
	if t.saveMeta(name) != nil || writeKey(t.path(name, ".key"), key) != nil {
		delete(t.objects, pubH)
		delete(t.objects, privH)
		os.Remove(t.path(name, ".key"))
		os.Remove(t.path(name, ".attrs"))
		return 0, 0, CKR_DEVICE_ERROR
	}
	return pubH, privH, CKR_OK
}
