package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"

	"github.com/podpis/podpis/account"
	"github.com/podpis/podpis/sso/esia"
	"github.com/podpis/podpis/sso/replay/redisreplay"
	"github.com/podpis/podpis/sso/ssodemo"
	"github.com/podpis/podpis/sso/ssoweb"
	"github.com/podpis/podpis/sso/telegram"
	"github.com/redis/go-redis/v9"
)

// ssoFlags configure the outside logins (Госуслуги, Telegram) on the
// login page and the account page. By default both are the offline
// stand-ins of sso/ssodemo, so that make run shows them working; a real
// site gives ESIA's and Telegram's registrations (docs/sso.md).
type ssoFlags struct {
	esia, esiaClientID, esiaCert, esiaKey, esiaProviderCert string
	telegram, telegramBot, telegramTokenFile                string
}

func (f *ssoFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.esia, "esia", "stand-in", "Госуслуги: stand-in (a local ESIA, offline), test (ЕСИА ТС), production, or off")
	fs.StringVar(&f.esiaClientID, "esia-client-id", "", "the system's mnemonic registered at ESIA (with --esia test|production)")
	fs.StringVar(&f.esiaCert, "esia-cert", "", "the organisation's GOST certificate registered at ESIA (PEM)")
	fs.StringVar(&f.esiaKey, "esia-key", "", "its private key (PKCS#8 PEM), which signs client_secret")
	fs.StringVar(&f.esiaProviderCert, "esia-provider-cert", "", "ESIA's certificate whose key signs its tokens (PEM, as ESIA publishes it)")
	fs.StringVar(&f.telegram, "telegram", "stand-in", "Telegram: stand-in (a local telegram.org, offline), real, or off")
	fs.StringVar(&f.telegramBot, "telegram-bot", "", "the bot's username (with --telegram real; its domain set with @BotFather's /setdomain)")
	fs.StringVar(&f.telegramTokenFile, "telegram-token-file", "", "a file holding the bot token (default $PODPIS_TELEGRAM_TOKEN; with stand-in: the stand-in's bot token, default random)")
}

// open makes the /sso handler for svc and the sources its pages need in
// the CSP (the Telegram widget's script and frame); a nil handler when
// both are off. close stops the stand-ins.
func (f *ssoFlags) open(svc *account.Service, origin string, rdb *redis.Client, log *slog.Logger) (h http.Handler, csp []string, close func() error, err error) {
	close = func() error { return nil }
	cfg := ssoweb.Config{BaseURL: origin + "/sso"}
	var demo *ssodemo.Demo
	token, err := f.botToken()
	if err != nil {
		return nil, nil, close, err
	}
	if f.esia == "stand-in" || f.telegram == "stand-in" {
		if demo, err = ssodemo.StartBot(cfg.BaseURL, token); err != nil {
			return nil, nil, close, fmt.Errorf("sso stand-ins: %w", err)
		}
		close = demo.Close
	}
	fail := func(err error) (http.Handler, []string, func() error, error) {
		close()
		return nil, nil, func() error { return nil }, err
	}
	switch f.esia {
	case "off":
	case "stand-in":
		cfg.ESIA = demo.ESIA
		fmt.Printf("Госуслуги (тестовый стенд ЕСИА): %s\n", demo.ESIAURL)
	case "test", "production":
		ep := esia.Test
		if f.esia == "production" {
			ep = esia.Production
		}
		if cfg.ESIA, err = f.esiaClient(ep, cfg.BaseURL+"/esia/callback", rdb); err != nil {
			return fail(err)
		}
	default:
		return fail(fmt.Errorf("--esia %q: want stand-in, test, production or off", f.esia))
	}
	switch f.telegram {
	case "off":
	case "stand-in":
		cfg.Telegram, cfg.TelegramBot, cfg.TelegramScript = demo.Telegram, demo.TelegramBot, demo.TelegramScript
		fmt.Printf("Telegram (тестовый стенд): %s\n", demo.TelegramURL)
	case "real":
		if f.telegramBot == "" || token == "" {
			return fail(errors.New("--telegram real needs --telegram-bot and the bot token (--telegram-token-file or $PODPIS_TELEGRAM_TOKEN)"))
		}
		tc := telegram.Config{BotToken: token}
		if rdb != nil {
			tc.Store = redisreplay.New(rdb, "podpis-telegram:")
		}
		if cfg.Telegram, err = telegram.New(tc); err != nil {
			return fail(err)
		}
		cfg.TelegramBot = f.telegramBot
	default:
		return fail(fmt.Errorf("--telegram %q: want stand-in, real or off", f.telegram))
	}
	if cfg.ESIA == nil && cfg.Telegram == nil {
		return nil, nil, close, nil
	}
	handler, err := svc.SSO(cfg)
	if err != nil {
		return fail(err)
	}
	if cfg.Telegram != nil {
		script := cfg.TelegramScript
		if script == "" {
			script = telegram.DefaultScriptURL
			// Telegram's widget draws its button in a frame of
			// oauth.telegram.org.
			csp = append(csp, "https://oauth.telegram.org")
		}
		if u, err := url.Parse(script); err == nil {
			csp = append(csp, u.Scheme+"://"+u.Host)
		}
	}
	log.Info("sso", "esia", f.esia, "telegram", f.telegram)
	return handler, csp, close, nil
}

// botToken reads --telegram-token-file, or $PODPIS_TELEGRAM_TOKEN.
func (f *ssoFlags) botToken() (string, error) {
	return fileOrEnv(f.telegramTokenFile, "PODPIS_TELEGRAM_TOKEN")
}

// esiaClient is the client of a real ESIA environment.
func (f *ssoFlags) esiaClient(ep esia.Endpoints, redirect string, rdb *redis.Client) (*esia.Client, error) {
	if f.esiaClientID == "" || f.esiaCert == "" || f.esiaKey == "" || f.esiaProviderCert == "" {
		return nil, errors.New("--esia test|production needs --esia-client-id, --esia-cert, --esia-key and --esia-provider-cert")
	}
	certPEM, err := os.ReadFile(f.esiaCert)
	if err != nil {
		return nil, err
	}
	keyPEM, err := os.ReadFile(f.esiaKey)
	if err != nil {
		return nil, err
	}
	cert, key, err := esia.LoadKeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	provCerts, err := readCertificates(f.esiaProviderCert)
	if err != nil {
		return nil, err
	}
	provKey, err := esia.ProviderKeyFromCertificate(provCerts[0])
	if err != nil {
		return nil, err
	}
	cfg := esia.Config{ClientID: f.esiaClientID, RedirectURI: redirect, Scope: []string{"openid", "fullname", "snils"},
		Endpoints: ep, Certificate: cert, Key: key, ProviderKey: provKey}
	if rdb != nil {
		cfg.Store = redisreplay.New(rdb, "podpis-esia:")
	}
	return esia.New(cfg)
}
