package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/podpis/podpis/agent"
	"github.com/podpis/podpis/agent/keystore"
	"github.com/podpis/podpis/agent/keystore/pkcs11"
	"github.com/podpis/podpis/agent/prompt"
	"github.com/podpis/podpis/agent/wsapi"
	"github.com/podpis/podpis/internal/testtoken"
	"github.com/podpis/podpis/verify"
)

// TestBrowserPrompts runs the page prompter through the real server: the
// "person" is an HTTPS client that opens the forwarding file, loads each
// page and posts the form as the browser would; an answer from another
// origin or without the page's cookie and token, a replayed answer and
// framing are refused.
func TestBrowserPrompts(t *testing.T) {
	defer env.ResetPIN()
	p, _ := pkcs11.New(context.Background(), pkcs11.Options{Modules: []string{env.SoftToken}, OnlyModules: true})
	tlsCfg, caCert, _ := LoadOrCreateTLS(t.TempDir(), time.Now())
	l, err := Listen("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	base := "https://" + l.Addr().String()
	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	jar, _ := cookiejar.New(nil)
	web := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	bare := &http.Client{Transport: web.Transport} // no cookies: not the browser that loaded the page
	var bp *prompt.Browser
	var pagesMu sync.Mutex
	var pages []string
	var answers sync.WaitGroup // the people answering pages
	forward := regexp.MustCompile(`url=([^"]+)"`)
	token := regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)
	answer := func(form url.Values) func(string) error {
		return func(path string) error {
			content, err := os.ReadFile(path)
			m := forward.FindStringSubmatch(string(content))
			if err != nil || m == nil || strings.Contains(path, "/prompt/") {
				t.Errorf("opened %q: %v %q", path, err, content)
				return err
			}
			u := html.UnescapeString(m[1])
			answers.Add(1)
			go func() {
				defer answers.Done()
				resp, err := web.Get(u)
				if err != nil {
					t.Error(err)
					return
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				pagesMu.Lock()
				pages = append(pages, string(body))
				pagesMu.Unlock()
				form := maps.Clone(form)
				if m := token.FindSubmatch(body); m != nil {
					form.Set("csrf", string(m[1]))
				}
				if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || resp.Header.Get("X-Frame-Options") != "DENY" {
					t.Errorf("prompt page may be framed: %q", csp)
				}
				// Another site posting the answer.
				evil, _ := http.NewRequest("POST", u, strings.NewReader(form.Encode()))
				evil.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				evil.Header.Set("Origin", "https://evil.example")
				if r, err := web.Do(evil); err != nil || r.StatusCode != http.StatusForbidden {
					t.Errorf("answer from another origin: %v %v", err, r)
				}
				post := func(c *http.Client) int {
					req, _ := http.NewRequest("POST", u, strings.NewReader(form.Encode()))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					req.Header.Set("Origin", base)
					r, err := c.Do(req)
					if err != nil {
						t.Error(err)
						return 0
					}
					r.Body.Close()
					return r.StatusCode
				}
				// The right Origin and token, but not the cookie of the
				// browser that loaded the page.
				if code := post(bare); code != http.StatusForbidden {
					t.Errorf("answer without the page's cookie: %d", code)
				}
				time.Sleep(bp.Settle)
				if code := post(web); code != http.StatusOK {
					t.Errorf("answer: %d", code)
				}
				if code := post(web); code != http.StatusNotFound {
					t.Errorf("replayed answer: %d", code)
				}
			}()
			return nil
		}
	}
	bp = &prompt.Browser{BaseURL: base, Dir: t.TempDir(), Settle: 300 * time.Millisecond}
	a := agent.New(agent.Config{Stores: []keystore.Store{p}, Prompter: bp})
	srv := &Server{API: wsapi.New(a), TLS: tlsCfg, Prompts: bp}
	go srv.Serve(l)
	defer srv.Shutdown(context.Background())
	h := &harness{addr: l.Addr().String(), ca: caCert}
	c := connect(t, h, "https://new.example", false)

	bp.Open = answer(url.Values{"choice": {"always"}})
	if r := c.call("certificates", nil); r.Error != nil {
		t.Fatalf("after «Разрешить всегда»: %+v", r.Error)
	}
	bp.Open = answer(url.Values{"choice": {"sign"}, "pin": {testtoken.PIN}, "save": {"on"}})
	v, _ := verify.New(verify.Config{Origins: []string{"https://new.example"}, Roots: []*x509.Certificate{ca.Cert}})
	ch, _ := v.IssueChallenge(context.Background(), "https://new.example")
	r := c.call("authenticate", wsapi.AuthenticateParams{Certificate: certID, Challenge: ch.Value})
	var res wsapi.AuthenticateResult
	if r.Error != nil || json.Unmarshal(r.Result.(json.RawMessage), &res) != nil {
		t.Fatalf("authenticate through the page: %+v", r.Error)
	}
	der, _ := base64.StdEncoding.DecodeString(res.CMS)
	if _, err := v.VerifyLogin(context.Background(), der, "https://new.example"); err != nil {
		t.Fatal(err)
	}
	// «Сохранить пароль»: the next login asks nothing.
	bp.Open = func(string) error { t.Error("asked again despite «Сохранить пароль»"); return nil }
	ch, _ = v.IssueChallenge(context.Background(), "https://new.example")
	if r := c.call("authenticate", wsapi.AuthenticateParams{Certificate: certID, Challenge: ch.Value}); r.Error != nil {
		t.Fatalf("second login: %+v", r.Error)
	}
	bp.Open = answer(url.Values{"choice": {"cancel"}})
	if r := c.call("sign", wsapi.SignParams{Certificate: certID, Data: "AA==", Description: "<b>Договор</b>"}); r.Error == nil || r.Error.Code != wsapi.UserCancelled {
		t.Fatalf("declined document: %+v", r.Error)
	}
	answers.Wait()
	pagesMu.Lock()
	joined := strings.Join(pages, "\n")
	pagesMu.Unlock()
	for _, want := range []string{"запрашивает доступ к сертификатам", "Сохранить пароль", "&lt;b&gt;Договор&lt;/b&gt;", "Агентов Агент", "вход на сайт"} {
		if !strings.Contains(joined, want) {
			t.Errorf("pages lack %q", want)
		}
	}
}
