package ssodemo_test

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/podpis/podpis/internal/enginetest"
	"github.com/podpis/podpis/sso/ssodemo"
	"github.com/podpis/podpis/sso/ssoweb"
)

// TestDemo: a site with ssoweb over the demo's stand-ins; a person logs
// in with Госуслуги by pressing «Войти» on the ESIA page, and links
// Telegram by pressing «Подтвердить» on Telegram's.
func TestDemo(t *testing.T) {
	enginetest.Require(t)
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	d, err := ssodemo.Start(base + "/sso")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	key := make([]byte, 32)
	rand.Read(key)
	h, err := ssoweb.New(ssoweb.Config{BaseURL: base + "/sso", ESIA: d.ESIA, Telegram: d.Telegram,
		TelegramBot: d.TelegramBot, TelegramScript: d.TelegramScript, CookieKey: key, Insecure: true,
		BrowserToken: func(r *http.Request) string {
			c, err := r.Cookie("pre")
			if err != nil {
				return ""
			}
			m := hmac.New(sha256.New, key)
			m.Write([]byte(c.Value))
			return hex.EncodeToString(m.Sum(nil))
		},
		Done: func(w http.ResponseWriter, r *http.Request, res ssoweb.Result) {
			json.NewEncoder(w).Encode(map[string]string{"purpose": res.Purpose, "subject": res.Identity.Subject, "name": res.Identity.Name, "code": res.Code})
		}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/sso/", h)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "pre", Value: "b1", Path: "/"})
		r.AddCookie(&http.Cookie{Name: "pre", Value: "b1"})
		widget, _ := h.TelegramWidget(r, ssoweb.Link)
		io.WriteString(w, `<a href="`+html.EscapeString(h.ESIAStartURL(r, ssoweb.Login))+`">Госуслуги</a>`+string(widget))
	})
	srv.Config.Handler = mux
	srv.Start()
	defer srv.Close()

	jar, _ := cookiejar.New(nil)
	b := &http.Client{Jar: jar}
	get := func(u string) string {
		resp, err := b.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return string(body)
	}
	post := func(u string, form url.Values) map[string]string {
		resp, err := b.PostForm(u, form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]string
		body, _ := io.ReadAll(resp.Body)
		if err := json.Unmarshal(body, &out); err != nil {
			t.Fatalf("%s: %s", u, body)
		}
		return out
	}
	attr := func(page, re string) string {
		m := regexp.MustCompile(re).FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("no %s in %s", re, page)
		}
		return html.UnescapeString(m[1])
	}
	site := get(base + "/")

	esiaPage := get(attr(site, `href="([^"]+)"`))
	if !strings.Contains(esiaPage, "Петров Иван Сергеевич") {
		t.Fatalf("ESIA page: %s", esiaPage)
	}
	got := post(d.ESIAURL+"/aas/oauth2/ac/confirm", url.Values{"pending": {attr(esiaPage, `name="pending" value="([0-9a-f]+)"`)}, "action": {"allow"}})
	if got["purpose"] != "login" || got["subject"] != "1000299654" || got["name"] != "Петров Иван Сергеевич" {
		t.Fatalf("ESIA login: %v", got)
	}

	if !strings.Contains(get(d.TelegramScript), "Войти через Telegram") {
		t.Fatal("no widget script")
	}
	q := url.Values{"bot": {attr(site, `data-telegram-login="([^"]+)"`)}, "return_to": {attr(site, `data-auth-url="([^"]+)"`)}}
	tgPage := get(d.TelegramURL + "/auth?" + q.Encode())
	got = post(d.TelegramURL+"/auth", url.Values{"pending": {attr(tgPage, `name="pending" value="([0-9a-f]+)"`)}, "action": {"accept"}})
	if got["purpose"] != "link" || got["subject"] != "7001002003" || got["name"] != "Анна Смирнова" {
		t.Fatalf("Telegram link: %v", got)
	}
}
