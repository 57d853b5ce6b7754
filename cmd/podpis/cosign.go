package main

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/podpis/podpis/crypto/cms"
	"github.com/podpis/podpis/login"
)

// runCosign: podpis cosign --cert ID --in SIG --out FILE [--content FILE].
// It adds a signature beside those of SIG (CMS, attached or detached; a
// detached one needs --content), streaming the document as sign does. The
// signatures already there are not checked: podpis verify tells each.
func runCosign(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("cosign")
	f := addSignFlags(fs, "`ФАЙЛ` подписи CMS, к которой добавить свою")
	contentFile := fs.String("content", "", "`ФАЙЛ` подписанного содержимого, для отсоединённой подписи")
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	if fs.NArg() != 0 || *f.certID == "" || *f.in == "" || *f.out == "" {
		return usageError("cosign", stderr)
	}
	msg, err := os.Open(*f.in)
	if err != nil {
		fmt.Fprintf(stderr, "podpis: %v\n", err)
		return 2
	}
	defer msg.Close()
	// A first pass, before any PIN: the message must be one, of plain
	// data, and its content (carried or given) no login document.
	head := &prefix{max: loginSniff}
	sd, err := cms.ParseStream(msg, head)
	if err != nil {
		fmt.Fprintf(stderr, "podpis: %s: %v\n", *f.in, err)
		return 1
	}
	if !sd.ContentType.Equal(cms.OIDData) {
		fmt.Fprintf(stderr, "podpis: %s: content type %v is not data: refusing to co-sign it\n", *f.in, sd.ContentType)
		return 1
	}
	var content *os.File
	switch {
	case sd.Attached && *contentFile != "":
		fmt.Fprintf(stderr, "podpis: %s carries its content: co-sign it without --content\n", *f.in)
		return 2
	case !sd.Attached && *contentFile == "":
		fmt.Fprintf(stderr, "podpis: %s is a detached signature: give the signed file with --content\n", *f.in)
		return 2
	case sd.Attached:
		if login.IsDocument(head.b) {
			fmt.Fprintf(stderr, "podpis: %s holds a login document (podpis-auth): refusing to sign it as a document\n", *f.in)
			return 1
		}
	default:
		if content, err = os.Open(*contentFile); err != nil {
			fmt.Fprintf(stderr, "podpis: %v\n", err)
			return 2
		}
		defer content.Close()
		if code, ok := refuseLogin(content, *contentFile, stderr); !ok {
			return code
		}
	}
	if _, err := msg.Seek(0, io.SeekStart); err != nil {
		fmt.Fprintf(stderr, "podpis: %v\n", err)
		return 2
	}
	return withSigner(f, stderr, func(cert *x509.Certificate, key crypto.Signer, out io.Writer) error {
		var c io.Reader
		if content != nil {
			c = content
		}
		err := cms.CoSign(out, msg, c, cert, key, &cms.SignOptions{ContentType: cms.OIDData})
		if errors.Is(err, cms.ErrMalformed) {
			return readError{fmt.Errorf("%s: %w", *f.in, err)}
		}
		return err
	})
}

// prefix keeps the first max bytes written to it.
type prefix struct {
	b   []byte
	max int
}

func (p *prefix) Write(b []byte) (int, error) {
	if k := min(len(b), p.max-len(p.b)); k > 0 {
		p.b = append(p.b, b[:k]...)
	}
	return len(b), nil
}
