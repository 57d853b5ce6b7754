package pkcs11

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"math/big"
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
	"github.com/podpis/podpis/crypto/cms"
	"github.com/podpis/podpis/internal/enginetest"
	"github.com/podpis/podpis/internal/testtoken"
	"github.com/podpis/podpis/verify"
)

const hsmToken = "podpis-test"

func requireSoftHSM(t *testing.T) {
	t.Helper()
	if setupErr != nil {
		t.Fatal(setupErr)
	}
	if env.SoftHSM == "" {
		t.Skip("SoftHSM2 is not installed (Debian softhsm2)")
	}
}

func moduleAt(t *testing.T, p *Store, path string) *Module {
	t.Helper()
	for _, m := range p.modules {
		if m.Path == path {
			return m
		}
	}
	t.Fatalf("module %s not loaded", path)
	return nil
}

// tokenObjects lists, logged in, the objects of the first token of a
// module with the given class (and CKA_ID, when id is not nil), each
// with the attributes asked.
func tokenObjects(t *testing.T, m *Module, class uint, id []byte, attrs ...uint) []map[uint][]byte {
	t.Helper()
	var out []map[uint][]byte
	err := m.call(context.Background(), 10*time.Second, func(a api) error {
		slots, err := a.GetSlotList(true)
		if err != nil {
			return err
		}
		sh, err := a.OpenSession(slots[0], pkcs11.CKF_SERIAL_SESSION)
		if err != nil {
			return err
		}
		defer a.CloseSession(sh)
		if err := a.Login(sh, pkcs11.CKU_USER, testtoken.PIN); err != nil && !isRV(err, pkcs11.CKR_USER_ALREADY_LOGGED_IN) {
			return err
		}
		defer a.Logout(sh)
		tmpl := []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_CLASS, class)}
		if id != nil {
			tmpl = append(tmpl, pkcs11.NewAttribute(pkcs11.CKA_ID, id))
		}
		objs, err := findAll(a, sh, tmpl)
		for _, o := range objs {
			vals := map[uint][]byte{}
			for _, typ := range attrs {
				vals[typ] = attr(a, sh, o, typ)
			}
			out = append(out, vals)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// countAll counts the token's keys and certificates.
func countAll(t *testing.T, m *Module) int {
	n := 0
	for _, c := range []uint{pkcs11.CKO_PRIVATE_KEY, pkcs11.CKO_PUBLIC_KEY, pkcs11.CKO_CERTIFICATE} {
		n += len(tokenObjects(t, m, c, nil))
	}
	return n
}

// destroyID removes the objects with a CKA_ID from the first token, so that
// the shared SoftHSM2 token is as other tests expect it.
func destroyID(t *testing.T, m *Module, id []byte) {
	m.call(context.Background(), 10*time.Second, func(a api) error {
		slots, _ := a.GetSlotList(true)
		sh, err := a.OpenSession(slots[0], pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION)
		if err != nil {
			return err
		}
		defer a.CloseSession(sh)
		a.Login(sh, pkcs11.CKU_USER, testtoken.PIN)
		defer a.Logout(sh)
		objs, _ := findAll(a, sh, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_ID, id)})
		for _, o := range objs {
			a.DestroyObject(sh, o)
		}
		return nil
	})
}

// testCA issues certificates from requests as a CA would: from the
// request's key and subject, with the requested extensions.
type testCA struct {
	cert *x509.Certificate
	key  crypto.Signer
}

func newTestCA(t *testing.T) *testCA {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Тестовый УЦ"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Public(), k)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return &testCA{c, k}
}

func (ca *testCA) issue(t *testing.T, csrDER []byte) *x509.Certificate {
	t.Helper()
	csr, err := x509.ParseCertificateRequest(csrDER)
	if err != nil {
		t.Fatal(err)
	}
	if err := csr.CheckSignature(); err != nil {
		t.Fatalf("the request's signature: %v", err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: csr.Subject, NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0),
		ExtraExtensions: csr.Extensions}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, csr.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c
}

