package verify_test

import (
	"bytes"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/internal/testpki"
	"github.com/podpis/podpis/verify"
)

// TestParseCertificates: every shape a CA's bundle comes in yields its
// certificates in order, and every broken one is an error that says what
// is wrong, never a bundle with a certificate quietly missing.
func TestParseCertificates(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	root := testpki.Root(t, gost3410.CurveTC26512A, "Тестовый корневой УЦ", t0)
	inter := root.SubCA(t, gost3410.CurveTC26256A, "Тестовый УЦ", t0)
	r, i := root.Cert.Raw, inter.Cert.Raw
	pemOf := func(typ string, der []byte) string {
		return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
	}
	bad := []byte{0x30, 0x03, 0x02, 0x01, 0x00} // a SEQUENCE holding an INTEGER: DER, not a certificate

	for _, tc := range []struct {
		name    string
		data    string
		want    [][]byte
		err     error  // errors.Is target, nil when any error will do
		errText string // what the message must name
	}{
		{name: "PEM bundle with openssl's text and a key between",
			data: "subject=CN = root\n" + pemOf("CERTIFICATE", r) + pemOf("PRIVATE KEY", []byte{1}) + "issuer=...\n" + pemOf("CERTIFICATE", i),
			want: [][]byte{r, i}},
		{name: "one DER certificate", data: string(r), want: [][]byte{r}},
		{name: "DER certificates back to back", data: string(r) + string(i), want: [][]byte{r, i}},
		{name: "empty", data: "", err: verify.ErrNoCertificate},
		{name: "text", data: "hello, roots\n", err: verify.ErrNoCertificate},
		{name: "PEM without a certificate", data: pemOf("PRIVATE KEY", []byte{1}) + pemOf("X509 CRL", []byte{2}),
			err: verify.ErrNoCertificate, errText: `"PRIVATE KEY" "X509 CRL"`},
		{name: "broken PEM armour", data: "-----BEGIN CERTIFICATE-----\nnot base64!\n", err: verify.ErrNoCertificate, errText: "PEM"},
		{name: "PEM whose second block's armour is broken",
			data:    pemOf("CERTIFICATE", r) + strings.Replace(pemOf("CERTIFICATE", i), "\n", "\n!", 3) + pemOf("CERTIFICATE", r),
			errText: "1 of 3 PEM blocks are malformed"},
		{name: "PEM whose second certificate does not parse", data: pemOf("CERTIFICATE", r) + pemOf("CERTIFICATE", bad), errText: "PEM block 2"},
		{name: "DER whose second certificate does not parse", data: string(r) + string(bad), errText: "DER certificate 2"},
		{name: "DER with bytes after the last certificate", data: string(r) + "\n", errText: "after certificate 1"},
		{name: "truncated DER", data: string(r[:len(r)-1]), err: verify.ErrNoCertificate},
	} {
		t.Run(tc.name, func(t *testing.T) {
			certs, err := verify.ParseCertificates([]byte(tc.data))
			if tc.want != nil {
				if err != nil {
					t.Fatal(err)
				}
				if len(certs) != len(tc.want) {
					t.Fatalf("%d certificates, want %d", len(certs), len(tc.want))
				}
				for k, c := range certs {
					if !bytes.Equal(c.Raw, tc.want[k]) {
						t.Errorf("certificate %d is %q, want the %d-th of the bundle", k+1, c.Subject.CommonName, k+1)
					}
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted, %d certificates", len(certs))
			}
			if certs != nil {
				t.Errorf("an error and %d certificates", len(certs))
			}
			if tc.err != nil && !errors.Is(err, tc.err) {
				t.Errorf("error %v, want %v", err, tc.err)
			}
			if !strings.Contains(err.Error(), tc.errText) || !strings.HasPrefix(err.Error(), "verify: ") {
				t.Errorf("error %q does not say %q", err, tc.errText)
			}
		})
	}
}
