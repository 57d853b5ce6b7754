package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/podpis/podpis/account"
	"github.com/podpis/podpis/idp"
	"github.com/podpis/podpis/verify"
	"github.com/podpis/podpis/verify/redisstore"
	"github.com/podpis/podpis/webclient"
	"github.com/redis/go-redis/v9"
)

type portsFlag []int

func (p *portsFlag) String() string { return fmt.Sprint(*p) }
func (p *portsFlag) Set(v string) error {
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 || n > 65535 {
		return fmt.Errorf("bad port %q", v)
	}
	*p = append(*p, n)
	return nil
}

type demo struct {
	v      *verify.Verifier
	origin string
	ports  []int
	log    *slog.Logger
	// install serves «Установка podpis» (/install), where «Отсутствует
	// соединение с podpis» leads.
	install *installer
	// ca issues certificates from requests (/api/issue); nil when the
	// demo data has no CA key (made by an older init).
	ca *ca
	// services are the account's services shown on the account page
	// (a link each; «Доверенность» is its own server: podpis-demo poa).
	services []service

	// idp is the OpenID Connect provider at /oidc/ (oidc.go); nil in
	// tests that do not need it.
	idp *idp.Provider

	// clients are the provider's registered clients (--oidc-clients).
	clients []idp.Client

	// account is the account service (/api/account/…, and /outbox with
	// --outbox): every login, the certificate one included, goes
	// through it.
	account *account.Service
	// sso is Госуслуги and Telegram (/sso/…), nil when both are off;
	// cspSources are the origins the Telegram widget loads from.
	sso        http.Handler
	cspSources []string
}

func runServe(args []string) error {
	fset := flag.NewFlagSet("serve", flag.ExitOnError)
	listen := fset.String("listen", "127.0.0.1:8080", "address of the demo site")
	rootsPath := fset.String("roots", ".data/roots.pem", "trusted roots (PEM or DER)")
	intersPath := fset.String("intermediates", "", "intermediate CAs (PEM or DER)")
	origin := fset.String("origin", "", "the site's origin as browsers see it (default http://LISTEN)")
	redisAddr := fset.String("redis", "", "share used challenges through this Redis server")
	keyPath := fset.String("challenge-key-file", "", "the challenge MAC key (32 bytes or more), the same for every server sharing --redis; default random")
	tlsCert := fset.String("tls-cert", "", "serve https with this certificate (PEM; with --tls-key): a page reaching the agent from a public origin must be https")
	tlsKey := fset.String("tls-key", "", "the private key of --tls-cert (PEM)")
	dist := fset.String("dist", "", "folder of make package's output (dist/) offered on the install page /install; default none")
	poaURL := fset.String("poa-url", "", "the address of «Доверенность» (podpis-demo poa), linked from the account page")
	oidcClients := fset.String("oidc-clients", "", "the OpenID Connect provider's clients (a JSON list: id, secret, redirect_uris, …); its data beside --roots")
	caKeyPath := fset.String("ca-key", "", "the issuing CA's key, for «Выпуск сертификата» (default "+caKeyFile+" beside --roots; its certificate is in --intermediates)")
	var ports portsFlag
	fset.Var(&ports, "agent-port", "port the page probes for the agent (repeatable; default 24730-24733)")
	var af accountFlags
	af.register(fset)
	var sf ssoFlags
	sf.register(fset)
	fset.Parse(args)

	cfg, err := verifyConfig(*rootsPath, *intersPath)
	if err != nil {
		return err
	}
	if *keyPath != "" {
		if cfg.ChallengeKey, err = os.ReadFile(*keyPath); err != nil {
			return err
		}
	}
	var rdb *redis.Client
	if *redisAddr != "" {
		rdb = redis.NewClient(&redis.Options{Addr: *redisAddr})
		cfg.Store = redisstore.New(rdb, "podpis-demo:")
	}
	if (*tlsCert == "") != (*tlsKey == "") {
		return errors.New("--tls-cert and --tls-key go together")
	}
	l, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	scheme := "http"
	if *tlsCert != "" {
		pair, err := tls.LoadX509KeyPair(*tlsCert, *tlsKey)
		if err != nil {
			l.Close()
			return err
		}
		l = tls.NewListener(l, &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12})
		scheme = "https"
	}
	if *origin == "" {
		*origin = scheme + "://" + l.Addr().String()
	}
	// The one site whose logins this server takes: New refuses an origin
	// the agent would not serve (plain http off loopback, a path).
	cfg.Origins = []string{*origin}
	v, err := verify.New(cfg)
	if err != nil {
		l.Close()
		return err
	}
	d := &demo{v: v, origin: *origin, ports: ports, install: &installer{Dir: *dist},
		log: slog.New(slog.NewTextHandler(os.Stderr, nil))}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	svc, closeStore, err := af.open(ctx, filepath.Dir(*rootsPath), *origin, v, rdb, d.log, d.sessionsEnded)
	if err != nil {
		l.Close()
		return err
	}
	defer closeStore()
	d.account = svc
	if *poaURL != "" {
		d.services = append(d.services, service{Name: "Доверенность (МЧД)", URL: *poaURL})
	}
	ssoH, csp, closeSSO, err := sf.open(svc, *origin, rdb, d.log)
	if err != nil {
		l.Close()
		return err
	}
	defer closeSSO()
	d.sso, d.cspSources = ssoH, csp
	if *caKeyPath == "" {
		*caKeyPath = filepath.Join(filepath.Dir(*rootsPath), caKeyFile)
	}
	if *intersPath != "" {
		if d.ca, err = loadCA(*intersPath, *caKeyPath); err != nil {
			d.log.Warn("«Выпуск сертификата» is off", "err", err)
		}
	}
	if err := d.startOIDC(ctx, filepath.Dir(*rootsPath), *oidcClients); err != nil {
		return fmt.Errorf("oidc: %w", err)
	}
	fmt.Printf("Откройте %s — демонстрационный Личный кабинет\n", *origin)
	if af.outbox {
		fmt.Printf("Коды подтверждения: %s/outbox\n", *origin)
	}
	return serveUntil(ctx, l, d.routes())
}

