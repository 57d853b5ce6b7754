package main

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/podpis/podpis/verify"
	"github.com/podpis/podpis/verify/revocation"
)

// runVerify: podpis verify [--login ORIGIN] --roots FILE [--intermediates FILE] [--at RFC3339]
// [--content FILE] [--revocation require|prefer|off] [--crl FILE]... [--json] SIG. Exit 0 valid, 1 invalid, 2 usage or I/O.
//
// With --login it checks a login for ORIGIN as a login server does
// (verify.Verifier.ExamineLogin), all but the challenge, which it prints:
// support staff look that up in the server's logs.
func runVerify(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("verify")
	roots := fs.String("roots", "", "`ФАЙЛ` доверенных корневых сертификатов (PEM или DER)")
	inters := fs.String("intermediates", "", "`ФАЙЛ` промежуточных сертификатов (PEM или DER)")
	at := fs.String("at", "", "`ВРЕМЯ` проверки в RFC 3339 (без флага: сейчас)")
	contentFile := fs.String("content", "", "`ФАЙЛ` подписанного содержимого, для отсоединённой подписи")
	asJSON := fs.Bool("json", false, "вывести результат в JSON")
	login := fs.String("login", "", "проверить вход на этот `САЙТ` (схема://хост[:порт]), а не подпись документа")
	policy := fs.String("revocation", "prefer", "`ПРАВИЛО` отзыва: require (неизвестный статус — отказ), prefer (отказ только для отозванного) или off")
	var crls listFlag
	fs.Var(&crls, "crl", "`ФАЙЛ` CRL сверх точек распространения из сертификатов (можно повторять)")
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	if fs.NArg() != 1 || *roots == "" || *login != "" && *contentFile != "" {
		return usageError("verify", stderr)
	}
	cfg := verify.Config{}
	if *login != "" {
		cfg.Origins = []string{*login}
	}
	pol, err := revocation.ParsePolicy(*policy)
	if err != nil {
		fmt.Fprintf(stderr, "podpis: %v\n", err)
		return 2
	}
	if cfg.Revocation, err = revocation.New(revocation.Config{Policy: pol, CRLFiles: crls}); err != nil {
		fmt.Fprintf(stderr, "podpis: %v\n", err)
		return 2
	}
	if cfg.Roots, err = readCertificates(*roots); err != nil {
		fmt.Fprintf(stderr, "podpis: %v\n", err)
		return 2
	}
	if *inters != "" {
		if cfg.Intermediates, err = readCertificates(*inters); err != nil {
			fmt.Fprintf(stderr, "podpis: %v\n", err)
			return 2
		}
	}
	if *at != "" {
		t, err := time.Parse(time.RFC3339, *at)
		if err != nil {
			fmt.Fprintf(stderr, "podpis: --at: %v\n", err)
			return 2
		}
		cfg.Now = func() time.Time { return t }
	}
	var content []byte
	if *contentFile != "" {
		if content, err = os.ReadFile(*contentFile); err != nil {
			fmt.Fprintf(stderr, "podpis: %v\n", err)
			return 2
		}
	}
	sig, err := readCMS(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(stderr, "podpis: %v\n", err)
		return 2
	}
	v, err := verify.New(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "podpis: %v\n", err)
		return 2
	}
	ctx := context.Background()
	if *login != "" {
		return verifyLogin(ctx, v, sig, *login, *asJSON, stdout, stderr)
	}
	res, err := v.VerifySignature(ctx, sig, content)
	if err != nil {
		var e *verify.Error
		if !errors.As(err, &e) {
			fmt.Fprintf(stderr, "podpis: %v\n", err)
			return 2
		}
		if *asJSON {
			writeJSON(stdout, map[string]any{"valid": false, "code": e.Code, "message": e.Code.Description(), "detail": errString(e.Err)})
		} else {
			fmt.Fprintf(stdout, "%s: %s\n", e.Code, e.Code.Description())
			if e.Err != nil {
				fmt.Fprintf(stderr, "podpis: %v\n", e.Err)
			}
		}
		return 1
	}
	if *asJSON {
		var chain []string
		for _, c := range res.Chain {
			chain = append(chain, c.Subject.String())
		}
		out := map[string]any{"valid": true, "identity": res.Identity, "chain": chain}
		if !res.SigningTime.IsZero() {
			out["signingTime"] = res.SigningTime.UTC()
		}
		out["revocation"] = res.Revocation
		writeJSON(stdout, out)
		return 0
	}
	fmt.Fprintln(stdout, "OK")
	printResult(stdout, res)
	return 0
}

// verifyLogin is podpis verify --login: exit 0 a valid login for origin
// (challenge aside), 1 not, with the code and its sentence on stderr.
func verifyLogin(ctx context.Context, v *verify.Verifier, sig []byte, origin string, asJSON bool, stdout, stderr io.Writer) int {
	res, doc, err := v.ExamineLogin(ctx, sig, origin)
	if err != nil {
		var e *verify.Error
		if !errors.As(err, &e) {
			fmt.Fprintf(stderr, "podpis: %v\n", err)
			return 2
		}
		if asJSON {
			writeJSON(stdout, map[string]any{"valid": false, "code": e.Code, "message": e.Code.Description(), "detail": errString(e.Err)})
		}
		fmt.Fprintf(stderr, "podpis: %s: %s\n", e.Code, e.Code.Description())
		if e.Err != nil {
			fmt.Fprintf(stderr, "podpis: %v\n", e.Err)
		}
		return 1
	}
	if asJSON {
		writeJSON(stdout, map[string]any{"valid": true, "origin": doc.Origin, "challenge": doc.Challenge, "time": doc.Time, "identity": res.Identity})
		return 0
	}
	fmt.Fprintln(stdout, "OK login")
	fmt.Fprintf(stdout, "origin: %s\nchallenge: %s\ntime: %s\n", doc.Origin, doc.Challenge, doc.Time)
	printResult(stdout, res)
	return 0
}

// printResult prints who signed, one "name: value" a line.
func printResult(stdout io.Writer, res *verify.Result) {
	id := res.Identity
	for _, f := range [][2]string{
		{"signer", id.CommonName}, {"organization", id.Organization}, {"title", id.Title},
		{"snils", id.SNILS}, {"inn", id.INN}, {"innle", id.INNLE}, {"ogrn", id.OGRN}, {"ogrnip", id.OGRNIP},
		{"email", id.Email}, {"issuer", id.Issuer}, {"serial", id.Serial}, {"thumbprint", id.Thumbprint},
		{"valid", id.NotBefore.Format(time.RFC3339) + " .. " + id.NotAfter.Format(time.RFC3339)},
	} {
		if f[1] != "" {
			fmt.Fprintf(stdout, "%s: %s\n", f[0], f[1])
		}
	}
	if !res.SigningTime.IsZero() {
		fmt.Fprintf(stdout, "signing time: %s\n", res.SigningTime.UTC().Format(time.RFC3339))
	}
	for _, r := range res.Revocation {
		fmt.Fprintf(stdout, "revocation: %s\n", r)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func writeJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// readCertificates reads a PEM or DER bundle (verify.ParseCertificates).
func readCertificates(path string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	certs, err := verify.ParseCertificates(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return certs, nil
}

// readCMS reads a DER or PEM (CMS, PKCS7) signature.
func readCMS(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if blk, _ := pem.Decode(data); blk != nil {
		return blk.Bytes, nil
	}
	return data, nil
}
