package main

import (
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"time"

	"github.com/podpis/podpis/crypto/gostx509"
)

// The demo CA issues certificates from PKCS#10 requests (the page's
// «Выпуск сертификата»: the agent made the key and the request with
// createRequest). As a CA must, it checks that the request is signed by
// the key it names, and takes from it only the key and the subject
// attributes it allows; key usage, extended key usage and validity are
// its own, whatever the request asked.

// caKeyFile is where init keeps the issuing CA's key, for serve to issue.
const caKeyFile = "ca.key"

// issuedSubject are the subject attributes the demo CA copies from a
// request: the person's (and their organisation's) names and numbers.
var issuedSubject = []asn1.ObjectIdentifier{
	{2, 5, 4, 3}, {2, 5, 4, 4}, {2, 5, 4, 42}, {2, 5, 4, 12}, {2, 5, 4, 10}, {2, 5, 4, 11},
	{2, 5, 4, 6}, {2, 5, 4, 7}, {2, 5, 4, 8}, {2, 5, 4, 9},
	oidSNILS, oidINN, oidINNLE, oidOGRN, {1, 2, 643, 100, 5}, oidEmail,
}

// ca is the issuing CA: its certificate and key.
type ca struct {
	cert *x509.Certificate
	key  crypto.Signer
}

// loadCA reads the issuing CA (DIR/intermediates.pem and DIR/ca.key).
func loadCA(certPath, keyPath string) (*ca, error) {
	certs, err := readCertificates(certPath)
	if err != nil {
		return nil, err
	}
	der, err := readPEM(keyPath)
	if err != nil {
		return nil, err
	}
	key, err := gostx509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", keyPath, err)
	}
	for _, c := range certs {
		if pub, err := gostx509.PublicKey(c); err == nil && pub.Equal(key.Public()) {
			return &ca{cert: c, key: key}, nil
		}
	}
	return nil, fmt.Errorf("%s: no certificate of the key in %s", keyPath, certPath)
}

func readPEM(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if b, _ := pem.Decode(data); b != nil {
		return b.Bytes, nil
	}
	return data, nil
}

// errBadRequest: the request is malformed or its signature is not its
// key's.
var errBadRequest = errors.New("demo ca: the request is malformed or not signed by its key")

// certificationRequest is PKCS#10's outer structure (RFC 2986 4.2).
type certificationRequest struct {
	Info      asn1.RawValue
	Algorithm pkix.AlgorithmIdentifier
	Signature asn1.BitString
}

// issue makes a certificate from a DER request, valid from now for a
// year.
func (c *ca) issue(der []byte, now time.Time) (*x509.Certificate, error) {
	var cr certificationRequest
	if rest, err := asn1.Unmarshal(der, &cr); err != nil || len(rest) != 0 {
		return nil, errBadRequest
	}
	req, err := x509.ParseCertificateRequest(der)
	if err != nil {
		return nil, errBadRequest
	}
	// GOST only: the demo's verifier and roots are GOST.
	pub, err := gostx509.ParsePKIXPublicKey(req.RawSubjectPublicKeyInfo)
	if err != nil || !gostx509.IsSignatureOID(cr.Algorithm.Algorithm) ||
		gostx509.VerifySignature(cr.Algorithm.Algorithm, cr.Info.FullBytes, cr.Signature.Bytes, pub) != nil {
		return nil, errBadRequest
	}
	var subject pkix.Name
	for _, a := range req.Subject.Names {
		if slices.ContainsFunc(issuedSubject, a.Type.Equal) {
			subject.ExtraNames = append(subject.ExtraNames, a)
		}
	}
	if req.Subject.CommonName == "" {
		return nil, errBadRequest
	}
	t := &x509.Certificate{
		Subject:   subject,
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageEmailProtection},
	}
	return issue(t, c.cert, pub, c.key)
}

// issueCertificate: POST /api/issue {"request": base64 DER} →
// {"certificate": base64 DER}.
func (d *demo) issueCertificate(w http.ResponseWriter, r *http.Request) {
	if d.ca == nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"code": "NO_CA",
			"message": "Демонстрационный УЦ не может выпускать сертификаты: удалите .data и выполните podpis-demo init заново"})
		return
	}
	var req struct {
		Request string `json:"request"`
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"code": "BAD_CSR", "message": "Запрос на сертификат повреждён"})
		return
	}
	der, err := base64.StdEncoding.DecodeString(req.Request)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"code": "BAD_CSR", "message": "Запрос на сертификат повреждён"})
		return
	}
	cert, err := d.ca.issue(der, time.Now())
	if err != nil {
		d.log.Info("issue refused", "err", err)
		writeJSON(w, http.StatusBadRequest, map[string]string{"code": "BAD_CSR", "message": "Запрос на сертификат повреждён или подписан не своим ключом"})
		return
	}
	d.log.Info("issued", "subject", cert.Subject.CommonName, "serial", cert.SerialNumber)
	writeJSON(w, http.StatusOK, map[string]string{"certificate": base64.StdEncoding.EncodeToString(cert.Raw)})
}
