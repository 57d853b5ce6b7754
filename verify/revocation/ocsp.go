package revocation

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/podpis/podpis/crypto/gostx509"
)

// RFC 6960's response, read here rather than by x/crypto/ocsp: that one
// checks signatures with crypto/x509, which knows no GOST, and GOST
// responders embed their GOST certificate.
type ocspResponse struct {
	Status   asn1.Enumerated
	Response struct {
		Type  asn1.ObjectIdentifier
		Bytes []byte
	} `asn1:"explicit,tag:0,optional"`
}

type basicResponse struct {
	TBS       asn1.RawValue
	SigAlg    pkix.AlgorithmIdentifier
	Signature asn1.BitString
	Certs     []asn1.RawValue `asn1:"explicit,tag:0,optional"`
}

type responseData struct {
	Version    int `asn1:"optional,default:0,explicit,tag:0"`
	Responder  asn1.RawValue
	ProducedAt time.Time `asn1:"generalized"`
	Responses  []singleResponse
	Extensions []pkix.Extension `asn1:"explicit,tag:1,optional"`
}

type singleResponse struct {
	CertID struct {
		HashAlgorithm pkix.AlgorithmIdentifier
		NameHash      []byte
		KeyHash       []byte
		Serial        *big.Int
	}
	Good       asn1.Flag        `asn1:"tag:0,optional"`
	Revoked    revokedInfo      `asn1:"tag:1,optional"`
	Unknown    asn1.Flag        `asn1:"tag:2,optional"`
	ThisUpdate time.Time        `asn1:"generalized"`
	NextUpdate time.Time        `asn1:"generalized,explicit,tag:0,optional"`
	Extensions []pkix.Extension `asn1:"explicit,tag:1,optional"`
}

type revokedInfo struct {
	Time   time.Time       `asn1:"generalized"`
	Reason asn1.Enumerated `asn1:"explicit,tag:0,optional"`
}

var (
	oidBasicResponse = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 1}
	oidSHA1          = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
)

// ocspAnswer is a checked single response.
type ocspAnswer struct {
	status  int // ocsp.Good, ocsp.Revoked, ocsp.Unknown
	revoked time.Time
	reason  int
	until   time.Time // when to ask again
}

// maxOCSPAge bounds a response without nextUpdate.
const maxOCSPAge = time.Hour

// askOCSP asks url about cert and checks the answer's signature (the
// issuer's, or a responder certificate the issuer gave id-kp-OCSPSigning)
// and freshness at time at.
func (c *Checker) askOCSP(ctx context.Context, url string, cert, issuer *x509.Certificate, at time.Time) (*ocspAnswer, error) {
	body, err := c.fetchOCSP(ctx, url, cert, issuer)
	if err != nil {
		return nil, err
	}
	return checkOCSP(body, cert, issuer, at)
}

// fetchOCSP asks url about cert and returns the OCSPResponse, unchecked.
func (c *Checker) fetchOCSP(ctx context.Context, url string, cert, issuer *x509.Certificate) ([]byte, error) {
	req, err := ocsp.CreateRequest(cert, issuer, &ocsp.RequestOptions{Hash: crypto.SHA1})
	if err != nil {
		return nil, err
	}
	hr, err := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(req))
	if err != nil {
		return nil, err
	}
	hr.Header.Set("Content-Type", "application/ocsp-request")
	resp, err := c.cfg.HTTP.Do(hr)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: HTTP %d", url, resp.StatusCode)
	}
	return io.ReadAll(io.LimitReader(resp.Body, 1<<20))
}

// basicOf returns the BasicOCSPResponse of a successful OCSPResponse.
func basicOf(der []byte) ([]byte, error) {
	var r ocspResponse
	if rest, err := asn1.Unmarshal(der, &r); err != nil || len(rest) > 0 {
		return nil, errors.New("malformed OCSP response")
	}
	if r.Status != 0 {
		return nil, fmt.Errorf("OCSP responder status %d", r.Status)
	}
	if !r.Response.Type.Equal(oidBasicResponse) {
		return nil, errors.New("not a basic OCSP response")
	}
	return r.Response.Bytes, nil
}

func checkOCSP(der []byte, cert, issuer *x509.Certificate, at time.Time) (*ocspAnswer, error) {
	basic, err := basicOf(der)
	if err != nil {
		return nil, err
	}
	return checkBasic(basic, cert, issuer, at)
}

