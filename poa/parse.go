package poa

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// MaxSize bounds what Parse reads: the schema's longest fields come to
// well under it.
const MaxSize = 1 << 20

// Parse reads an EMCHD_1 power of attorney of the shape this package
// models (see the package comment) and validates it. Not EMCHD_1 XML is
// CodeMalformed, another shape CodeUnsupported, a field breaking its rule
// CodeInvalid. Parse does not check the schema in full: it reads what it
// needs and checks that, so that a check of the signer never rests on a
// field it did not read.
func Parse(b []byte) (*PowerOfAttorney, error) {
	if len(b) > MaxSize {
		return nil, fail(CodeMalformed, "larger than %d bytes", MaxSize)
	}
	var doc xmlDocument
	dec := xml.NewDecoder(bytes.NewReader(b))
	// The format is UTF-8 or windows-1251; podpis writes UTF-8, and a
	// windows-1251 file is refused rather than misread.
	dec.CharsetReader = func(label string, r io.Reader) (io.Reader, error) {
		return nil, fmt.Errorf("encoding %q: only UTF-8 is read", label)
	}
	dec.Strict = true
	if err := dec.Decode(&doc); err != nil {
		return nil, &Error{Code: CodeMalformed, Err: err}
	}
	// Nothing but white space and comments may follow the document.
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, &Error{Code: CodeMalformed, Err: err}
		}
		switch t := tok.(type) {
		case xml.CharData:
			if len(bytes.TrimSpace(t)) == 0 {
				continue
			}
		case xml.Comment, xml.ProcInst:
			continue
		}
		return nil, fail(CodeMalformed, "content after the document")
	}
	if doc.XMLName.Space != Namespace || doc.Version != Version {
		return nil, fail(CodeMalformed, "namespace %q, version %q", doc.XMLName.Space, doc.Version)
	}
	if doc.Transfer != nil {
		return nil, fail(CodeUnsupported, "a transfer of powers (Передов)")
	}
	body := doc.Body
	if len(body.Principals) != 1 || body.Principals[0].Type != "1" || body.Principals[0].Org == nil {
		return nil, fail(CodeUnsupported, "not one Russian organisation as principal")
	}
	org := body.Principals[0].Org
	if len(org.Heads) != 1 || org.Heads[0].Person == nil || org.EIOFL != "1" {
		return nil, fail(CodeUnsupported, "the principal's head is not one person")
	}
	if len(body.Representatives) != 1 || body.Representatives[0].Person == nil {
		return nil, fail(CodeUnsupported, "not one person as representative")
	}
	issued, err := time.Parse(dateLayout, body.Info.Issued)
	if err != nil {
		return nil, invalid("issued", ReasonFormat)
	}
	expires, err := time.Parse(dateLayout, body.Info.Expires)
	if err != nil {
		return nil, invalid("expires", ReasonFormat)
	}
	p := &PowerOfAttorney{
		ID:     strings.ToLower(body.Info.ID),
		Number: body.Info.Number, Issued: issued, Expires: expires, StatusURL: body.Info.System,
		Principal: Organisation{Name: org.Org.Name, INNLE: org.Org.INNLE, KPP: org.Org.KPP, OGRN: org.Org.OGRN,
			Head: personOf(org.Heads[0].Person)},
		Representative: personOf(body.Representatives[0].Person),
		Text:           body.Powers.Text,
	}
	for _, c := range body.Powers.Codes {
		p.Powers = append(p.Powers, Power{Code: c.Code, Name: c.Name})
	}
	if p.StatusURL == DefaultStatusURL+p.ID {
		p.StatusURL = ""
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	// The file's identifier names its GUID: a file whose name and
	// content disagree is not trusted to be the one meant.
	if !strings.HasSuffix(strings.ToLower(doc.FileID), "_"+p.ID) {
		return nil, invalid("id", ReasonFormat)
	}
	return p, nil
}

func personOf(x *xmlPerson) Person {
	return Person{Surname: x.Name.Surname, Name: x.Name.Name, Patronymic: x.Name.Patronymic,
		SNILS: Digits(x.SNILS), INN: x.INN, Title: x.Title}
}
