package softtoken

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha1"
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

	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/crypto/gostx509"
)

// object is a certificate, public key or private key, with the
// attributes C_GetAttributeValue returns. A token object lives in the
// folder under file (NAME.key, NAME.pem, NAME.attrs); a session object
// (CKA_TOKEN false) belongs to the session that made it and dies with it.
type object struct {
	class   uint64
	private bool
	attrs   map[uint64][]byte
	key     crypto.Signer    // private keys only
	pubKey  crypto.PublicKey // public keys only
	keyType uint64
	file    string // NAME in the folder; "" for a session object
	session uint64 // the owning session of a session object
}

// meta is NAME.attrs: what the key and certificate files cannot say about
// objects the token made itself (C_GenerateKeyPair, C_CreateObject).
// A pair written by hand has none and gets the defaults: label NAME, id
// SHA-1 of the certificate's public key, sensitive, never extractable.
type meta struct {
	ID          []byte `json:"id,omitempty"`
	Label       string `json:"label,omitempty"`
	CertLabel   string `json:"certLabel,omitempty"`
	Sensitive   *bool  `json:"sensitive,omitempty"`
	Extractable bool   `json:"extractable,omitempty"`
	// AlwaysSensitive/NeverExtractable are the key's history (CKA_ALWAYS_SENSITIVE
	// and CKA_NEVER_EXTRACTABLE), which a re-read must not launder.
	AlwaysSensitive  bool   `json:"alwaysSensitive,omitempty"`
	NeverExtractable bool   `json:"neverExtractable,omitempty"`
	Local            bool   `json:"local,omitempty"`
	GenMechanism     uint64 `json:"genMechanism,omitempty"`
	NoPublic         bool   `json:"noPublic,omitempty"`   // the public key object was destroyed
	NotPrivate       bool   `json:"notPrivate,omitempty"` // a private key made with CKA_PRIVATE false
}

