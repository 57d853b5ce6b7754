// Package poa reads and writes machine-readable powers of attorney
// (машиночитаемая доверенность, МЧД) in the FNS's format EMCHD_1
// (namespace urn://x-artefacts/EMCHD_1, schema ON_EMCHD_1_928_00_01_01_01:
// the single format approved by Приказ ФНС России от 30.04.2021
// № ЕД-7-26/445@), and checks one received with its detached signature.
//
// It covers the case the demo needs and that most МЧД are: a Russian
// organisation (ТипДоверит 1, РосОргДовер) acting through its head
// (ЛицоБезДов/СвФЛ) grants a person (СвУпПред ТипПред 3, СведФизЛ) powers
// from the FNS classifier (МашПолн) and/or as text (ТекстПолн). Marshal
// writes exactly that; Parse reads it from any valid EMCHD_1 file and
// refuses, with ErrUnsupported, the shapes it does not model (a foreign
// principal, a transfer of powers, several principals or
// representatives), so that a check never silently skips a principal.
//
// The document travels as two files: ON_EMCHD_YYYYMMDD_<GUID>.xml
// (FileName) and its detached CMS signature under the same name plus
// ".sig" (SignatureName). Check verifies the signature with package
// verify and that the signer is the principal: the organisation's INN and
// OGRN, and the head's SNILS and INN, in the signer's certificate are
// those in the document.
package poa

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"strings"
	"time"

	"github.com/podpis/podpis/login"
)

// Namespace and Version name the format.
const (
	Namespace = "urn://x-artefacts/EMCHD_1"
	Version   = "EMCHD_1"
)

// DefaultStatusURL is where the FNS registry of powers of attorney
// answers whether one is in force (СведСист): StatusURL's default, with
// the GUID appended.
const DefaultStatusURL = "https://m4d.nalog.gov.ru/emchd/check-status?guid="

// PowerOfAttorney is one power of attorney: a Russian organisation,
// through its head, empowers a person.
type PowerOfAttorney struct {
	// ID is the document's GUID (НомДовер), lowercase; NewID makes one.
	ID string
	// Number is the principal's own number for it (ВнНомДовер).
	Number string
	// Issued is the date it is made (ДатаВыдДовер), Expires the last
	// day it is in force (СрокДейст); only the dates count.
	Issued, Expires time.Time
	// StatusURL is the information system that tells whether it is
	// still in force (СведСист); empty means DefaultStatusURL+ID.
	StatusURL string

	Principal      Organisation
	Representative Person
	// Powers are powers from the FNS classifier (МашПолн); Text is
	// powers in words (ТекстПолн). At least one of the two.
	Powers []Power
	Text   string
}

// Organisation is the principal (СвРосОрг) and its head, who acts
// without a power of attorney (ЛицоБезДов) and signs.
type Organisation struct {
	Name  string `json:"name"`  // НаимОрг
	INNLE string `json:"innle"` // ИННЮЛ, 10 digits
	KPP   string `json:"kpp"`   // КПП, 9 characters
	OGRN  string `json:"ogrn"`  // ОГРН, 13 digits
	Head  Person `json:"head"`
}

// Person is a person: the principal's head or the representative.
type Person struct {
	Surname    string `json:"surname"`    // Фамилия
	Name       string `json:"name"`       // Имя
	Patronymic string `json:"patronymic"` // Отчество, optional
	SNILS      string `json:"snils"`      // 11 digits; written XXX-XXX-XXX YY
	INN        string `json:"inn"`        // ИННФЛ, 12 digits
	Title      string `json:"title"`      // Должность, optional
}

// FullName is the surname, name and patronymic.
func (p Person) FullName() string {
	return strings.Join(strings.Fields(p.Surname+" "+p.Name+" "+p.Patronymic), " ")
}

// NewID returns a random (version 4) GUID for a power of attorney.
func NewID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// FileID is the file's identifier (ИдФайл): ON_EMCHD_, the date it is
// made, and the GUID.
func (p *PowerOfAttorney) FileID() string {
	return "ON_EMCHD_" + p.Issued.Format("20060102") + "_" + p.ID
}

// FileName is the name the document travels under.
func (p *PowerOfAttorney) FileName() string { return p.FileID() + ".xml" }

// SignatureName is the name of its detached signature: the document's
// name plus ".sig", as the FNS registry and the EDO operators expect.
func (p *PowerOfAttorney) SignatureName() string { return p.FileName() + ".sig" }

const dateLayout = "2006-01-02"

