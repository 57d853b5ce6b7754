package pkcs11

import (
	"context"
	"crypto/rand"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/pkcs11"
	"github.com/podpis/podpis/agent/keystore"
	"github.com/podpis/podpis/certreq"
	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/crypto/gostx509"
	"github.com/podpis/podpis/internal/enginetest"
)

// gostTokenAPI is a GOST token as TC26's PKCS#11 extension describes one,
// for the key generation podpis's soft token does not have yet: it refuses
// a template the extension does not allow (the 512-bit mechanism with a
// 256-bit key type or parameter set, parameters that are not DER OIDs, a
// Streebog OID of the other size), generates with crypto/gost3410 and
// signs a digest with CKM_GOSTR3410(_512), s‖r as the extension says.
type gostTokenAPI struct {
	fakeAPI
	keys    map[pkcs11.ObjectHandle]*gost3410.PrivateKey
	next    pkcs11.ObjectHandle
	signKey *gost3410.PrivateKey
	pubT    map[uint][]byte
	privT   map[uint][]byte
}

func (f *gostTokenAPI) GetSlotList(bool) ([]uint, error) { return []uint{0}, nil }
func (f *gostTokenAPI) GetTokenInfo(uint) (pkcs11.TokenInfo, error) {
	return pkcs11.TokenInfo{Label: "Рутокен ЭЦП 3.0", SerialNumber: "1", Flags: pkcs11.CKF_LOGIN_REQUIRED | pkcs11.CKF_TOKEN_INITIALIZED}, nil
}
func (f *gostTokenAPI) GetMechanismList(uint) ([]*pkcs11.Mechanism, error) {
	return []*pkcs11.Mechanism{pkcs11.NewMechanism(ckmGOSTR3410KeyPairGen, nil), pkcs11.NewMechanism(ckmGOSTR3410_512KeyPairGen, nil)}, nil
}
func (f *gostTokenAPI) Login(pkcs11.SessionHandle, uint, string) error { return nil }
func (f *gostTokenAPI) Logout(pkcs11.SessionHandle) error              { return nil }

func template(attrs []*pkcs11.Attribute) map[uint][]byte {
	m := map[uint][]byte{}
	for _, a := range attrs {
		m[a.Type] = a.Value
	}
	return m
}

func ulong(v uint) []byte { return pkcs11.NewAttribute(pkcs11.CKA_CLASS, v).Value }

func (f *gostTokenAPI) GenerateKeyPair(_ pkcs11.SessionHandle, m []*pkcs11.Mechanism, pub, priv []*pkcs11.Attribute) (pkcs11.ObjectHandle, pkcs11.ObjectHandle, error) {
	f.pubT, f.privT = template(pub), template(priv)
	var oid asn1.ObjectIdentifier
	if rest, err := asn1.Unmarshal(f.pubT[pkcs11.CKA_GOSTR3410_PARAMS], &oid); err != nil || len(rest) > 0 {
		return 0, 0, pkcs11.Error(pkcs11.CKR_ATTRIBUTE_VALUE_INVALID)
	}
	c := gost3410.CurveByOID(oid)
	if c == nil {
		return 0, 0, pkcs11.Error(pkcs11.CKR_DOMAIN_PARAMS_INVALID)
	}
	mech, kt := uint(pkcs11.CKM_GOSTR3410_KEY_PAIR_GEN), uint(pkcs11.CKK_GOSTR3410)
	digest := asn1.ObjectIdentifier{1, 2, 643, 7, 1, 1, 2, 2}
	if c.Size() == 64 {
		mech, kt = 0xD4321005, 0xD4321003
		digest = asn1.ObjectIdentifier{1, 2, 643, 7, 1, 1, 2, 3}
	}
	wantDigest, _ := asn1.Marshal(digest)
	if len(m) != 1 || m[0].Mechanism != mech {
		return 0, 0, pkcs11.Error(pkcs11.CKR_MECHANISM_INVALID)
	}
	if string(f.pubT[pkcs11.CKA_KEY_TYPE]) != string(ulong(kt)) || string(f.privT[pkcs11.CKA_KEY_TYPE]) != string(ulong(kt)) ||
		string(f.pubT[pkcs11.CKA_GOSTR3411_PARAMS]) != string(wantDigest) {
		return 0, 0, pkcs11.Error(pkcs11.CKR_TEMPLATE_INCONSISTENT)
	}
	k, err := gost3410.GenerateKey(c, rand.Reader)
	if err != nil {
		return 0, 0, err
	}
	f.next += 2
	f.keys[f.next] = k
	return f.next - 1, f.next, nil
}

