package poa

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"time"

	"github.com/podpis/podpis/login"
	"github.com/podpis/podpis/verify"
)

// Checker checks a power of attorney received with its signature.
type Checker struct {
	// Verifier checks the signature: chain to the site's roots,
	// validity, revocation (verify.Verifier.VerifyDocument).
	Verifier *verify.Verifier
	// Now is the clock for the validity period; nil means time.Now.
	Now func() time.Time
}

// Checked is a power of attorney whose signature is valid and whose
// signer is its principal's head.
type Checked struct {
	*PowerOfAttorney
	// Signer is who signed, as the certificate says.
	Signer verify.Result
}

// Check verifies signature (detached CMS over document, or attached with
// document as its content) and the document: a valid EMCHD_1 power of
// attorney, in force today, every signature valid, and one signer whose
// certificate names the principal (MatchSigner). A signature failure is
// the *verify.Error of package verify; the rest are *Error.
func (c *Checker) Check(ctx context.Context, document, signature []byte) (*Checked, error) {
	if c.Verifier == nil {
		return nil, errors.New("poa: Checker without a Verifier")
	}
	doc, err := c.Verifier.VerifyDocument(ctx, bytes.NewReader(signature), bytes.NewReader(document))
	if err != nil {
		return nil, err
	}
	if len(doc.Signers) == 0 {
		return nil, &verify.Error{Code: verify.CodeMalformed, Err: errors.New("no signers")}
	}
	for _, s := range doc.Signers {
		if s.Err != nil {
			return nil, s.Err
		}
	}
	p, err := Parse(document)
	if err != nil {
		return nil, err
	}
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	if p.Expires.Format(dateLayout) < now().Format(dateLayout) {
		return nil, fail(CodeExpired, "in force until %s", p.Expires.Format(dateLayout))
	}
	var first error
	for _, s := range doc.Signers {
		err := MatchSigner(p, s.Identity)
		if err == nil {
			return &Checked{PowerOfAttorney: p, Signer: s.Result}, nil
		}
		if first == nil {
			first = err
		}
	}
	return nil, first
}

// MatchSigner says whether id, a signer's certificate, is the
// principal's head: the organisation's INN (INNLE) and OGRN, then the
// person's SNILS and INN, must be those of the document. A certificate
// that lacks one of them does not match: the principal is identified by
// numbers, never by names, which anyone may share.
func MatchSigner(p *PowerOfAttorney, id login.Identity) error {
	o := p.Principal
	if id.INNLE == "" || id.INNLE != o.INNLE || id.OGRN != o.OGRN {
		return fail(CodePrincipalMismatch, "signer's INNLE %q OGRN %q, principal's %q %q", id.INNLE, id.OGRN, o.INNLE, o.OGRN)
	}
	if Digits(id.SNILS) == "" || Digits(id.SNILS) != o.Head.SNILS || id.INN != "" && id.INN != o.Head.INN {
		return fail(CodeSignerMismatch, "signer's SNILS %q INN %q, head's %q %q", id.SNILS, id.INN, o.Head.SNILS, o.Head.INN)
	}
	return nil
}

// PrincipalOf makes the principal of a power of attorney from the
// certificate of the head who will sign it: the organisation and the
// head as the certificate names them (the KPP, which certificates do not
// carry, is given). A certificate without INNLE or OGRN is a person's:
// CodeNotPrincipal.
func PrincipalOf(id login.Identity, kpp string) (Organisation, error) {
	if id.INNLE == "" || id.OGRN == "" {
		return Organisation{}, &Error{Code: CodeNotPrincipal}
	}
	surname, name, patronymic := id.Surname, id.GivenName, ""
	if i := strings.IndexByte(name, ' '); i >= 0 {
		name, patronymic = name[:i], name[i+1:]
	}
	if surname == "" || name == "" {
		// A certificate without SN and G: the common name is the
		// person's full name (FSB order 795 asks for both, but older
		// certificates have only CN).
		f := strings.Fields(id.CommonName)
		if len(f) >= 2 {
			surname, name = f[0], f[1]
			patronymic = strings.Join(f[2:], " ")
		}
	}
	org := id.Organization
	if org == "" {
		org = id.CommonName
	}
	return Organisation{Name: org, INNLE: id.INNLE, KPP: kpp, OGRN: id.OGRN,
		Head: Person{Surname: surname, Name: name, Patronymic: patronymic, SNILS: Digits(id.SNILS), INN: id.INN, Title: id.Title}}, nil
}
