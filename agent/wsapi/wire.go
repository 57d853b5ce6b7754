package wsapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/podpis/podpis/agent"
	"github.com/podpis/podpis/agent/keystore"
	"github.com/podpis/podpis/certreq"
)

// The wire: what goes over the connection, as docs/protocol.md shows it.
// These types are the protocol's own; the agent's and the key store's
// types are converted into them here, so that renaming a Go field never
// changes what a page receives (TestWireJSON).

// Request is one call from the page.
type Request struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params,omitempty"`
}

// Response answers a Request with the same ID, or is a Notice about a
// request still in flight (then it has no ID, result or error: a client
// that knows no notices finds no request of its own in it).
type Response struct {
	ID     json.RawMessage `json:"id,omitempty"`
	Result any             `json:"result,omitempty"`
	Error  *Error          `json:"error,omitempty"`
	Notice *Notice         `json:"notice,omitempty"`
}

// Notice tells the page what the person must do for its request Request
// to go on; the request stays in flight.
type Notice struct {
	Request json.RawMessage `json:"request"`
	Code    string          `json:"code"`
	Message string          `json:"message"`
	// Done and Total are a PROGRESS notice's: documents signed so far.
	Done  int `json:"done,omitempty"`
	Total int `json:"total,omitempty"`
}

// Error is a failure as the page sees it: a stable code and a Russian
// message to show.
type Error struct {
	Code    Code   `json:"code"`
	Message string `json:"message"`
	// Field names the request field that INVALID_REQUEST refuses ("INN",
	// "CN", "algorithm", "keyUsage"…).
	Field string `json:"field,omitempty"`
}

// Detection is the body of GET /v1/info: enough for a page to know an
// agent is there and which protocol it speaks, nothing about the person.
type Detection struct {
	Product  string `json:"product"`
	Version  string `json:"version"`
	Protocol int    `json:"protocol"`
}

// InfoResult is the info method's result: the agent and, so that a page
// can say exactly why login cannot work, podpis doctor's findings.
type InfoResult struct {
	Product  string       `json:"product"`
	Version  string       `json:"version"`
	Protocol int          `json:"protocol"`
	Modules  []ModuleInfo `json:"providers"`
	Ready    bool         `json:"ready"`
	Findings []Finding    `json:"findings"`
	// Keygen lists the tokens that can make keys (createRequest) and
	// which; the token's label only for a site the person trusts or
	// allowed.
	Keygen []KeygenToken `json:"keygen"`
}

// KeygenToken is a token that can generate keys of Algorithms.
type KeygenToken struct {
	Token      string   `json:"token,omitempty"`
	Algorithms []string `json:"algorithms"`
}

// ModuleInfo is one PKCS#11 module or key store and whether it loaded
// (the wire calls the list "providers").
type ModuleInfo struct {
	Name    string `json:"name"`
	Library string `json:"library,omitempty"`
	Loaded  bool   `json:"loaded"`
	Error   string `json:"error,omitempty"`
}

// Finding is one thing podpis doctor found.
type Finding struct {
	Code     string `json:"code"`
	Severity string `json:"severity"`
	Title    string `json:"title"`
	Cause    string `json:"cause,omitempty"`
	Fix      string `json:"fix,omitempty"`
}

// CertificatesParams are the certificates method's (all optional).
type CertificatesParams struct {
	Issuer    string   `json:"issuer,omitempty"`
	Policies  []string `json:"policies,omitempty"`
	OnlyValid bool     `json:"onlyValid,omitempty"`
}

// CertificatesResult is the certificates method's result.
type CertificatesResult struct {
	Certificates []Certificate `json:"certificates"`
}

// Certificate is a certificate as the page sees it.
type Certificate struct {
	ID          string   `json:"id"`
	Identity    Identity `json:"identity"`
	Algorithm   string   `json:"algorithm"`
	Source      string   `json:"provider"`
	Token       string   `json:"token"`
	TokenSerial string   `json:"tokenSerial,omitempty"`
	HasKey      bool     `json:"hasKey"`
	Problems    []string `json:"problems,omitempty"`
}

