package pkcs11

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"github.com/miekg/pkcs11"
	"github.com/podpis/podpis/agent/keystore"
	"github.com/podpis/podpis/crypto/cms"
)

// ParseCertificates reads what a CA hands out: one or more PEM blocks
// (CERTIFICATE, or PKCS7 holding a chain), a DER certificate, a DER
// PKCS#7 (.p7b) bundle, or either DER as bare base64. It returns the end-entity certificate (the one
// that is no CA and issued none of the others) and the rest.
func ParseCertificates(data []byte) (leaf *x509.Certificate, others []*x509.Certificate, err error) {
	var certs []*x509.Certificate
	add := func(der []byte, bundle bool) error {
		if !bundle {
			c, err := x509.ParseCertificate(der)
			if err != nil {
				return err
			}
			certs = append(certs, c)
			return nil
		}
		sd, err := cms.Parse(der)
		if err != nil {
			return err
		}
		certs = append(certs, sd.Certificates...)
		return nil
	}
	rest := bytes.TrimSpace(data)
	if raw, err := base64.StdEncoding.DecodeString(string(bytes.Join(bytes.Fields(rest), nil))); err == nil && len(raw) > 0 {
		// Base64 without PEM armour, as CA pages hand out .cer text.
		rest, data = raw, raw
	}
	if bytes.Contains(rest, []byte("-----BEGIN ")) {
		// PEM, perhaps after a preamble (OpenSSL's "Bag Attributes",
		// a CA's "subject=" lines): pem.Decode skips it.
		for {
			var blk *pem.Block
			blk, rest = pem.Decode(rest)
			if blk == nil {
				break
			}
			switch blk.Type {
			case "CERTIFICATE", "X509 CERTIFICATE":
				err = add(blk.Bytes, false)
			case "PKCS7", "CMS":
				err = add(blk.Bytes, true)
			}
			if err != nil {
				return nil, nil, &keystore.Error{Code: keystore.CodeBadCertificate, Err: fmt.Errorf("%s block: %w", blk.Type, err)}
			}
		}
	} else if len(rest) > 0 {
		if err = add(data, false); err != nil {
			if err2 := add(data, true); err2 != nil {
				return nil, nil, &keystore.Error{Code: keystore.CodeBadCertificate, Err: fmt.Errorf("neither a certificate (%v) nor a PKCS#7 bundle (%v)", err, err2)}
			}
		}
	}
	if len(certs) == 0 {
		return nil, nil, &keystore.Error{Code: keystore.CodeBadCertificate, Err: errors.New("no certificate in the file")}
	}
	isIssuer := func(c *x509.Certificate) bool {
		for _, o := range certs {
			if o != c && bytes.Equal(o.RawIssuer, c.RawSubject) && !bytes.Equal(o.RawSubject, c.RawSubject) {
				return true
			}
		}
		return false
	}
	for _, c := range certs {
		if leaf == nil && !c.IsCA && !isIssuer(c) {
			leaf = c
		} else {
			others = append(others, c)
		}
	}
	if leaf == nil {
		return nil, nil, &keystore.Error{Code: keystore.CodeBadCertificate, Err: errors.New("only CA certificates in the file")}
	}
	return leaf, others, nil
}

// keyHome is the token and CKA_ID of a certificate's key.
type keyHome struct {
	t     *token
	id    []byte
	label []byte
}

