package login

import (
	"crypto/sha1"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// Identity is who signed, as Russian qualified certificates carry it
// (Federal Law 63-FZ; FSB order 795 names the attributes): the person a
// login lets in, and the agent's description of a certificate. The JSON
// names are those of the protocol (docs/protocol.md).
type Identity struct {
	CommonName   string `json:"commonName,omitempty"`
	Surname      string `json:"surname,omitempty"`
	GivenName    string `json:"givenName,omitempty"` // name and patronymic
	Title        string `json:"title,omitempty"`
	Organization string `json:"organization,omitempty"`
	Unit         string `json:"organizationalUnit,omitempty"`
	SNILS        string `json:"snils,omitempty"`  // 1.2.643.100.3
	INN          string `json:"inn,omitempty"`    // 1.2.643.3.131.1.1, a person's
	INNLE        string `json:"innle,omitempty"`  // 1.2.643.100.4, an organisation's
	OGRN         string `json:"ogrn,omitempty"`   // 1.2.643.100.1
	OGRNIP       string `json:"ogrnip,omitempty"` // 1.2.643.100.5
	Email        string `json:"email,omitempty"`

	// Thumbprint is the lowercase hex SHA-1 of the certificate, as
	// CryptoPro and Windows show it («Отпечаток»).
	Thumbprint string    `json:"thumbprint"`
	Serial     string    `json:"serial"` // lowercase hex
	Issuer     string    `json:"issuer"`
	NotBefore  time.Time `json:"notBefore"`
	NotAfter   time.Time `json:"notAfter"`
}

var (
	oidCN     = asn1.ObjectIdentifier{2, 5, 4, 3}
	oidSN     = asn1.ObjectIdentifier{2, 5, 4, 4}
	oidTitle  = asn1.ObjectIdentifier{2, 5, 4, 12}
	oidO      = asn1.ObjectIdentifier{2, 5, 4, 10}
	oidOU     = asn1.ObjectIdentifier{2, 5, 4, 11}
	oidGN     = asn1.ObjectIdentifier{2, 5, 4, 42}
	oidEmail  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}
	oidSNILS  = asn1.ObjectIdentifier{1, 2, 643, 100, 3}
	oidINN    = asn1.ObjectIdentifier{1, 2, 643, 3, 131, 1, 1}
	oidINNLE  = asn1.ObjectIdentifier{1, 2, 643, 100, 4}
	oidOGRN   = asn1.ObjectIdentifier{1, 2, 643, 100, 1}
	oidOGRNIP = asn1.ObjectIdentifier{1, 2, 643, 100, 5}
)

// Thumbprint returns the lowercase hex SHA-1 of a certificate, the name
// CryptoPro, Windows and the agent's protocol know it by.
func Thumbprint(c *x509.Certificate) string {
	sum := sha1.Sum(c.Raw)
	return hex.EncodeToString(sum[:])
}

// IdentityOf reads the identity fields of a certificate.
func IdentityOf(c *x509.Certificate) Identity {
	id := Identity{
		Thumbprint: Thumbprint(c),
		Serial:     strings.ToLower(c.SerialNumber.Text(16)),
		Issuer:     c.Issuer.CommonName,
		NotBefore:  c.NotBefore.UTC(),
		NotAfter:   c.NotAfter.UTC(),
	}
	if id.Issuer == "" {
		id.Issuer = c.Issuer.String()
	}
	fields := []struct {
		oid asn1.ObjectIdentifier
		dst *string
	}{
		{oidCN, &id.CommonName}, {oidSN, &id.Surname}, {oidGN, &id.GivenName}, {oidTitle, &id.Title},
		{oidO, &id.Organization}, {oidOU, &id.Unit}, {oidEmail, &id.Email}, {oidSNILS, &id.SNILS},
		{oidINN, &id.INN}, {oidINNLE, &id.INNLE}, {oidOGRN, &id.OGRN}, {oidOGRNIP, &id.OGRNIP},
	}
	for _, atv := range c.Subject.Names {
		for _, f := range fields {
			if atv.Type.Equal(f.oid) && *f.dst == "" {
				*f.dst = fmt.Sprint(atv.Value)
			}
		}
	}
	if id.Email == "" && len(c.EmailAddresses) > 0 {
		id.Email = c.EmailAddresses[0]
	}
	return id
}

// FormatSNILS writes a SNILS as it is printed on the card: XXX-XXX-XXX
// YY. Anything that is not 11 digits is shown as the certificate has it.
func FormatSNILS(s string) string {
	if len(s) != 11 || strings.Trim(s, "0123456789") != "" {
		return s
	}
	return s[0:3] + "-" + s[3:6] + "-" + s[6:9] + " " + s[9:11]
}
