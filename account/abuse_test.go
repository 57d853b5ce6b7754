package account_test

import (
	"net/http"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/podpis/podpis/account"
	"github.com/podpis/podpis/account/argon2id"
)

// TestConcurrentGuesses: 40 guesses of one code sent at once get no
// more than its 5 tries (the try is counted in the statement that checks
// the count), on both databases.
func TestConcurrentGuesses(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db database) {
		e := newEnv(t, db)
		b := e.browser()
		p := must(t, b.post("/api/account/register", map[string]string{"phone": "+79160000200", "password": pw}))
		code := e.sms.Code(t, "+79160000200")
		var mu sync.Mutex
		counts := map[string]int{}
		var wg sync.WaitGroup
		for i := range 40 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				guess := "0000" + itoa(10+i)
				guess = guess[len(guess)-6:]
				if guess == code {
					guess = "999999"
				}
				a := b.post("/api/account/confirm", map[string]string{"pending": p.str("pending"), "code": guess})
				mu.Lock()
				counts[a.body.str("code")]++
				mu.Unlock()
			}()
		}
		wg.Wait()
		if counts["WRONG_CODE"]+counts["CODE_LOCKED"] != 40 || counts["WRONG_CODE"] > 4 {
			t.Fatalf("answers %v: more than 5 tries were judged", counts)
		}
		refused(t, 400, "CODE_LOCKED", b.post("/api/account/confirm", map[string]string{"pending": p.str("pending"), "code": code}))
	})
}

// TestTimingUnknownAccount: a password login for an unknown phone costs
// the argon2id of a known one (so its answer does not come back sooner),
// measured with the real cost.
func TestTimingUnknownAccount(t *testing.T) {
	e := newEnv(t, sqliteDB(), func(c *account.Config) { c.Password = argon2id.Default })
	e.register(t, phone("+79160000300"), pw)
	measure := func(ph string) time.Duration {
		var ds []time.Duration
		for range 7 {
			b := e.browser()
			start := time.Now()
			refused(t, 401, "WRONG_CREDENTIALS", b.post("/api/account/login", map[string]string{"phone": ph, "password": "wrong-password"}))
			ds = append(ds, time.Since(start))
			e.advance(16 * time.Minute) // past the limits
		}
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		return ds[len(ds)/2]
	}
	known, unknown := measure("+79160000300"), measure("+79160000301")
	t.Logf("median wrong-password login: known %v, unknown %v (argon2id %s)", known, unknown, argon2id.Default)
	if unknown < known/2 {
		t.Fatalf("an unknown account answers in %v, a known one in %v: the answer time tells them apart", unknown, known)
	}
}

// TestClientAddress: the per-address limits count the address
// Config.ClientAddress names (a balancer's header), so one client's
// spraying does not lock out another behind the same balancer.
func TestClientAddress(t *testing.T) {
	e := newEnv(t, sqliteDB(), func(c *account.Config) {
		c.ClientAddress = func(r *http.Request) string { return r.Header.Get("X-Real-IP") }
	})
	from := func(b *browser, ip string) *browser {
		b.c.Transport = headerTransport{"X-Real-IP", ip}
		return b
	}
	attacker := from(e.browser(), "203.0.113.7")
	limited := false
	for i := range 60 {
		a := attacker.post("/api/account/login", map[string]string{"phone": "+7916300" + pad4(i), "password": pw})
		if a.code == 429 {
			limited = true
			break
		}
	}
	if !limited {
		t.Fatal("60 attempts from one address were never limited")
	}
	refused(t, 401, "WRONG_CREDENTIALS", from(e.browser(), "198.51.100.1").post("/api/account/login", map[string]string{"phone": "+79163009999", "password": pw}))
}

type headerTransport struct{ name, value string }

func (h headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set(h.name, h.value)
	return http.DefaultTransport.RoundTrip(r)
}
