package main

import (
	"context"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"

	"github.com/podpis/podpis/account"
	"github.com/podpis/podpis/account/deliver"
	"github.com/podpis/podpis/account/ratelimit"
	"github.com/podpis/podpis/account/sqlstore"
	"github.com/podpis/podpis/verify"
	"github.com/redis/go-redis/v9"
)

// accountFlags configure the account service behind the demo's login
// page (docs/account.md): where accounts live, how codes go out, and the
// demo account to seed.
type accountFlags struct {
	db, postgres, keyFile      string
	smtp, smtpFrom             string
	smtpUser, smtpPassword     string
	smsGateway, smsToken, seed string
	outbox                     bool
}

func (f *accountFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.db, "db", "", "the accounts' SQLite database (default account.db beside --roots)")
	fs.StringVar(&f.postgres, "postgres", "", "keep the accounts in this PostgreSQL database (a pgx connection string) instead of SQLite; several instances share it (with --redis, --challenge-key-file and --account-key-file)")
	fs.StringVar(&f.keyFile, "account-key-file", "", "the key of the codes' and CSRF tokens' MACs (32 bytes or more), the same for every instance; default random")
	fs.StringVar(&f.smtp, "smtp", "", "send e-mail codes through this SMTP server (host:port)")
	fs.StringVar(&f.smtpFrom, "smtp-from", "podpis@localhost", "the sender of code mails")
	fs.StringVar(&f.smtpUser, "smtp-user", "", "SMTP AUTH PLAIN user (STARTTLS required)")
	fs.StringVar(&f.smtpPassword, "smtp-password", "", "SMTP AUTH PLAIN password; default $PODPIS_SMTP_PASSWORD")
	fs.StringVar(&f.smsGateway, "sms-gateway", "", "send SMS codes by POSTing {\"to\",\"text\"} to this URL (docs/account.md)")
	fs.StringVar(&f.smsToken, "sms-token", "", "bearer token of --sms-gateway; default $PODPIS_SMS_TOKEN")
	fs.BoolVar(&f.outbox, "outbox", false, "also show the codes at /outbox (a demo on one machine; the default on a loopback origin without --smtp and --sms-gateway)")
	fs.StringVar(&f.seed, "seed", "", "seed the demo account of this file once (default demo-account.json beside --roots, when there; \"-\" for none)")
}

// openAccounts opens the store and starts the account service. dataDir is
// the folder of --roots, where init left the demo data.
func openAccounts(ctx context.Context, f *accountFlags, dataDir, origin string, v *verify.Verifier, rdb *redis.Client, log *slog.Logger) (*account.Service, func() error, error) {
	var (
		st  *sqlstore.Store
		err error
	)
	if f.postgres != "" {
		st, err = sqlstore.OpenPostgres(ctx, f.postgres)
	} else {
		if f.db == "" {
			f.db = filepath.Join(dataDir, "account.db")
		}
		st, err = sqlstore.OpenSQLite(ctx, f.db)
	}
	if err != nil {
		return nil, nil, err
	}
	cfg := account.Config{Store: st, Origin: origin, Verifier: v, Renewal: true, Log: log}
	if f.keyFile != "" {
		if cfg.Key, err = os.ReadFile(f.keyFile); err != nil {
			st.Close()
			return nil, nil, err
		}
	}
	if rdb != nil {
		cfg.Limiter = ratelimit.NewRedis(rdb, "podpis-demo:limit:")
	}
	router := &deliver.Router{}
	if f.smtp != "" {
		pw := f.smtpPassword
		if pw == "" {
			pw = os.Getenv("PODPIS_SMTP_PASSWORD")
		}
		router.Email = &deliver.SMTP{Addr: f.smtp, From: f.smtpFrom, Username: f.smtpUser, Password: pw}
	}
	if f.smsGateway != "" {
		tok := f.smsToken
		if tok == "" {
			tok = os.Getenv("PODPIS_SMS_TOKEN")
		}
		router.SMS = &deliver.SMSGateway{URL: f.smsGateway, Token: tok}
	}
	if router.Email == nil && router.SMS == nil && !f.outbox {
		// A demo on this machine alone may show its codes to whoever
		// opens /outbox; a site others reach must send them.
		if !loopbackOrigin(origin) {
			st.Close()
			return nil, nil, errors.New("no way to send codes: give --smtp and/or --sms-gateway (--outbox only for a demo on one machine)")
		}
		log.Warn("no --smtp or --sms-gateway: codes are only shown at /outbox", "origin", origin)
		f.outbox = true
	}
	if f.outbox {
		router.Outbox = &deliver.Outbox{}
		cfg.Outbox = router.Outbox
	}
	cfg.Sender = router
	svc, err := account.New(cfg)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	if err := seedDemo(ctx, svc, f.seed, dataDir, log); err != nil {
		st.Close()
		return nil, nil, err
	}
	return svc, st.Close, nil
}

// seedDemo makes sure the demo account of init's demo-account.json is
// there with its password and the soft token's certificates linked
// (account.Service.Seed: again at every start), and prints how to log in.
func seedDemo(ctx context.Context, svc *account.Service, path, dataDir string, log *slog.Logger) error {
	if path == "-" {
		return nil
	}
	explicit := path != ""
	if !explicit {
		path = filepath.Join(dataDir, demoAccountFile)
	}
	a, err := readDemoAccount(path)
	if err != nil {
		if !explicit && errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	var certs []*x509.Certificate
	for _, name := range a.Certificates {
		c, err := readCertificates(filepath.Join(dataDir, "softtoken", name))
		if err != nil {
			return err
		}
		certs = append(certs, c[0])
	}
	if _, err := svc.Seed(ctx, account.SeedAccount{Phone: a.Phone, Email: a.Email, Password: a.Password, Certificates: certs}); err != nil {
		return fmt.Errorf("seeding the demo account: %w", err)
	}
	log.Info("demo account seeded", "phone", a.Phone, "email", a.Email, "certificates", len(certs))
	fmt.Printf("Демо-аккаунт: телефон %s или email %s, пароль %s\n", a.Phone, a.Email, a.Password)
	return nil
}

// loopbackOrigin: the site is reached only from this machine
// (http://127.0.0.1:…, http://[::1]:…).
func loopbackOrigin(origin string) bool {
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	ip := net.ParseIP(u.Hostname())
	return ip != nil && ip.IsLoopback()
}
