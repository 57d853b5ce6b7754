package poa

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/podpis/podpis/internal/testdeps"
)

const (
	schema    = "testdata/ON_EMCHD_1_928_00_01_01_01.xsd"
	fnsSample = "testdata/ON_EMCHD_20241203_c61a40df-d38f-4800-9ba4-61a2df016993.xml"
)

func date(s string) time.Time {
	t, err := time.Parse(dateLayout, s)
	if err != nil {
		panic(err)
	}
	return t
}

// sample is a power of attorney with numbers whose checksums are right
// (ИНН 500100732259 and СНИЛС 112-233-445 95 are the usual test numbers).
func sample() *PowerOfAttorney {
	return &PowerOfAttorney{
		ID: "4f1c2d3e-5a6b-4c7d-8e9f-0a1b2c3d4e5f", Number: "МЧД-17",
		Issued: date("2026-11-30"), Expires: date("2027-11-30"),
		Principal: Organisation{Name: "ООО «Ромашка» & сыновья <Москва>", INNLE: "7712345671", KPP: "771201001", OGRN: "1027700000008",
			Head: Person{Surname: "Петрова", Name: "Мария", Patronymic: "Сергеевна", SNILS: "98765432082", INN: "500100732259", Title: "Генеральный директор"}},
		Representative: Person{Surname: "Соколова", Name: "Марина", SNILS: "11223344595", INN: "165001234562"},
		Powers:         []Power{Classifier[0], Classifier[3]},
		Text:           "Подписывать счета-фактуры",
	}
}

