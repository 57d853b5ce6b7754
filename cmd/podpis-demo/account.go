package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/podpis/podpis/account"
	"github.com/podpis/podpis/account/deliver"
	"github.com/podpis/podpis/account/ratelimit"
	"github.com/podpis/podpis/account/sqlstore"
	"github.com/podpis/podpis/verify"
	"github.com/redis/go-redis/v9"
)

// accountFlags configure the account service (docs/account.md).
type accountFlags struct {
	db, postgres, keyFile             string
	smtp, smtpFrom, smtpUser, smtpPwd string
	smsGateway, smsToken              string
	outbox, renewal                   bool
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
	fs.StringVar(&f.smtpPwd, "smtp-password", "", "SMTP password")
	fs.StringVar(&f.smsGateway, "sms-gateway", "", "send SMS codes through this HTTP gateway (docs/account.md)")
	fs.StringVar(&f.smsToken, "sms-token", "", "bearer token of --sms-gateway")
	fs.BoolVar(&f.outbox, "outbox", false, "keep the messages sent at /outbox (a demo on one machine)")
	fs.BoolVar(&f.renewal, "renewal", true, "a renewed certificate (same SNILS, trusted CA) may log in after the person confirms")
	fs.BoolVar(&f.seed, "seed-account", false, "create the demo account (printed with its password) with the soft token's certificate ivanov.pem linked")
	fs.StringVar(&f.seedPassword, "seed-password", "", "the demo account's password (default: a new random one, printed)")
}

// open starts the account service for origin; the returned close ends
// its database.
func (f *accountFlags) open(ctx context.Context, dataDir, origin string, v *verify.Verifier, rdb *redis.Client, log *slog.Logger) (*account.Service, func() error, error) {
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
	key, err := f.key()
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	router := &deliver.Router{}
	if f.smtp != "" {
		router.Email = &deliver.SMTP{Addr: f.smtp, From: f.smtpFrom, Username: f.smtpUser, Password: f.smtpPwd}
	}
	if f.smsGateway != "" {
		router.SMS = &deliver.SMSGateway{URL: f.smsGateway, Token: f.smsToken}
	}
	if f.outbox {
		router.Outbox = &deliver.Outbox{}
	}
	cfg := account.Config{Store: st, Origin: origin, Verifier: v, Key: key, Sender: router, Outbox: router.Outbox, Renewal: f.renewal, Log: log}
	if rdb != nil {
		cfg.Limiter = ratelimit.NewRedis(rdb, "podpis-account:")
	}
	svc, err := account.New(cfg)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	if f.seed {
		if err := f.seedDemo(ctx, svc, dataDir); err != nil {
			st.Close()
			return nil, nil, err
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
		path = filepath.Join(filepath.Dir(f.db), "account.key")
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			k := make([]byte, 32)
			rand.Read(k)
			if err := os.WriteFile(path, k, 0o600); err != nil {
				return nil, err
			}
		}
	}
	return os.ReadFile(path)
}

// Demo account: make run prints it.
const (
	demoPhone = "+7 (900) 000-00-01"
	demoEmail = "demo@podpis.local"
)

func (f *accountFlags) seedDemo(ctx context.Context, svc *account.Service, dataDir string) error {
	certs, err := readCertificates(filepath.Join(dataDir, "softtoken", "ivanov.pem"))
	if err != nil {
		return err
	}
	password := f.seedPassword
	if password == "" {
		b := make([]byte, 9)
		rand.Read(b)
		password = base64.RawURLEncoding.EncodeToString(b)
	}
	if _, err := svc.Seed(ctx, account.SeedAccount{Phone: demoPhone, Email: demoEmail, Password: password, Certificates: certs[:1]}); err != nil {
		return err
	}
	fmt.Printf("Демо-учётная запись: телефон %s или email %s, пароль %s (привязан сертификат Иванова)\n", demoPhone, demoEmail, password)
	return nil
}
