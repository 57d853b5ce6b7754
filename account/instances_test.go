package account_test

import (
	"context"
	"crypto/x509"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/podpis/podpis/account"
	"github.com/podpis/podpis/account/deliver"
	"github.com/podpis/podpis/account/deliver/delivertest"
	"github.com/podpis/podpis/account/ratelimit"
	"github.com/podpis/podpis/account/sqlstore"
	"github.com/podpis/podpis/internal/testpg"
	"github.com/podpis/podpis/internal/testredis"
	"github.com/podpis/podpis/verify"
	"github.com/podpis/podpis/verify/redisstore"
	"github.com/redis/go-redis/v9"
)

// TestTwoInstances runs two instances of the service on one PostgreSQL
// and one Redis, as behind a balancer (one origin, requests to either):
// whatever is started on one finishes on the other, and the limits and
// used challenges are shared.
func TestTwoInstances(t *testing.T) {
	pg := testpg.Start(t)
	dsn := pg.NewDatabase(t)
	rdb := redis.NewClient(&redis.Options{Addr: testredis.Start(t)})
	t.Cleanup(func() { rdb.Close() })
	sms := delivertest.StartSMS(t, "")
	p := newPKI(t)
	key := []byte("0123456789abcdef0123456789abcdef-shared")
	challengeKey := []byte("challenge-key-of-both-instances-0123456789")

	front := httptest.NewUnstartedServer(nil) // the balancer's address: the origin
	origin := "http://" + front.Listener.Addr().String()
	front.Listener.Close()

	// Both open (and migrate) the database at once: the migration lock
	// makes that one migration.
	stores := make([]*sqlstore.Store, 2)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = sqlstore.OpenPostgres(context.Background(), dsn)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("instance %d: %v", i, err)
		}
		t.Cleanup(func() { stores[i].Close() })
	}
	var srvs [2]*httptest.Server
	for i := range srvs {
		v, err := verify.New(verify.Config{Origins: []string{origin}, Roots: []*x509.Certificate{p.root}, Intermediates: []*x509.Certificate{p.inter},
			Revocation: verify.RevocationOff, ChallengeKey: challengeKey, Store: redisstore.New(rdb, "it:")})
		if err != nil {
			t.Fatal(err)
		}
		svc, err := account.New(account.Config{Store: stores[i], Origin: origin, Verifier: v, Key: key, Password: fastPassword,
			Sender: &deliver.SMSGateway{URL: sms.URL}, Limiter: ratelimit.NewRedis(rdb, "it:"), Log: quiet})
		if err != nil {
			t.Fatal(err)
		}
		srvs[i] = httptest.NewServer(svc.Handler())
		t.Cleanup(srvs[i].Close)
	}
	a, b := srvs[0].URL, srvs[1].URL
	jar, _ := cookiejar.New(nil) // cookies of 127.0.0.1 go to either port, as to one site
	br := &browser{t: t, base: a, c: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
	on := func(base string) *browser { br.base = base; return br }
	br.csrf = must(t, on(a).get("/api/account/state")).str("csrf")

	pend := must(t, on(a).post("/api/account/register", map[string]string{"phone": "+79160000100", "password": pw}))
	sms.Wait(t, "+79160000100", 1)
	must(t, on(b).post("/api/account/confirm", map[string]string{"pending": pend.str("pending"), "code": sms.Code(t, "+79160000100")}))
	me := must(t, on(a).get("/api/account/me"))
	if me["phone"] != "+79160000100" {
		t.Fatalf("me on the other instance: %v", me)
	}

	// Link on one, log in by certificate on the other.
	ivan := p.person(t, "Иванов Иван Иванович", "12345678999")
	ch := must(t, on(a).post("/api/account/certificates/challenge", nil))
	must(t, on(b).post("/api/account/certificates", ivan.sign(t, origin, ch.str("challenge"))))
	must(t, on(b).post("/api/account/logout", nil))
	ch = must(t, on(b).post("/api/account/login/certificate/challenge", nil))
	sig := ivan.sign(t, origin, ch.str("challenge"))
	must(t, on(a).post("/api/account/login/certificate", sig))
	refused(t, 401, "CHALLENGE_REPLAYED", on(b).post("/api/account/login/certificate", sig))

	// Password guessing spread over both instances meets one limit.
	for i := range 10 {
		base := a
		if i%2 == 1 {
			base = b
		}
		refused(t, 401, "WRONG_CREDENTIALS", on(base).post("/api/account/login", map[string]string{"phone": "+79160000100", "password": "wrong-guess-" + itoa(i)}))
	}
	refused(t, 429, "RATE_LIMITED", on(a).post("/api/account/login", map[string]string{"phone": "+79160000100", "password": pw}))
	refused(t, 429, "RATE_LIMITED", on(b).post("/api/account/login", map[string]string{"phone": "+79160000100", "password": pw}))
}
