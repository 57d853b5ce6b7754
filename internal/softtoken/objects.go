package softtoken

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/asn1"
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

// object is a certificate, public key or private key loaded from the
// folder, with the attributes C_GetAttributeValue returns.
type object struct {
	class   uint64
	private bool
	attrs   map[uint64][]byte
	key     crypto.Signer // private keys only
	keyType uint64
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
