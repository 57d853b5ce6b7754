package esia

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/podpis/podpis/crypto/gostx509"
)

// LoadKeyPair reads the organisation's certificate and GOST private key
// from PEM (a CERTIFICATE and a PKCS#8 PRIVATE KEY, as OpenSSL's GOST
// engine writes them) and checks that they belong together. A key on a
// token is used through its crypto.Signer instead.
func LoadKeyPair(certPEM, keyPEM []byte) (*x509.Certificate, crypto.Signer, error) {
	cb, _ := pem.Decode(certPEM)
	if cb == nil || cb.Type != "CERTIFICATE" {
		return nil, nil, errors.New("esia: no PEM CERTIFICATE")
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("esia: certificate: %w", err)
	}
	kb, _ := pem.Decode(keyPEM)
	if kb == nil || kb.Type != "PRIVATE KEY" {
		return nil, nil, errors.New("esia: no PEM PRIVATE KEY (PKCS#8)")
	}
	key, err := gostx509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("esia: private key: %w", err)
	}
	pub, err := gostx509.PublicKey(cert)
	if err != nil {
		return nil, nil, fmt.Errorf("esia: certificate: %w", err)
	}
	if !pub.Equal(key.Public()) {
		return nil, nil, errors.New("esia: the private key is not the certificate's")
	}
	return cert, key, nil
}
