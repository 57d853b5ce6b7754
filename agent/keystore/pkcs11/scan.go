package pkcs11

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"time"

	"github.com/miekg/pkcs11"
	"github.com/podpis/podpis/agent/keystore"
	"github.com/podpis/podpis/crypto/gostx509"
)

// location is where a certificate's key lives.
type location struct {
	module *Module
	slot   uint
	serial string
	label  string
	id     []byte // CKA_ID
	cert   *keystore.Certificate
}

var certTemplate = []*pkcs11.Attribute{
	pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_CERTIFICATE),
	pkcs11.NewAttribute(pkcs11.CKA_CERTIFICATE_TYPE, pkcs11.CKC_X_509),
}

// Certificates lists the X.509 certificates on every token, paired with
// their keys; the same certificate seen through two modules is listed once,
// through the preferred one.
func (p *Store) Certificates(ctx context.Context) ([]*keystore.Certificate, error) {
	locs, err := p.scan(ctx)
	var out []*keystore.Certificate
	for _, l := range locs {
		out = append(out, l.cert)
	}
	return out, err
}

func (p *Store) scan(ctx context.Context) ([]*location, error) {
	seen := map[string]bool{}
	var out []*location
	var errs []error
	for _, m := range p.modules {
		locs, err := p.scanModule(ctx, m)
		if err != nil {
			errs = append(errs, err)
		}
		for _, l := range locs {
			if seen[l.cert.ID] {
				continue
			}
			seen[l.cert.ID] = true
			out = append(out, l)
		}
	}
	return out, errors.Join(errs...)
}

func (p *Store) scanModule(ctx context.Context, m *Module) ([]*location, error) {
	var out []*location
	err := m.call(ctx, p.opts.CallTimeout, func(a api) error {
		slots, err := a.GetSlotList(true)
		if err != nil {
			return err
		}
		for _, slot := range slots {
			ti, err := a.GetTokenInfo(slot)
			if err != nil {
				continue // removed between the two calls
			}
			locs, err := scanToken(a, slot, p.opts.Now())
			if err != nil {
				continue
			}
			for _, l := range locs {
				l.module, l.serial, l.label = m, ti.SerialNumber, ti.Label
				l.cert.Source, l.cert.Token, l.cert.TokenSerial = m.Vendor, ti.Label, ti.SerialNumber
				// Read at every listing, as the token says it now: a
				// page's list never offers a certificate whose token
				// would refuse the PIN anyway.
				if ti.Flags&pkcs11.CKF_USER_PIN_LOCKED != 0 {
					l.cert.Problems = append(l.cert.Problems, keystore.ProblemTokenLocked)
				}
			}
			out = append(out, locs...)
		}
		return nil
	})
	return out, classify(m.Path, err)
}

func findAll(a api, sh pkcs11.SessionHandle, tmpl []*pkcs11.Attribute) ([]pkcs11.ObjectHandle, error) {
	if err := a.FindObjectsInit(sh, tmpl); err != nil {
		return nil, err
	}
	defer a.FindObjectsFinal(sh)
	var all []pkcs11.ObjectHandle
	for len(all) < 10000 {
		objs, _, err := a.FindObjects(sh, 64)
		if err != nil {
			return nil, err
		}
		if len(objs) == 0 {
			break
		}
		all = append(all, objs...)
	}
	return all, nil
}

func attr(a api, sh pkcs11.SessionHandle, o pkcs11.ObjectHandle, typ uint) []byte {
	vals, err := a.GetAttributeValue(sh, o, []*pkcs11.Attribute{pkcs11.NewAttribute(typ, nil)})
	if err != nil || len(vals) == 0 {
		return nil
	}
	return vals[0].Value
}

// scanToken reads the certificates of one token without logging in and
// pairs each with a key object by CKA_ID, falling back to the public key.
func scanToken(a api, slot uint, now time.Time) ([]*location, error) {
	sh, err := a.OpenSession(slot, pkcs11.CKF_SERIAL_SESSION)
	if err != nil {
		return nil, err
	}
	defer a.CloseSession(sh)
	certs, err := findAll(a, sh, certTemplate)
	if err != nil {
		return nil, err
	}
	var keyIDs [][]byte
	var pubKeys [][]byte
	for _, class := range []uint{pkcs11.CKO_PRIVATE_KEY, pkcs11.CKO_PUBLIC_KEY} {
		objs, _ := findAll(a, sh, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_CLASS, class)})
		for _, o := range objs {
			keyIDs = append(keyIDs, attr(a, sh, o, pkcs11.CKA_ID))
			if class == pkcs11.CKO_PUBLIC_KEY {
				pubKeys = append(pubKeys, publicKeyValue(a, sh, o))
			}
		}
	}
	dataObjs, _ := findAll(a, sh, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_DATA)})
	var out []*location
	for _, o := range certs {
		der := attr(a, sh, o, pkcs11.CKA_VALUE)
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			continue
		}
		id := attr(a, sh, o, pkcs11.CKA_ID)
		hasKey := false
		for _, k := range keyIDs {
			if len(id) > 0 && bytes.Equal(k, id) {
				hasKey = true
			}
		}
		if !hasKey {
			want := certKeyValue(cert)
			for _, pk := range pubKeys {
				if want != nil && bytes.Equal(pk, want) {
					hasKey = true
				}
			}
		}
		kc := keystore.Examine(cert, hasKey, now)
		kc.Algorithm = algorithmOf(cert)
		if !hasKey && len(keyIDs) == 0 && len(dataObjs) > 0 {
			// Keys as CKO_DATA: a CryptoPro container on this token.
			for i, pr := range kc.Problems {
				if pr == keystore.ProblemNoKey {
					kc.Problems[i] = keystore.ProblemNeedsCSP
				}
			}
		}
		out = append(out, &location{slot: slot, id: id, cert: kc})
	}
	return out, nil
}

// publicKeyValue is the comparable value of a public key object.
func publicKeyValue(a api, sh pkcs11.SessionHandle, o pkcs11.ObjectHandle) []byte {
	for _, t := range []uint{pkcs11.CKA_VALUE, pkcs11.CKA_MODULUS, pkcs11.CKA_EC_POINT} {
		if v := attr(a, sh, o, t); len(v) > 0 {
			return v
		}
	}
	return nil
}

// certKeyValue is the same value computed from a certificate.
func certKeyValue(cert *x509.Certificate) []byte {
	if g, err := gostx509.PublicKey(cert); err == nil {
		return g.Bytes()
	}
	switch k := cert.PublicKey.(type) {
	case *rsa.PublicKey:
		return k.N.Bytes()
	case *ecdsa.PublicKey:
		raw, err := k.Bytes()
		if err != nil {
			return nil
		}
		point, _ := asn1.Marshal(raw)
		return point
	}
	return nil
}

func algorithmOf(cert *x509.Certificate) string {
	if g, err := gostx509.PublicKey(cert); err == nil {
		return fmt.Sprintf("GOST R 34.10-2012 %d (%s)", g.Curve().Bits(), g.Curve().Name())
	}
	return cert.PublicKeyAlgorithm.String()
}