func request(t *testing.T) *certreq.Request {
	s, err := certreq.ParseSubject("CN=Иванов Иван Иванович,SNILS=11223344595,INN=500100732259,C=RU")
	if err != nil {
		t.Fatal(err)
	}
	return &certreq.Request{Subject: s}
}

// TestGenerateRequestInstall is the whole way on SoftHSM2 for RSA and
// ECDSA: a key pair generated on the token, never exportable, under the
// id of its public key; a request signed by it; the CA's certificate
// installed next to it; the certificate listed with its key and signing.
// Installing it again is refused.
func TestGenerateRequestInstall(t *testing.T) {
	requireSoftHSM(t)
	p := openStore(t, 0)
	ctx := context.Background()
	hsm := moduleAt(t, p, env.SoftHSM)
	ca := newTestCA(t)
	for _, name := range []string{"ecdsa-p256", "rsa2048"} {
		t.Run(name, func(t *testing.T) {
			spec, ok := keystore.KeySpecByName(name)
			if !ok {
				t.Fatal(name)
			}
			var calls atomic.Int32
			var csr, id []byte
			err := p.GenerateKey(ctx, keystore.KeyRequest{Spec: spec, Token: hsmToken, Label: "Иванов И. И. " + name}, pinOK(&calls), func(k *keystore.NewKey) (err error) {
				id = k.ID
				csr, err = certreq.Create(nil, request(t), k.Signer)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { destroyID(t, hsm, id) })
			if calls.Load() != 1 {
				t.Errorf("PIN asked %d times, want once", calls.Load())
			}
			cert := ca.issue(t, csr)
			want, _ := certreq.KeyID(cert.PublicKey)
			if hex.EncodeToString(id) != hex.EncodeToString(want) {
				t.Errorf("CKA_ID %x, want the key id %x", id, want)
			}
			privs := tokenObjects(t, hsm, pkcs11.CKO_PRIVATE_KEY, id, pkcs11.CKA_SENSITIVE, pkcs11.CKA_EXTRACTABLE, pkcs11.CKA_LABEL, pkcs11.CKA_TOKEN)
			if len(privs) != 1 {
				t.Fatalf("%d private keys under the id", len(privs))
			}
			if privs[0][pkcs11.CKA_SENSITIVE][0] != 1 || privs[0][pkcs11.CKA_EXTRACTABLE][0] != 0 || privs[0][pkcs11.CKA_TOKEN][0] != 1 {
				t.Errorf("private key: sensitive %x, extractable %x, token %x", privs[0][pkcs11.CKA_SENSITIVE], privs[0][pkcs11.CKA_EXTRACTABLE], privs[0][pkcs11.CKA_TOKEN])
			}
			if got := string(privs[0][pkcs11.CKA_LABEL]); got != "Иванов И. И. "+name {
				t.Errorf("label %q", got)
			}

			calls.Store(0)
			kc, err := p.InstallCertificate(ctx, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), pinOK(&calls))
			if err != nil {
				t.Fatal(err)
			}
			if kc.Token != hsmToken || !kc.HasKey {
				t.Errorf("installed: %+v", kc)
			}
			objs := tokenObjects(t, hsm, pkcs11.CKO_CERTIFICATE, id, pkcs11.CKA_SUBJECT, pkcs11.CKA_ISSUER, pkcs11.CKA_SERIAL_NUMBER, pkcs11.CKA_LABEL)
			if len(objs) != 1 || string(objs[0][pkcs11.CKA_SUBJECT]) != string(cert.RawSubject) ||
				string(objs[0][pkcs11.CKA_ISSUER]) != string(cert.RawIssuer) || len(objs[0][pkcs11.CKA_SERIAL_NUMBER]) == 0 {
				t.Fatalf("certificate objects under the key's id: %v", objs)
			}

			certs, _ := p.Certificates(ctx)
			var listed *keystore.Certificate
			for _, c := range certs {
				if c.Cert.Equal(cert) {
					listed = c
				}
			}
			if listed == nil || !listed.HasKey {
				t.Fatalf("the installed certificate is not listed with its key: %+v", listed)
			}
			signer, err := p.Signer(ctx, listed.ID, pinOK(&calls))
			if err != nil {
				t.Fatal(err)
			}
			msg := []byte("заявление")
			sig, err := cms.Sign(msg, cert, signer, nil)
			if err != nil {
				t.Fatal(err)
			}
			v, err := verify.New(verify.Config{Roots: []*x509.Certificate{ca.cert}, Revocation: verify.RevocationOff})
			if err != nil {
				t.Fatal(err)
			}
			if res, err := v.VerifySignature(ctx, sig, nil); err != nil || res.Identity.Thumbprint != listed.ID {
				t.Errorf("the signature of the installed certificate's key: %v", err)
			}

			_, err = p.InstallCertificate(ctx, cert.Raw, pinOK(&calls))
			if !errors.Is(err, keystore.ErrAlreadyInstalled) {
				t.Errorf("installing twice: %v, want ALREADY_INSTALLED", err)
			}
			if n := len(tokenObjects(t, hsm, pkcs11.CKO_CERTIFICATE, id)); n != 1 {
				t.Errorf("%d certificates after installing twice", n)
			}
		})
	}
}