// serveUntil serves h on l until ctx ends (Ctrl-C), then lets the requests
// under way finish for up to 5 s.
func serveUntil(ctx context.Context, l net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
	}()
	if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// readCertificates reads a PEM or DER bundle (verify.ParseCertificates).
func readCertificates(path string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w (run: podpis-demo init)", err)
	}
	certs, err := verify.ParseCertificates(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return certs, nil
}

func (d *demo) routes() http.Handler {
	mux := http.NewServeMux()
	files, _ := fs.Sub(webclient.Files, ".")
	static := http.FileServerFS(files)
	mux.Handle("GET /podpis.js", static)
	mux.Handle("GET /demo/", static)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		b, _ := fs.ReadFile(webclient.Files, "demo/index.html")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(b)
	})
	mux.HandleFunc("GET /install", d.install.page)
	mux.HandleFunc("GET /install/{name}", d.install.file)
	mux.HandleFunc("GET /api/config", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"ports": d.ports, "services": d.services})
	})
	mux.HandleFunc("POST /api/issue", d.issueCertificate)
	if d.idp != nil {
		mux.Handle("/oidc/", d.idp.Handler())
		mux.HandleFunc("GET /oidc-login", d.oidcLogin)
		mux.HandleFunc("GET /api/oidc/request", d.oidcRequest)
		mux.HandleFunc("GET /oidc-logout-all", d.oidcLogoutAll)
	}
	if d.account != nil {
		acct := d.account.Handler()
		mux.Handle("/api/account/", acct)
		mux.Handle("/outbox", acct)
	}
	if d.sso != nil {
		mux.Handle("/sso/", d.sso)
	}
	return headers(mux, d.cspSources...)
}

// headers: the page talks only to itself and the agent on 127.0.0.1, and
// cannot be framed.
//
// widget are the origins of the Telegram Login Widget (its script, and for
// Telegram's own its frame), allowed to load scripts and frames.
func headers(next http.Handler, widget ...string) http.Handler {
	csp := "default-src 'self'; connect-src 'self' ws://127.0.0.1:* wss://127.0.0.1:* http://127.0.0.1:* https://127.0.0.1:*; frame-ancestors 'none'; base-uri 'none'"
	if len(widget) > 0 {
		src := strings.Join(widget, " ")
		csp += "; script-src 'self' " + src + "; frame-src " + src
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}

// service is a link of the account page to a service logging in
// through the provider.
type service struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

// verifyConfig is a verify.Config trusting the roots in rootsPath, with
// the intermediates in intersPath (optional).
func verifyConfig(rootsPath, intersPath string) (verify.Config, error) {
	roots, err := readCertificates(rootsPath)
	if err != nil {
		return verify.Config{}, err
	}
	cfg := verify.Config{Roots: roots}
	if intersPath != "" {
		cfg.Intermediates, err = readCertificates(intersPath)
	}
	return cfg, err
}

// fileOrEnv is a secret: the trimmed contents of path, else $env.
func fileOrEnv(path, env string) (string, error) {
	if path == "" {
		return os.Getenv(env), nil
	}
	b, err := os.ReadFile(path)
	return strings.TrimSpace(string(b)), err
}
