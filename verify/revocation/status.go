package revocation

import (
	"math/big"
	"time"
)

// Source is how a certificate's status was established.
type Source int

const (
	// NotChecked: the policy is Off; nothing was asked.
	NotChecked Source = iota
	// OCSP: a responder (Status.Where) answered good.
	OCSP
	// CRL: the certificate is not on the CRL at distribution point
	// Status.Where.
	CRL
	// CRLFile: the certificate is not on the configured CRL file
	// Status.Where.
	CRLFile
	// Unknown: no answer; let through by policy Prefer (Status.Err says
	// why).
	Unknown
	// EmbeddedOCSP: an OCSP response carried in the signature (CAdES-X
	// Long revocation-values) answered good; nothing was fetched.
	EmbeddedOCSP
	// EmbeddedCRL: a CRL carried in the signature does not list it.
	EmbeddedCRL
)

// Status is how one certificate of a chain was found not revoked at the
// verification time, or let through.
type Status struct {
	// Subject is the certificate's common name; empty, with NotChecked,
	// when the whole chain went unchecked.
	Subject string
	Serial  *big.Int
	Source  Source
	// Where is the OCSP responder, the distribution point or the file.
	Where string
	// RevokedAfter, when set, is a revocation the responder reported for
	// a time after the verification time: not revoked then.
	RevokedAfter time.Time
	// Err is why the status is Unknown.
	Err error
}

// String is the line podpis verify prints ("Иванов: OCSP http://…: good").
func (s Status) String() string {
	var how string
	switch s.Source {
	case NotChecked:
		how = "not checked (policy off)"
		if s.Subject == "" {
			return how
		}
	case OCSP:
		how = "OCSP " + s.Where + ": good"
		if !s.RevokedAfter.IsZero() {
			how = "OCSP " + s.Where + ": revoked only after the signing time"
		}
	case CRL:
		how = "CRL " + s.Where + ": not listed"
	case CRLFile:
		how = "CRL file " + s.Where + ": not listed"
	case EmbeddedOCSP:
		how = "OCSP response in the signature: good"
		if !s.RevokedAfter.IsZero() {
			how = "OCSP response in the signature: revoked only after the signing time"
		}
	case EmbeddedCRL:
		how = "CRL in the signature: not listed"
	case Unknown:
		how = "unknown, let through by policy prefer"
		if s.Err != nil {
			how += " (" + s.Err.Error() + ")"
		}
	}
	return s.Subject + ": " + how
}

// MarshalText makes a Status read in JSON as it prints.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
