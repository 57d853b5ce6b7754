package esia_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/podpis/podpis/internal/testdeps"
	"github.com/podpis/podpis/sso/esia"
	"github.com/podpis/podpis/sso/esia/esiatest"
)

// openPage plays the browser on the stand's interactive page: it opens the
// authorization URL and returns the page and its pending login's ID.
func openPage(t *testing.T, authURL string) (page, pending string) {
	t.Helper()
	resp, err := noRedirects.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("authorization page: %d %s", resp.StatusCode, body)
	}
	m := regexp.MustCompile(`name="pending" value="([0-9a-f]+)"`).FindSubmatch(body)
	if m == nil {
		t.Fatalf("no pending login on the page: %s", body)
	}
	return string(body), string(m[1])
}

func press(t *testing.T, s *setup, pending, action string) (url.Values, *http.Response) {
	t.Helper()
	resp, err := noRedirects.PostForm(s.stand.URL+"/aas/oauth2/ac/confirm", url.Values{"pending": {pending}, "action": {action}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return nil, resp
	}
	loc, _ := url.Parse(resp.Header.Get("Location"))
	return loc.Query(), resp
}

// TestInteractive: on the stand's page the person sees who logs in where,
// «Войти» completes the login, «Отказаться» comes back refused, and a
// page's answer counts once.
func TestInteractive(t *testing.T) {
	s := newSetup(t, esiatest.Config{Interactive: true}, nil)
	ctx := context.Background()
	req, _ := s.client.Begin(ctx)
	page, pending := openPage(t, req.URL)
	for _, want := range []string{"Вход в систему PODPIS01", "Петров Иван Сергеевич", "СНИЛС 112-233-445 95", "Фамилия, имя и отчество", ">Войти<", ">Отказаться<"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	cb, _ := press(t, s, pending, "allow")
	id, err := s.client.Finish(ctx, req, cb)
	if err != nil || id.OID != "1000299654" {
		t.Fatalf("after «Войти»: %+v, %v", id, err)
	}
	if cb, resp := press(t, s, pending, "allow"); cb != nil || resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("the same page answered twice: %v", cb)
	}

	req, _ = s.client.Begin(ctx)
	_, pending = openPage(t, req.URL)
	cb, _ = press(t, s, pending, "deny")
	if _, err := s.client.Finish(ctx, req, cb); !errors.Is(err, esia.ErrDenied) {
		t.Fatalf("after «Отказаться»: %v", err)
	}
}

// TestInteractiveScreenshot: the stand's page as Chromium draws it.
func TestInteractiveScreenshot(t *testing.T) {
	testdeps.Need(t, "chromium")
	s := newSetup(t, esiatest.Config{Interactive: true}, nil)
	req, _ := s.client.Begin(context.Background())
	out := testdeps.Artifact(t, "esia-stand-login.png")
	os.Remove(out)
	cmd := exec.Command("chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
		"--user-data-dir="+t.TempDir(), "--window-size=900,760", "--screenshot="+out, req.URL)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, b)
	}
	if st, err := os.Stat(out); err != nil || st.Size() < 10_000 {
		t.Fatalf("screenshot: %v", err)
	}
}
