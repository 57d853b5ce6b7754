package verify

import (
	"crypto/x509"
	"time"

	"github.com/podpis/podpis/login"
)

// The login document and the signer's identity moved to package login,
// which the agent shares so that the two sides cannot drift. These names
// keep servers written against earlier releases compiling; new code uses
// package login.

// AuthDocument is login.Document.
//
// Deprecated: use login.Document.
type AuthDocument = login.Document

// Identity is login.Identity.
//
// Deprecated: use login.Identity.
type Identity = login.Identity

// AuthFormat is login.Format.
//
// Deprecated: use login.Format.
const AuthFormat = login.Format

// OIDLogin is login.OID, id-podpis-login.
//
// Deprecated: use login.OID.
var OIDLogin = login.OID

// NewAuthDocument is login.NewDocument.
//
// Deprecated: use login.NewDocument.
func NewAuthDocument(origin, challenge string, t time.Time) AuthDocument {
	return login.NewDocument(origin, challenge, t)
}

// ParseAuthDocument is login.ParseDocument.
//
// Deprecated: use login.ParseDocument.
func ParseAuthDocument(b []byte) (AuthDocument, time.Time, error) { return login.ParseDocument(b) }

// IsLoginDocument is login.IsDocument.
//
// Deprecated: use login.IsDocument.
func IsLoginDocument(data []byte) bool { return login.IsDocument(data) }

// IdentityOf is login.IdentityOf.
//
// Deprecated: use login.IdentityOf.
func IdentityOf(c *x509.Certificate) Identity { return login.IdentityOf(c) }
