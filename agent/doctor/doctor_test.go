package doctor

import (
	"context"
	"crypto"
	"crypto/x509/pkix"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/podpis/podpis/agent/control"
	"github.com/podpis/podpis/agent/keystore"
	"github.com/podpis/podpis/agent/keystore/capi"
	"github.com/podpis/podpis/agent/keystore/pkcs11"
	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/internal/testdeps"
	"github.com/podpis/podpis/internal/testpki"
	"github.com/podpis/podpis/internal/testtoken"
)

var env *testtoken.Env

func TestMain(m *testing.M) {
	var err error
	env, err = testtoken.Setup()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	t := testpki.MainTB{}
	ca := testpki.Root(t, gost3410.CurveTC26512A, "CA", time.Now())
	cert, key := ca.Person(t, gost3410.CurveTC26256A, pkix.Name{CommonName: "Годный"}, time.Now(), nil)
	env.AddToSoftToken("good", key, cert)
	old, oldKey := ca.Person(t, gost3410.CurveTC26256A, pkix.Name{CommonName: "Просроченный"}, time.Now().AddDate(-2, 0, 0), nil)
	env.AddToSoftToken("old", oldKey, old)
	code := m.Run()
	env.Cleanup()
	os.Exit(code)
}

func codes(r *Report) map[string]Finding {
	out := map[string]Finding{}
	for _, f := range r.Findings {
		out[f.Code] = f
	}
	return out
}

// TestNoCSP: nothing installed, and CryptoPro installed without its PKCS#11
// module, are told apart.
func TestNoCSP(t *testing.T) {
	root := t.TempDir()
	r := Examine(context.Background(), Options{Candidates: []pkcs11.Candidate{}, Root: root})
	if f, ok := codes(r)["NO_PROVIDER"]; !ok || f.Title != "Не установлен криптопровайдер" || r.Ready {
		t.Fatalf("%+v", r.Findings)
	}
	if _, ok := codes(r)["CSP_WITHOUT_PKCS11"]; ok {
		t.Fatal("CryptoPro reported without its files")
	}
	os.MkdirAll(filepath.Join(root, "/opt/cprocsp/bin"), 0o755)
	r = Examine(context.Background(), Options{Candidates: []pkcs11.Candidate{}, Root: root})
	if f, ok := codes(r)["CSP_WITHOUT_PKCS11"]; !ok || f.Title != "КриптоПро CSP установлен, но без модуля PKCS#11" {
		t.Fatalf("%+v", r.Findings)
	}
}

// TestBrokenModule: a module that is there but does not load is
// MODULE_NOT_LOADABLE with the fix «Переустановите», and not also «Не
// установлен криптопровайдер», which would have the person install what
// is installed.
func TestBrokenModule(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "libbroken.so")
	os.WriteFile(bad, []byte("no library"), 0o644)
	r := Examine(context.Background(), Options{Candidates: []pkcs11.Candidate{{Vendor: "Рутокен", Path: bad, Explicit: true}}})
	if _, ok := codes(r)["MODULE_NOT_LOADABLE"]; !ok || r.Ready {
		t.Fatalf("%+v", r.Findings)
	}
	if _, ok := codes(r)["NO_PROVIDER"]; ok {
		t.Errorf("an installed, failing module reported as no provider: %+v", r.Findings)
	}
}

// TestHealthy: the soft token with a usable certificate makes login
// possible; its expired certificate is reported.
func TestHealthy(t *testing.T) {
	r := Examine(context.Background(), Options{Candidates: []pkcs11.Candidate{{Vendor: "podpis soft token", Path: env.SoftToken, Explicit: true}}})
	c := codes(r)
	if !r.Ready || c["READY"].Cause != "1 сертификат пригоден для входа." {
		t.Fatalf("%+v", r.Findings)
	}
	if _, ok := c["CERT_EXPIRED"]; !ok || len(r.Certificates) != 2 {
		t.Fatalf("%+v", r.Findings)
	}
}

