package revocation

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// oidDeltaCRLIndicator marks a delta CRL (RFC 5280 5.2.4). podpis reads
// full CRLs only: a delta alone cannot say a certificate is good.
var oidDeltaCRLIndicator = asn1.ObjectIdentifier{2, 5, 29, 27}

// oidIssuingDistributionPoint scopes a CRL (RFC 5280 5.2.5).
var oidIssuingDistributionPoint = asn1.ObjectIdentifier{2, 5, 29, 28}

// scope is what an issuingDistributionPoint says the CRL covers.
type scope struct {
	onlyUsers, onlyCAs, partial bool // partial: some reasons only, or indirect
}

// parseScope reads the flags of IssuingDistributionPoint ::= SEQUENCE {
// distributionPoint [0], onlyContainsUserCerts [1], onlyContainsCACerts
// [2], onlySomeReasons [3], indirectCRL [4], onlyContainsAttributeCerts [5] }.
func parseScope(v []byte) (scope, error) {
	var sc scope
	in := cryptobyte.String(v)
	var seq cryptobyte.String
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return sc, errors.New("malformed issuingDistributionPoint")
	}
	for !seq.Empty() {
		var val cryptobyte.String
		var tag cbasn1.Tag
		if !seq.ReadAnyASN1(&val, &tag) {
			return sc, errors.New("malformed issuingDistributionPoint")
		}
		set := len(val) == 1 && val[0] != 0
		switch tag {
		case cbasn1.Tag(1).ContextSpecific():
			sc.onlyUsers = set
		case cbasn1.Tag(2).ContextSpecific():
			sc.onlyCAs = set
		case cbasn1.Tag(3).ContextSpecific():
			sc.partial = true
		case cbasn1.Tag(4).ContextSpecific(), cbasn1.Tag(5).ContextSpecific():
			sc.partial = sc.partial || set
		}
	}
	return sc, nil
}

// A crl is a parsed CRL. Its signature is checked once per issuer
// certificate it is offered for (at download, or at the first login that
// needs a configured file), not at every login; a login then pays the
// name, scope and freshness comparisons and one map lookup.
type crl struct {
	list   *x509.RevocationList // without its entries: byNum holds them
	sigAlg asn1.ObjectIdentifier
	delta  bool
	scope  scope
	// The entries by serial number: byNum holds the serials of at most 20
	// octets RFC 5280 allows (pointer-free: ~65 bytes an entry, nothing
	// for the collector to scan), long the rest.
	byNum map[serialKey]revoked
	long  map[string]revoked

	mu       sync.Mutex                       // serialises signature checks
	verified atomic.Pointer[map[string]error] // by the issuer's exact DER
}

// serialKey is a serial number's magnitude, big-endian, right-aligned.
type serialKey [20]byte

// revoked is what a login needs of a CRL entry.
type revoked struct {
	sec    int64 // revocation time, Unix
	nsec   int32
	reason int32 // RFC 5280 CRLReason
}

func (r revoked) at() time.Time { return time.Unix(r.sec, int64(r.nsec)).UTC() }

// maxIssuersPerCRL bounds the remembered signature checks of one CRL. A
// CRL has one issuer; more than one certificate for it comes from a CA's
// renewed or cross-certified certificates, a handful at most.
const maxIssuersPerCRL = 8

func parse(b []byte) (*crl, error) {
	if blk, _ := pem.Decode(b); blk != nil && blk.Type == "X509 CRL" {
		b = blk.Bytes
	}
	l, err := x509.ParseRevocationList(b)
	if err != nil {
		return nil, err
	}
	// CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm, signatureValue }
	s := cryptobyte.String(l.Raw)
	var outer, alg cryptobyte.String
	var oid asn1.ObjectIdentifier
	if !s.ReadASN1(&outer, cbasn1.SEQUENCE) || !outer.SkipASN1(cbasn1.SEQUENCE) ||
		!outer.ReadASN1(&alg, cbasn1.SEQUENCE) || !alg.ReadASN1ObjectIdentifier(&oid) {
		return nil, errors.New("malformed CRL")
	}
	c := &crl{list: l, sigAlg: oid, byNum: make(map[serialKey]revoked, len(l.RevokedCertificateEntries))}
	for _, e := range l.Extensions {
		switch {
		case e.Id.Equal(oidDeltaCRLIndicator):
			c.delta = true
		case e.Id.Equal(oidIssuingDistributionPoint):
			if c.scope, err = parseScope(e.Value); err != nil {
				return nil, err
			}
		}
	}
	for _, e := range l.RevokedCertificateEntries {
		r := revoked{sec: e.RevocationTime.Unix(), nsec: int32(e.RevocationTime.Nanosecond()), reason: int32(e.ReasonCode)}
		if k, ok := keyOf(e.SerialNumber); ok {
			c.byNum[k] = r
			continue
		}
		if c.long == nil {
			c.long = map[string]revoked{}
		}
		c.long[string(e.SerialNumber.Bytes())] = r
	}
	l.RevokedCertificateEntries, l.RevokedCertificates = nil, nil
	return c, nil
}