// xsdValid runs xmllint (Debian's libxml2-utils) over doc with the FNS's
// schema: an implementation of XML Schema that is not ours.
func xsdValid(t *testing.T, doc []byte) error {
	t.Helper()
	testdeps.Need(t, "xmllint")
	f := filepath.Join(t.TempDir(), "doc.xml")
	if err := os.WriteFile(f, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("xmllint", "--noout", "--nonet", "--schema", schema, f).CombinedOutput()
	if err != nil {
		return errors.New(string(out))
	}
	return nil
}

func TestMarshalPassesSchema(t *testing.T) {
	cases := map[string]func(*PowerOfAttorney){
		"classifier and text": func(*PowerOfAttorney) {},
		"classifier only":     func(p *PowerOfAttorney) { p.Text = "" },
		"text only":           func(p *PowerOfAttorney) { p.Powers = nil },
		"no patronymic or title, own status URL": func(p *PowerOfAttorney) {
			p.Principal.Head.Patronymic, p.Principal.Head.Title = "", ""
			p.StatusURL = "https://poa.example.ru/status/" + p.ID
		},
	}
	for name, edit := range cases {
		t.Run(name, func(t *testing.T) {
			p := sample()
			edit(p)
			doc, err := p.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if err := xsdValid(t, doc); err != nil {
				t.Fatalf("the schema refuses what Marshal wrote: %v\n%s", err, doc)
			}
		})
	}
}

// The schema check is not vacuous: it refuses what breaks the format,
// here the SNILS written as the certificate has it (11 digits).
func TestSchemaRefusesBrokenDocument(t *testing.T) {
	doc, err := sample().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	broken := bytes.Replace(doc, []byte(`СНИЛС="987-654-320 82"`), []byte(`СНИЛС="98765432082"`), 1)
	if bytes.Equal(broken, doc) {
		t.Fatal("the sample's SNILS is not where the test expects it")
	}
	if err := xsdValid(t, broken); err == nil {
		t.Fatal("xmllint accepted a SNILS without its separators")
	}
	if err := xsdValid(t, must(os.ReadFile(fnsSample))); err != nil {
		t.Fatalf("the FNS's own file: %v", err)
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

func TestRoundTrip(t *testing.T) {
	p := sample()
	doc, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(doc, []byte(`xmlns="urn://x-artefacts/EMCHD_1"`)) || !bytes.Contains(doc, []byte(`ИдФайл="ON_EMCHD_20261130_4f1c2d3e-5a6b-4c7d-8e9f-0a1b2c3d4e5f"`)) {
		t.Fatalf("namespace or file id missing:\n%s", doc)
	}
	back, err := Parse(doc)
	if err != nil {
		t.Fatal(err)
	}
	if !equal(back, p) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", back, p)
	}
	if got, want := p.SignatureName(), "ON_EMCHD_20261130_4f1c2d3e-5a6b-4c7d-8e9f-0a1b2c3d4e5f.xml.sig"; got != want {
		t.Errorf("SignatureName = %q, want %q", got, want)
	}
}

func equal(a, b *PowerOfAttorney) bool {
	// Only the dates count.
	if a.Issued.Format(dateLayout) != b.Issued.Format(dateLayout) || a.Expires.Format(dateLayout) != b.Expires.Format(dateLayout) || len(a.Powers) != len(b.Powers) {
		return false
	}
	for i := range a.Powers {
		if a.Powers[i] != b.Powers[i] {
			return false
		}
	}
	return a.ID == b.ID && a.Number == b.Number && a.StatusURL == b.StatusURL && a.Principal == b.Principal &&
		a.Representative == b.Representative && a.Text == b.Text
}

func TestParseFNSFile(t *testing.T) {
	p, err := Parse(must(os.ReadFile(fnsSample)))
	if err != nil {
		t.Fatal(err)
	}
	o := p.Principal
	if o.INNLE != "7714350892" || o.OGRN != "1157746734837" || o.KPP != "771401001" {
		t.Errorf("principal %+v", o)
	}
	if o.Head.SNILS != "04185549465" || o.Head.INN != "590411006514" || o.Head.Surname != "ТРАНДИН" {
		t.Errorf("head %+v", o.Head)
	}
	if p.Representative.SNILS != "06196363983" || p.Representative.INN != "510103032621" {
		t.Errorf("representative %+v", p.Representative)
	}
	if p.ID != "c61a40df-d38f-4800-9ba4-61a2df016993" || !p.Expires.Equal(date("2025-12-03")) || len(p.Powers) == 0 {
		t.Errorf("document %s until %s, %d powers", p.ID, p.Expires, len(p.Powers))
	}
	if p.FileName() != filepath.Base(fnsSample) {
		t.Errorf("FileName %q", p.FileName())
	}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		edit   func(*PowerOfAttorney)
		field  string
		reason Reason
	}{
		{func(p *PowerOfAttorney) { p.Representative.SNILS = "11223344596" }, "representative.snils", ReasonChecksum},
		{func(p *PowerOfAttorney) { p.Representative.SNILS = "1122334459" }, "representative.snils", ReasonLength},
		{func(p *PowerOfAttorney) { p.Representative.INN = "165001234563" }, "representative.inn", ReasonChecksum},
		{func(p *PowerOfAttorney) { p.Representative.INN = "165001234572" }, "representative.inn", ReasonChecksum}, // the 11th digit
		{func(p *PowerOfAttorney) { p.Representative.INN = "7712345671" }, "representative.inn", ReasonLength},     // an organisation's
		{func(p *PowerOfAttorney) { p.Representative.INN = "" }, "representative.inn", ReasonRequired},
		{func(p *PowerOfAttorney) { p.Representative.Surname = " " }, "representative.surname", ReasonRequired},
		{func(p *PowerOfAttorney) { p.Representative.Name = strings.Repeat("я", 201) }, "representative.name", ReasonLength},
		{func(p *PowerOfAttorney) { p.Principal.INNLE = "7712345678" }, "principal.innle", ReasonChecksum},
		{func(p *PowerOfAttorney) { p.Principal.INNLE = "500100732259" }, "principal.innle", ReasonLength},
		{func(p *PowerOfAttorney) { p.Principal.OGRN = "1027700000000" }, "principal.ogrn", ReasonChecksum},
		{func(p *PowerOfAttorney) { p.Principal.KPP = "7712a1001" }, "principal.kpp", ReasonFormat},
		{func(p *PowerOfAttorney) { p.Principal.Head.SNILS = "98765432109" }, "head.snils", ReasonChecksum},
		{func(p *PowerOfAttorney) { p.Expires = p.Issued.AddDate(0, 0, -1) }, "expires", ReasonDates},
		{func(p *PowerOfAttorney) { p.Powers, p.Text = nil, "  " }, "powers", ReasonRequired},
		{func(p *PowerOfAttorney) { p.Powers = []Power{{Code: "2_FN", Name: "x"}} }, "powers", ReasonFormat},
		{func(p *PowerOfAttorney) { p.ID = "4F1C2D3E-5A6B-4C7D-8E9F-0A1B2C3D4E5F" }, "id", ReasonFormat},
		{func(p *PowerOfAttorney) { p.Number = "" }, "number", ReasonRequired},
	}
	for _, c := range cases {
		p := sample()
		c.edit(p)
		_, err := p.Marshal()
		var e *Error
		if !errors.As(err, &e) || e.Code != CodeInvalid || e.Field != c.field || e.Reason != c.reason {
			t.Errorf("%s/%s: got %v", c.field, c.reason, err)
			continue
		}
		if !errors.Is(err, ErrInvalid) || !strings.Contains(e.MessageRU(), fieldLabels[c.field]) {
			t.Errorf("%s: message %q", c.field, e.MessageRU())
		}
	}
	if err := sample().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestParseRefuses(t *testing.T) {
	doc, err := sample().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	s := string(doc)
	cases := []struct {
		name string
		doc  string
		want error
	}{
		{"not XML", "договор", ErrMalformed},
		{"another namespace", strings.Replace(s, Namespace, "urn://x-artefacts/EMCHD_2", 1), ErrMalformed},
		{"another version", strings.Replace(s, `ВерсФорм="EMCHD_1"`, `ВерсФорм="EMCHD_2"`, 1), ErrMalformed},
		{"windows-1251", strings.Replace(s, `encoding="UTF-8"`, `encoding="windows-1251"`, 1), ErrMalformed},
		{"a second document after it", s + "<Доверенность/>", ErrMalformed},
		{"two principals", strings.Replace(s, "</СвДоверит>", "</СвДоверит><СвДоверит ТипДоверит=\"1\"/>", 1), ErrUnsupported},
		{"a person as principal", strings.Replace(s, `ТипДоверит="1"`, `ТипДоверит="4"`, 1), ErrUnsupported},
		{"a transfer of powers", strings.Replace(s, "</Документ>", "<Передов/></Документ>", 1), ErrUnsupported},
		{"another GUID in the file id", strings.Replace(s, `_4f1c2d3e-5a6b`, `_5f1c2d3e-5a6b`, 1), ErrInvalid},
		{"a bad checksum", strings.Replace(s, `ИННФЛ="165001234562"`, `ИННФЛ="165001234563"`, 1), ErrInvalid},
		{"too large", s + strings.Repeat(" ", MaxSize), ErrMalformed},
	}
	for _, c := range cases {
		if c.doc == s {
			t.Fatalf("%s: the edit changed nothing", c.name)
		}
		if _, err := Parse([]byte(c.doc)); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
	}
}

func TestNewID(t *testing.T) {
	a, b := NewID(), NewID()
	if !guid.MatchString(a) || a == b || a[14] != '4' {
		t.Fatalf("NewID: %q, %q", a, b)
	}
}

// FuzzParse: whatever Parse accepts, Marshal writes and Parse reads back
// the same.
func FuzzParse(f *testing.F) {
	doc, _ := sample().Marshal()
	f.Add(doc)
	f.Add(must(os.ReadFile(fnsSample)))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Parse(b)
		if err != nil {
			return
		}
		again, err := p.Marshal()
		if err != nil {
			t.Fatalf("Parse accepted what Marshal refuses: %v", err)
		}
		q, err := Parse(again)
		if err != nil || !equal(p, q) {
			t.Fatalf("parse → marshal → parse: %v", err)
		}
	})
}
