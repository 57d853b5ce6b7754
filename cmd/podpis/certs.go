package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/podpis/podpis/agent/keystore"
	"github.com/podpis/podpis/agent/keystore/pkcs11"
	"github.com/podpis/podpis/agent/wsapi"
	"github.com/podpis/podpis/login"
	"github.com/podpis/podpis/ui/uiproto"
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
	fs := newFlags("certs")
	var modules listFlag
	fs.Var(&modules, "module", "`ПУТЬ` к модулю PKCS#11 сверх известных (можно повторять)")
	asJSON := fs.Bool("json", false, "вывести JSON, как его получает страница от агента")
	onlyNamed := fs.Bool("no-known-modules", false, "только модули из --module, без известных путей CSP")
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	if fs.NArg() != 0 {
		return usageError("certs", stderr)
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
		// Not an answer a person can act on by itself: say what was
		// looked at, and where the diagnosis is.
		fmt.Fprintln(stderr, "podpis: сертификаты не найдены")
		for _, st := range p.Status() {
			name := st.Path
			if st.Vendor != "" {
				name = st.Vendor + " (" + st.Path + ")"
			}
			fmt.Fprintf(stderr, "podpis: %s: %s\n", name, moduleSummary(st))
		}
		fmt.Fprintln(stderr, "podpis: что не так и что сделать, покажет podpis doctor")
		return 1
	}
	for _, c := range certs {
		printCertificate(stdout, c)
	}
	return 0
}

// printCertificate writes one certificate for a person: the thumbprint
// (what sign --cert takes) and the owner, then one labelled line per field
// the certificate has.
func printCertificate(w io.Writer, c *keystore.Certificate) {
	id := c.Identity
	fmt.Fprintf(w, "%s  %s\n", c.ID, id.CommonName)
	for _, f := range [][2]string{
		{"Владелец", id.CommonName}, {"Организация", id.Organization},
		{"СНИЛС", login.FormatSNILS(id.SNILS)}, {"ИНН", id.INN}, {"ИНН организации", id.INNLE}, {"ОГРН", id.OGRN},
		{"Издатель", id.Issuer}, {"Алгоритм", c.Algorithm},
	} {
		if f[1] != "" {
			fmt.Fprintf(w, "    %s: %s\n", f[0], f[1])
		}
	}
	fmt.Fprintf(w, "    Действителен с %s по %s\n", id.NotBefore.Format("02.01.2006"), id.NotAfter.Format("02.01.2006"))
	fmt.Fprintf(w, "    Токен: %s (%s)\n", c.Token, c.Source)
	if len(c.Problems) > 0 {
		words := make([]string, 0, len(c.Problems))
		for _, p := range c.Problems {
			words = append(words, uiproto.ProblemWord(string(p)))
		}
		fmt.Fprintf(w, "    Проблемы: %s\n", strings.Join(words, ", "))
	}
}

func moduleSummary(st pkcs11.ModuleStatus) string {
	switch {
	case st.Error != "":
		return st.Error
	case len(st.Slots) == 0:
		return "загружен, слотов нет"
	}
	tokens := 0
	for _, s := range st.Slots {
		if s.TokenPresent {
			tokens++
		}
	}
	return fmt.Sprintf("загружен, слотов: %d, токенов: %d", len(st.Slots), tokens)
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

// terminalPIN takes the PIN from PODPIS_PIN, or asks on the terminal,
// once: a wrong PIN ends the command.
func terminalPIN(stderr io.Writer) keystore.PINFunc {
	return keystore.AskOnce(func(ctx context.Context, req keystore.PINRequest) ([]byte, bool, error) {
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
	})
}
