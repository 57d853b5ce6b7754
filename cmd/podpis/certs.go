package main

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/podpis/podpis/agent/keystore"
	"github.com/podpis/podpis/agent/keystore/pkcs11"
	"github.com/podpis/podpis/agent/wsapi"
	"github.com/podpis/podpis/crypto/cms"
	"github.com/podpis/podpis/login"
	"golang.org/x/term"
)

// listFlag collects a repeatable flag (--module, --crl).
type listFlag []string

func (m *listFlag) String() string     { return strings.Join(*m, ",") }
func (m *listFlag) Set(v string) error { *m = append(*m, v); return nil }

func openStore(modules []string, onlyNamed bool, stderr io.Writer) (*pkcs11.Store, bool) {
	p, err := pkcs11.New(context.Background(), pkcs11.Options{Modules: modules, OnlyModules: onlyNamed})
	if err != nil {
		fmt.Fprintf(stderr, "podpis: %v\n", err)
		return nil, false
	}
	return p, true
}

// runCerts: podpis certs [--module PATH]... [--no-known-modules] [--json]
func runCerts(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("certs", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var modules listFlag
	fs.Var(&modules, "module", "PKCS#11 module to use besides the known ones (repeatable)")
	asJSON := fs.Bool("json", false, "print JSON")
	onlyNamed := fs.Bool("no-known-modules", false, "use only the --module ones, not the known CSP paths")
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 {
		if err == nil {
			fmt.Fprintln(stderr, "podpis: usage: podpis certs [--module PATH]... [--no-known-modules] [--json]")
		}
		return 2
	}
	p, ok := openStore(modules, *onlyNamed, stderr)
	if !ok {
		return 1
	}
	defer p.Close()
	certs, err := p.Certificates(context.Background())
	if err != nil {
		fmt.Fprintf(stderr, "podpis: %v\n", err)
	}
	if *asJSON {
		// The same JSON a page gets from the agent's certificates method.
		out := []wsapi.Certificate{}
		for _, c := range certs {
			out = append(out, wsapi.CertificateOf(c))
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(out)
		return 0
	}
	if len(certs) == 0 {
		fmt.Fprintln(stderr, "podpis: no certificates found")
		for _, st := range p.Status() {
			fmt.Fprintf(stderr, "podpis: %s (%s): %s\n", st.Vendor, st.Path, moduleSummary(st))
		}
		return 0
	}
	for _, c := range certs {
		id := c.Identity
		fmt.Fprintf(stdout, "%s  %s\n", c.ID, id.CommonName)
		for _, f := range [][2]string{
			{"organization", id.Organization}, {"snils", id.SNILS}, {"inn", id.INN}, {"innle", id.INNLE},
			{"ogrn", id.OGRN}, {"issuer", id.Issuer}, {"algorithm", c.Algorithm},
			{"valid", id.NotBefore.Format(time.DateOnly) + " .. " + id.NotAfter.Format(time.DateOnly)},
			{"token", c.Token + " (" + c.Source + ")"},
		} {
			if f[1] != "" {
				fmt.Fprintf(stdout, "    %s: %s\n", f[0], f[1])
			}
		}
		if len(c.Problems) > 0 {
			fmt.Fprintf(stdout, "    problems: %v\n", c.Problems)
		}
	}
	return 0
}

func moduleSummary(st pkcs11.ModuleStatus) string {
	switch {
	case st.Error != "":
		return st.Error
	case len(st.Slots) == 0:
		return "loaded, no slots"
	}
	tokens := 0
	for _, s := range st.Slots {
		if s.TokenPresent {
			tokens++
		}
	}
	return fmt.Sprintf("loaded, %d slot(s), %d token(s)", len(st.Slots), tokens)
}

// runSign: podpis sign --cert THUMBPRINT --in FILE --out FILE [--detached] [--module PATH]... [--no-known-modules]
func runSign(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sign", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var modules listFlag
	fs.Var(&modules, "module", "PKCS#11 module to use besides the known ones (repeatable)")
	certID := fs.String("cert", "", "thumbprint of the signing certificate (podpis certs)")
	in := fs.String("in", "", "file to sign")
	out := fs.String("out", "", "where to write the DER CMS")
	detached := fs.Bool("detached", false, "leave the content out of the signature")
	onlyNamed := fs.Bool("no-known-modules", false, "use only the --module ones, not the known CSP paths")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 0 || *certID == "" || *in == "" || *out == "" {
		fmt.Fprintln(stderr, "podpis: usage: podpis sign --cert THUMBPRINT --in FILE --out FILE [--detached] [--module PATH]... [--no-known-modules]")
		return 2
	}
	content, err := os.ReadFile(*in)
	if err != nil {
		fmt.Fprintf(stderr, "podpis: %v\n", err)
		return 2
	}
	if login.IsDocument(content) {
		// Signed as data it could pass for a login with a lax verifier;
		// logins are made by the agent's authenticate alone.
		fmt.Fprintf(stderr, "podpis: %s is a login document (podpis-auth): refusing to sign it as a document\n", *in)
		return 1
	}
	p, ok := openStore(modules, *onlyNamed, stderr)
	if !ok {
		return 1
	}
	defer p.Close()
	ctx := context.Background()
	id := strings.ToLower(strings.ReplaceAll(*certID, " ", ""))
	key, err := p.Signer(ctx, id, terminalPIN(stderr))
	if err != nil {
		return reportKeystore(stderr, err)
	}
	certs, _ := p.Certificates(ctx)
	var cert *x509.Certificate
	for _, c := range certs {
		if c.ID == id {
			cert = c.Cert
		}
	}
	der, err := cms.Sign(content, cert, key, &cms.SignOptions{Detached: *detached, ContentType: cms.OIDData})
	if err != nil {
		return reportKeystore(stderr, err)
	}
	if err := os.WriteFile(*out, der, 0o644); err != nil {
		fmt.Fprintf(stderr, "podpis: %v\n", err)
		return 2
	}
	return 0
}

// reportKeystore prints a key store failure: the stable code, then the
// Russian message a person reads — the agent's code and message (one
// table, agent/wsapi). What is not the key store's own code is, on the
// command line, the key store's failure (PROVIDER_ERROR).
func reportKeystore(stderr io.Writer, err error) int {
	code := wsapi.ProviderError
	if errors.As(err, new(*keystore.Error)) {
		code = wsapi.CodeOf(err)
	}
	fmt.Fprintf(stderr, "podpis: %s: %s\n", code, code.Message())
	var e *keystore.Error
	if errors.As(err, &e) && e.Err != nil {
		fmt.Fprintf(stderr, "podpis: %v\n", e.Err)
	} else if !errors.As(err, &e) {
		fmt.Fprintf(stderr, "podpis: %v\n", err)
	}
	return 1
}

// terminalPIN takes the PIN from PODPIS_PIN, or asks on the terminal.
func terminalPIN(stderr io.Writer) keystore.PINFunc {
	return func(ctx context.Context, req keystore.PINRequest) ([]byte, bool, error) {
		if pin, ok := os.LookupEnv("PODPIS_PIN"); ok {
			return []byte(pin), false, nil
		}
		if !term.IsTerminal(int(os.Stdin.Fd())) {
			return nil, false, keystore.ErrPINRequired
		}
		warn := ""
		if req.FinalTry {
			warn = " (последняя попытка!)"
		}
		fmt.Fprintf(stderr, "PIN-код токена «%s»%s: ", req.Token, warn)
		pin, err := term.ReadPassword(int(os.Stdin.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return nil, false, err
		}
		return pin, false, nil
	}
}