func readMeta(dir, name string) (*meta, error) {
	b, err := os.ReadFile(filepath.Join(dir, name+".attrs"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var m meta
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s.attrs: %w", name, err)
	}
	return &m, nil
}

// load reads every NAME.key with its NAME.pem, and the certificates the
// token stored without a key (NAME.pem with NAME.attrs).
func load(dir string) ([]*object, error) {
	keys, _ := filepath.Glob(filepath.Join(dir, "*.key"))
	certs, _ := filepath.Glob(filepath.Join(dir, "*.pem"))
	names := map[string]bool{}
	for _, p := range keys {
		names[strings.TrimSuffix(filepath.Base(p), ".key")] = true
	}
	for _, p := range certs {
		n := strings.TrimSuffix(filepath.Base(p), ".pem")
		if _, err := os.Stat(filepath.Join(dir, n+".attrs")); err == nil {
			names[n] = true
		}
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	var objs []*object
	var errs []error
	for _, name := range sorted {
		o, err := loadFiles(dir, name)
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

// ulong encodes a CK_ULONG attribute value: C's unsigned long, 8 bytes on
// 64-bit Unix (LP64) but 4 on 64-bit Windows (LLP64), where an 8-byte
// CKA_CLASS matched no template an application sent and no object was
// ever found.
func ulong(v uint64) []byte {
	b := make([]byte, ulongSize)
	for i := range b {
		b[i] = byte(v >> (8 * i)) // host order: little-endian on every supported platform
	}
	return b
}

// parseULong decodes a CK_ULONG attribute value an application sent.
func parseULong(b []byte) (uint64, bool) {
	if len(b) != ulongSize {
		return 0, false
	}
	var v uint64
	for i := range b {
		v |= uint64(b[i]) << (8 * i)
	}
	return v, true
}

func parsePrivateKey(der []byte) (crypto.Signer, error) {
	if k, err := gostx509.ParsePKCS8PrivateKey(der); err == nil {
		return k, nil
	} else if !errors.Is(err, gostx509.ErrNotGOST) {
		return nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, err
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("unsupported key %T", k)
	}
	return signer, nil
}

// spkiID is the default CKA_ID: SHA-1 of the public key's
// SubjectPublicKeyInfo, as the certificate or the key encodes it.
func spkiID(pub crypto.PublicKey) []byte {
	var spki []byte
	if g, ok := pub.(*gost3410.PublicKey); ok {
		spki, _ = gostx509.MarshalPKIXPublicKey(g)
	} else {
		spki, _ = x509.MarshalPKIXPublicKey(pub)
	}
	sum := sha1.Sum(spki)
	return sum[:]
}

func loadFiles(dir, name string) ([]*object, error) {
	m, err := readMeta(dir, name)
	if err != nil {
		return nil, err
	}
	if m == nil {
		m = &meta{}
	}
	var signer crypto.Signer
	keyDER, err := pemBytes(filepath.Join(dir, name+".key"))
	switch {
	case err == nil:
		if signer, err = parsePrivateKey(keyDER); err != nil {
			return nil, err
		}
	case !errors.Is(err, os.ErrNotExist):
		return nil, err
	}
	var cert *x509.Certificate
	certDER, err := pemBytes(filepath.Join(dir, name+".pem"))
	switch {
	case err == nil:
		if cert, err = x509.ParseCertificate(certDER); err != nil {
			return nil, err
		}
	case !errors.Is(err, os.ErrNotExist) || signer == nil || m.ID == nil:
		// A key without a certificate is one the token generated
		// (it has NAME.attrs); a hand-made pair needs both files.
		return nil, err
	}
	if signer != nil && cert != nil && !publicMatches(signer.Public(), cert) {
		return nil, errors.New("the key does not belong to the certificate")
	}
	id := m.ID
	if id == nil {
		sum := sha1.Sum(cert.RawSubjectPublicKeyInfo)
		id = sum[:]
	}
	label := m.Label
	if label == "" {
		label = name
	}
	var objs []*object
	if cert != nil {
		certLabel := m.CertLabel
		if certLabel == "" {
			certLabel = label
		}
		objs = append(objs, certObject(cert, id, certLabel, name))
	}
	if signer == nil {
		return objs, nil
	}
	sensitive := m.Sensitive == nil || *m.Sensitive
	if m.Sensitive == nil { // a hand-made pair: sensitive and never extractable
		m.AlwaysSensitive, m.NeverExtractable = true, true
	}
	pub, priv, err := keyObjects(signer, id, label, keyFlags{
		sensitive: sensitive, extractable: m.Extractable, alwaysSensitive: m.AlwaysSensitive,
		neverExtractable: m.NeverExtractable, local: m.Local, genMechanism: m.GenMechanism, private: !m.NotPrivate,
	})
	if err != nil {
		return nil, err
	}
	if cert != nil {
		priv.attrs[CKA_SUBJECT] = cert.RawSubject
		pub.attrs[CKA_SUBJECT] = cert.RawSubject
	}
	pub.file, priv.file = name, name
	if !m.NoPublic {
		objs = append(objs, pub)
	}
	return append(objs, priv), nil
}

func certObject(cert *x509.Certificate, id []byte, label, file string) *object {
	o := &object{class: CKO_CERTIFICATE, file: file, attrs: map[uint64][]byte{
		CKA_CLASS: ulong(CKO_CERTIFICATE), CKA_TOKEN: bval(file != ""), CKA_PRIVATE: bval(false),
		CKA_MODIFIABLE: bval(false), CKA_LABEL: []byte(label), CKA_ID: id, CKA_TRUSTED: bval(false),
		CKA_CERTIFICATE_TYPE: ulong(CKC_X_509), CKA_VALUE: cert.Raw, CKA_SUBJECT: cert.RawSubject,
		CKA_ISSUER: cert.RawIssuer,
	}}
	serial, _ := asn1.Marshal(cert.SerialNumber)
	o.attrs[CKA_SERIAL_NUMBER] = serial
	return o
}

// keyFlags are a private key's security attributes.
type keyFlags struct {
	token, private, sensitive, extractable bool
	alwaysSensitive, neverExtractable      bool
	local                                  bool
	genMechanism                           uint64
}

// keyObjects builds the public and private key objects of signer.
func keyObjects(signer crypto.Signer, id []byte, label string, f keyFlags) (pub, priv *object, err error) {
	common := func(class uint64, private bool) map[uint64][]byte {
		return map[uint64][]byte{
			CKA_CLASS: ulong(class), CKA_TOKEN: bval(true), CKA_PRIVATE: bval(private),
			CKA_LABEL: []byte(label), CKA_ID: id, CKA_SUBJECT: {},
		}
	}
	priv = &object{class: CKO_PRIVATE_KEY, private: f.private, attrs: common(CKO_PRIVATE_KEY, f.private), key: signer}
	pub = &object{class: CKO_PUBLIC_KEY, attrs: common(CKO_PUBLIC_KEY, false), pubKey: signer.Public()}
	for _, o := range []*object{priv, pub} {
		for _, a := range []uint64{CKA_ENCRYPT, CKA_DECRYPT, CKA_WRAP, CKA_UNWRAP, CKA_DERIVE,
			CKA_MODIFIABLE, CKA_SIGN_RECOVER, CKA_VERIFY_RECOVER, CKA_SIGN, CKA_VERIFY} {
			o.attrs[a] = bval(false)
		}
		o.attrs[CKA_LOCAL] = bval(f.local)
		mech := CK_UNAVAILABLE_INFORMATION
		if f.local {
			mech = f.genMechanism
		}
		o.attrs[CKA_KEY_GEN_MECHANISM] = ulong(mech)
	}
	priv.attrs[CKA_SIGN] = bval(true)
	priv.attrs[CKA_SENSITIVE] = bval(f.sensitive)
	priv.attrs[CKA_ALWAYS_SENSITIVE] = bval(f.alwaysSensitive)
	priv.attrs[CKA_EXTRACTABLE] = bval(f.extractable)
	priv.attrs[CKA_NEVER_EXTRACTABLE] = bval(f.neverExtractable)
	priv.attrs[CKA_ALWAYS_AUTHENTICATE] = bval(false)
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
		pub.attrs[CKA_MODULUS_BITS] = ulong(uint64(k.N.BitLen()))
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
			return nil, nil, err
		}
		point, _ := asn1.Marshal(info.Key.Bytes)
		for _, o := range []*object{priv, pub} {
			o.attrs[CKA_EC_PARAMS] = info.Alg.Parameters.FullBytes
		}
		pub.attrs[CKA_EC_POINT] = point
	default:
		return nil, nil, fmt.Errorf("unsupported key %T", k)
	}
	pub.keyType = priv.keyType
	priv.attrs[CKA_KEY_TYPE] = ulong(priv.keyType)
	pub.attrs[CKA_KEY_TYPE] = ulong(priv.keyType)
	return pub, priv, nil
}

// secretAttrs are a private key's secret attributes: CKA_VALUE (GOST, EC)
// and RSA's CKA_PRIVATE_EXPONENT … CKA_COEFFICIENT.
var secretAttrs = map[uint64]bool{CKA_VALUE: true, 0x123: true, 0x124: true, 0x125: true, 0x126: true, 0x127: true, 0x128: true}

// privateValue is a secret attribute of an extractable, non-sensitive
// private key: for GOST the little-endian scalar (as PKCS#11 and the TC26
// guideline have it), for EC the big-endian one, for RSA the components.
func privateValue(k crypto.Signer, typ uint64) ([]byte, bool) {
	switch k := k.(type) {
	case *gost3410.PrivateKey:
		return k.Bytes(), typ == CKA_VALUE
	case *ecdsa.PrivateKey:
		return k.D.FillBytes(make([]byte, (k.Curve.Params().BitSize+7)/8)), typ == CKA_VALUE
	case *rsa.PrivateKey:
		if len(k.Primes) != 2 {
			return nil, false
		}
		k.Precompute()
		v := map[uint64]*big.Int{0x123: k.D, 0x124: k.Primes[0], 0x125: k.Primes[1],
			0x126: k.Precomputed.Dp, 0x127: k.Precomputed.Dq, 0x128: k.Precomputed.Qinv}[typ]
		if v == nil {
			return nil, false
		}
		return v.Bytes(), true
	}
	return nil, false
}

func publicMatches(pub crypto.PublicKey, cert *x509.Certificate) bool {
	if g, ok := pub.(*gost3410.PublicKey); ok {
		cp, err := gostx509.PublicKey(cert)
		return err == nil && cp.Equal(g)
	}
	eq, ok := pub.(interface{ Equal(crypto.PublicKey) bool })
	return ok && eq.Equal(cert.PublicKey)
}

// Attribute is one entry of a search template.
type Attribute struct {
	Type  uint64
	Value []byte
}

// visible: private objects only to a logged-in user (not the SO), session
// objects only while their session lives.
func (t *Token) visible(o *object) bool {
	return (!o.private || t.userIn()) && (o.file != "" || t.sessions[o.session] != nil)
}

// handles lists the object handles in order.
func (t *Token) handles() []uint64 {
	hs := make([]uint64, 0, len(t.objects))
	for h := range t.objects {
		hs = append(hs, h)
	}
	sort.Slice(hs, func(i, j int) bool { return hs[i] < hs[j] })
	return hs
}

// add gives o a handle.
func (t *Token) add(o *object) uint64 {
	t.nextHandle++
	t.objects[t.nextHandle] = o
	return t.nextHandle
}

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
	for _, handle := range t.handles() {
		o := t.objects[handle]
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
			s.found = append(s.found, handle)
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
	o, ok := t.objects[handle]
	if !ok || !t.visible(o) {
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
	if o.class == CKO_PRIVATE_KEY && secretAttrs[typ] {
		// Only a key made extractable and not sensitive shows its secret.
		if string(o.attrs[CKA_SENSITIVE]) != string(bval(false)) || string(o.attrs[CKA_EXTRACTABLE]) != string(bval(true)) {
			return nil, CKR_ATTRIBUTE_SENSITIVE
		}
		if v, ok := privateValue(o.key, typ); ok {
			return v, CKR_OK
		}
		return nil, CKR_ATTRIBUTE_TYPE_INVALID
	}
	v, ok := o.attrs[typ]
	if !ok {
		return nil, CKR_ATTRIBUTE_TYPE_INVALID
	}
	return v, CKR_OK
}
