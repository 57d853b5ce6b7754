package revocation

import (
	"context"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"time"

	"golang.org/x/crypto/ocsp"
)

// Evidence is what established one certificate's status, kept to be
// carried in a signature (CAdES-X Long: revocation-values) and checked
// again later without a network: a BasicOCSPResponse or a CRL, as DER.
type Evidence struct {
	// Cert is the certificate the evidence is about.
	Cert *x509.Certificate
	// OCSP is a BasicOCSPResponse (RFC 6960, 4.2.1), or nil.
	OCSP []byte
	// ResponderID (the DER ResponderID choice) and ProducedAt identify the
	// OCSP response (CAdES OcspIdentifier).
	ResponderID []byte
	ProducedAt  time.Time
	// CRL is a CertificateList, or nil.
	CRL []byte
	// Where is the responder or distribution point it came from.
	Where string
}

// Collect establishes, as CheckRevocation does, that no certificate of
// chain (leaf first, root last) but the root is revoked at time at, and
// returns the OCSP response or CRL that said so for each, leaf first. It
// never settles for "unknown": a certificate without an answer fails with
// ErrUnknown whatever the policy, since a signature is to carry proof.
func (c *Checker) Collect(ctx context.Context, chain []*x509.Certificate, at time.Time) ([]Evidence, error) {
	var out []Evidence
	for i := 0; i+1 < len(chain); i++ {
		e, err := c.collect(ctx, chain[i], chain[i+1], at)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

func (c *Checker) collect(ctx context.Context, cert, issuer *x509.Certificate, at time.Time) (Evidence, error) {
	var why []error
	responders := cert.OCSPServer
	if c.cfg.OCSPResponder != "" {
		responders = []string{c.cfg.OCSPResponder}
	}
	if c.cfg.NoOCSP {
		responders = nil
	}
	for _, url := range responders {
		body, err := c.fetchOCSP(ctx, url, cert, issuer)
		var basic []byte
		if err == nil {
			basic, err = basicOf(body)
		}
		var a *ocspAnswer
		if err == nil {
			a, err = checkBasic(basic, cert, issuer, at)
		}
		if err != nil {
			why = append(why, fmt.Errorf("OCSP %s: %w", url, err))
			continue
		}
		switch a.status {
		case ocsp.Good:
			e := Evidence{Cert: cert, OCSP: basic, Where: url}
			e.ResponderID, e.ProducedAt, err = ocspIdentifier(basic)
			return e, err
		case ocsp.Revoked:
			if !a.revoked.After(at) {
				return Evidence{}, &RevokedError{Subject: cert.Subject.CommonName, Serial: cert.SerialNumber, At: a.revoked, Reason: a.reason}
			}
		}
		why = append(why, fmt.Errorf("OCSP %s: status unknown", url))
	}
	for _, url := range cert.CRLDistributionPoints {
		l, err := c.get(ctx, url, issuer, at)
		if err == nil {
			err = l.usableFor(cert, issuer, at)
		}
		if err != nil {
			why = append(why, err)
			continue
		}
		if e, ok := l.entry(cert.SerialNumber); ok && !e.at().After(at) {
			return Evidence{}, &RevokedError{Subject: cert.Subject.CommonName, Serial: cert.SerialNumber, At: e.at(), Reason: int(e.reason)}
		}
		return Evidence{Cert: cert, CRL: l.list.Raw, Where: url}, nil
	}
	if len(why) == 0 {
		why = append(why, errNowhere)
	}
	return Evidence{}, fmt.Errorf("%w: %s: %w", ErrUnknown, cert.Subject.CommonName, errors.Join(why...))
}

// ocspIdentifier reads a BasicOCSPResponse's responderID and producedAt.
func ocspIdentifier(basic []byte) ([]byte, time.Time, error) {
	var b basicResponse
	var data responseData
	if _, err := asn1.Unmarshal(basic, &b); err != nil {
		return nil, time.Time{}, err
	}
	if _, err := asn1.Unmarshal(b.TBS.FullBytes, &data); err != nil {
		return nil, time.Time{}, err
	}
	return data.Responder.FullBytes, data.ProducedAt, nil
}

// Offline answers CheckRevocation from given CRLs and OCSP responses only
// (those a CAdES-X Long signature carries), never asking the network: a
// signature verified years later, when the CA's servers are gone, is
// judged on what was collected when it was made.
type Offline struct {
	crls  []*crl
	ocsps [][]byte
}

// NewOffline reads CRLs (DER CertificateLists) and BasicOCSPResponses.
func NewOffline(crls, basicOCSP [][]byte) (*Offline, error) {
	o := &Offline{ocsps: basicOCSP}
	for i, b := range crls {
		l, err := parse(b)
		if err != nil {
			return nil, fmt.Errorf("revocation: CRL %d: %w", i+1, err)
		}
		o.crls = append(o.crls, l)
	}
	return o, nil
}

// CheckRevocation checks each certificate of chain but the root at time at
// against the responses and CRLs given: a response or CRL of its issuer,
// signed, current at at, that does not list it as revoked by then. A
// certificate none of them covers is ErrUnknown: an X Long signature
// missing its evidence is not taken on trust.
func (o *Offline) CheckRevocation(_ context.Context, chain []*x509.Certificate, at time.Time) ([]Status, error) {
	var how []Status
	for i := 0; i+1 < len(chain); i++ {
		st, err := o.status(chain[i], chain[i+1], at)
		if err != nil {
			return nil, err
		}
		st.Subject, st.Serial = chain[i].Subject.CommonName, chain[i].SerialNumber
		how = append(how, st)
	}
	return how, nil
}

func (o *Offline) status(cert, issuer *x509.Certificate, at time.Time) (Status, error) {
	var why []error
	for _, basic := range o.ocsps {
		a, err := checkBasic(basic, cert, issuer, at)
		if err != nil {
			why = append(why, err)
			continue
		}
		switch a.status {
		case ocsp.Good:
			return Status{Source: EmbeddedOCSP}, nil
		case ocsp.Revoked:
			if !a.revoked.After(at) {
				return Status{}, &RevokedError{Subject: cert.Subject.CommonName, Serial: cert.SerialNumber, At: a.revoked, Reason: a.reason}
			}
			return Status{Source: EmbeddedOCSP, RevokedAfter: a.revoked}, nil
		}
	}
	for _, l := range o.crls {
		if err := l.usableFor(cert, issuer, at); err != nil {
			if !errors.Is(err, errOtherIssuer) {
				why = append(why, err)
			}
			continue
		}
		if e, ok := l.entry(cert.SerialNumber); ok && !e.at().After(at) {
			return Status{}, &RevokedError{Subject: cert.Subject.CommonName, Serial: cert.SerialNumber, At: e.at(), Reason: int(e.reason)}
		}
		return Status{Source: EmbeddedCRL}, nil
	}
	why = append(why, errors.New("no OCSP response or CRL in the signature covers it"))
	return Status{}, fmt.Errorf("%w: %s: %w", ErrUnknown, cert.Subject.CommonName, errors.Join(why...))
}