func TestPlural(t *testing.T) {
	for n, want := range map[int]string{1: "1 a", 2: "2 b", 5: "5 c", 11: "11 c", 21: "21 a", 22: "22 b", 112: "112 c"} {
		if got := plural(n, "a", "b", "c"); got != want {
			t.Errorf("%d: %q", n, got)
		}
	}
}

// store is a key store besides PKCS#11, as the Windows CryptoAPI store is.
type store []*keystore.Certificate

func (s store) Name() string                                                  { return "store" }
func (s store) Certificates(context.Context) ([]*keystore.Certificate, error) { return s, nil }
func (s store) Signer(context.Context, string, keystore.PINFunc) (crypto.Signer, error) {
	return nil, keystore.ErrCertNotFound
}
func (s store) Close() error { return nil }

// TestStoreWithoutModules: certificates from a store that is not PKCS#11
// (CryptoAPI on Windows) make login possible with no module at all.
func TestStoreWithoutModules(t *testing.T) {
	ca := testpki.Root(t, gost3410.CurveTC26256A, "CA", time.Now())
	cert, _ := ca.Person(t, gost3410.CurveTC26256A, pkix.Name{CommonName: "Из хранилища"}, time.Now(), nil)
	r := Examine(context.Background(), Options{Candidates: []pkcs11.Candidate{}, Stores: []keystore.Store{store{keystore.Examine(cert, true, time.Now())}}})
	if _, bad := codes(r)["NO_PROVIDER"]; bad || !r.Ready || len(r.Certificates) != 1 {
		t.Fatalf("ready %v, findings %+v", r.Ready, r.Findings)
	}
}

// TestWindowsProviders: with CryptoAPI's registry, «Не установлен
// криптопровайдер» is told from "CryptoPro is there, its store is empty".
func TestWindowsProviders(t *testing.T) {
	registered := func(csps ...capi.InstalledCSP) func() ([]capi.InstalledCSP, error) {
		return func() ([]capi.InstalledCSP, error) { return csps, nil }
	}
	none := Options{Candidates: []pkcs11.Candidate{}, Stores: []keystore.Store{store{}},
		CSPs: registered(capi.InstalledCSP{Name: "Microsoft Enhanced RSA and AES Cryptographic Provider", Type: 24})}
	r := Examine(context.Background(), none)
	if f, ok := codes(r)["NO_PROVIDER"]; !ok || !strings.Contains(f.Cause, "не зарегистрирован ни один ГОСТ-криптопровайдер") {
		t.Errorf("no GOST CSP: %+v", r.Findings)
	}
	cp := none
	cp.CSPs = registered(capi.InstalledCSP{Name: "Crypto-Pro GOST R 34.10-2012 Cryptographic Service Provider", Type: 80})
	r = Examine(context.Background(), cp)
	if f, ok := codes(r)["NO_CERTIFICATES"]; !ok || !strings.HasPrefix(f.Title, "Crypto-Pro GOST R 34.10-2012") || r.Ready {
		t.Errorf("CryptoPro with an empty store: %+v", r.Findings)
	}
}