// Marshal writes the document as EMCHD_1 XML in UTF-8. It validates p
// first (Validate), so what it writes passes the schema.
func (p *PowerOfAttorney) Marshal() ([]byte, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	status := p.StatusURL
	if status == "" {
		status = DefaultStatusURL + p.ID
	}
	head := p.Principal.Head
	doc := xmlDocument{
		Version: Version, Flags: "00000000", FileID: p.FileID(),
		Body: xmlBody{
			Info: xmlInfo{Kind: "1", Transfer: "1", Number: p.Number, ID: p.ID,
				Issued: p.Issued.Format(dateLayout), Expires: p.Expires.Format(dateLayout), System: status},
			Principals: []xmlPrincipal{{Type: "1", Org: &xmlRusOrg{EIOUK: "0", EIOFL: "1", EIOIP: "0",
				Org:   xmlOrg{Name: p.Principal.Name, INNLE: p.Principal.INNLE, KPP: p.Principal.KPP, OGRN: p.Principal.OGRN},
				Heads: []xmlHead{{Powers: "1", Person: xmlPersonOf(head)}},
			}}},
			Representatives: []xmlRepresentative{{Type: "3", Person: xmlPersonOf(p.Representative)}},
			Powers:          xmlPowers{Joint: "1", Text: p.Text},
		},
	}
	// ТипПолн: 1 — powers from the classifier (МашПолн), 0 — in words
	// only, as the FNS's own files write it.
	doc.Body.Powers.Type = "0"
	if len(p.Powers) > 0 {
		doc.Body.Powers.Type = "1"
	}
	for _, pw := range p.Powers {
		doc.Body.Powers.Codes = append(doc.Body.Powers.Codes, xmlPower{Code: pw.Code, Name: pw.Name})
	}
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("poa: %w", err)
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

func xmlPersonOf(p Person) *xmlPerson {
	x := &xmlPerson{INN: p.INN, Title: p.Title, Name: xmlName{Surname: p.Surname, Name: p.Name, Patronymic: p.Patronymic}}
	if p.SNILS != "" {
		x.SNILS = login.FormatSNILS(p.SNILS)
	}
	return x
}

// Digits drops the spaces and hyphens people and the schema put in SNILS
// and INN: the form in which they are compared and checked.
func Digits(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\u00a0' {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
}

// The XML as the schema names it: only what Marshal writes and Parse
// reads. Element order follows the schema's sequences.
type xmlDocument struct {
	XMLName xml.Name `xml:"urn://x-artefacts/EMCHD_1 Доверенность"`
	Version string   `xml:"ВерсФорм,attr"`
	Flags   string   `xml:"ПрЭлФорм,attr"`
	FileID  string   `xml:"ИдФайл,attr"`
	Body    xmlBody  `xml:"Документ>Довер"`
	// Transfer is a transfer of powers (Передов): read to be refused.
	Transfer *struct{} `xml:"Документ>Передов"`
}

type xmlBody struct {
	Info            xmlInfo             `xml:"СвДов"`
	Principals      []xmlPrincipal      `xml:"СвДоверит"`
	Representatives []xmlRepresentative `xml:"СвУпПред"`
	Powers          xmlPowers           `xml:"СвПолн"`
}

type xmlInfo struct {
	Kind     string `xml:"ВидДовер,attr"`
	Transfer string `xml:"ПрПередов,attr"`
	Number   string `xml:"ВнНомДовер,attr"`
	ID       string `xml:"НомДовер,attr"`
	Issued   string `xml:"ДатаВыдДовер,attr"`
	Expires  string `xml:"СрокДейст,attr"`
	System   string `xml:"СведСист"`
}

type xmlPrincipal struct {
	Type string     `xml:"ТипДоверит,attr"`
	Org  *xmlRusOrg `xml:"Доверит>РосОргДовер"`
}

type xmlRusOrg struct {
	EIOUK string    `xml:"ЕИОУК,attr"`
	EIOFL string    `xml:"ЕИОФЛ,attr"`
	EIOIP string    `xml:"ЕИОИП,attr"`
	Org   xmlOrg    `xml:"СвРосОрг"`
	Heads []xmlHead `xml:"ЛицоБезДов"`
}

type xmlOrg struct {
	Name  string `xml:"НаимОрг,attr"`
	INNLE string `xml:"ИННЮЛ,attr,omitempty"`
	KPP   string `xml:"КПП,attr"`
	OGRN  string `xml:"ОГРН,attr,omitempty"`
}

type xmlHead struct {
	Powers string     `xml:"ПолнЮЛ,attr"`
	Person *xmlPerson `xml:"СвФЛ"`
}

type xmlPerson struct {
	INN   string  `xml:"ИННФЛ,attr,omitempty"`
	SNILS string  `xml:"СНИЛС,attr,omitempty"`
	Title string  `xml:"Должность,attr,omitempty"`
	Name  xmlName `xml:"СведФЛ>ФИО"`
}

type xmlName struct {
	Surname    string `xml:"Фамилия,attr"`
	Name       string `xml:"Имя,attr"`
	Patronymic string `xml:"Отчество,attr,omitempty"`
}

type xmlRepresentative struct {
	Type   string     `xml:"ТипПред,attr"`
	Person *xmlPerson `xml:"Пред>СведФизЛ"`
}

type xmlPowers struct {
	Type  string     `xml:"ТипПолн,attr"`
	Joint string     `xml:"ПрСовмПолн,attr"`
	Text  string     `xml:"ТекстПолн,omitempty"`
	Codes []xmlPower `xml:"МашПолн"`
}

type xmlPower struct {
	Code string `xml:"КодПолн,attr"`
	Name string `xml:"НаимПолн,attr"`
}
