// Command podpis-demo is the demo «Личный кабинет»: it serves the login
// and account pages and the webclient, with the account service (package
// account: registration, password and code logins, and certificate login
// for linked certificates, verified with the verify package) behind them.
//
//	podpis-demo init --dir DIR      make the demo CA, the soft token's keys and the demo account (once)
//	podpis-demo serve --roots FILE [--listen 127.0.0.1:8080] [--origin URL] [--agent-port N]... [--dist DIR] [--redis ADDR] [--tls-cert FILE --tls-key FILE]
//	                  [--db FILE | --postgres DSN] [--smtp HOST:PORT] [--sms-gateway URL] [--outbox] [--seed-account=false] (docs/account.md)
//	                  [--oidc-clients FILE] [--poa-url URL] (docs/oidc.md)
//	podpis-demo poa --issuer URL --client-secret-file FILE [--listen 127.0.0.1:8081] [--roots FILE] [--intermediates FILE]
//	                  «Доверенность», a service logging in through serve's provider
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "init":
		err = runInit(os.Args[2:])
	case "serve":
		err = runServe(os.Args[2:])
	case "poa":
		err = runPOA(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "podpis-demo: %v\n", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: podpis-demo init --dir DIR | podpis-demo serve --roots FILE [--listen ADDR] [--origin URL] [--agent-port N]... [--dist DIR] [--redis ADDR] [--tls-cert FILE --tls-key FILE] [--db FILE | --postgres DSN] [--smtp HOST:PORT] [--sms-gateway URL] [--outbox] | podpis-demo poa --issuer URL --client-secret-file FILE (serve -h, poa -h: all)")
	os.Exit(2)
}