// TestAdvice: the advice for a machine with nothing to sign with names the
// CSP that is there, and only what is missing of it; names both CSPs when
// neither is; and never tells someone whose only module is a software
// token to insert a token into a USB port. It used to advise КриптоПро
// with ViPNet installed, and «Вставьте токен в USB-порт» to SoftHSM2 and
// soft token users.
func TestAdvice(t *testing.T) {
	softToken := []pkcs11.Candidate{{Vendor: env.SoftToken, Path: env.SoftToken, Explicit: true}}
	for _, c := range []struct {
		name    string
		markers []string // CSP installations on the machine
		cands   []pkcs11.Candidate
		removed bool // the soft token's token is out
		code    string
		want    []string // in the finding's text
		never   []string // in any finding's text
	}{
		{name: "nothing installed", code: "NO_PROVIDER",
			want:  []string{"КриптоПро CSP", "ViPNet CSP", "Рутокен"},
			never: []string{"USB"}},
		{name: "ViPNet installed without its PKCS#11 module", markers: []string{"/opt/itcs"}, code: "NO_PROVIDER",
			want:  []string{"ViPNet CSP", "компонент PKCS#11 ViPNet CSP"},
			never: []string{"КриптоПро", "USB"}},
		{name: "ViPNet says what it lacks", markers: []string{"/opt/itcs"}, code: "CSP_WITHOUT_PKCS11",
			want:  []string{"ViPNet CSP установлен, но без модуля PKCS#11"},
			never: []string{"КриптоПро"}},
		{name: "CryptoPro installed without its PKCS#11 module", markers: []string{"/opt/cprocsp/bin"}, code: "NO_PROVIDER",
			want:  []string{"КриптоПро CSP", "lsb-cprocsp-pkcs11"},
			never: []string{"ViPNet", "USB"}},
		{name: "a soft token without its token", cands: softToken, removed: true, code: "NO_TOKEN",
			want:  []string{"podpis soft token", "в программном токене нет инициализированного токена", "PODPIS_SOFTTOKEN_DIR"},
			never: []string{"USB", "pcscd", "Вставьте"}},
		{name: "a soft token with nothing on it", cands: softToken, removed: true, code: "NO_CERTIFICATES",
			want:  []string{"В программном токене нет сертификатов", "podpis soft token", "подключать к компьютеру нечего"},
			never: []string{"USB", "Вставьте", "podpis podpis"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			for _, m := range c.markers {
				os.MkdirAll(filepath.Join(root, m), 0o755)
			}
			env.Marker(".removed", c.removed)
			defer env.Marker(".removed", false)
			cands := c.cands
			if cands == nil {
				cands = []pkcs11.Candidate{}
			}
			r := Examine(context.Background(), Options{Candidates: cands, Root: root})
			f, ok := codes(r)[c.code]
			if !ok || r.Ready {
				t.Fatalf("no %s: %+v", c.code, r.Findings)
			}
			text := f.Title + " " + f.Cause + " " + f.Fix
			for _, w := range c.want {
				if !strings.Contains(text, w) {
					t.Errorf("%s lacks %q: %s", c.code, w, text)
				}
			}
			for _, f := range r.Findings {
				for _, n := range c.never {
					if s := f.Title + " " + f.Cause + " " + f.Fix; strings.Contains(s, n) {
						t.Errorf("%s says %q: %s", f.Code, n, s)
					}
				}
			}
		})
	}
}

// TestSoftHSMNoUSB: SoftHSM2, found where Debian installs it and named by
// the table as software, with an initialised token and no certificate, is
// advised to write one there, not to plug anything in; and its name is
// said once.
func TestSoftHSMNoUSB(t *testing.T) {
	if env.SoftHSM == "" {
		testdeps.Deps.Missing(t, "SoftHSM2 is not installed")
	}
	r := Examine(context.Background(), Options{Candidates: []pkcs11.Candidate{{Vendor: env.SoftHSM, Path: env.SoftHSM, Explicit: true}}})
	if len(r.Modules) != 1 || !r.Modules[0].Software || r.Modules[0].Name != "SoftHSM2" {
		t.Fatalf("modules: %+v", r.Modules)
	}
	f, ok := codes(r)["NO_CERTIFICATES"]
	if !ok || !strings.Contains(f.Title, "программном токене") {
		t.Fatalf("%+v", r.Findings)
	}
	for _, f := range r.Findings {
		if strings.Contains(f.Fix, "USB") || strings.Contains(f.Fix, "Вставьте") {
			t.Errorf("%s: %s", f.Code, f.Fix)
		}
	}
}