func (f *gostTokenAPI) GetAttributeValue(_ pkcs11.SessionHandle, o pkcs11.ObjectHandle, a []*pkcs11.Attribute) ([]*pkcs11.Attribute, error) {
	k := f.keys[o+1]
	if k == nil || a[0].Type != pkcs11.CKA_VALUE {
		return nil, pkcs11.Error(pkcs11.CKR_ATTRIBUTE_TYPE_INVALID)
	}
	// CKA_VALUE of a GOST public key: X then Y, each little-endian.
	return []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_VALUE, k.PublicKey().Bytes())}, nil
}
func (f *gostTokenAPI) SetAttributeValue(pkcs11.SessionHandle, pkcs11.ObjectHandle, []*pkcs11.Attribute) error {
	return nil
}
func (f *gostTokenAPI) SignInit(_ pkcs11.SessionHandle, m []*pkcs11.Mechanism, o pkcs11.ObjectHandle) error {
	k := f.keys[o]
	want := uint(pkcs11.CKM_GOSTR3410)
	if k != nil && k.Curve().Size() == 64 {
		want = 0xD4321006
	}
	if k == nil || m[0].Mechanism != want {
		return pkcs11.Error(pkcs11.CKR_MECHANISM_INVALID)
	}
	f.signKey = k
	return nil
}
func (f *gostTokenAPI) Sign(_ pkcs11.SessionHandle, digest []byte) ([]byte, error) {
	if len(digest) != f.signKey.Curve().Size() {
		return nil, pkcs11.Error(pkcs11.CKR_DATA_LEN_RANGE)
	}
	return f.signKey.Sign(rand.Reader, digest, nil)
}
func (f *gostTokenAPI) DestroyObject(_ pkcs11.SessionHandle, o pkcs11.ObjectHandle) error {
	delete(f.keys, o)
	return nil
}

// TestGenerateGOSTTemplate: for every parameter set, GenerateKey asks a
// GOST token for the key as TC26's extension wants it (the mechanism and
// key type of its size, the parameter set and Streebog as DER OIDs,
// sensitive, not extractable, on the token), reads the public key it
// reports, and the request the new key signs through the token verifies
// with OpenSSL's GOST engine.
func TestGenerateGOSTTemplate(t *testing.T) {
	enginetest.Require(t)
	dir := t.TempDir()
	for _, ps := range enginetest.Paramsets {
		c := paramsetCurve(ps)
		t.Run(c, func(t *testing.T) {
			f := &gostTokenAPI{keys: map[pkcs11.ObjectHandle]*gost3410.PrivateKey{}}
			m := &Module{Vendor: "fake", Path: "fake", ctx: f, calls: make(chan func())}
			go m.serve()
			defer close(m.calls)
			p := &Store{opts: Options{CallTimeout: time.Second, Now: time.Now}, modules: []*Module{m}}
			spec, ok := keystore.KeySpecByName(c)
			if !ok {
				t.Fatal(c)
			}
			var calls atomic.Int32
			var csr, id []byte
			err := p.GenerateKey(context.Background(), keystore.KeyRequest{Spec: spec, Label: "Иванов"}, pinOK(&calls), func(k *keystore.NewKey) (err error) {
				id = k.ID
				csr, err = certreq.Create(nil, request(t), k.Signer)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			for name, tmpl := range map[string]map[uint][]byte{"public": f.pubT, "private": f.privT} {
				if string(tmpl[pkcs11.CKA_TOKEN]) != "\x01" {
					t.Errorf("%s key not on the token", name)
				}
				if string(tmpl[pkcs11.CKA_LABEL]) != "Иванов" {
					t.Errorf("%s key label %q", name, tmpl[pkcs11.CKA_LABEL])
				}
			}
			if string(f.privT[pkcs11.CKA_SENSITIVE]) != "\x01" || string(f.privT[pkcs11.CKA_EXTRACTABLE]) != "\x00" || string(f.privT[pkcs11.CKA_PRIVATE]) != "\x01" {
				t.Errorf("private key: sensitive %x extractable %x private %x", f.privT[pkcs11.CKA_SENSITIVE], f.privT[pkcs11.CKA_EXTRACTABLE], f.privT[pkcs11.CKA_PRIVATE])
			}
			curveOID, _ := asn1.Marshal(gost3410.CurveByName(c).OID())
			if string(f.privT[pkcs11.CKA_GOSTR3410_PARAMS]) != string(curveOID) {
				t.Errorf("private template's parameter set %x", f.privT[pkcs11.CKA_GOSTR3410_PARAMS])
			}
			var pub *gost3410.PrivateKey
			for _, k := range f.keys {
				pub = k
			}
			want, _ := certreq.KeyID(pub.Public())
			if fmt.Sprintf("%x", id) != fmt.Sprintf("%x", want) {
				t.Errorf("key id %x, want %x", id, want)
			}
			g, err := gostx509.ParsePKIXPublicKey(spkiOf(t, csr))
			if err != nil || !g.Equal(pub.Public()) {
				t.Fatalf("the request's key is not the token's: %v", err)
			}
			in := filepath.Join(dir, c+".csr")
			os.WriteFile(in, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csr}), 0o600)
			cmd := exec.Command("openssl", "req", "-engine", "gost", "-in", in, "-verify", "-noout")
			cmd.Env = append(os.Environ(), "OPENSSL_CONF=/dev/null")
			if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "verify OK") {
				t.Fatalf("openssl req -verify: %v\n%s", err, out)
			}
		})
	}
}

