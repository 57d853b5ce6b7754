package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/podpis/podpis/agent/keystore"
	"github.com/podpis/podpis/agent/wsapi"
	"github.com/podpis/podpis/cades"
	"github.com/podpis/podpis/crypto/cms"
	"github.com/podpis/podpis/crypto/tsp"
	"github.com/podpis/podpis/login"
)

// loginSniff is how much of a file sign and cosign give login.IsDocument:
// a login document is at most a few KiB (login's own limit is 4096 bytes),
// so a file that is no login in its first MiB is none a verifier takes.
const loginSniff = 1 << 20

// signFlags are the flags sign and cosign share.
type signFlags struct {
	modules   listFlag
	certID    *string
	in, out   *string
	onlyNamed *bool
}

func addSignFlags(fs *flag.FlagSet, in string) *signFlags {
	f := &signFlags{}
	fs.Var(&f.modules, "module", "`ПУТЬ` к модулю PKCS#11 сверх известных (можно повторять)")
	f.certID = fs.String("cert", "", "`ОТПЕЧАТОК` сертификата подписи (из podpis certs)")
	f.in = fs.String("in", "", in)
	f.out = fs.String("out", "", "`ФАЙЛ`, куда записать подпись CMS (DER)")
	f.onlyNamed = fs.Bool("no-known-modules", false, "только модули из --module, без известных путей CSP")
	return f
}

// runSign: podpis sign --cert ID --in FILE --out FILE [--detached]. The
// file is streamed: hashed as it is read and, attached, written out in
// segments, so any size signs in the same small memory.
func runSign(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("sign")
	f := addSignFlags(fs, "`ФАЙЛ`, который подписать")
	detached := fs.Bool("detached", false, "отсоединённая подпись: без содержимого файла")
	tsaURL := fs.String("tsa", "", "`АДРЕС` службы штампов времени (http или https) для --cades t и xl1")
	form := fs.String("cades", "", "`ФОРМА` подписи: bes, t (со штампом времени) или xl1 (CAdES-X Long Type 1); с --tsa без флага — t")
	chainFile := fs.String("chain", "", "`ФАЙЛ` сертификатов УЦ до корневого (PEM или DER) для --cades xl1, если их нет в подписи и по AIA")
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	if fs.NArg() != 0 || *f.certID == "" || *f.in == "" || *f.out == "" {
		return usageError("sign", stderr)
	}
	lt, code := longTermFlags(*form, *tsaURL, *chainFile, stderr)
	if code != 0 {
		return code
	}
	in, err := os.Open(*f.in)
	if err != nil {
		fmt.Fprintf(stderr, "podpis: %v\n", err)
		return 2
	}
	defer in.Close()
	if code, ok := refuseLogin(in, *f.in, stderr); !ok {
		return code
	}
	return withSigner(f, stderr, func(cert *x509.Certificate, key crypto.Signer, out io.Writer) (err error) {
		if lt.level != cades.BES {
			// The timestamps go on the finished signature, which is then
			// held in memory (an attached one with its document).
			real := out
			var buf bytes.Buffer
			out = &buf
			defer func() {
				if err == nil {
					err = lt.extend(buf.Bytes(), real)
				}
			}()
		}
		w, err := cms.NewWriter(out, cert, key, &cms.SignOptions{Detached: *detached, ContentType: cms.OIDData})
		if err != nil {
			return err
		}
		if _, err := io.Copy(w, in); err != nil {
			return readError{fmt.Errorf("%s: %w", *f.in, err)}
		}
		return w.Close()
	})
}

// cliLongTerm is sign's CAdES form and what raising it needs.
type cliLongTerm struct {
	level cades.Level
	opts  cades.Options
}

// longTermFlags reads --cades, --tsa and --chain: a form above bes needs
// an http(s) TSA (exit 2 otherwise, before any PIN is asked).
func longTermFlags(form, tsaURL, chainFile string, stderr io.Writer) (cliLongTerm, int) {
	if form == "" && tsaURL != "" {
		form = "t"
	}
	level, err := cades.ParseLevel(form)
	if err != nil {
		fmt.Fprintf(stderr, "podpis: --cades: %q is not bes, t or xl1\n", form)
		return cliLongTerm{}, 2
	}
	lt := cliLongTerm{level: level, opts: cades.Options{FetchIssuers: true}}
	if level == cades.BES {
		return lt, 0
	}
	if tsaURL == "" {
		fmt.Fprintf(stderr, "podpis: --cades %s needs --tsa URL\n", level)
		return cliLongTerm{}, 2
	}
	if err := tsp.CheckURL(tsaURL); err != nil {
		fmt.Fprintf(stderr, "podpis: --tsa: %v\n", err)
		return cliLongTerm{}, 2
	}
	lt.opts.TSA = &tsp.Client{URL: tsaURL}
	if chainFile != "" {
		if lt.opts.Certificates, err = readCertificates(chainFile); err != nil {
			fmt.Fprintf(stderr, "podpis: --chain: %v\n", err)
			return cliLongTerm{}, 2
		}
	}
	return lt, 0
}

