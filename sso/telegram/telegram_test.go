package telegram_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/podpis/podpis/sso/replay"
	"github.com/podpis/podpis/sso/telegram"
)

const testToken = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0" // made up for the tests

// now is the real clock's: a shared replay store (Redis) forgets by it.
var now = time.Now().Truncate(time.Second)

// sign does what Telegram's servers do: HMAC-SHA-256 of the
// data-check-string keyed by SHA-256 of the bot token, written here
// independently of the package's CheckString.
func sign(token string, fields map[string]string) url.Values {
	var lines []string
	for k, v := range fields {
		lines = append(lines, k+"="+v)
	}
	// Sorting "k=v" sorts by k: names are letters and underscores, which
	// sort after '='.
	for i := range lines {
		for j := i + 1; j < len(lines); j++ {
			if lines[j] < lines[i] {
				lines[i], lines[j] = lines[j], lines[i]
			}
		}
	}
	key := sha256.Sum256([]byte(token))
	mac := hmac.New(sha256.New, key[:])
	mac.Write([]byte(strings.Join(lines, "\n")))
	out := url.Values{}
	for k, v := range fields {
		out.Set(k, v)
	}
	out.Set("hash", hex.EncodeToString(mac.Sum(nil)))
	return out
}

func widgetData(at time.Time) map[string]string {
	return map[string]string{
		"id": "7001002003", "first_name": "Анна", "last_name": "Смирнова", "username": "anna_s",
		"photo_url": "https://t.me/i/userpic/320/anna.jpg", "auth_date": fmt.Sprint(at.Unix()),
	}
}

func newVerifier(t *testing.T) *telegram.Verifier {
	v, err := telegram.New(telegram.Config{BotToken: testToken, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestVerify(t *testing.T) {
	v := newVerifier(t)
	u, err := v.Verify(context.Background(), sign(testToken, widgetData(now.Add(-time.Minute))))
	if err != nil {
		t.Fatal(err)
	}
	if u.ID != 7001002003 || u.Subject() != "7001002003" || u.FirstName != "Анна" || u.LastName != "Смирнова" ||
		u.Username != "anna_s" || !u.AuthDate.Equal(now.Add(-time.Minute)) {
		t.Fatalf("user: %+v", u)
	}
	id := u.Identity()
	if id.Provider != "telegram" || id.Subject != "7001002003" || id.Name != "Анна Смирнова" || id.Claims["username"] != "anna_s" {
		t.Fatalf("identity: %+v", id)
	}
}

// TestVerifyRefuses: every way widget data can be wrong is refused with
// its own error.
func TestVerifyRefuses(t *testing.T) {
	fresh := now.Add(-time.Minute)
	tampered := sign(testToken, widgetData(fresh))
	tampered.Set("id", "7001002004") // someone else's account
	renamed := sign(testToken, widgetData(fresh))
	renamed.Set("username", "admin")
	added := sign(testToken, widgetData(fresh))
	added.Set("is_admin", "true") // a field Telegram did not sign
	dropped := sign(testToken, map[string]string{"id": "1", "auth_date": fmt.Sprint(fresh.Unix()), "allows_write_to_pm": "true"})
	dropped.Del("allows_write_to_pm") // a signed field left out
	noHash := sign(testToken, widgetData(fresh))
	noHash.Del("hash")
	badHex := sign(testToken, widgetData(fresh))
	badHex.Set("hash", "zz")
	repeated := sign(testToken, widgetData(fresh))
	repeated.Add("id", "1")
	unsignedID := sign(testToken, map[string]string{"auth_date": fmt.Sprint(fresh.Unix()), "first_name": "Eve"})

	for _, tc := range []struct {
		name string
		data url.Values
		want error
	}{
		{"tampered id", tampered, telegram.ErrBadHash},
		{"tampered username", renamed, telegram.ErrBadHash},
		{"unsigned field added", added, telegram.ErrBadHash},
		{"signed field dropped", dropped, telegram.ErrBadHash},
		{"wrong bot token", sign("987654321:BBHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0", widgetData(fresh)), telegram.ErrBadHash},
		{"missing hash", noHash, telegram.ErrMissingHash},
		{"hash not hex", badHex, telegram.ErrMalformed},
		{"repeated field", repeated, telegram.ErrMalformed},
		{"no id", unsignedID, telegram.ErrMalformed},
		{"stale", sign(testToken, widgetData(now.Add(-telegram.DefaultMaxAge-time.Second))), telegram.ErrStale},
		{"a day old", sign(testToken, widgetData(now.Add(-24*time.Hour))), telegram.ErrStale},
		{"from the future", sign(testToken, widgetData(now.Add(time.Hour))), telegram.ErrFuture},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, err := newVerifier(t).Verify(context.Background(), tc.data)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, %v; want %v", u, err, tc.want)
			}
			if code, msg := telegram.Explain(err); code == "TELEGRAM_UNAVAILABLE" || !strings.Contains(msg, "Telegram") {
				t.Fatalf("%v explained as %s: %s", err, code, msg)
			}
		})
	}
}

// TestVerifyUnknownFields: a field Telegram adds is part of what it signs.
func TestVerifyUnknownFields(t *testing.T) {
	fields := widgetData(now.Add(-time.Minute))
	fields["allows_write_to_pm"] = "true"
	if _, err := newVerifier(t).Verify(context.Background(), sign(testToken, fields)); err != nil {
		t.Fatal(err)
	}
}

