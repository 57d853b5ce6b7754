package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/podpis/podpis/login"
	"github.com/podpis/podpis/verify"
	"github.com/podpis/podpis/verify/revocation"
)

// runVerify: podpis verify [--login ORIGIN] --roots FILE [--tsa-roots FILE] [--intermediates FILE] [--at RFC3339]
// [--content FILE] [--revocation require|prefer|off] [--crl FILE]... [--qualified] [--json] SIG. Exit 0 valid, 1 invalid, 2 usage or I/O.
//
// A document signature is streamed, its content too, and each signer is
// printed with its own verdict; exit 0 only if all are valid.
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
	qualified := fs.Bool("qualified", false, "требовать квалифицированный сертификат: keyUsage и в имени владельца СНИЛС, ИНН, для организации ОГРН")
	tsaRoots := fs.String("tsa-roots", "", "`ФАЙЛ` корневых сертификатов служб штампов времени (без флага: --roots)")
	var crls listFlag
	fs.Var(&crls, "crl", "`ФАЙЛ` CRL сверх точек распространения из сертификатов (можно повторять)")
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	if fs.NArg() != 1 || *roots == "" || *login != "" && *contentFile != "" {
		return usageError("verify", stderr)
	}
	cfg := verify.Config{}
	if *qualified {
		cfg.Documents, cfg.Logins = verify.ProfileQualified, verify.ProfileQualified
	}
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
	if *tsaRoots != "" {
		if cfg.TimestampRoots, err = readCertificates(*tsaRoots); err != nil {
			fmt.Fprintf(stderr, "podpis: %v\n", err)
			return 2
		}
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
	v, err := verify.New(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "podpis: %v\n", err)
		return 2
	}
	ctx := context.Background()
	if *login != "" {
		sig, err := readCMS(fs.Arg(0))
		if err != nil {
			fmt.Fprintf(stderr, "podpis: %v\n", err)
			return 2
		}
		return verifyLogin(ctx, v, sig, *login, *asJSON, stdout, stderr)
	}
	return verifyDocument(ctx, v, fs.Arg(0), *contentFile, *asJSON, stdout, stderr)
}

// verifyDocument is podpis verify of a document: the signature and the
// content are streamed, each signer gets its own verdict. Exit 0 when
// every signer is valid, 1 otherwise. The first line is OK, or the code
// that fails (the message's, else the first failing signer's).
func verifyDocument(ctx context.Context, v *verify.Verifier, sigPath, contentPath string, asJSON bool, stdout, stderr io.Writer) int {
	sig, err := openCMS(sigPath)
	if err != nil {
		fmt.Fprintf(stderr, "podpis: %v\n", err)
		return 2
	}
	defer sig.Close()
	var content io.Reader
	if contentPath != "" {
		f, err := os.Open(contentPath)
		if err != nil {
			fmt.Fprintf(stderr, "podpis: %v\n", err)
			return 2
		}
		defer f.Close()
		content = f
	}
	doc, err := v.VerifyDocument(ctx, sig, content)
	if err != nil {
		var e *verify.Error
		if !errors.As(err, &e) {
			fmt.Fprintf(stderr, "podpis: %v\n", err)
			return 2
		}
		if asJSON {
			writeJSON(stdout, map[string]any{"valid": false, "code": e.Code, "message": e.Code.Description(), "detail": errString(e.Err)})
		} else {
			fmt.Fprintf(stdout, "%s: %s\n", e.Code, e.Code.Description())
			if e.Err != nil {
				fmt.Fprintf(stderr, "podpis: %v\n", e.Err)
			}
		}
		return 1
	}
	var firstErr *verify.Error
	for _, s := range doc.Signers {
		if s.Err != nil && firstErr == nil {
			errors.As(s.Err, &firstErr)
		}
	}
	if asJSON {
		var signers []map[string]any
		for _, s := range doc.Signers {
			one := map[string]any{"valid": s.Err == nil, "identity": s.Identity}
			if s.Err != nil {
				var e *verify.Error
				errors.As(s.Err, &e)
				one["code"], one["message"], one["detail"] = e.Code, e.Code.Description(), errString(e.Err)
			} else {
				var chain []string
				for _, c := range s.Chain {
					chain = append(chain, c.Subject.String())
				}
				one["chain"], one["revocation"] = chain, s.Revocation
				one["level"] = s.Level
				if len(s.Timestamps) > 0 {
					one["timestamps"] = s.Timestamps
				}
			}
			if !s.SigningTime.IsZero() {
				one["signingTime"] = s.SigningTime.UTC()
			}
			signers = append(signers, one)
		}
		out := map[string]any{"valid": doc.Valid(), "attached": doc.Attached, "signers": signers}
		if firstErr != nil {
			out["code"], out["message"] = firstErr.Code, firstErr.Code.Description()
		} else {
			// As before co-signatures: the first signer at the top.
			out["identity"] = doc.Signers[0].Identity
		}
		writeJSON(stdout, out)
	} else {
		if firstErr != nil {
			fmt.Fprintf(stdout, "%s: %s\n", firstErr.Code, firstErr.Code.Description())
		} else {
			fmt.Fprintln(stdout, "OK")
		}
		for i, s := range doc.Signers {
			printSigner(stdout, i+1, len(doc.Signers), s)
			if s.Err != nil {
				fmt.Fprintf(stderr, "podpis: подпись %d: %v\n", i+1, s.Err)
			}
		}
	}
	if firstErr != nil {
		return 1
	}
	return 0
}

