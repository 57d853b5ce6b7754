package account_test

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"net/http"
	"net/http/cookiejar"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/podpis/podpis/account"
	"github.com/podpis/podpis/account/argon2id"
)

// unlimited lets every event through: the benchmarks measure the work
// of a login, which the limits would cut short from one address.
type unlimited struct{}

func (unlimited) Allow(context.Context, string, int, time.Duration) (bool, time.Duration, error) {
	return true, 0, nil
}

func benchDatabases(b *testing.B, f func(b *testing.B, db database)) {
	b.Run("sqlite", func(b *testing.B) { f(b, sqliteDB()) })
	b.Run("postgres", func(b *testing.B) { f(b, postgresDB(b)) })
}

func benchEnv(b *testing.B, db database) *env {
	e := newEnv(b, db, func(c *account.Config) { c.Password = argon2id.Default; c.Limiter = unlimited{} })
	return e
}

// BenchmarkPasswordLogin: password logins per second on one core
// (sequential), argon2id at its default cost, through the Go API.
func BenchmarkPasswordLogin(b *testing.B) {
	benchDatabases(b, func(b *testing.B, db database) {
		e := benchEnv(b, db)
		if _, err := e.svc.Seed(context.Background(), account.SeedAccount{Phone: "+79160000400", Password: pw}); err != nil {
			b.Fatal(err)
		}
		b.Logf("argon2id %s", e.svc.PasswordParams())
		cl := account.Client{Address: "127.0.0.1"}
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			if _, _, err := e.svc.LoginPassword(context.Background(), cl, account.Contact{Phone: "+79160000400"}, pw); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "logins/s")
	})
}

// BenchmarkCertificateLogin: certificate logins per second on one core:
// the server's part (a challenge issued and remembered, the CMS verified
// with its GOST chain, the challenge taken, the account found); the
// person's signature is made outside the timer.
func BenchmarkCertificateLogin(b *testing.B) {
	benchDatabases(b, func(b *testing.B, db database) {
		e := benchEnv(b, db)
		ivan := e.pki.person(b, "Иванов Иван Иванович", "12345678904")
		if _, err := e.svc.Seed(context.Background(), account.SeedAccount{Phone: "+79160000401", Password: pw, Certificates: []*x509.Certificate{ivan.cert}}); err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		cl := account.Client{Address: "127.0.0.1"}
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			c, err := e.svc.Challenge(ctx, cl, account.PurposeLogin, "")
			if err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			der, _ := base64.StdEncoding.DecodeString(ivan.sign(b, e.origin, c.Value)["cms"])
			b.StartTimer()
			if _, _, err := e.svc.LoginCertificate(ctx, cl, "", der); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "logins/s")
	})
}

// BenchmarkLoginPage200: 200 users at once on the login page over HTTP:
// each loads it (GET /api/account/state) and logs in by password (POST
// /api/account/login, argon2id at its default cost). It reports the
// 50th and 99th percentile latency of each request.
func BenchmarkLoginPage200(b *testing.B) {
	benchDatabases(b, func(b *testing.B, db database) {
		e := benchEnv(b, db)
		if _, err := e.svc.Seed(context.Background(), account.SeedAccount{Phone: "+79160000402", Password: pw}); err != nil {
			b.Fatal(err)
		}
		const users = 200
		tr := &http.Transport{MaxIdleConnsPerHost: users, MaxConnsPerHost: users}
		defer tr.CloseIdleConnections()
		var mu sync.Mutex
		var page, login []time.Duration
		b.ResetTimer()
		rounds := max(1, b.N/users)
		for range rounds {
			var wg sync.WaitGroup
			for range users {
				wg.Add(1)
				go func() {
					defer wg.Done()
					jar, _ := cookiejar.New(nil)
					br := &browser{t: b, base: e.srv.URL, c: &http.Client{Jar: jar, Transport: tr, Timeout: time.Minute}}
					start := time.Now()
					br.csrf = must(b, br.get("/api/account/state")).str("csrf")
					p := time.Since(start)
					start = time.Now()
					must(b, br.post("/api/account/login", map[string]string{"phone": "+79160000402", "password": pw}))
					l := time.Since(start)
					mu.Lock()
					page, login = append(page, p), append(login, l)
					mu.Unlock()
				}()
			}
			wg.Wait()
		}
		b.StopTimer()
		ms := func(ds []time.Duration, q float64) float64 {
			slices.Sort(ds)
			return float64(ds[int(q*float64(len(ds)-1))]) / float64(time.Millisecond)
		}
		b.ReportMetric(ms(page, 0.5), "page-p50-ms")
		b.ReportMetric(ms(page, 0.99), "page-p99-ms")
		b.ReportMetric(ms(login, 0.5), "login-p50-ms")
		b.ReportMetric(ms(login, 0.99), "login-p99-ms")
		b.Logf("%d users × %d rounds, argon2id %s: page p99 %.1f ms, login p99 %.1f ms", users, rounds, e.svc.PasswordParams(), ms(page, 0.99), ms(login, 0.99))
	})
}