// TestVerifyReplay: the same signed data logs in once, through one
// verifier or two sharing a store; fresh data from the same person logs in
// again.
func TestVerifyReplay(t *testing.T) {
	store := replay.NewMemory()
	var vs []*telegram.Verifier
	for range 2 {
		v, err := telegram.New(telegram.Config{BotToken: testToken, Store: store, Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	data := sign(testToken, widgetData(now.Add(-time.Minute)))
	if _, err := vs[0].Verify(context.Background(), data); err != nil {
		t.Fatal(err)
	}
	for i, v := range vs {
		if _, err := v.Verify(context.Background(), data); !errors.Is(err, telegram.ErrReplayed) {
			t.Fatalf("replay through verifier %d: %v", i, err)
		}
	}
	if _, err := vs[1].Verify(context.Background(), sign(testToken, widgetData(now.Add(-30*time.Second)))); err != nil {
		t.Fatalf("a second login: %v", err)
	}
}

// TestMaxAge: the age limit is configurable.
func TestMaxAge(t *testing.T) {
	v, err := telegram.New(telegram.Config{BotToken: testToken, MaxAge: time.Minute, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), sign(testToken, widgetData(now.Add(-2*time.Minute)))); !errors.Is(err, telegram.ErrStale) {
		t.Fatalf("two minutes old under a one-minute limit: %v", err)
	}
	if _, err := v.Verify(context.Background(), sign(testToken, widgetData(now.Add(-50*time.Second)))); err != nil {
		t.Fatal(err)
	}
}

func TestNewRefusesBadToken(t *testing.T) {
	for _, tok := range []string{"", "123456789", "abc:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0", "123:short"} {
		if _, err := telegram.New(telegram.Config{BotToken: tok}); err == nil {
			t.Errorf("token %q accepted", tok)
		}
	}
}

// TestFieldsFromJSON: the callback's object verifies like the redirect's
// query; large IDs keep their digits.
func TestFieldsFromJSON(t *testing.T) {
	fields := widgetData(now.Add(-time.Minute))
	fields["id"] = "9007199254740993" // above 2^53: a float64 would round it
	signed := sign(testToken, fields)
	js := fmt.Sprintf(`{"id":%s,"first_name":%q,"last_name":%q,"username":%q,"photo_url":%q,"auth_date":%s,"hash":%q}`,
		fields["id"], fields["first_name"], fields["last_name"], fields["username"], fields["photo_url"], fields["auth_date"], signed.Get("hash"))
	data, err := telegram.FieldsFromJSON([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	u, err := newVerifier(t).Verify(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	if u.ID != 9007199254740993 {
		t.Fatalf("id %d", u.ID)
	}
	for _, bad := range []string{`{"id":{"x":1}}`, `[1]`, `{"id":null}`, `not json`} {
		if _, err := telegram.FieldsFromJSON([]byte(bad)); !errors.Is(err, telegram.ErrMalformed) {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

func TestWidget(t *testing.T) {
	html, err := telegram.Widget{Bot: "podpis_login_bot", AuthURL: "https://id.example.ru/telegram/login", ScriptURL: "http://127.0.0.1:9/widget.js", RequestWrite: true}.HTML()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`src="http://127.0.0.1:9/widget.js"`, `data-telegram-login="podpis_login_bot"`,
		`data-auth-url="https://id.example.ru/telegram/login"`, `data-size="large"`, `data-request-access="write"`} {
		if !strings.Contains(string(html), want) {
			t.Errorf("no %s in %s", want, html)
		}
	}
	def, err := telegram.Widget{Bot: "podpis_login_bot", AuthURL: "https://id.example.ru/telegram"}.HTML()
	if err != nil || !strings.Contains(string(def), telegram.DefaultScriptURL) || strings.Contains(string(def), "request-access") {
		t.Fatalf("default widget: %s %v", def, err)
	}
	for _, w := range []telegram.Widget{
		{Bot: `x" onload="alert(1)`, AuthURL: "https://id.example.ru/"},
		{Bot: "podpis_login_bot", AuthURL: "javascript:alert(1)"},
		{Bot: "podpis_login_bot", AuthURL: "/relative"},
		{Bot: "podpis_login_bot", AuthURL: "https://id.example.ru/telegram?purpose=link"},
		{Bot: "podpis_login_bot", AuthURL: "https://id.example.ru/", ScriptURL: "javascript:alert(1)"},
		{Bot: "podpis_login_bot", AuthURL: "https://id.example.ru/", Size: "huge"},
	} {
		if html, err := w.HTML(); err == nil {
			t.Errorf("%+v: %s", w, html)
		}
	}
}

// forgetful is a replay store that remembers nothing, so that a benchmark
// can check the same data again: it measures the check, not the store.
type forgetful struct{}

func (forgetful) Use(context.Context, string, time.Time) error { return nil }

// BenchmarkVerify: one widget login checked (parse, HMAC, age); the
// replay store's cost is replay's or Redis's.
func BenchmarkVerify(b *testing.B) {
	v, err := telegram.New(telegram.Config{BotToken: testToken, Store: forgetful{}})
	if err != nil {
		b.Fatal(err)
	}
	data := sign(testToken, widgetData(time.Now()))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(context.Background(), data); err != nil {
			b.Fatal(err)
		}
	}
}

// TestExplainUnknown: a failure that is not a refusal (the replay store
// down) is not blamed on the person's data.
func TestExplainUnknown(t *testing.T) {
	v, _ := telegram.New(telegram.Config{BotToken: testToken, Store: brokenStore{}})
	_, err := v.Verify(context.Background(), sign(testToken, widgetData(now)))
	if code, _ := telegram.Explain(err); err == nil || code != "TELEGRAM_UNAVAILABLE" {
		t.Fatalf("store down: %v as %s", err, code)
	}
}

type brokenStore struct{}

func (brokenStore) Use(context.Context, string, time.Time) error {
	return errors.New("redis: connection refused")
}
