package poa

import (
	"errors"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/podpis/podpis/certreq"
)

var guid = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// Validate checks every field against the schema's limits and the
// checksums of the registration numbers (ИНН, СНИЛС, ОГРН: the schema
// checks only their shape, so a typo would pass it and make a power of
// attorney for nobody). The first failure is returned as an *Error with
// Code CodeInvalid and the field's name. Whether it is in force today is
// not Validate's business: see Check.
func (p *PowerOfAttorney) Validate() error {
	if !guid.MatchString(p.ID) {
		return invalid("id", ReasonFormat)
	}
	if err := text("number", p.Number, 50, true); err != nil {
		return err
	}
	if p.Issued.IsZero() {
		return invalid("issued", ReasonRequired)
	}
	if p.Expires.IsZero() {
		return invalid("expires", ReasonRequired)
	}
	if p.Expires.Format(dateLayout) < p.Issued.Format(dateLayout) {
		return invalid("expires", ReasonDates)
	}
	if err := text("statusURL", p.StatusURL, 1000-len(p.ID), false); err != nil {
		return err
	}
	o := p.Principal
	if err := text("principal.name", o.Name, 1000, true); err != nil {
		return err
	}
	if err := number("principal.innle", o.INNLE, certreq.CheckINNLE); err != nil {
		return err
	}
	if err := number("principal.kpp", o.KPP, certreq.CheckKPP); err != nil {
		return err
	}
	if err := number("principal.ogrn", o.OGRN, certreq.CheckOGRN); err != nil {
		return err
	}
	if err := o.Head.validate("head"); err != nil {
		return err
	}
	if err := p.Representative.validate("representative"); err != nil {
		return err
	}
	if len(p.Powers) == 0 && strings.TrimSpace(p.Text) == "" {
		return invalid("powers", ReasonRequired)
	}
	if err := text("powers", p.Text, 10000, false); err != nil {
		return err
	}
	for _, pw := range p.Powers {
		if n := utf8.RuneCountInString(pw.Code); n < 6 || n > 255 || pw.Name == "" || utf8.RuneCountInString(pw.Name) > 255 {
			return invalid("powers", ReasonFormat)
		}
	}
	return nil
}

// validate checks a person: the name, and SNILS and INN with their
// checksums. Both numbers are required of the head and the
// representative: the schema leaves them optional, but without them a
// signer cannot be matched, nor a representative identified by the EDO
// operators that check a МЧД.
func (p Person) validate(prefix string) error {
	if err := text(prefix+".surname", p.Surname, 200, true); err != nil {
		return err
	}
	if err := text(prefix+".name", p.Name, 200, true); err != nil {
		return err
	}
	if err := text(prefix+".patronymic", p.Patronymic, 200, false); err != nil {
		return err
	}
	if err := text(prefix+".title", p.Title, 255, false); err != nil {
		return err
	}
	if err := number(prefix+".snils", p.SNILS, certreq.CheckSNILS); err != nil {
		return err
	}
	return number(prefix+".inn", p.INN, certreq.CheckINN)
}

func text(field, v string, max int, required bool) error {
	switch {
	case strings.TrimSpace(v) == "":
		if required {
			return invalid(field, ReasonRequired)
		}
		if v != "" {
			return invalid(field, ReasonFormat)
		}
	case v != strings.TrimSpace(v) || !utf8.ValidString(v) || strings.ContainsAny(v, "\x00\r"):
		return invalid(field, ReasonFormat)
	case utf8.RuneCountInString(v) > max:
		return invalid(field, ReasonLength)
	}
	return nil
}

// number checks a registration number with certreq's rule and says why
// it fails in this package's terms.
func number(field, v string, check func(string) error) error {
	if v == "" {
		return invalid(field, ReasonRequired)
	}
	err := check(v)
	var e *certreq.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &e) && e.Reason == certreq.ReasonChecksum:
		return invalid(field, ReasonChecksum)
	case errors.As(err, &e) && e.Reason == certreq.ReasonCharacters:
		return invalid(field, ReasonFormat)
	default:
		return invalid(field, ReasonLength)
	}
}
