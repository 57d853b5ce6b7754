package main

import (
	"context"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io/fs"
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
	db, postgres, keyFile             string
	smtp, smtpFrom, smtpUser, smtpPwd string
	smsGateway, smsToken              string
	outbox, renewal, ssoRegister      bool
	seedPassword                      string
	seed                              bool
}

func (f *accountFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.db, "db", "", "the account service's SQLite database (default account.db beside --roots)")
	fs.StringVar(&f.postgres, "postgres", "", "keep accounts in PostgreSQL (a DSN) instead of --db: several servers on one database")
	fs.StringVar(&f.keyFile, "account-key-file", "", "the account service's key (32 bytes or more), the same for every server on one database (default account.key beside --db, made once)")
	fs.StringVar(&f.smtp, "smtp", "", "send e-mail codes through this SMTP server (host:port)")
	fs.StringVar(&f.smtpFrom, "smtp-from", "podpis@localhost", "the From address of e-mail codes")
	fs.StringVar(&f.smtpUser, "smtp-user", "", "SMTP user (AUTH PLAIN, only over STARTTLS)")
	fs.StringVar(&f.smtpPwd, "smtp-password", "", "SMTP password (default $PODPIS_SMTP_PASSWORD)")
	fs.StringVar(&f.smsGateway, "sms-gateway", "", "send SMS codes through this HTTP gateway (docs/account.md)")
	fs.StringVar(&f.smsToken, "sms-token", "", "bearer token of --sms-gateway (default $PODPIS_SMS_TOKEN)")
	fs.BoolVar(&f.outbox, "outbox", false, "keep the messages sent at /outbox (a demo on one machine; the default on a loopback origin without --smtp and --sms-gateway)")
	fs.BoolVar(&f.ssoRegister, "sso-register", false, "a Госуслуги or Telegram login of an identity linked to no account makes a new account (default: it is told how to link)")
	fs.BoolVar(&f.renewal, "renewal", true, "a renewed certificate (same SNILS, trusted CA) may log in after the person confirms")
	fs.BoolVar(&f.seed, "seed-account", true, "create or refresh the demo account of "+demoAccountFile+" beside --roots (made by init; printed with its password) with the soft token's valid certificates linked")
	fs.StringVar(&f.seedPassword, "seed-password", "", "the demo account's password (default the one in "+demoAccountFile+")")
}

// open starts the account service for origin; the returned close ends
// its database. dataDir is the folder of --roots, where init left the
// demo data.
func (f *accountFlags) open(ctx context.Context, dataDir, origin string, v *verify.Verifier, rdb *redis.Client, log *slog.Logger,
	ended func(ctx context.Context, accountID, sessionID string)) (*account.Service, func() error, error) {
	var st *sqlstore.Store
	var err error
	if f.postgres != "" {
		st, err = sqlstore.OpenPostgres(ctx, f.postgres)
	} else {
		if f.db == "" {
			f.db = filepath.Join(dataDir, "account.db")
		}
		if err := os.MkdirAll(filepath.Dir(f.db), 0o700); err != nil {
			return nil, nil, err
		}
		st, err = sqlstore.OpenSQLite(ctx, f.db)
	}
	if err != nil {
		return nil, nil, err
	}
	fail := func(err error) (*account.Service, func() error, error) {
		st.Close()
		return nil, nil, err
	}
	key, err := f.key()
	if err != nil {
		return fail(err)
	}
	if key == nil {
		log.Warn("account: no --account-key-file: codes and CSRF tokens hold for this server and this run only")
	}
	router := &deliver.Router{}
	if f.smtp != "" {
		pw := f.smtpPwd
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
			return fail(errors.New("no way to send codes: give --smtp and/or --sms-gateway (--outbox only for a demo on one machine)"))
		}
		log.Warn("no --smtp or --sms-gateway: codes are only shown at /outbox", "origin", origin)
		f.outbox = true
	}
	if f.outbox {
		router.Outbox = &deliver.Outbox{}
	}
	cfg := account.Config{Store: st, Origin: origin, Verifier: v, Key: key, Sender: router, Outbox: router.Outbox, Renewal: f.renewal, SSORegister: f.ssoRegister, Log: log,
		SessionsEnded: ended}
	if rdb != nil {
		cfg.Limiter = ratelimit.NewRedis(rdb, "podpis-account:")
	}
	svc, err := account.New(cfg)
	if err != nil {
		return fail(err)
	}
	if f.seed {
		if err := f.seedDemo(ctx, svc, dataDir, log); err != nil {
			return fail(err)
		}
	}
	return svc, st.Close, nil
}

// key reads --account-key-file, or with SQLite makes account.key beside
// the database once; with PostgreSQL and no file, a random key for this
// run only.
func (f *accountFlags) key() ([]byte, error) {
	path := f.keyFile
	if path == "" && f.postgres != "" {
		return nil, nil
	}
	if path == "" {
		return readOrMakeKey(filepath.Join(filepath.Dir(f.db), "account.key"))
	}
	return os.ReadFile(path)
}

// seedDemo makes sure the demo account of init's demo-account.json is
// there with its password and the soft token's certificates linked
// (account.Service.Seed: again at every start), and prints how to log in.
// A folder init did not make (no demo-account.json) gets no account.
func (f *accountFlags) seedDemo(ctx context.Context, svc *account.Service, dataDir string, log *slog.Logger) error {
	a, err := readDemoAccount(filepath.Join(dataDir, demoAccountFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if f.seedPassword != "" {
		a.Password = f.seedPassword
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
	fmt.Printf("Демо-учётная запись: телефон %s или email %s, пароль %s\n", a.Phone, a.Email, a.Password)
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