// Identity is the certificate's owner and facts, as the page sees them.
type Identity struct {
	CommonName   string    `json:"commonName,omitempty"`
	Surname      string    `json:"surname,omitempty"`
	GivenName    string    `json:"givenName,omitempty"`
	Title        string    `json:"title,omitempty"`
	Organization string    `json:"organization,omitempty"`
	Unit         string    `json:"organizationalUnit,omitempty"`
	SNILS        string    `json:"snils,omitempty"`
	INN          string    `json:"inn,omitempty"`
	INNLE        string    `json:"innle,omitempty"`
	OGRN         string    `json:"ogrn,omitempty"`
	OGRNIP       string    `json:"ogrnip,omitempty"`
	Email        string    `json:"email,omitempty"`
	Thumbprint   string    `json:"thumbprint"`
	Serial       string    `json:"serial"`
	Issuer       string    `json:"issuer"`
	NotBefore    time.Time `json:"notBefore"`
	NotAfter     time.Time `json:"notAfter"`
}

// AuthenticateParams and AuthenticateResult are the authenticate method's.
type AuthenticateParams struct {
	Certificate string `json:"certificate"`
	Challenge   string `json:"challenge"`
}

type AuthenticateResult struct {
	CMS         string `json:"cms"`         // base64 DER, attached
	Certificate string `json:"certificate"` // base64 DER
}

// SignParams and SignResult are the sign method's.
type SignParams struct {
	Certificate string `json:"certificate"`
	Data        string `json:"data,omitempty"` // base64
	// Stream names a finished stream (streamBegin…): the document is
	// the stream's, the signature detached. Data then is empty.
	Stream      string `json:"stream,omitempty"`
	Detached    bool   `json:"detached,omitempty"`
	Description string `json:"description,omitempty"`
	// CAdES is the form: "bes" (the default), "t" or "xl1"; TSA the
	// time-stamping authority's http(s) URL for t and xl1, when the
	// site's rule in the agent's configuration names none.
	CAdES string `json:"cades,omitempty"`
	TSA   string `json:"tsa,omitempty"`
}

type SignResult struct {
	CMS string `json:"cms"`
}

// CancelParams and CancelResult are the cancel method's.
type CancelParams struct {
	ID json.RawMessage `json:"id"`
}

type CancelResult struct {
	Cancelled bool `json:"cancelled"`
}

func moduleInfoOf(p keystore.ModuleInfo) ModuleInfo {
	return ModuleInfo{Name: p.Name, Library: p.Library, Loaded: p.Loaded, Error: p.Error}
}

func findingOf(f agent.Finding) Finding {
	return Finding{Code: f.Code, Severity: f.Severity, Title: f.Title, Cause: f.Cause, Fix: f.Fix}
}

// CertificateOf is c as the page sees it; the command line prints the same
// JSON (podpis certs --json).
func CertificateOf(c *keystore.Certificate) Certificate {
	id := c.Identity
	out := Certificate{ID: c.ID, Algorithm: c.Algorithm, Source: c.Source, Token: c.Token, TokenSerial: c.TokenSerial, HasKey: c.HasKey,
		Identity: Identity{CommonName: id.CommonName, Surname: id.Surname, GivenName: id.GivenName, Title: id.Title,
			Organization: id.Organization, Unit: id.Unit, SNILS: id.SNILS, INN: id.INN, INNLE: id.INNLE, OGRN: id.OGRN,
			OGRNIP: id.OGRNIP, Email: id.Email, Thumbprint: id.Thumbprint, Serial: id.Serial, Issuer: id.Issuer,
			NotBefore: id.NotBefore, NotAfter: id.NotAfter}}
	for _, p := range c.Problems {
		out.Problems = append(out.Problems, string(p))
	}
	return out
}

// CreateRequestParams are the createRequest method's. Algorithm is a name
// of podpis speed --list (tc26-256-a…), rsa2048, rsa3072 or ecdsa-p256;
// or "gost2012_256"/"gost2012_512" with ParamSet ("A"…"D",
// "CryptoPro-A"…"CryptoPro-XchB").
type CreateRequestParams struct {
	Token       string   `json:"token,omitempty"`
	Algorithm   string   `json:"algorithm"`
	ParamSet    string   `json:"paramSet,omitempty"`
	Subject     Subject  `json:"subject"`
	KeyUsage    []string `json:"keyUsage,omitempty"`
	ExtKeyUsage []string `json:"extKeyUsage,omitempty"`
	Policies    []string `json:"policies,omitempty"`
	IdentKind   int      `json:"identKind,omitempty"`
	Label       string   `json:"label,omitempty"`
	Exportable  bool     `json:"exportable,omitempty"`
}

