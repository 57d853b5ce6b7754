package telegram_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"testing"
	"time"

	"github.com/podpis/podpis/sso/telegram"
)

// FuzzVerify: widget data from the network never panics the check, and
// whatever it accepts carries Telegram's HMAC over the fields as received,
// recomputed here.
func FuzzVerify(f *testing.F) {
	f.Add(sign(testToken, widgetData(now)).Encode())
	f.Add("id=1&auth_date=1&hash=00")
	f.Add("hash=" + hex.EncodeToString(make([]byte, 32)))
	f.Add("id=1&id=2&hash=zz")
	v, err := telegram.New(telegram.Config{BotToken: testToken, Store: forgetful{}, MaxAge: 100 * 365 * 24 * time.Hour})
	if err != nil {
		f.Fatal(err)
	}
	key := sha256.Sum256([]byte(testToken))
	f.Fuzz(func(t *testing.T, query string) {
		data, err := url.ParseQuery(query)
		if err != nil {
			return
		}
		if _, err := v.Verify(context.Background(), data); err != nil {
			return
		}
		mac := hmac.New(sha256.New, key[:])
		mac.Write(telegram.CheckString(data))
		// Hex digits in either case name the same MAC (the replay store
		// keys on the lower-case form), so compare bytes, not text.
		got, err := hex.DecodeString(data.Get("hash"))
		if err != nil || !hmac.Equal(got, mac.Sum(nil)) {
			t.Fatalf("accepted without Telegram's HMAC: %q", query)
		}
	})
}

// FuzzFieldsFromJSON: the callback's object, whatever it holds, gives
// fields or ErrMalformed, never a panic.
func FuzzFieldsFromJSON(f *testing.F) {
	f.Add(`{"id":9007199254740993,"first_name":"Анна","auth_date":1790000000,"hash":"ab"}`)
	f.Add(`{"id":1e400}`)
	f.Add(`{"a":true,"b":null}`)
	f.Fuzz(func(t *testing.T, js string) {
		telegram.FieldsFromJSON([]byte(js))
	})
}