// TestGenerateGOSTDeclined: the GOST key pair is destroyed when the
// request is not made.
func TestGenerateGOSTDeclined(t *testing.T) {
	f := &gostTokenAPI{keys: map[pkcs11.ObjectHandle]*gost3410.PrivateKey{}}
	m := &Module{Vendor: "fake", Path: "fake", ctx: f, calls: make(chan func())}
	go m.serve()
	defer close(m.calls)
	p := &Store{opts: Options{CallTimeout: time.Second, Now: time.Now}, modules: []*Module{m}}
	spec, _ := keystore.KeySpecByName("tc26-512-b")
	var calls atomic.Int32
	declined := errors.New("declined")
	err := p.GenerateKey(context.Background(), keystore.KeyRequest{Spec: spec}, pinOK(&calls), func(*keystore.NewKey) error { return declined })
	if !errors.Is(err, declined) || len(f.keys) != 0 {
		t.Errorf("%v, %d keys left", err, len(f.keys))
	}
}

// paramsetCurve names our curve for an engine parameter set.
func paramsetCurve(ps enginetest.Paramset) string {
	return map[string]string{
		"gost2012_256/A": "cryptopro-a", "gost2012_256/B": "cryptopro-b", "gost2012_256/C": "cryptopro-c",
		"gost2012_256/XA": "cryptopro-xcha", "gost2012_256/XB": "cryptopro-xchb",
		"gost2012_256/TCA": "tc26-256-a", "gost2012_256/TCB": "tc26-256-b", "gost2012_256/TCC": "tc26-256-c", "gost2012_256/TCD": "tc26-256-d",
		"gost2012_512/A": "tc26-512-a", "gost2012_512/B": "tc26-512-b", "gost2012_512/C": "tc26-512-c",
	}[ps.Algorithm+"/"+ps.Name]
}

// spkiOf returns the SubjectPublicKeyInfo of a DER request.
func spkiOf(t *testing.T, csr []byte) []byte {
	var req struct {
		Info struct {
			Version int
			Subject asn1.RawValue
			SPKI    asn1.RawValue
			Attrs   asn1.RawValue `asn1:"tag:0"`
		}
		Alg asn1.RawValue
		Sig asn1.BitString
	}
	if _, err := asn1.Unmarshal(csr, &req); err != nil {
		t.Fatal(err)
	}
	return req.Info.SPKI.FullBytes
}