// TestInstallBundle: a PKCS#7 chain (as openssl crl2pkcs7 writes a CA's
// .p7b) installs its end-entity certificate, in DER and in PEM.
func TestInstallBundle(t *testing.T) {
	requireSoftHSM(t)
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl is not installed")
	}
	p := openStore(t, 0)
	ctx := context.Background()
	hsm := moduleAt(t, p, env.SoftHSM)
	ca := newTestCA(t)
	for _, form := range []string{"DER", "PEM"} {
		var calls atomic.Int32
		var csr, id []byte
		spec, _ := keystore.KeySpecByName("ecdsa-p256")
		err := p.GenerateKey(ctx, keystore.KeyRequest{Spec: spec, Token: hsmToken}, pinOK(&calls), func(k *keystore.NewKey) (err error) {
			id = k.ID
			csr, err = certreq.Create(nil, request(t), k.Signer)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { destroyID(t, hsm, id) })
		leaf := ca.issue(t, csr)
		dir := t.TempDir()
		chain := filepath.Join(dir, "chain.pem")
		os.WriteFile(chain, append(pemCert(ca.cert), pemCert(leaf)...), 0o600)
		p7b := filepath.Join(dir, "chain.p7b")
		if out, err := exec.Command("openssl", "crl2pkcs7", "-nocrl", "-certfile", chain, "-outform", form, "-out", p7b).CombinedOutput(); err != nil {
			t.Fatalf("openssl crl2pkcs7: %v\n%s", err, out)
		}
		data, _ := os.ReadFile(p7b)
		kc, err := p.InstallCertificate(ctx, data, pinOK(&calls))
		if err != nil {
			t.Fatalf("%s bundle: %v", form, err)
		}
		if !kc.Cert.Equal(leaf) {
			t.Errorf("%s bundle installed %s, want the end-entity certificate", form, kc.Cert.Subject)
		}
		if n := len(tokenObjects(t, hsm, pkcs11.CKO_CERTIFICATE, id)); n != 1 {
			t.Errorf("%s bundle: %d certificates under the key's id", form, n)
		}
	}
}

