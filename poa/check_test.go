package poa

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"testing"
	"time"

	"github.com/podpis/podpis/crypto/cms"
	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/internal/testpki"
	"github.com/podpis/podpis/login"
	"github.com/podpis/podpis/verify"
)

var (
	oidSNILS = asn1.ObjectIdentifier{1, 2, 643, 100, 3}
	oidINN   = asn1.ObjectIdentifier{1, 2, 643, 3, 131, 1, 1}
	oidINNLE = asn1.ObjectIdentifier{1, 2, 643, 100, 4}
	oidOGRN  = asn1.ObjectIdentifier{1, 2, 643, 100, 1}
	oidSN    = asn1.ObjectIdentifier{2, 5, 4, 4}
	oidGN    = asn1.ObjectIdentifier{2, 5, 4, 42}
	oidTitle = asn1.ObjectIdentifier{2, 5, 4, 12}
)

// subject is a qualified certificate's subject: a person, and with innle
// and ogrn an organisation's head.
func subject(cn, sn, gn, snils, inn, innle, ogrn string) pkix.Name {
	n := pkix.Name{CommonName: cn, Organization: []string{"ООО «Ромашка» & сыновья <Москва>"}, Country: []string{"RU"},
		ExtraNames: []pkix.AttributeTypeAndValue{{Type: oidSN, Value: sn}, {Type: oidGN, Value: gn},
			{Type: oidTitle, Value: "Генеральный директор"}, {Type: oidSNILS, Value: snils}, {Type: oidINN, Value: inn}}}
	if innle != "" {
		n.ExtraNames = append(n.ExtraNames, pkix.AttributeTypeAndValue{Type: oidINNLE, Value: innle},
			pkix.AttributeTypeAndValue{Type: oidOGRN, Value: ogrn})
	}
	return n
}

type pki struct {
	now  time.Time
	ca   *testpki.Issuer
	v    *verify.Verifier
	head signer
}

type signer struct {
	cert *x509.Certificate
	key  *gost3410.PrivateKey
}

