package pkcs11

import (
	"crypto/x509"
	"encoding/pem"
	"os"

	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/internal/enginetest"
)

func enginetestAvailable() (bool, error) {
	_, err := enginetest.Try(nil, "engine", "gost", "-c")
	return err == nil, err
}

func curveByName(n string) *gost3410.Curve { return gost3410.CurveByName(n) }

func pemFile(path string) []byte {
	b, _ := os.ReadFile(path)
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil
	}
	return blk.Bytes
}

func pemCert(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}