// TestInstallRefused: what is no certificate, a certificate whose key no
// token holds, and a bundle of CAs only are refused with their codes, and
// the token is left as it was, with no PIN asked.
func TestInstallRefused(t *testing.T) {
	requireSoftHSM(t)
	p := openStore(t, 0)
	hsm := moduleAt(t, p, env.SoftHSM)
	before := countAll(t, hsm)
	ca := newTestCA(t)
	elsewhere, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(5), Subject: pkix.Name{CommonName: "Чужой ключ"}, NotBefore: now, NotAfter: now.AddDate(1, 0, 0)}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, elsewhere.Public(), ca.key)
	gostElsewhere, _ := gostCA.Person(t, curveByName("tc26-256-a"), pkix.Name{CommonName: "ГОСТ, чужой"}, now, nil)
	for _, tt := range []struct {
		name string
		data []byte
		want error
	}{
		{"key elsewhere", der, keystore.ErrNoMatchingKey},
		{"GOST key elsewhere", pemCert(gostElsewhere), keystore.ErrNoMatchingKey},
		{"garbage", []byte("это не сертификат"), keystore.ErrBadCertificate},
		{"empty", nil, keystore.ErrBadCertificate},
		{"truncated DER", der[:len(der)/2], keystore.ErrBadCertificate},
		{"a PEM key", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1, 2, 3}}), keystore.ErrBadCertificate},
		{"a CA alone", pemCert(ca.cert), keystore.ErrBadCertificate},
	} {
		var calls atomic.Int32
		_, err := p.InstallCertificate(context.Background(), tt.data, pinOK(&calls))
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
		if calls.Load() != 0 {
			t.Errorf("%s: PIN asked", tt.name)
		}
	}
	if after := countAll(t, hsm); after != before {
		t.Errorf("%d objects before, %d after", before, after)
	}
}

// TestGenerateLeavesNothing: a wrong PIN makes no key (and is not
// retried); a request the person declines, or that fails after the key
// exists, destroys the key pair.
func TestGenerateLeavesNothing(t *testing.T) {
	requireSoftHSM(t)
	p := openStore(t, 0)
	hsm := moduleAt(t, p, env.SoftHSM)
	ctx := context.Background()
	spec, _ := keystore.KeySpecByName("ecdsa-p256")
	before := countAll(t, hsm)

	var calls atomic.Int32
	wrong := keystore.AskOnce(func(ctx context.Context, req keystore.PINRequest) ([]byte, bool, error) {
		calls.Add(1)
		return []byte("0000"), false, nil
	})
	used := false
	err := p.GenerateKey(ctx, keystore.KeyRequest{Spec: spec, Token: hsmToken}, wrong, func(*keystore.NewKey) error { used = true; return nil })
	if !errors.Is(err, keystore.ErrPINIncorrect) || used || calls.Load() != 1 {
		t.Errorf("wrong PIN: %v, used %v, asked %d times", err, used, calls.Load())
	}
	if after := countAll(t, hsm); after != before {
		t.Errorf("wrong PIN: %d objects before, %d after", before, after)
	}

	declined := errors.New("the person declined")
	err = p.GenerateKey(ctx, keystore.KeyRequest{Spec: spec, Token: hsmToken}, pinOK(&calls), func(k *keystore.NewKey) error { return declined })
	if !errors.Is(err, declined) {
		t.Errorf("declined: %v", err)
	}
	if after := countAll(t, hsm); after != before {
		t.Errorf("declined: %d objects before, %d after", before, after)
	}
	// Declined after something else logged the token out meanwhile
	// (tokenObjects logs in and out): the private key is found again.
	var id []byte
	err = p.GenerateKey(ctx, keystore.KeyRequest{Spec: spec, Token: hsmToken}, pinOK(&calls), func(k *keystore.NewKey) error {
		id = k.ID
		if n := len(tokenObjects(t, hsm, pkcs11.CKO_PUBLIC_KEY, k.ID)); n != 1 {
			t.Errorf("while in use: %d public keys under the new id", n)
		}
		return declined
	})
	if !errors.Is(err, declined) {
		t.Errorf("declined: %v", err)
	}
	if after := countAll(t, hsm); after != before {
		t.Errorf("declined: %d objects before, %d after (id %x)", before, after, id)
	}

	cancel := keystore.AskOnce(func(ctx context.Context, req keystore.PINRequest) ([]byte, bool, error) {
		return nil, false, errors.New("closed the window")
	})
	err = p.GenerateKey(ctx, keystore.KeyRequest{Spec: spec, Token: hsmToken}, cancel, func(*keystore.NewKey) error { return nil })
	if !errors.Is(err, keystore.ErrCancelled) {
		t.Errorf("PIN window closed: %v", err)
	}
	if after := countAll(t, hsm); after != before {
		t.Errorf("cancelled: %d objects before, %d after", before, after)
	}
}