// InstallCertificate implements keystore.KeyMaker. The key is found by its
// public key object (readable without a PIN); the certificate is written
// as a public token object with the key's CKA_ID, so that scanning pairs
// them. CA certificates of a bundle are not written: the agent trusts its
// own roots, not a token's.
func (p *Store) InstallCertificate(ctx context.Context, data []byte, pin keystore.PINFunc) (*keystore.Certificate, error) {
	cert, _, err := ParseCertificates(data)
	if err != nil {
		return nil, err
	}
	want := certKeyValue(cert)
	if want == nil {
		return nil, &keystore.Error{Code: keystore.CodeNoMatchingKey, Err: fmt.Errorf("unsupported key %v", cert.PublicKeyAlgorithm)}
	}
	home, err := p.findKeyHome(ctx, cert, want)
	if err != nil {
		return nil, err
	}
	t := home.t
	kc := keystore.Examine(cert, true, p.opts.Now())
	kc.Algorithm = algorithmOf(cert)
	kc.Token, kc.TokenSerial, kc.Source = t.label(), t.info.SerialNumber, t.module.Vendor
	if err := keystore.AskConsent(ctx, keystore.Consent{Token: t.label(), Certificate: kc}); err != nil {
		return nil, err
	}
	pad := t.info.Flags&pkcs11.CKF_PROTECTED_AUTHENTICATION_PATH != 0
	var code []byte
	if t.info.Flags&pkcs11.CKF_LOGIN_REQUIRED != 0 && !pad {
		if pin == nil {
			return nil, &keystore.Error{Code: keystore.CodePINRequired}
		}
		code, err = takePIN(ctx, pin, keystore.PINRequest{Token: t.label(), Certificate: kc, Install: true,
			TriesLow: t.info.Flags&pkcs11.CKF_USER_PIN_COUNT_LOW != 0, FinalTry: t.info.Flags&pkcs11.CKF_USER_PIN_FINAL_TRY != 0})
		if err != nil {
			var ke *keystore.Error
			if errors.As(err, &ke) {
				return nil, err
			}
			return nil, &keystore.Error{Code: keystore.CodeCancelled, Err: err}
		}
	}
	defer clear(code)
	serial, err := asn1.Marshal(cert.SerialNumber)
	if err != nil {
		return nil, &keystore.Error{Code: keystore.CodeBadCertificate, Err: err}
	}
	label := home.label
	if len(label) == 0 {
		label = []byte(cert.Subject.CommonName)
	}
	tmpl := []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_CERTIFICATE),
		pkcs11.NewAttribute(pkcs11.CKA_CERTIFICATE_TYPE, pkcs11.CKC_X_509),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
		pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, false),
		pkcs11.NewAttribute(pkcs11.CKA_ID, home.id),
		pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
		pkcs11.NewAttribute(pkcs11.CKA_SUBJECT, cert.RawSubject),
		pkcs11.NewAttribute(pkcs11.CKA_ISSUER, cert.RawIssuer),
		pkcs11.NewAttribute(pkcs11.CKA_SERIAL_NUMBER, serial),
		pkcs11.NewAttribute(pkcs11.CKA_VALUE, cert.Raw),
	}
	timeout := p.opts.CallTimeout
	if pad {
		timeout *= 4
	}
	err = t.module.call(ctx, timeout, func(a api) error {
		sh, err := a.OpenSession(t.slot, pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION)
		if err != nil {
			return fmt.Errorf("C_OpenSession: %w", err)
		}
		defer a.CloseSession(sh)
		if t.info.Flags&pkcs11.CKF_LOGIN_REQUIRED != 0 || pad {
			err := a.Login(sh, pkcs11.CKU_USER, pinString(code))
			if err != nil && !isRV(err, pkcs11.CKR_USER_ALREADY_LOGGED_IN) {
				return fmt.Errorf("C_Login: %w", err)
			}
			if err == nil {
				defer a.Logout(sh)
			}
		}
		if _, err := a.CreateObject(sh, tmpl); err != nil {
			return fmt.Errorf("C_CreateObject: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, classify(t.module.Path, err)
	}
	return kc, nil
}

// findKeyHome looks on every token for the public key object whose value
// is the certificate's key, and refuses a certificate already there.
func (p *Store) findKeyHome(ctx context.Context, cert *x509.Certificate, want []byte) (*keyHome, error) {
	var home *keyHome
	already := ""
	for _, m := range p.modules {
		err := m.call(ctx, p.opts.CallTimeout, func(a api) error {
			slots, err := a.GetSlotList(true)
			if err != nil {
				return err
			}
			for _, s := range slots {
				ti, err := a.GetTokenInfo(s)
				if err != nil {
					continue
				}
				sh, err := a.OpenSession(s, pkcs11.CKF_SERIAL_SESSION)
				if err != nil {
					continue
				}
				same, _ := findAll(a, sh, []*pkcs11.Attribute{
					pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_CERTIFICATE),
					pkcs11.NewAttribute(pkcs11.CKA_VALUE, cert.Raw),
				})
				if len(same) > 0 {
					already = strings.TrimSpace(ti.Label)
				}
				keys, _ := findAll(a, sh, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PUBLIC_KEY)})
				for _, o := range keys {
					if home == nil && bytes.Equal(publicKeyValue(a, sh, o), want) {
						home = &keyHome{t: &token{module: m, slot: s, info: ti}, id: attr(a, sh, o, pkcs11.CKA_ID), label: attr(a, sh, o, pkcs11.CKA_LABEL)}
					}
				}
				a.CloseSession(sh)
			}
			return nil
		})
		if err != nil {
			return nil, classify(m.Path, err)
		}
	}
	if already != "" {
		return nil, &keystore.Error{Code: keystore.CodeAlreadyInstalled, Err: fmt.Errorf("on token %q", already)}
	}
	if home == nil {
		return nil, &keystore.Error{Code: keystore.CodeNoMatchingKey, Err: fmt.Errorf("no token holds the key of %q", cert.Subject.CommonName)}
	}
	return home, nil
}