// printSigner prints one signer's verdict and who it is, with the labels
// podpis certs uses.
func printSigner(w io.Writer, n, of int, s verify.Signer) {
	verdict := "действительна"
	if s.Err != nil {
		var e *verify.Error
		errors.As(s.Err, &e)
		verdict = fmt.Sprintf("%s: %s", e.Code, e.Code.MessageRU())
	}
	fmt.Fprintf(w, "Подпись %d из %d: %s\n", n, of, verdict)
	id := s.Identity
	for _, f := range [][2]string{
		{"Владелец", id.CommonName}, {"Должность", id.Title}, {"Организация", id.Organization},
		{"СНИЛС", login.FormatSNILS(id.SNILS)}, {"ИНН", id.INN}, {"ИНН организации", id.INNLE}, {"ОГРН", id.OGRN}, {"ОГРНИП", id.OGRNIP},
		{"Эл. почта", id.Email}, {"Издатель", id.Issuer}, {"Серийный номер", id.Serial}, {"Отпечаток", id.Thumbprint},
	} {
		if f[1] != "" {
			fmt.Fprintf(w, "    %s: %s\n", f[0], f[1])
		}
	}
	if !id.NotBefore.IsZero() {
		fmt.Fprintf(w, "    Действителен с %s по %s\n", id.NotBefore.Format("02.01.2006"), id.NotAfter.Format("02.01.2006"))
	}
	if !s.SigningTime.IsZero() {
		fmt.Fprintf(w, "    Время подписи: %s\n", s.SigningTime.UTC().Format(time.RFC3339))
	}
	if name, ok := levelNames[s.Level]; ok && s.Err == nil {
		fmt.Fprintf(w, "    Форма: %s\n", name)
	}
	for _, ts := range s.Timestamps {
		fmt.Fprintf(w, "    %s: %s (%s)\n", timestampNames[ts.Kind], ts.Time.UTC().Format(time.RFC3339), ts.TSA)
	}
	for _, r := range s.Revocation {
		fmt.Fprintf(w, "    Отзыв: %s\n", r)
	}
}

// levelNames and timestampNames are how podpis verify names the CAdES
// forms and timestamps.
var (
	levelNames     = map[string]string{"bes": "CAdES-BES", "t": "CAdES-T", "xl1": "CAdES-X Long Type 1"}
	timestampNames = map[string]string{"signature": "Штамп времени подписи", "cades-c": "Штамп времени CAdES-C"}
)

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

// openCMS opens a signature for streaming: DER or BER as is; PEM (CMS,
// PKCS7), which only small signatures come in, decoded whole.
func openCMS(path string) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReader(f)
	if start, _ := br.Peek(11); string(start) == "-----BEGIN " {
		f.Close()
		data, err := readCMS(path)
		if err != nil {
			return nil, err
		}
		return io.NopCloser(bytes.NewReader(data)), nil
	}
	return struct {
		io.Reader
		io.Closer
	}{br, f}, nil
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
