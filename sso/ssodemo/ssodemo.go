// Package ssodemo runs Госуслуги and Telegram for a demo site where
// neither can be reached: the ESIA stand-in (with its «Войти» page) and
// the Telegram stand-in on loopback ports, an organisation certificate
// registered at the former and a bot at the latter, and the clients
// configured for them, ready for sso/ssoweb. It is for `make run`, never
// for production: production configures sso/esia with esia.Production and
// the organisation's real certificate, and Telegram's own widget.
package ssodemo

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"time"

	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/crypto/gostx509"
	"github.com/podpis/podpis/sso/esia"
	"github.com/podpis/podpis/sso/esia/esiastand"
	"github.com/podpis/podpis/sso/telegram"
	"github.com/podpis/podpis/sso/telegram/telegramstand"
)

// Demo is the running stand-ins and the clients for them.
type Demo struct {
	ESIA           *esia.Client
	Telegram       *telegram.Verifier
	TelegramBot    string // the widget's bot name
	TelegramScript string // the widget's script, on the Telegram stand-in
	ESIAURL        string // the ESIA stand-in's base address
	TelegramURL    string // the Telegram stand-in's base address
	closers        []func() error
}

// The demo's registrations: a made-up mnemonic and bot.
const (
	ClientID = "PODPISDEMO"
	BotName  = "podpis_demo_bot"
)

// Start runs both stand-ins on 127.0.0.1 for the site whose ssoweb
// handler is mounted at ssoBase (ESIA's redirect goes to
// ssoBase + "/esia/callback"; the bot's domain is ssoBase's host).
func Start(ssoBase string) (*Demo, error) { return StartBot(ssoBase, "") }

// StartBot is Start with the bot's token given ("" for a random one): a
// browser test that knows it can sign widget data itself (stale, say).
func StartBot(ssoBase, botToken string) (*Demo, error) {
	d := &Demo{TelegramBot: BotName}
	ok := false
	defer func() {
		if !ok {
			d.Close()
		}
	}()
	cert, key, err := orgCertificate()
	if err != nil {
		return nil, err
	}
	esiaLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	d.closers = append(d.closers, esiaLn.Close)
	d.ESIAURL = "http://" + esiaLn.Addr().String()
	redirect := ssoBase + "/esia/callback"
	stand, err := esiastand.New(esiastand.Config{ClientID: ClientID, RedirectURI: redirect, ClientCertificate: cert, Interactive: true}, d.ESIAURL)
	if err != nil {
		return nil, err
	}
	d.closers = append(d.closers, stand.Close)
	d.serve(esiaLn, stand)
	if d.ESIA, err = esia.New(esia.Config{ClientID: ClientID, RedirectURI: redirect, Scope: []string{"openid", "fullname", "snils"},
		Endpoints: stand.Endpoints(), Certificate: cert, Key: key, ProviderKey: stand.PublicKey()}); err != nil {
		return nil, err
	}

	if botToken == "" {
		if botToken, err = randomBotToken(); err != nil {
			return nil, err
		}
	}
	host, err := hostOf(ssoBase)
	if err != nil {
		return nil, err
	}
	tg, err := telegramstand.New(telegramstand.Config{BotToken: botToken, BotName: BotName, Domain: host})
	if err != nil {
		return nil, err
	}
	tgLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	d.closers = append(d.closers, tgLn.Close)
	d.TelegramURL = "http://" + tgLn.Addr().String()
	d.TelegramScript = d.TelegramURL + telegramstand.WidgetPath
	d.serve(tgLn, tg)
	if d.Telegram, err = telegram.New(telegram.Config{BotToken: botToken}); err != nil {
		return nil, err
	}
	ok = true
	return d, nil
}

func (d *Demo) serve(ln net.Listener, h http.Handler) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	d.closers = append(d.closers, srv.Close)
}

// Close stops the stand-ins.
func (d *Demo) Close() error {
	var errs []error
	for i := len(d.closers) - 1; i >= 0; i-- {
		if err := d.closers[i](); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, err)
		}
	}
	d.closers = nil
	return errors.Join(errs...)
}

// orgCertificate makes the demo organisation's GOST key and self-signed
// certificate, as an organisation registers at ESIA.
func orgCertificate() (*x509.Certificate, *gost3410.PrivateKey, error) {
	key, err := gost3410.GenerateKey(gost3410.CurveTC26256A, rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	tmpl := &x509.Certificate{SerialNumber: serial,
		Subject:   pkix.Name{CommonName: "Подпись (демо)", Organization: []string{"ООО «Подпись»"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(1, 0, 0),
		KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := gostx509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, nil, fmt.Errorf("ssodemo: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("ssodemo: %w", err)
	}
	return cert, key, nil
}

func randomBotToken() (string, error) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
	b := make([]byte, 35)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return "100200300:" + string(b), nil
}