func keyOf(serial *big.Int) (serialKey, bool) {
	var k serialKey
	if (serial.BitLen()+7)/8 > len(k) {
		return k, false
	}
	serial.FillBytes(k[:])
	return k, true
}

func (c *crl) entry(serial *big.Int) (revoked, bool) {
	if k, ok := keyOf(serial); ok {
		e, ok := c.byNum[k]
		return e, ok
	}
	e, ok := c.long[string(serial.Bytes())]
	return e, ok
}

// clockSkew tolerates a CA's clock a little ahead of ours: a CRL or OCSP
// answer issued "in the future" by minutes is still today's.
const clockSkew = 5 * time.Minute

func (c *crl) fresh(at time.Time) bool {
	return !at.Before(c.list.ThisUpdate.Add(-clockSkew)) && (c.list.NextUpdate.IsZero() || at.Before(c.list.NextUpdate))
}

var errOtherIssuer = errors.New("CRL of another issuer")

// usableFor: this CRL is a full CRL of cert's issuer, signed by issuer's
// key, and current at time at.
func (c *crl) usableFor(cert, issuer *x509.Certificate, at time.Time) error {
	if !bytes.Equal(c.list.RawIssuer, cert.RawIssuer) || !bytes.Equal(c.list.RawIssuer, issuer.RawSubject) {
		return errOtherIssuer
	}
	if c.delta {
		return errors.New("a delta CRL (only full CRLs are read)")
	}
	// A CRL for some reasons only, or an indirect one, cannot say "good".
	if c.scope.partial || c.scope.onlyUsers && cert.IsCA || c.scope.onlyCAs && !cert.IsCA {
		return errors.New("a CRL whose scope does not cover this certificate")
	}
	if issuer.KeyUsage != 0 && issuer.KeyUsage&x509.KeyUsageCRLSign == 0 {
		return errors.New("the issuer may not sign CRLs")
	}
	if err := c.signedBy(issuer); err != nil {
		return fmt.Errorf("CRL signature: %w", err)
	}
	if !c.fresh(at) {
		return fmt.Errorf("CRL not current at %s (thisUpdate %s, nextUpdate %s)", at.UTC().Format(time.RFC3339),
			c.list.ThisUpdate.UTC().Format(time.RFC3339), c.list.NextUpdate.UTC().Format(time.RFC3339))
	}
	return nil
}

// signedBy checks the CRL's signature with issuer's key the first time
// this issuer certificate (these exact bytes) asks, and remembers the
// answer, good or bad: both depend only on the two encodings.
func (c *crl) signedBy(issuer *x509.Certificate) error {
	if m := c.verified.Load(); m != nil {
		if err, ok := (*m)[string(issuer.Raw)]; ok {
			return err
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.verified.Load()
	if old != nil {
		if err, ok := (*old)[string(issuer.Raw)]; ok {
			return err // checked while we waited
		}
	}
	err := checkSignedBy(c.sigAlg, c.list.RawTBSRevocationList, c.list.Signature, issuer)
	m := make(map[string]error, maxIssuersPerCRL)
	if old != nil && len(*old) < maxIssuersPerCRL {
		maps.Copy(m, *old)
	}
	m[string(issuer.Raw)] = err
	c.verified.Store(&m)
	return err
}

func (ch *Checker) download(ctx context.Context, url string) (*crl, error) {
	if !strings.HasPrefix(url, "http://") && !strings.HasPrefix(url, "https://") {
		return nil, fmt.Errorf("%s: only http and https distribution points are fetched", url)
	}
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := ch.cfg.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: HTTP %d", url, resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, ch.cfg.MaxCRLSize+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > ch.cfg.MaxCRLSize {
		return nil, fmt.Errorf("%s: larger than %d bytes", url, ch.cfg.MaxCRLSize)
	}
	l, err := parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", url, err)
	}
	return l, nil
}