// TestFromStatus: the report made from the running agent's status judges
// what the agent serves: its certificates count (doctor never says «не
// найдены» while the agent serves some), a store besides PKCS#11 in the
// status is a provider, and an agent with nothing is NO_PROVIDER.
func TestFromStatus(t *testing.T) {
	ca := testpki.Root(t, gost3410.CurveTC26256A, "CA", time.Now())
	cert, _ := ca.Person(t, gost3410.CurveTC26256A, pkix.Name{CommonName: "Из агента"}, time.Now(), nil)
	served := []*keystore.Certificate{keystore.Examine(cert, true, time.Now())}
	soft := control.Module{Vendor: env.SoftToken, Name: "podpis soft token", Path: env.SoftToken, Software: true, Found: true, Loaded: true,
		Tokens: []control.Token{{Present: true, Label: "podpis soft token", PINCountLow: true}}}
	for _, c := range []struct {
		name  string
		st    control.Status
		ready bool
		code  string
	}{
		{"a module serving a certificate", control.Status{Modules: []control.Module{soft}, Certificates: served}, true, "PIN_COUNT_LOW"},
		{"a platform store serving one", control.Status{Modules: []control.Module{{Name: "Windows: Личное хранилище (CryptoAPI)", Found: true, Loaded: true}}, Certificates: served}, true, "READY"},
		{"nothing", control.Status{}, false, "NO_PROVIDER"},
		{"an empty soft token", control.Status{Modules: []control.Module{soft}}, false, "NO_CERTIFICATES"},
	} {
		r := FromStatus(context.Background(), &c.st, Options{Root: t.TempDir()})
		if r.Source != FromAgent || r.Ready != c.ready || len(r.Certificates) != len(c.st.Certificates) {
			t.Errorf("%s: source %s, ready %v, %d certificates", c.name, r.Source, r.Ready, len(r.Certificates))
		}
		if _, ok := codes(r)[c.code]; !ok {
			t.Errorf("%s: no %s in %+v", c.name, c.code, r.Findings)
		}
		if c.ready {
			if _, ok := codes(r)["NO_CERTIFICATES"]; ok {
				t.Errorf("%s: NO_CERTIFICATES while the agent serves a certificate", c.name)
			}
		}
	}
}

// TestLockedToken: a token locked by wrong PINs is said to be locked, once,
// with the way out (PUK), not lumped in with expired certificates.
func TestLockedToken(t *testing.T) {
	ca := testpki.Root(t, gost3410.CurveTC26256A, "CA", time.Now())
	cert, _ := ca.Person(t, gost3410.CurveTC26256A, pkix.Name{CommonName: "Заблокированный"}, time.Now(), nil)
	c := keystore.Examine(cert, true, time.Now())
	c.Token = "Rutoken ECP"
	c.Problems = append(c.Problems, keystore.ProblemTokenLocked)
	soft := control.Module{Vendor: env.SoftToken, Name: "podpis soft token", Path: env.SoftToken, Software: true, Found: true, Loaded: true,
		Tokens: []control.Token{{Present: true, Label: "Rutoken ECP", PINLocked: true}}}
	r := FromStatus(context.Background(), &control.Status{Modules: []control.Module{soft}, Certificates: []*keystore.Certificate{c}}, Options{Root: t.TempDir()})
	f, ok := codes(r)["PIN_LOCKED"]
	if !ok || r.Ready {
		t.Fatalf("ready %v, findings %+v", r.Ready, r.Findings)
	}
	if !strings.Contains(f.Title, "Rutoken ECP") || !strings.Contains(f.Fix, "PUK") {
		t.Errorf("PIN_LOCKED says %q / %q", f.Title, f.Fix)
	}
	if _, dup := codes(r)["CERT_PROBLEM"]; dup {
		t.Errorf("the locked token is also a nameless certificate problem: %+v", r.Findings)
	}
	if u := codes(r)["NO_USABLE_CERTIFICATE"]; strings.Contains(u.Cause, "Все найденные сертификаты истекли") {
		t.Errorf("a locked token is blamed on expiry: %q", u.Cause)
	}
}
