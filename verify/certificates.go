package verify

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

// ErrNoCertificate: the data holds neither a PEM CERTIFICATE block nor
// DER certificates.
var ErrNoCertificate = errors.New("verify: no certificate (PEM or DER)")

// ParseCertificates reads a bundle of certificates as CAs hand them out and
// Config.Roots and Config.Intermediates take them: PEM with any number of
// CERTIFICATE blocks (text around them, as openssl prints it, is allowed),
// or DER, one certificate or several back to back. Other PEM blocks are
// skipped: a key pasted into the same file is not a certificate, and
// saying so is clearer than failing on it. A block or DER certificate
// that does not parse is an error naming which one, never skipped: a root
// silently dropped from a bundle would turn into UNTRUSTED logins with
// nothing in the log to say why.
func ParseCertificates(data []byte) ([]*x509.Certificate, error) {
	if block, _ := pem.Decode(data); block != nil {
		return parsePEM(data)
	}
	if bytes.Contains(data, []byte("-----BEGIN")) {
		return nil, fmt.Errorf("%w: a PEM header without a well-formed block", ErrNoCertificate)
	}
	// DER: x509.ParseCertificates reads certificates back to back but
	// does not say which one failed; walking them does.
	var certs []*x509.Certificate
	for rest := cryptobyte.String(data); !rest.Empty(); {
		var der cryptobyte.String
		if !rest.ReadASN1Element(&der, asn1.SEQUENCE) {
			if len(certs) == 0 {
				return nil, ErrNoCertificate
			}
			return nil, fmt.Errorf("verify: %d bytes after certificate %d are not a DER certificate", len(rest), len(certs))
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("verify: DER certificate %d: %w", len(certs)+1, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, ErrNoCertificate
	}
	return certs, nil
}

func parsePEM(data []byte) ([]*x509.Certificate, error) {
	// pem.Decode passes over a block whose armour is broken (a line cut
	// off, a character lost) and goes on with the next: counting the
	// BEGIN lines catches the certificate it would drop.
	begins := bytes.Count(data, []byte("-----BEGIN"))
	var certs []*x509.Certificate
	var others []string
	n := 0
	for rest := data; ; {
		var block *pem.Block
		if block, rest = pem.Decode(rest); block == nil {
			break
		}
		n++
		if block.Type != "CERTIFICATE" {
			if !slices.Contains(others, block.Type) {
				others = append(others, block.Type)
			}
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("verify: PEM block %d: %w", n, err)
		}
		certs = append(certs, c)
	}
	if n != begins {
		return nil, fmt.Errorf("verify: %d of %d PEM blocks are malformed", begins-n, begins)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("%w: the PEM blocks are %q", ErrNoCertificate, others)
	}
	return certs, nil
}
