package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/podpis/podpis/agent/keystore"
	"github.com/podpis/podpis/certreq"
)

// reportKeyMaker prints a failure of request or install-cert: a field the
// profile refuses, or a key store failure as reportKeystore prints it
// (the codes of getting a certificate are in the protocol's one table).
func reportKeyMaker(stderr io.Writer, err error) int {
	var ce *certreq.Error
	if errors.As(err, &ce) {
		fmt.Fprintf(stderr, "podpis: %s: %s\n", certreq.Code, ce.Message())
		fmt.Fprintf(stderr, "podpis: %v\n", ce)
		return 1
	}
	return reportKeystore(stderr, err)
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// runRequest: podpis request --module PATH [--token LABEL] --curve NAME
// --subject 'CN=…,SNILS=…' [--ku …] [--eku …] [--policy …] --out FILE.
// Everything typed is checked before the token is touched; the key is
// generated on the token, signs the request and stays there; the request
// (DER) is written to FILE. If anything fails once the key exists, the
// key is destroyed.
func runRequest(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("request")
	var modules listFlag
	fs.Var(&modules, "module", "`ПУТЬ` к модулю PKCS#11 токена (можно повторять; без него — известные модули)")
	tokenLabel := fs.String("token", "", "`МЕТКА` токена, если их несколько")
	curve := fs.String("curve", "", "`АЛГОРИТМ` ключа: параметры ГОСТ из podpis speed --list (tc26-256-a…), rsa2048, rsa3072 или ecdsa-p256")
	subject := fs.String("subject", "", "`ИМЯ` владельца: 'CN=…,SN=…,G=…,SNILS=…,INN=…,E=…' (поля CN SN G T O OU INN INNLE KPP OGRN OGRNIP SNILS E S L Street C; запятая в значении — \\,)")
	ku := fs.String("ku", "", "`СПИСОК` назначений ключа через запятую (по умолчанию digitalSignature,nonRepudiation)")
	eku := fs.String("eku", "", "`СПИСОК` расширенных назначений через запятую: clientAuth, emailProtection или OID (по умолчанию clientAuth,emailProtection)")
	policy := fs.String("policy", "", "`СПИСОК` OID политик сертификата через запятую (1.2.643.100.113.1 — КС1)")
	identKind := fs.Int("ident-kind", 0, "способ идентификации владельца `N`: 0 лично, 1 по действующему сертификату, 2 по загранпаспорту, 3 через ЕБС")
	label := fs.String("label", "", "`МЕТКА` нового ключа на токене (по умолчанию — CN владельца)")
	exportable := fs.Bool("exportable", false, "разрешить экспорт закрытого ключа (по умолчанию ключ неизвлекаемый)")
	out := fs.String("out", "", "`ФАЙЛ`, куда записать запрос PKCS#10 (DER)")
	// The contract of request and install-cert: 0 on success, 1 with a
	// reason for anything else, a usage error included.
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return min(code, 1)
	}
	if fs.NArg() != 0 || *curve == "" || *subject == "" || *out == "" {
		return min(usageError("request", stderr), 1)
	}
	spec, ok := keystore.KeySpecByName(*curve)
	if !ok {
		fmt.Fprintf(stderr, "podpis: %s: Неизвестный алгоритм ключа «%s»\n", certreq.Code, *curve)
		fmt.Fprintf(stderr, "podpis: unknown key algorithm %q (podpis speed --list shows the GOST parameter sets; or rsa2048, rsa3072, ecdsa-p256)\n", *curve)
		return 1
	}
	subj, err := certreq.ParseSubject(*subject)
	if err != nil {
		return reportKeyMaker(stderr, err)
	}
	req := &certreq.Request{Subject: subj, KeyUsage: splitList(*ku), ExtKeyUsage: splitList(*eku),
		Policies: splitList(*policy), IdentKind: certreq.IdentKind(*identKind)}
	if *ku == "" {
		req.KeyUsage = nil
	}
	if *eku == "" {
		req.ExtKeyUsage = nil
	}
	if err := req.Validate(); err != nil {
		return reportKeyMaker(stderr, err)
	}
	p, ok := openStore(modules, len(modules) > 0, stderr)
	if !ok {
		return 1
	}
	defer p.Close()
	name := *label
	if name == "" {
		name = subj.Get("CN")
	}
	err = p.GenerateKey(context.Background(), keystore.KeyRequest{Spec: spec, Token: *tokenLabel, Label: name, Extractable: *exportable},
		terminalPIN(stderr), func(k *keystore.NewKey) error {
			der, err := certreq.Create(nil, req, k.Signer)
			if err != nil {
				return err
			}
			return os.WriteFile(*out, der, 0o644)
		})
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			fmt.Fprintf(stderr, "podpis: %v (the new key was removed from the token)\n", err)
			return 1
		}
		return reportKeyMaker(stderr, err)
	}
	return 0
}

// runInstallCert: podpis install-cert [--module PATH]... FILE puts the
// certificate in FILE (PEM, DER or a PKCS#7 chain) on the token holding
// its key.
func runInstallCert(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("install-cert")
	var modules listFlag
	fs.Var(&modules, "module", "`ПУТЬ` к модулю PKCS#11 токена (можно повторять; без него — известные модули)")
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return min(code, 1)
	}
	if fs.NArg() != 1 {
		return min(usageError("install-cert", stderr), 1)
	}
	data, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(stderr, "podpis: %v\n", err)
		return 1
	}
	p, ok := openStore(modules, len(modules) > 0, stderr)
	if !ok {
		return 1
	}
	defer p.Close()
	c, err := p.InstallCertificate(context.Background(), data, terminalPIN(stderr))
	if err != nil {
		return reportKeyMaker(stderr, err)
	}
	fmt.Fprintf(stdout, "Сертификат «%s» установлен на токен «%s»\nОтпечаток: %s\n", c.Cert.Subject.CommonName, c.Token, c.ID)
	return 0
}