// Subject is the owner's name as a JSON object {"CN": "…", "SNILS": "…"},
// its fields in the order the page wrote them (the order of the name in
// the request).
type Subject []certreq.Attribute

// MaxSubjectFields bounds the fields of a subject (the profile has 17).
const MaxSubjectFields = 32

func (s *Subject) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return errors.New("wsapi: subject is not an object")
	}
	var out Subject
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		var v string
		if err := dec.Decode(&v); err != nil {
			return fmt.Errorf("wsapi: subject field %v: %w", t, err)
		}
		if out = append(out, certreq.Attribute{Key: t.(string), Value: v}); len(out) > MaxSubjectFields {
			return errors.New("wsapi: subject has too many fields")
		}
	}
	*s = out
	return nil
}

// CreateRequestResult is the createRequest method's result.
type CreateRequestResult struct {
	Request string `json:"request"` // base64 DER PKCS#10
	KeyID   string `json:"keyId"`   // hex CKA_ID of the new key
}

// InstallCertificateParams are the installCertificate method's; the
// result is the Certificate installed, as certificates lists it.
type InstallCertificateParams struct {
	Certificate string `json:"certificate"` // base64 DER, PEM, or a PKCS#7 bundle (base64 or PEM)
}

// StreamBeginParams and StreamBeginResult are streamBegin's: a document
// sent in chunks, hashed as they arrive.
type StreamBeginParams struct {
	Name string `json:"name,omitempty"` // file name, shown to the person
	// Size is the document's size when known: a stream that ends short
	// or runs over is refused.
	Size *int64 `json:"size,omitempty"`
	// Digest is the digest of the certificate's key: "streebog256"
	// (default) or "streebog512" (a 512-bit key's).
	Digest string `json:"digest,omitempty"`
}

type StreamBeginResult struct {
	Stream    string `json:"stream"`
	ChunkSize int    `json:"chunkSize"` // the largest chunk, decoded
	// Upload, over the WebSocket, is the path on the agent's port where
	// the document may be POSTed whole instead of in chunks.
	Upload string `json:"upload,omitempty"`
}

// StreamChunkParams and StreamChunkResult are streamChunk's.
type StreamChunkParams struct {
	Stream string `json:"stream"`
	Offset int64  `json:"offset"` // of the chunk's first byte: what was received so far
	Data   string `json:"data"`   // base64, at most ChunkSize bytes decoded
}

type StreamChunkResult struct {
	Received int64 `json:"received"`
}

// StreamAbortParams is streamAbort's; the result is CancelResult.
type StreamAbortParams struct {
	Stream string `json:"stream"`
}

// SignHashParams is signHash's: a digest the server computed with the
// certificate key's digest (hex or base64). The result is SignResult,
// detached.
type SignHashParams struct {
	Certificate string `json:"certificate"`
	Hash        string `json:"hash"` // hex (64 or 128 digits) or base64
	Name        string `json:"name,omitempty"`
	Description string `json:"description,omitempty"`
}

// SignBatchParams and SignBatchResult are signBatch's.
type SignBatchParams struct {
	Certificate string          `json:"certificate"`
	Description string          `json:"description,omitempty"`
	Documents   []BatchDocument `json:"documents"`
}

// BatchDocument is one document of a batch: a finished stream, or a
// digest the server computed.
type BatchDocument struct {
	Name   string `json:"name,omitempty"`
	Stream string `json:"stream,omitempty"`
	Hash   string `json:"hash,omitempty"`
}

type SignBatchResult struct {
	Results []BatchResult `json:"results"`
}

// BatchResult is one document's: a detached CMS or an error.
type BatchResult struct {
	CMS   string `json:"cms,omitempty"`
	Error *Error `json:"error,omitempty"`
}

// CosignParams is cosign's; the result is SignResult.
type CosignParams struct {
	Certificate string `json:"certificate"`
	CMS         string `json:"cms"`              // base64
	Stream      string `json:"stream,omitempty"` // the document again, for a detached CMS
	Description string `json:"description,omitempty"`
}