// extend raises the signature msg and writes it to out; its failure is a
// longTermError (a TSA's or the validation data's), never a CAdES-BES
// written under a name that asked for more.
func (lt cliLongTerm) extend(msg []byte, out io.Writer) error {
	ext, err := cades.Extend(context.Background(), msg, lt.level, lt.opts)
	if err != nil {
		return longTermError{err}
	}
	_, err = out.Write(ext)
	return err
}

// longTermError is a failure to raise the signature: its protocol code
// (TSA_UNAVAILABLE, TSA_BAD_RESPONSE, REVOCATION_UNAVAILABLE), exit 1.
type longTermError struct{ error }

func (e longTermError) Unwrap() error { return e.error }

// refuseLogin refuses a login document, signed as data it could pass for
// a login with a lax verifier; logins are made by the agent's
// authenticate alone. It leaves in at its start.
func refuseLogin(in *os.File, name string, stderr io.Writer) (int, bool) {
	head, err := io.ReadAll(io.LimitReader(in, loginSniff))
	if err != nil {
		fmt.Fprintf(stderr, "podpis: %v\n", err)
		return 2, false
	}
	if login.IsDocument(head) {
		fmt.Fprintf(stderr, "podpis: %s is a login document (podpis-auth): refusing to sign it as a document\n", name)
		return 1, false
	}
	if _, err := in.Seek(0, io.SeekStart); err != nil {
		fmt.Fprintf(stderr, "podpis: %s: %v\n", name, err)
		return 2, false
	}
	return 0, true
}

// readError marks a failure to read the input: exit 2, not the key's 1.
type readError struct{ error }

func (e readError) Unwrap() error { return e.error }

// withSigner opens the tokens, finds the certificate and its key (the
// PIN is asked when the key first signs), and runs sign with an output
// that becomes f.out only if sign succeeds: a failed or interrupted
// signature never leaves a partial file under the name asked for.
func withSigner(f *signFlags, stderr io.Writer, sign func(*x509.Certificate, crypto.Signer, io.Writer) error) int {
	p, ok := openStore(f.modules, *f.onlyNamed, stderr)
	if !ok {
		return 1
	}
	defer p.Close()
	ctx := context.Background()
	id := strings.ToLower(strings.ReplaceAll(*f.certID, " ", ""))
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
	if cert == nil {
		return reportKeystore(stderr, keystore.ErrCertNotFound)
	}
	tmp, err := os.CreateTemp(filepath.Dir(*f.out), "."+filepath.Base(*f.out)+".*")
	if err != nil {
		fmt.Fprintf(stderr, "podpis: %v\n", err)
		return 2
	}
	defer os.Remove(tmp.Name()) // after a successful rename, a no-op
	bw := bufio.NewWriterSize(tmp, 256<<10)
	if err := sign(cert, key, bw); err != nil {
		tmp.Close()
		var re readError
		if errors.As(err, &re) {
			fmt.Fprintf(stderr, "podpis: %v\n", re.error)
			return 2
		}
		var le longTermError
		if errors.As(err, &le) {
			code := wsapi.CodeOf(le.error)
			fmt.Fprintf(stderr, "podpis: %s: %s\n", code, code.Message())
			fmt.Fprintf(stderr, "podpis: %v\n", le.error)
			return 1
		}
		return reportKeystore(stderr, err)
	}
	if err := bw.Flush(); err != nil {
		tmp.Close()
		fmt.Fprintf(stderr, "podpis: %v\n", err)
		return 2
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		fmt.Fprintf(stderr, "podpis: %v\n", err)
		return 2
	}
	if err := tmp.Close(); err != nil {
		fmt.Fprintf(stderr, "podpis: %v\n", err)
		return 2
	}
	if err := os.Rename(tmp.Name(), *f.out); err != nil {
		fmt.Fprintf(stderr, "podpis: %v\n", err)
		return 2
	}
	return 0
}