// TestGenerateRefused: a token that does not offer the mechanism (SoftHSM2
// has no GOST) is NO_KEYGEN with no PIN asked; an unknown token or key is
// refused too.
func TestGenerateRefused(t *testing.T) {
	requireSoftHSM(t)
	p := openStore(t, 0)
	ctx := context.Background()
	var calls atomic.Int32
	use := func(*keystore.NewKey) error { t.Error("use called"); return nil }
	for _, tt := range []struct {
		name string
		req  keystore.KeyRequest
		want error
	}{
		{"GOST 512 on SoftHSM2", keystore.KeyRequest{Spec: keystore.KeySpec{Algorithm: keystore.KeyGOST, Curve: curveByName("tc26-512-a")}, Token: hsmToken}, keystore.ErrNoKeygen},
		{"GOST 256 on SoftHSM2", keystore.KeyRequest{Spec: keystore.KeySpec{Algorithm: keystore.KeyGOST, Curve: curveByName("cryptopro-a")}, Token: hsmToken}, keystore.ErrNoKeygen},
		{"RSA 1024", keystore.KeyRequest{Spec: keystore.KeySpec{Algorithm: keystore.KeyRSA, Bits: 1024}, Token: hsmToken}, keystore.ErrNoKeygen},
		{"no such token", keystore.KeyRequest{Spec: keystore.KeySpec{Algorithm: keystore.KeyECDSA}, Token: "нет такого"}, keystore.ErrTokenNotFound},
		{"two tokens, none named", keystore.KeyRequest{Spec: keystore.KeySpec{Algorithm: keystore.KeyECDSA}}, keystore.ErrTokenNotFound},
	} {
		err := p.GenerateKey(ctx, tt.req, pinOK(&calls), use)
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
	if calls.Load() != 0 {
		t.Errorf("PIN asked %d times for keys that cannot be made", calls.Load())
	}
}

// refusingAPI is a module that lists GOST key generation but refuses it,
// as a token whose applet lacks it does.
type refusingAPI struct {
	fakeAPI
	rv       uint
	loggedIn bool
}

func (f *refusingAPI) GetSlotList(bool) ([]uint, error) { return []uint{0}, nil }
func (f *refusingAPI) GetTokenInfo(uint) (pkcs11.TokenInfo, error) {
	return pkcs11.TokenInfo{Label: "Рутокен ЭЦП", Flags: pkcs11.CKF_LOGIN_REQUIRED | pkcs11.CKF_TOKEN_INITIALIZED}, nil
}
func (f *refusingAPI) GetMechanismList(uint) ([]*pkcs11.Mechanism, error) {
	return []*pkcs11.Mechanism{pkcs11.NewMechanism(ckmGOSTR3410KeyPairGen, nil)}, nil
}
func (f *refusingAPI) Login(pkcs11.SessionHandle, uint, string) error { f.loggedIn = true; return nil }
func (f *refusingAPI) Logout(pkcs11.SessionHandle) error              { f.loggedIn = false; return nil }
func (f *refusingAPI) GenerateKeyPair(pkcs11.SessionHandle, []*pkcs11.Mechanism, []*pkcs11.Attribute, []*pkcs11.Attribute) (pkcs11.ObjectHandle, pkcs11.ObjectHandle, error) {
	return 0, 0, pkcs11.Error(f.rv)
}

func TestGenerateRefusedByModule(t *testing.T) {
	for _, rv := range []uint{pkcs11.CKR_MECHANISM_INVALID, pkcs11.CKR_FUNCTION_NOT_SUPPORTED, pkcs11.CKR_TEMPLATE_INCONSISTENT} {
		f := &refusingAPI{rv: rv}
		m := &Module{Vendor: "fake", Path: "fake", ctx: f, calls: make(chan func())}
		go m.serve()
		p := &Store{opts: Options{CallTimeout: time.Second, Now: time.Now}, modules: []*Module{m}}
		var calls atomic.Int32
		err := p.GenerateKey(context.Background(), keystore.KeyRequest{Spec: keystore.KeySpec{Algorithm: keystore.KeyGOST, Curve: curveByName("tc26-256-a")}},
			pinOK(&calls), func(*keystore.NewKey) error { return nil })
		if !errors.Is(err, keystore.ErrNoKeygen) {
			t.Errorf("0x%x: %v, want NO_KEYGEN", rv, err)
		}
		if f.loggedIn {
			t.Errorf("0x%x: left logged in", rv)
		}
		close(m.calls)
	}
}

// TestGenerateGOST generates a key on every GOST token that can, on every
// parameter set, and takes it the whole way: request verified by OpenSSL's GOST
// engine, certificate issued by openssl x509 -req -engine gost,
// installed, signing a CMS that openssl cms -verify accepts. Tokens
// that do not generate GOST keys yet (podpis's soft token before it learns
// to) are skipped with the reason.
func TestGenerateGOST(t *testing.T) {
	if setupErr != nil {
		t.Fatal(setupErr)
	}
	enginetest.Require(t)
	p := openStore(t, 0)
	ctx := context.Background()
	dir := t.TempDir()
	caKey := enginetest.GenKey(t, dir, enginetest.Paramset{Algorithm: "gost2012_256", Name: "TCA"})
	caCert := filepath.Join(dir, "ca.pem")
	enginetest.Run(t, nil, "req", "-engine", "gost", "-x509", "-new", "-key", caKey, "-subj", "/CN=GOST CA", "-days", "30", "-out", caCert)
	for _, tok := range []string{"podpis soft token"} {
		for _, ps := range enginetest.Paramsets {
			curve := paramsetCurve(ps)
			t.Run(tok+"/"+curve, func(t *testing.T) {
				spec, _ := keystore.KeySpecByName(curve)
				var calls atomic.Int32
				var csr []byte
				err := p.GenerateKey(ctx, keystore.KeyRequest{Spec: spec, Token: tok, Label: "ГОСТ " + curve}, pinOK(&calls), func(k *keystore.NewKey) (err error) {
					// The other tests count what the shared soft token holds.
					t.Cleanup(func() { destroyID(t, moduleAt(t, p, env.SoftToken), k.ID) })
					csr, err = certreq.Create(nil, request(t), k.Signer)
					return err
				})
				if err != nil {
					t.Fatal(err)
				}
				in := filepath.Join(dir, curve+".csr")
				os.WriteFile(in, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csr}), 0o600)
				// OpenSSL 3 exits 0 when the self-signature fails: its verdict is read.
				cmd := exec.Command("openssl", "req", "-engine", "gost", "-in", in, "-verify", "-noout")
				cmd.Env = append(os.Environ(), "OPENSSL_CONF=/dev/null")
				if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "verify OK") {
					t.Fatalf("openssl req -verify: %v\n%s", err, out)
				}
				certPath := filepath.Join(dir, curve+".pem")
				enginetest.Run(t, nil, "x509", "-req", "-engine", "gost", "-in", in, "-CA", caCert, "-CAkey", caKey,
					"-days", "30", "-copy_extensions", "copy", "-set_serial", "9", "-out", certPath)
				data, _ := os.ReadFile(certPath)
				kc, err := p.InstallCertificate(ctx, data, pinOK(&calls))
				if err != nil {
					t.Fatal(err)
				}
				signer, err := p.Signer(ctx, kc.ID, pinOK(&calls))
				if err != nil {
					t.Fatal(err)
				}
				msg := []byte("документ")
				sig, err := cms.Sign(msg, kc.Cert, signer, &cms.SignOptions{Detached: true})
				if err != nil {
					t.Fatal(err)
				}
				sigPath, msgPath := filepath.Join(dir, curve+".p7s"), filepath.Join(dir, curve+".txt")
				os.WriteFile(sigPath, sig, 0o600)
				os.WriteFile(msgPath, msg, 0o600)
				enginetest.Run(t, nil, "cms", "-verify", "-engine", "gost", "-inform", "DER", "-in", sigPath, "-content", msgPath,
					"-CAfile", caCert, "-binary", "-purpose", "any", "-out", os.DevNull)
			})
		}
	}
}

