package account_test

import (
	"html"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/podpis/podpis/account"
	"github.com/podpis/podpis/account/deliver"
)

// TestOutbox: with an outbox the codes are shown at /outbox and
// /api/account/outbox (make run); without one neither page exists.
func TestOutbox(t *testing.T) {
	ob := &deliver.Outbox{}
	e := newEnv(t, sqliteDB(), func(c *account.Config) {
		c.Outbox = ob
		c.Sender = &deliver.Router{Outbox: ob}
	})
	refused(t, 400, "INVALID_EMAIL", e.browser().post("/api/account/register", map[string]string{"email": "<b>x</b>@mail.ru", "password": pw}))
	must(t, e.browser().post("/api/account/register", map[string]string{"phone": "+79160000500", "password": pw}))
	msgs := ob.Messages()
	if len(msgs) != 1 || msgs[0].To != "+79160000500" || len(msgs[0].Code) != 6 || !strings.Contains(msgs[0].Text, msgs[0].Code) {
		t.Fatalf("outbox %+v", msgs)
	}
	page := html.UnescapeString(fetch(t, e.srv.URL+"/outbox", 200))
	if !strings.Contains(page, msgs[0].Code) || !strings.Contains(page, "+7 (916) 000-05-00") {
		t.Fatalf("the page does not show the code: %s", page)
	}
	if js := fetch(t, e.srv.URL+"/api/account/outbox", 200); !strings.Contains(js, `"code":"`+msgs[0].Code+`"`) {
		t.Fatalf("outbox JSON %s", js)
	}
	fetch(t, e.srv.URL+"/api/account/outbox.css", 200)

	plain := newEnv(t, sqliteDB())
	fetch(t, plain.srv.URL+"/outbox", 404)
	fetch(t, plain.srv.URL+"/api/account/outbox", 404)
}

func fetch(t testing.TB, url string, status int) string {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != status {
		t.Fatalf("GET %s: %d, want %d", url, res.StatusCode, status)
	}
	return string(b)
}
