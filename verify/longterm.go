package verify

import (
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"time"

	"github.com/podpis/podpis/cades"
	"github.com/podpis/podpis/crypto/cms"
	"github.com/podpis/podpis/crypto/tsp"
	"github.com/podpis/podpis/verify/revocation"
)

// Timestamp is one verified timestamp of a signer.
type Timestamp struct {
	// Kind is "signature" (CAdES-T's signature-time-stamp) or "cades-c"
	// (X Long's timestamp over the signature and its references).
	Kind string    `json:"kind"`
	Time time.Time `json:"time"`
	// TSA is the authority's name (its tsa field or certificate subject).
	TSA string `json:"tsa"`
}

// longTerm is what a signer's unsigned attributes prove.
type longTerm struct {
	level   string
	proven  time.Time // earliest signature-time-stamp; zero without one
	stamps  []Timestamp
	offline *revocation.Offline // X Long: the carried OCSP responses and CRLs
	certs   []*x509.Certificate // X Long: the carried certificates
}

// longTerm checks a signer's timestamps and, for X Long Type 1, that its
// validation data is what the CAdES-C timestamp covers. The signature
// itself is already verified.
func (v *Verifier) longTerm(si *cms.SignerInfo) (*longTerm, error) {
	lt := &longTerm{level: "bes"}
	var stampAttrs [][]byte
	for _, a := range si.UnsignedAttrs {
		if a.Type.Equal(cades.OIDSignatureTimeStamp) {
			stampAttrs = append(stampAttrs, a.Raw)
		}
	}
	for _, raw := range si.Unsigned(cades.OIDSignatureTimeStamp) {
		tok, err := v.checkToken(raw, si.Signature)
		if err != nil {
			return nil, err
		}
		// A timestamp before the signer says it signed: one of the two
		// clocks lies, and the proven time is what is trusted.
		if !si.SigningTime.IsZero() && si.SigningTime.After(tok.Info.GenTime.Add(v.cfg.MaxClockSkew)) {
			return nil, fail(CodeBadTimestamp, fmt.Errorf("signingTime %s is after the timestamp's %s",
				si.SigningTime.UTC().Format(time.RFC3339), tok.Info.GenTime.UTC().Format(time.RFC3339)))
		}
		lt.stamps = append(lt.stamps, Timestamp{Kind: "signature", Time: tok.Info.GenTime, TSA: tok.TSAName()})
		if lt.proven.IsZero() || tok.Info.GenTime.Before(lt.proven) {
			lt.proven = tok.Info.GenTime
		}
		lt.level = "t"
	}
	values, isXL, err := cades.ReadValues(si)
	if err != nil {
		return nil, fail(CodeMalformed, err)
	}
	if !isXL {
		return lt, nil
	}
	if lt.proven.IsZero() {
		return nil, fail(CodeBadTimestamp, errors.New("X Long validation data without a signature-time-stamp"))
	}
	// X Long Type 1 has a CAdES-C timestamp over the references; plain X
	// Long (as IIT's library writes it) has none, and its values stand on
	// their own signatures (the CA's, the OCSP responder's) alone.
	lt.level = "xl"
	escs := si.Unsigned(cades.OIDEscTimeStamp)
	if len(escs) > 0 {
		lt.level = "xl1"
	}
	x1 := cades.X1Data(si.Signature, stampAttrs, attrRaw(si, cades.OIDCertificateRefs), attrRaw(si, cades.OIDRevocationRefs))
	for _, raw := range escs {
		tok, err := v.checkToken(raw, x1)
		if err != nil {
			return nil, err
		}
		if tok.Info.GenTime.Before(lt.proven) {
			return nil, fail(CodeBadTimestamp, errors.New("the CAdES-C timestamp precedes the signature's"))
		}
		lt.stamps = append(lt.stamps, Timestamp{Kind: "cades-c", Time: tok.Info.GenTime, TSA: tok.TSAName()})
	}
	// The CAdES-C timestamp covers the references; the values count only
	// as far as they are the ones referenced.
	for _, list := range [][][]byte{values.CRLs, values.OCSP} {
		for _, b := range list {
			if !values.Referenced(b) {
				return nil, fail(CodeBadTimestamp, errors.New("revocation-values holds a value the references do not name"))
			}
		}
	}
	if lt.offline, err = revocation.NewOffline(values.CRLs, values.OCSP); err != nil {
		return nil, fail(CodeMalformed, err)
	}
	lt.certs = values.Certificates
	return lt, nil
}

// attrRaw is the DER of the signer's one attribute of type oid, or nil
// (ReadValues has checked there is exactly one).
func attrRaw(si *cms.SignerInfo, oid asn1.ObjectIdentifier) []byte {
	for _, a := range si.UnsignedAttrs {
		if a.Type.Equal(oid) {
			return a.Raw
		}
	}
	return nil
}

// checkToken verifies a timestamp token over data.
func (v *Verifier) checkToken(raw, data []byte) (*tsp.Token, error) {
	tok, err := tsp.ParseToken(raw)
	if err != nil {
		return nil, fail(CodeBadTimestamp, err)
	}
	roots := v.cfg.TimestampRoots
	if roots == nil {
		roots = v.cfg.Roots
	}
	if _, err := tok.Verify(tsp.VerifyOptions{Roots: roots, Intermediates: v.cfg.Intermediates}); err != nil {
		if errors.Is(err, tsp.ErrUntrusted) {
			return nil, fail(CodeTimestampUntrusted, err)
		}
		return nil, fail(CodeBadTimestamp, err)
	}
	if err := tok.Covers(data); err != nil {
		return nil, fail(CodeBadTimestamp, err)
	}
	// A time to come proves nothing yet: the TSA's clock is wrong, or
	// ours.
	if tok.Info.GenTime.After(v.now().Add(v.cfg.MaxClockSkew)) {
		return nil, fail(CodeBadTimestamp, fmt.Errorf("the timestamp's time %s is in the future",
			tok.Info.GenTime.UTC().Format(time.RFC3339)))
	}
	return tok, nil
}
