package poaweb

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/podpis/podpis/crypto/cms"
	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/internal/testpki"
	"github.com/podpis/podpis/login"
	"github.com/podpis/podpis/poa"
	"github.com/podpis/podpis/verify"
)

var (
	oidSNILS = asn1.ObjectIdentifier{1, 2, 643, 100, 3}
	oidINN   = asn1.ObjectIdentifier{1, 2, 643, 3, 131, 1, 1}
	oidINNLE = asn1.ObjectIdentifier{1, 2, 643, 100, 4}
	oidOGRN  = asn1.ObjectIdentifier{1, 2, 643, 100, 1}
	oidSN    = asn1.ObjectIdentifier{2, 5, 4, 4}
	oidGN    = asn1.ObjectIdentifier{2, 5, 4, 42}
)

type person struct {
	cert *x509.Certificate
	key  *gost3410.PrivateKey
}

// site is the handler behind a test server whose sessions are named by
// the "session" cookie: each person's is their surname.
type site struct {
	srv    *httptest.Server
	people map[string]person
	now    time.Time
}

func newSite(t *testing.T) *site {
	now := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	root := testpki.Root(t, gost3410.CurveTC26256A, "Тестовый УЦ", now)
	v, err := verify.New(verify.Config{Roots: []*x509.Certificate{root.Cert}, Revocation: verify.RevocationOff, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	s := &site{people: map[string]person{}, now: now}
	add := func(name, sn, gn, snils, inn, innle, ogrn string) {
		subj := pkix.Name{CommonName: sn + " " + gn, Organization: []string{"ООО «Ромашка»"},
			ExtraNames: []pkix.AttributeTypeAndValue{{Type: oidSN, Value: sn}, {Type: oidGN, Value: gn}, {Type: oidSNILS, Value: snils}, {Type: oidINN, Value: inn}}}
		if innle != "" {
			subj.ExtraNames = append(subj.ExtraNames, pkix.AttributeTypeAndValue{Type: oidINNLE, Value: innle}, pkix.AttributeTypeAndValue{Type: oidOGRN, Value: ogrn})
		} else {
			subj.Organization = nil
		}
		cert, key := root.Person(t, gost3410.CurveTC26256A, subj, now, nil)
		s.people[name] = person{cert, key}
	}
	add("petrova", "Петрова", "Мария Сергеевна", "98765432082", "500100732259", "7712345671", "1027700000008")
	add("ivanov", "Иванов", "Иван Иванович", "11223344595", "165001234562", "", "")
	add("sidorov", "Сидоров", "Пётр", "12345678964", "165007654394", "7707083893", "1027700132195")
	h, err := New(Config{Verifier: v, Now: func() time.Time { return now }, LoginURL: "/login",
		Identity: func(r *http.Request) (login.Identity, bool) {
			c, err := r.Cookie("session")
			if err != nil {
				return login.Identity{}, false
			}
			p, ok := s.people[c.Value]
			return login.IdentityOf(p.cert), ok
		}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/poa/", http.StripPrefix("/poa", h))
	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.srv.Close)
	return s
}

func (s *site) call(t *testing.T, who, path string, body any) (int, map[string]any) {
	t.Helper()
	method, rd := "GET", io.Reader(nil)
	if body != nil {
		b, _ := json.Marshal(body)
		method, rd = "POST", bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.srv.URL+"/poa/"+path, rd)
	if who != "" {
		req.AddCookie(&http.Cookie{Name: "session", Value: who})
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func goodForm() form {
	return form{KPP: "771201001", Representative: poa.Person{Surname: "Соколова", Name: "Марина", SNILS: "112-233-445 95", INN: "165001234562"},
		Powers: []string{"2_FNS02"}, Issued: "2026-11-30", Expires: "2027-11-29"}
}

// build has the server make the document and returns it.
func (s *site) build(t *testing.T, who string) []byte {
	t.Helper()
	code, out := s.call(t, who, "api/build", goodForm())
	if code != http.StatusOK {
		t.Fatalf("build: %d %v", code, out)
	}
	doc, err := base64.StdEncoding.DecodeString(out["xml"].(string))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func (s *site) sign(t *testing.T, who string, doc []byte) string {
	p := s.people[who]
	sig, err := cms.Sign(doc, p.cert, p.key, &cms.SignOptions{Detached: true})
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}

func TestSession(t *testing.T) {
	s := newSite(t)
	if code, out := s.call(t, "", "api/session", nil); code != http.StatusUnauthorized || out["login"] != "/login" {
		t.Errorf("no session: %d %v", code, out)
	}
	if code, out := s.call(t, "ivanov", "api/session", nil); code != http.StatusOK || out["principal"] != nil || out["notPrincipal"] == "" {
		t.Errorf("a person's certificate: %d %v", code, out)
	}
	code, out := s.call(t, "petrova", "api/session", nil)
	if code != http.StatusOK || out["principal"].(map[string]any)["innle"] != "7712345671" || out["today"] != "2026-11-30" {
		t.Errorf("the head: %d %v", code, out)
	}
}

func TestBuild(t *testing.T) {
	s := newSite(t)
	doc := s.build(t, "petrova")
	p, err := poa.Parse(doc)
	if err != nil {
		t.Fatal(err)
	}
	if p.Principal.INNLE != "7712345671" || p.Principal.Head.SNILS != "98765432082" || p.Representative.SNILS != "11223344595" {
		t.Errorf("built %+v", p)
	}
	cases := []struct {
		edit  func(*form)
		field string
	}{
		{func(f *form) { f.Representative.SNILS = "112-233-445 96" }, "representative.snils"},
		{func(f *form) { f.Representative.INN = "165001234563" }, "representative.inn"},
		{func(f *form) { f.KPP = "77120100" }, "principal.kpp"},
		{func(f *form) { f.Issued = "2026-11-29" }, "issued"},
		{func(f *form) { f.Expires = "2026-11-29" }, "expires"},
		{func(f *form) { f.Powers, f.Text = nil, "" }, "powers"},
		{func(f *form) { f.Powers = []string{"2_FNS9999"} }, "powers"},
	}
	for _, c := range cases {
		f := goodForm()
		c.edit(&f)
		code, out := s.call(t, "petrova", "api/build", f)
		if code != http.StatusUnprocessableEntity || out["code"] != "POA_INVALID" || out["field"] != c.field || out["message"] == "" {
			t.Errorf("%s: %d %v", c.field, code, out)
		}
	}
	// A person, not a head, cannot grant an organisation's powers.
	if code, out := s.call(t, "ivanov", "api/build", goodForm()); code != http.StatusForbidden || out["code"] != "POA_NOT_PRINCIPAL" {
		t.Errorf("a person's certificate: %d %v", code, out)
	}
	// The principal comes from the session, not the request.
	if code, _ := s.call(t, "petrova", "api/build", map[string]any{"kpp": "771201001", "principal": map[string]string{"innle": "7707083893"}}); code != http.StatusBadRequest {
		t.Errorf("a principal in the request: %d", code)
	}
}

func TestCheck(t *testing.T) {
	s := newSite(t)
	doc := s.build(t, "petrova")
	xml := base64.StdEncoding.EncodeToString(doc)

	code, out := s.call(t, "petrova", "api/check", map[string]string{"xml": xml, "signature": s.sign(t, "petrova", doc)})
	if code != http.StatusOK || !strings.HasSuffix(out["signatureName"].(string), ".xml.sig") || !strings.HasPrefix(out["fileName"].(string), "ON_EMCHD_20261130_") {
		t.Fatalf("the head's signature: %d %v", code, out)
	}
	// Attacks: a valid signature by someone else's certificate.
	for who, want := range map[string]string{"ivanov": "POA_PRINCIPAL_MISMATCH", "sidorov": "POA_PRINCIPAL_MISMATCH"} {
		code, out := s.call(t, "petrova", "api/check", map[string]string{"xml": xml, "signature": s.sign(t, who, doc)})
		if code != http.StatusUnprocessableEntity || out["code"] != want || !strings.Contains(out["message"].(string), "не от имени организации") {
			t.Errorf("signed by %s: %d %v", who, code, out)
		}
	}
	// Another organisation's head has the site check Petrova's valid
	// power of attorney in their own session: refused.
	code, out = s.call(t, "sidorov", "api/check", map[string]string{"xml": xml, "signature": s.sign(t, "petrova", doc)})
	if code != http.StatusUnprocessableEntity || out["code"] != "POA_PRINCIPAL_MISMATCH" {
		t.Errorf("another session: %d %v", code, out)
	}
	// Changed after signing.
	changed := bytes.Replace(doc, []byte("Соколова"), []byte("Соколов"), 1)
	code, out = s.call(t, "petrova", "api/check", map[string]string{"xml": base64.StdEncoding.EncodeToString(changed), "signature": s.sign(t, "petrova", doc)})
	if code != http.StatusUnprocessableEntity || out["code"] != "CONTENT_MISMATCH" {
		t.Errorf("changed: %d %v", code, out)
	}
	if code, _ := s.call(t, "", "api/check", map[string]string{"xml": xml, "signature": ""}); code != http.StatusUnauthorized {
		t.Errorf("no session: %d", code)
	}
}

func TestPageAndPolicy(t *testing.T) {
	s := newSite(t)
	for _, path := range []string{"", "app.js", "style.css", "podpis.js"} {
		resp, err := http.Get(s.srv.URL + "/poa/" + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
			t.Errorf("/poa/%s: %d, CSP %q", path, resp.StatusCode, resp.Header.Get("Content-Security-Policy"))
		}
	}
}

func TestConfig(t *testing.T) {
	id := func(*http.Request) (login.Identity, bool) { return login.Identity{}, false }
	v, _ := verify.New(verify.Config{Roots: []*x509.Certificate{{}}})
	for _, c := range []Config{{Identity: id}, {Verifier: v}, {Verifier: v, Identity: id, CAdES: "t"}, {Verifier: v, Identity: id, CAdES: "a"}} {
		if _, err := New(c); err == nil {
			t.Errorf("New(%+v) accepted", c)
		}
	}
	if _, err := New(Config{Verifier: v, Identity: id, CAdES: "xl1", TSA: "http://tsa.example.ru"}); err != nil {
		t.Error(err)
	}
}