func (s signer) sign(t *testing.T, doc []byte) []byte {
	t.Helper()
	sig, err := cms.Sign(doc, s.cert, s.key, &cms.SignOptions{Detached: true})
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

func newPKI(t *testing.T) *pki {
	now := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	root := testpki.Root(t, gost3410.CurveTC26512A, "Тестовый корневой УЦ", now)
	ca := root.SubCA(t, gost3410.CurveTC26256A, "Тестовый УЦ", now)
	v, err := verify.New(verify.Config{Roots: []*x509.Certificate{root.Cert}, Intermediates: []*x509.Certificate{ca.Cert},
		Revocation: verify.RevocationOff, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	p := &pki{now: now, ca: ca, v: v}
	p.head = p.person(t, subject("Петрова Мария Сергеевна", "Петрова", "Мария Сергеевна", "98765432082", "500100732259", "7712345671", "1027700000008"))
	return p
}

func (p *pki) person(t *testing.T, name pkix.Name) signer {
	cert, key := p.ca.Person(t, gost3410.CurveTC26256A, name, p.now, nil)
	return signer{cert, key}
}

// document is the power of attorney the head's certificate grants, as
// the demo builds it: the principal taken from that certificate.
func (p *pki) document(t *testing.T) (*PowerOfAttorney, []byte) {
	t.Helper()
	org, err := PrincipalOf(login.IdentityOf(p.head.cert), "771201001")
	if err != nil {
		t.Fatal(err)
	}
	poa := sample()
	poa.Principal = org
	poa.Issued, poa.Expires = p.now, p.now.AddDate(1, 0, 0)
	doc, err := poa.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return poa, doc
}

func TestCheckAcceptsThePrincipalsHead(t *testing.T) {
	p := newPKI(t)
	want, doc := p.document(t)
	c := &Checker{Verifier: p.v, Now: func() time.Time { return p.now }}
	got, err := c.Check(context.Background(), doc, p.head.sign(t, doc))
	if err != nil {
		t.Fatal(err)
	}
	if !equal(got.PowerOfAttorney, want) || got.Signer.Identity.SNILS != "98765432082" {
		t.Fatalf("checked %+v signed by %+v", got.PowerOfAttorney, got.Signer.Identity)
	}
	if h := want.Principal.Head; h.Surname != "Петрова" || h.Name != "Мария" || h.Patronymic != "Сергеевна" || h.Title != "Генеральный директор" {
		t.Errorf("the head from the certificate: %+v", h)
	}
}

// The attacks: a signature that is valid, by a certificate of the same
// CA, but not the principal's head's.
func TestCheckRefusesAnotherSigner(t *testing.T) {
	p := newPKI(t)
	_, doc := p.document(t)
	c := &Checker{Verifier: p.v, Now: func() time.Time { return p.now }}
	cases := []struct {
		name string
		who  pkix.Name
		want error
	}{
		// An employee of the same organisation (its INNLE and OGRN) who
		// is not the head: another SNILS and INN.
		{"another person of the same organisation", subject("Иванов Иван", "Иванов", "Иван", "11223344595", "165001234562", "7712345671", "1027700000008"), ErrSignerMismatch},
		// The head's SNILS, another INN: the certificate is not hers.
		{"the head's SNILS with another INN", subject("Петрова Мария Сергеевна", "Петрова", "Мария Сергеевна", "98765432082", "165001234562", "7712345671", "1027700000008"), ErrSignerMismatch},
		// The head herself, as a private person: no organisation.
		{"the head's personal certificate", subject("Петрова Мария Сергеевна", "Петрова", "Мария Сергеевна", "98765432082", "500100732259", "", ""), ErrPrincipalMismatch},
		// The same person heading another organisation.
		{"the head of another organisation", subject("Петрова Мария Сергеевна", "Петрова", "Мария Сергеевна", "98765432082", "500100732259", "7707083893", "1027700132195"), ErrPrincipalMismatch},
		// Another organisation's head with the same name.
		{"a namesake", subject("Петрова Мария Сергеевна", "Петрова", "Мария Сергеевна", "12345678964", "165001234562", "7707083893", "1027700132195"), ErrPrincipalMismatch},
	}
	for _, tc := range cases {
		s := p.person(t, tc.who)
		_, err := c.Check(context.Background(), doc, s.sign(t, doc))
		var e *Error
		if !errors.Is(err, tc.want) || !errors.As(err, &e) || e.MessageRU() == "" {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestCheckRefuses(t *testing.T) {
	p := newPKI(t)
	poa, doc := p.document(t)
	sig := p.head.sign(t, doc)
	c := &Checker{Verifier: p.v, Now: func() time.Time { return p.now }}
	ctx := context.Background()

	// The representative's name changed after signing.
	other := poa
	other.Representative.Surname = "Сидоров"
	changed, err := other.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Check(ctx, changed, sig); !errors.Is(err, verify.ErrContentMismatch) {
		t.Errorf("changed after signing: %v", err)
	}
	// Signed under a CA the site does not trust.
	stranger := testpki.Root(t, gost3410.CurveTC26256A, "Чужой УЦ", p.now)
	cert, key := stranger.Person(t, gost3410.CurveTC26256A, subject("Петрова Мария Сергеевна", "Петрова", "Мария Сергеевна", "98765432082", "500100732259", "7712345671", "1027700000008"), p.now, nil)
	if _, err := c.Check(ctx, doc, signer{cert, key}.sign(t, doc)); !errors.Is(err, verify.ErrUntrusted) {
		t.Errorf("an untrusted CA: %v", err)
	}
	// The period has passed.
	late := &Checker{Verifier: p.v, Now: func() time.Time { return p.now.AddDate(1, 0, 1) }}
	if _, err := late.Check(ctx, doc, sig); !errors.Is(err, ErrExpired) {
		t.Errorf("expired: %v", err)
	}
	// A signed file that is not a power of attorney.
	text := []byte("договор")
	if _, err := c.Check(ctx, text, p.head.sign(t, text)); !errors.Is(err, ErrMalformed) {
		t.Errorf("not a power of attorney: %v", err)
	}
}

func TestPrincipalOf(t *testing.T) {
	if _, err := PrincipalOf(login.Identity{CommonName: "Иванов Иван", SNILS: "11223344595", INN: "165001234562"}, "771201001"); !errors.Is(err, ErrNotPrincipal) {
		t.Errorf("a person's certificate: %v", err)
	}
	org, err := PrincipalOf(login.Identity{CommonName: "Петрова Мария Сергеевна", Organization: "ООО «Ромашка»", INNLE: "7712345671",
		OGRN: "1027700000008", SNILS: "987-654-320 82", INN: "500100732259"}, "771201001")
	if err != nil {
		t.Fatal(err)
	}
	if h := org.Head; h.Surname != "Петрова" || h.Name != "Мария" || h.Patronymic != "Сергеевна" || h.SNILS != "98765432082" {
		t.Errorf("head from the common name: %+v", h)
	}
}