// TestParseCertificates: the forms a CA hands a certificate out in, each
// giving the end-entity certificate whatever the order of the chain.
func TestParseCertificates(t *testing.T) {
	ca := newTestCA(t)
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(3), Subject: pkix.Name{CommonName: "Иванов"}, NotBefore: now, NotAfter: now.AddDate(1, 0, 0)}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, k.Public(), ca.key)
	leaf, _ := x509.ParseCertificate(der)
	p7 := certsOnly(t, ca.cert, leaf)
	b64 := func(b []byte) []byte { return []byte(base64.StdEncoding.EncodeToString(b)) }
	for _, tt := range []struct {
		name string
		data []byte
	}{
		{"DER", der},
		{"PEM", pemCert(leaf)},
		{"PEM after a preamble", append([]byte("Bag Attributes\n    localKeyID: 01\nsubject=CN = Иванов\n"), pemCert(leaf)...)},
		{"PEM chain, CA first", append(pemCert(ca.cert), pemCert(leaf)...)},
		{"PEM chain, CA last", append(pemCert(leaf), pemCert(ca.cert)...)},
		{"bare base64", b64(der)},
		{"bare base64 in lines", []byte(strings.Join([]string{string(b64(der)[:40]), string(b64(der)[40:])}, "\r\n"))},
		{"PKCS#7 DER", p7},
		{"PKCS#7 PEM", pem.EncodeToMemory(&pem.Block{Type: "PKCS7", Bytes: p7})},
		{"PKCS#7 base64", b64(p7)},
	} {
		got, others, err := ParseCertificates(tt.data)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if !got.Equal(leaf) {
			t.Errorf("%s: %s, want the end-entity certificate", tt.name, got.Subject)
		}
		if strings.Contains(tt.name, "chain") || strings.Contains(tt.name, "PKCS#7") {
			if len(others) != 1 || !others[0].Equal(ca.cert) {
				t.Errorf("%s: others %d", tt.name, len(others))
			}
		}
	}
}

// certsOnly is a degenerate SignedData (RFC 5652 5.1: no signers) holding
// certs, as a CA's .p7b.
func certsOnly(t *testing.T, certs ...*x509.Certificate) []byte {
	t.Helper()
	var raws []asn1.RawValue
	for _, c := range certs {
		raws = append(raws, asn1.RawValue{FullBytes: c.Raw})
	}
	type signedData struct {
		Version          int
		DigestAlgorithms asn1.RawValue
		EncapContentInfo struct{ ContentType asn1.ObjectIdentifier }
		Certificates     []asn1.RawValue `asn1:"optional,tag:0,set"`
		SignerInfos      asn1.RawValue
	}
	emptySet := asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true}
	sd := signedData{Version: 1, DigestAlgorithms: emptySet, Certificates: raws, SignerInfos: emptySet}
	sd.EncapContentInfo.ContentType = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	inner, err := asn1.Marshal(sd)
	if err != nil {
		t.Fatal(err)
	}
	// encoding/asn1 drops an explicit tag around a RawValue's FullBytes:
	// the [0] is written by hand.
	out, err := asn1.Marshal(struct {
		ContentType asn1.ObjectIdentifier
		Content     asn1.RawValue
	}{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}, asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: inner}})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