// checkBasic checks a BasicOCSPResponse about cert (see askOCSP).
func checkBasic(basic []byte, cert, issuer *x509.Certificate, at time.Time) (*ocspAnswer, error) {
	var b basicResponse
	if rest, err := asn1.Unmarshal(basic, &b); err != nil || len(rest) > 0 {
		return nil, errors.New("malformed basic OCSP response")
	}
	var data responseData
	if rest, err := asn1.Unmarshal(b.TBS.FullBytes, &data); err != nil || len(rest) > 0 {
		return nil, errors.New("malformed OCSP response data")
	}
	// The responder's certificate must hold when it answered.
	signer, err := responder(b, issuer, data.ProducedAt)
	if err != nil {
		return nil, err
	}
	if err := checkSignedBy(b.SigAlg.Algorithm, b.TBS.FullBytes, b.Signature.RightAlign(), signer); err != nil {
		return nil, fmt.Errorf("OCSP signature: %w", err)
	}
	keyHash := sha1.Sum(publicKeyBits(issuer))
	for _, s := range data.Responses {
		if s.CertID.Serial == nil || s.CertID.Serial.Cmp(cert.SerialNumber) != 0 ||
			s.CertID.HashAlgorithm.Algorithm.Equal(oidSHA1) && !bytes.Equal(s.CertID.KeyHash, keyHash[:]) {
			continue
		}
		for _, e := range s.Extensions {
			if e.Critical {
				return nil, errors.New("OCSP response with an unknown critical extension")
			}
		}
		until := s.NextUpdate
		if until.IsZero() {
			until = s.ThisUpdate.Add(maxOCSPAge)
		}
		if at.Before(s.ThisUpdate.Add(-clockSkew)) || !at.Before(until) {
			return nil, fmt.Errorf("OCSP response not current at %s (thisUpdate %s)", at.UTC().Format(time.RFC3339), s.ThisUpdate.UTC().Format(time.RFC3339))
		}
		a := &ocspAnswer{status: ocsp.Good, until: until}
		switch {
		case bool(s.Unknown):
			a.status = ocsp.Unknown
		case !s.Revoked.Time.IsZero():
			a.status, a.revoked, a.reason = ocsp.Revoked, s.Revoked.Time, int(s.Revoked.Reason)
		}
		return a, nil
	}
	return nil, errors.New("the OCSP response does not answer for this certificate")
}

// responder is who may sign the answer: the issuer itself, or a
// certificate the issuer signed for id-kp-OCSPSigning, valid at time at
// (when the answer was produced).
func responder(b basicResponse, issuer *x509.Certificate, at time.Time) (*x509.Certificate, error) {
	if len(b.Certs) == 0 {
		return issuer, nil
	}
	rc, err := x509.ParseCertificate(b.Certs[0].FullBytes)
	if err != nil {
		return nil, fmt.Errorf("OCSP responder certificate: %w", err)
	}
	if rc.Equal(issuer) {
		return issuer, nil
	}
	if !bytes.Equal(rc.RawIssuer, issuer.RawSubject) {
		return nil, errors.New("the OCSP responder's certificate is not from the certificate's issuer")
	}
	if err := checkSignedBy(certSigAlg(rc), rc.RawTBSCertificate, rc.Signature, issuer); err != nil {
		return nil, fmt.Errorf("the OCSP responder's certificate: %w", err)
	}
	ok := false
	for _, u := range rc.ExtKeyUsage {
		ok = ok || u == x509.ExtKeyUsageOCSPSigning
	}
	if !ok {
		return nil, errors.New("the OCSP responder's certificate lacks id-kp-OCSPSigning")
	}
	if at.Before(rc.NotBefore) || at.After(rc.NotAfter) {
		return nil, errors.New("the OCSP responder's certificate was not valid when it answered")
	}
	return rc, nil
}

func certSigAlg(c *x509.Certificate) asn1.ObjectIdentifier {
	oid, _ := gostx509.SignatureAlgorithm(c)
	return oid
}

// checkSignedBy checks a GOST, RSA or ECDSA signature over signed.
func checkSignedBy(alg asn1.ObjectIdentifier, signed, sig []byte, signer *x509.Certificate) error {
	if gostx509.IsSignatureOID(alg) {
		pub, err := gostx509.PublicKey(signer)
		if err != nil {
			return err
		}
		return gostx509.VerifySignature(alg, signed, sig, pub)
	}
	for _, a := range []x509.SignatureAlgorithm{x509.SHA256WithRSA, x509.SHA384WithRSA, x509.SHA512WithRSA,
		x509.ECDSAWithSHA256, x509.ECDSAWithSHA384, x509.ECDSAWithSHA512} {
		if sigAlgOIDs[a].Equal(alg) {
			return signer.CheckSignature(a, signed, sig)
		}
	}
	return fmt.Errorf("unsupported signature algorithm %v", alg)
}

var sigAlgOIDs = map[x509.SignatureAlgorithm]asn1.ObjectIdentifier{
	x509.SHA256WithRSA:   {1, 2, 840, 113549, 1, 1, 11},
	x509.SHA384WithRSA:   {1, 2, 840, 113549, 1, 1, 12},
	x509.SHA512WithRSA:   {1, 2, 840, 113549, 1, 1, 13},
	x509.ECDSAWithSHA256: {1, 2, 840, 10045, 4, 3, 2},
	x509.ECDSAWithSHA384: {1, 2, 840, 10045, 4, 3, 3},
	x509.ECDSAWithSHA512: {1, 2, 840, 10045, 4, 3, 4},
}

// publicKeyBits is the subjectPublicKey BIT STRING's content, what
// CertID's issuerKeyHash hashes.
func publicKeyBits(c *x509.Certificate) []byte {
	var spki struct {
		Alg pkix.AlgorithmIdentifier
		Key asn1.BitString
	}
	asn1.Unmarshal(c.RawSubjectPublicKeyInfo, &spki)
	return spki.Key.RightAlign()
}
