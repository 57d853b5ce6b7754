package revocation

import (
	"crypto/x509"
	"testing"
)

// The OpenSSL-run test CA, for the external test that goes through verify
// (which imports this package, so it cannot be an internal test).
type EngineCA = ca

func NewEngineCA(t *testing.T, name, url string) *EngineCA { return newCA(t, name, url) }
func (c *ca) Path(f string) string                         { return c.path(f) }
func (c *ca) Person(name string) *x509.Certificate         { return c.person(name) }
func (c *ca) Revoke(name string)                           { c.revoke(name) }
func (c *ca) CRL() []byte                                  { return c.crl() }
func (c *ca) Cert() *x509.Certificate                      { return c.cert() }
