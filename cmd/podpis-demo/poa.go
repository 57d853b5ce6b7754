package main

// podpis-demo poa: «Доверенность» as its own server (package poasvc), a
// client of the provider of podpis-demo serve. A mode of this command
// rather than a command of its own: make run builds one binary for the
// demo's servers, and the service reads the same demo data (roots,
// intermediates) as the site.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/podpis/podpis/poa/poasvc"
	"github.com/podpis/podpis/verify"
)

func runPOA(args []string) error {
	fset := flag.NewFlagSet("poa", flag.ExitOnError)
	listen := fset.String("listen", "127.0.0.1:8081", "address of «Доверенность»")
	origin := fset.String("origin", "", "the service's origin as browsers see it (default http://LISTEN)")
	issuer := fset.String("issuer", "http://127.0.0.1:8080/oidc", "the OpenID Connect provider (podpis-demo serve's origin + /oidc)")
	clientID := fset.String("client-id", "poa", "the service's client id at the provider")
	secretFile := fset.String("client-secret-file", "", "file with the service's client secret (default $PODPIS_POA_CLIENT_SECRET)")
	logoutAll := fset.String("logout-all-url", "", "the provider's «выйти на всех устройствах» page (default the issuer's site + /oidc-logout-all)")
	rootsPath := fset.String("roots", ".data/roots.pem", "trusted roots of the powers of attorney's signatures (PEM or DER)")
	intersPath := fset.String("intermediates", "", "intermediate CAs (PEM or DER)")
	tsaURL := fset.String("tsa", "", "the timestamping service the agent is asked to use (with --cades t or xl1)")
	cadesLevel := fset.String("cades", "", "the signature form: bes (default), t or xl1 (needs --tsa)")
	var ports portsFlag
	fset.Var(&ports, "agent-port", "port the page probes for the agent (repeatable; default 24730-24733)")
	fset.Parse(args)

	secret, err := fileOrEnv(*secretFile, "PODPIS_POA_CLIENT_SECRET")
	if err != nil {
		return err
	}
	if secret == "" {
		return errors.New("poa: no client secret: --client-secret-file or $PODPIS_POA_CLIENT_SECRET")
	}
	iss, err := url.Parse(*issuer)
	if err != nil || iss.Host == "" {
		return fmt.Errorf("poa: --issuer %q is not a URL", *issuer)
	}
	site := iss.Scheme + "://" + iss.Host
	if *logoutAll == "" {
		*logoutAll = site + "/oidc-logout-all"
	}
	cfg, err := verifyConfig(*rootsPath, *intersPath)
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	if *origin == "" {
		*origin = "http://" + l.Addr().String()
	}
	cfg.Origins = []string{*origin}
	v, err := verify.New(cfg)
	if err != nil {
		l.Close()
		return err
	}
	svc, err := poasvc.New(poasvc.Config{Origin: *origin, Issuer: *issuer, ClientID: *clientID, ClientSecret: secret,
		LogoutAllURL: *logoutAll, AccountURL: site + "/", Verifier: v, AgentPorts: ports, CAdES: *cadesLevel, TSA: *tsaURL,
		HTTPClient: &http.Client{Timeout: 10 * time.Second}, Log: slog.New(slog.NewTextHandler(os.Stderr, nil))})
	if err != nil {
		l.Close()
		return err
	}
	fmt.Printf("«Доверенность»: %s (вход через %s)\n", *origin, *issuer)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serveUntil(ctx, l, svc)
}
