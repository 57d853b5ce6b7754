package telegramstand_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/podpis/podpis/internal/testdeps"
	"github.com/podpis/podpis/sso/telegram"
	"github.com/podpis/podpis/sso/telegram/telegramstand"
)

const token = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0" // made up for the tests

var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// site is a page with the widget, pointed at the stand, and the auth URL
// that verifies what comes back with sso/telegram.
func site(t *testing.T, standURL string) (*httptest.Server, chan *telegram.User) {
	v, err := telegram.New(telegram.Config{BotToken: token})
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan *telegram.User, 1)
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		html, err := telegram.Widget{Bot: "podpis_login_bot", AuthURL: base + "/telegram/login", ScriptURL: standURL + telegramstand.WidgetPath}.HTML()
		if err != nil {
			t.Error(err)
		}
		fmt.Fprintf(w, `<!doctype html><html lang="ru"><head><meta charset="utf-8"><title>Вход</title></head>
<body style="font:16px system-ui,sans-serif;background:#f1f3f6;margin:0"><main style="max-width:420px;margin:64px auto;background:#fff;border-radius:12px;padding:28px">
<h1 style="font-size:22px;margin:0 0 16px">Вход в личный кабинет</h1><p style="color:#5b6473">или авторизуйтесь через</p>%s</main></body></html>`, html)
	})
	mux.HandleFunc("GET /telegram/login", func(w http.ResponseWriter, r *http.Request) {
		u, err := v.Verify(r.Context(), r.URL.Query())
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		got <- u
		fmt.Fprintf(w, "Вы вошли: %s", u.FirstName)
	})
	srv.Config.Handler = mux
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, got
}

func newStand(t *testing.T) *httptest.Server {
	st, err := telegramstand.New(telegramstand.Config{BotToken: token, BotName: "podpis_login_bot", Domain: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(st)
	t.Cleanup(srv.Close)
	return srv
}

// TestLogin: the widget's button leads to the stand's confirmation page;
// «Подтвердить» brings the browser back to the auth URL with data that
// sso/telegram accepts, once.
func TestLogin(t *testing.T) {
	stand := newStand(t)
	s, got := site(t, stand.URL)
	resp, err := http.Get(stand.URL + telegramstand.WidgetPath)
	if err != nil {
		t.Fatal(err)
	}
	js, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(js), "Войти через Telegram") {
		t.Fatalf("widget script: %s", js)
	}
	// What the button does: open the stand's page for the bot and the
	// auth URL from the <script> tag.
	q := url.Values{"bot": {"podpis_login_bot"}, "return_to": {s.URL + "/telegram/login"}}
	resp, err = http.Get(stand.URL + "/auth?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="pending" value="([0-9a-f]+)"`).FindSubmatch(page)
	if resp.StatusCode != http.StatusOK || m == nil || !strings.Contains(string(page), "Анна Смирнова (@anna_s)") {
		t.Fatalf("confirmation page: %d %s", resp.StatusCode, page)
	}
	resp, err = noRedirects.PostForm(stand.URL+"/auth", url.Values{"pending": {string(m[1])}, "action": {"accept"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	back := resp.Header.Get("Location")
	if !strings.HasPrefix(back, s.URL+"/telegram/login?") {
		t.Fatalf("redirected to %q", back)
	}
	for i, want := range []int{http.StatusOK, http.StatusUnauthorized} { // the second time: replayed
		resp, err = http.Get(back)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("auth URL, visit %d: %d %s", i+1, resp.StatusCode, body)
		}
	}
	if u := <-got; u.ID != 7001002003 || u.Username != "anna_s" {
		t.Fatalf("user %+v", u)
	}
}

// TestRefuses: like Telegram, the stand answers only for its bot and
// sends data only to the bot's domain.
func TestRefuses(t *testing.T) {
	stand := newStand(t)
	for name, q := range map[string]url.Values{
		"another bot":    {"bot": {"other_bot"}, "return_to": {"http://127.0.0.1/telegram/login"}},
		"another domain": {"bot": {"podpis_login_bot"}, "return_to": {"https://evil.example/steal"}},
	} {
		resp, err := http.Get(stand.URL + "/auth?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d", name, resp.StatusCode)
		}
	}
	resp, _ := noRedirects.PostForm(stand.URL+"/auth", url.Values{"pending": {"0123"}, "action": {"accept"}})
	if resp.Body.Close(); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("made-up page: %d", resp.StatusCode)
	}
}

// TestSignVerifies: Sign is what sso/telegram accepts.
func TestSignVerifies(t *testing.T) {
	v, _ := telegram.New(telegram.Config{BotToken: token})
	u := telegram.User{ID: 42, FirstName: "Пётр", PhotoURL: "https://t.me/i/userpic/320/p.jpg"}
	data := telegramstand.Sign(token, u, time.Now())
	if got, err := v.Verify(context.Background(), data); err != nil || got.ID != 42 || got.PhotoURL != u.PhotoURL {
		t.Fatalf("%+v, %v", got, err)
	}
}

// TestScreenshots: the site's page with the widget's button, and the
// stand's confirmation page, as Chromium draws them.
func TestScreenshots(t *testing.T) {
	testdeps.Need(t, "chromium")
	stand := newStand(t)
	s, _ := site(t, stand.URL)
	q := url.Values{"bot": {"podpis_login_bot"}, "return_to": {s.URL + "/telegram/login"}}
	for name, u := range map[string]string{"telegram-widget.png": s.URL + "/", "telegram-stand-confirm.png": stand.URL + "/auth?" + q.Encode()} {
		out := testdeps.Artifact(t, name)
		os.Remove(out)
		cmd := exec.Command("chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
			"--user-data-dir="+t.TempDir(), "--window-size=800,560", "--screenshot="+out, u)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("chromium: %v\n%s", err, b)
		}
		if st, err := os.Stat(out); err != nil || st.Size() < 5_000 {
			t.Fatalf("%s: %v", name, err)
		}
	}
}
