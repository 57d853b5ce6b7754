package main

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"flag"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/crypto/gostx509"
)

// Russian qualified-certificate subject attributes.
var (
	oidSNILS = asn1.ObjectIdentifier{1, 2, 643, 100, 3}
	oidINN   = asn1.ObjectIdentifier{1, 2, 643, 3, 131, 1, 1}
	oidINNLE = asn1.ObjectIdentifier{1, 2, 643, 100, 4}
	oidOGRN  = asn1.ObjectIdentifier{1, 2, 643, 100, 1}
	oidSN    = asn1.ObjectIdentifier{2, 5, 4, 4}
	oidGN    = asn1.ObjectIdentifier{2, 5, 4, 42}
	oidTitle = asn1.ObjectIdentifier{2, 5, 4, 12}
	oidEmail = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}
)

type person struct {
	file    string
	curve   *gost3410.Curve
	subject pkix.Name
	expired bool
}

var people = []person{
	{"ivanov", gost3410.CurveTC26256A, pkix.Name{CommonName: "Иванов Иван Иванович", Country: []string{"RU"}, Locality: []string{"Москва"},
		ExtraNames: []pkix.AttributeTypeAndValue{{Type: oidSN, Value: "Иванов"}, {Type: oidGN, Value: "Иван Иванович"},
			{Type: oidSNILS, Value: "12345678901"}, {Type: oidINN, Value: "771234567890"}, {Type: oidEmail, Value: "ivanov@example.ru"}}}, false},
	{"petrova", gost3410.CurveTC26512A, pkix.Name{CommonName: "Петрова Мария Сергеевна", Organization: []string{"ООО «Ромашка»"}, Country: []string{"RU"},
		ExtraNames: []pkix.AttributeTypeAndValue{{Type: oidSN, Value: "Петрова"}, {Type: oidGN, Value: "Мария Сергеевна"},
			{Type: oidTitle, Value: "Генеральный директор"}, {Type: oidSNILS, Value: "98765432082"}, {Type: oidINN, Value: "500100732259"},
			{Type: oidINNLE, Value: "7712345671"}, {Type: oidOGRN, Value: "1027700000008"}}}, false}, // numbers with valid checksums: «Доверенность» checks them
	{"sidorov", gost3410.CurveCryptoProA, pkix.Name{CommonName: "Сидоров Пётр Петрович",
		ExtraNames: []pkix.AttributeTypeAndValue{{Type: oidSNILS, Value: "11122233344"}, {Type: oidINN, Value: "771000000001"}}}, true},
}

// runInit makes, once, a demo CA (a 512-bit root and a 256-bit issuing
// CA) and the soft token's keys and certificates, all with podpis's own
// GOST code: DIR/roots.pem and DIR/softtoken/NAME.{key,pem}; and the demo
// account's phone, e-mail and password (DIR/demo-account.json), which serve
// seeds.
func runInit(args []string) error {
	fs := flag.NewFlagSet("init", flag.ExitOnError)
	dir := fs.String("dir", ".data", "folder for the demo data")
	fs.Parse(args)
	if _, err := os.Stat(filepath.Join(*dir, "roots.pem")); err == nil {
		// Already made: keep the keys the token has been using; a folder
		// from before the account service gets its demo account.
		_, err := ensureDemoAccount(*dir)
		return err
	}
	tok := filepath.Join(*dir, "softtoken")
	if err := os.MkdirAll(tok, 0o700); err != nil {
		return err
	}
	now := time.Now()
	rootKey, err := gost3410.GenerateKey(gost3410.CurveTC26512A, nil)
	if err != nil {
		return err
	}
	root, err := issue(caTemplate("Демонстрационный корневой УЦ podpis", now, 10), nil, rootKey.Public(), rootKey)
	if err != nil {
		return err
	}
	caKey, err := gost3410.GenerateKey(gost3410.CurveTC26256A, nil)
	if err != nil {
		return err
	}
	ca, err := issue(caTemplate("Демонстрационный УЦ podpis", now, 5), root, caKey.Public(), rootKey)
	if err != nil {
		return err
	}
	for _, p := range people {
		key, err := gost3410.GenerateKey(p.curve, nil)
		if err != nil {
			return err
		}
		t := &x509.Certificate{
			Subject:   p.subject,
			NotBefore: now.Add(-24 * time.Hour), NotAfter: now.AddDate(1, 0, 0),
			KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageEmailProtection},
		}
		if p.expired {
			t.NotBefore, t.NotAfter = now.AddDate(-2, 0, 0), now.AddDate(0, 0, -30)
		}
		cert, err := issue(t, ca, key.Public(), caKey)
		if err != nil {
			return err
		}
		der, err := gostx509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return err
		}
		if err := writePEM(filepath.Join(tok, p.file+".key"), "PRIVATE KEY", der); err != nil {
			return err
		}
		// The certificate file carries the issuing CA too, as tokens do not.
		if err := writePEM(filepath.Join(tok, p.file+".pem"), "CERTIFICATE", cert.Raw); err != nil {
			return err
		}
	}
	// The issuing CA's key stays, for «Выпуск сертификата» (serve
	// --ca-key); the root's is not needed again.
	caDER, err := gostx509.MarshalPKCS8PrivateKey(caKey)
	if err != nil {
		return err
	}
	if err := writePEM(filepath.Join(*dir, caKeyFile), "PRIVATE KEY", caDER); err != nil {
		return err
	}
	if err := writePEM(filepath.Join(*dir, "intermediates.pem"), "CERTIFICATE", ca.Raw); err != nil {
		return err
	}
	if _, err := ensureDemoAccount(*dir); err != nil {
		return err
	}
	return writePEM(filepath.Join(*dir, "roots.pem"), "CERTIFICATE", root.Raw)
}

func caTemplate(cn string, now time.Time, years int) *x509.Certificate {
	return &x509.Certificate{
		Subject:   pkix.Name{CommonName: cn, Organization: []string{"podpis"}, Country: []string{"RU"}},
		NotBefore: now.Add(-48 * time.Hour), NotAfter: now.AddDate(years, 0, 0),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
}

func issue(t, parent *x509.Certificate, pub crypto.PublicKey, signer crypto.Signer) (*x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return nil, err
	}
	t.SerialNumber = serial
	if parent == nil {
		parent = t
	}
	der, err := gostx509.CreateCertificate(nil, t, parent, pub, signer)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

func writePEM(path, typ string, der []byte) error {
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
