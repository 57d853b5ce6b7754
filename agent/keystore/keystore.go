// Package keystore is the seam between the agent and the places people's
// keys live: a Store lists certificates whose private keys it holds and
// signs with them, the key never leaving it. Implementations: pkcs11 (every
// CSP and token through its PKCS#11 module) and, on Windows, the
// CryptoAPI store.
package keystore

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"time"

	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/login"
)

// Certificate is a certificate a store found, with what the agent
// shows about it.
type Certificate struct {
	// ID is the lowercase hex SHA-1 of the certificate («Отпечаток»).
	ID        string            `json:"id"`
	Cert      *x509.Certificate `json:"-"`
	Identity  login.Identity    `json:"identity"`
	Algorithm string            `json:"algorithm"` // e.g. "GOST R 34.10-2012 256 (tc26-256-a)"
	// Source names the module or store the certificate came from (the
	// vendor of its PKCS#11 module, or the CSP behind CryptoAPI); the wire
	// keeps its first name, "provider".
	Source      string    `json:"provider"`
	Token       string    `json:"token"` // token label
	TokenSerial string    `json:"tokenSerial,omitempty"`
	HasKey      bool      `json:"hasKey"`
	Problems    []Problem `json:"problems,omitempty"`
}

// Problem is why a certificate cannot, or should not, be used.
type Problem string

const (
	ProblemExpired     Problem = "EXPIRED"
	ProblemNotYetValid Problem = "NOT_YET_VALID"
	ProblemNoKey       Problem = "NO_PRIVATE_KEY"
	ProblemKeyUsage    Problem = "KEY_USAGE"
	// ProblemNeedsCSP marks a certificate whose key is a CryptoPro
	// container on a token: only CryptoPro's own module can sign with it.
	ProblemNeedsCSP Problem = "NEEDS_CSP"
	// ProblemTokenLocked marks a certificate whose token's user PIN is
	// locked (too many wrong PINs): nothing signs with it until the token
	// is unlocked with its administrator PIN (PUK), so it is shown, but
	// not offered, and no PIN is asked for it.
	ProblemTokenLocked Problem = "TOKEN_LOCKED"
)

// Usable reports whether the certificate has no problem.
func (c *Certificate) Usable() bool { return len(c.Problems) == 0 }

// Examine fills in the fields of a certificate that depend on it alone.
func Examine(cert *x509.Certificate, hasKey bool, at time.Time) *Certificate {
	// The ID is the identity's thumbprint: one SHA-1 for the agent and verify.
	id := login.IdentityOf(cert)
	c := &Certificate{ID: id.Thumbprint, Cert: cert, Identity: id, HasKey: hasKey}
	if at.After(cert.NotAfter) {
		c.Problems = append(c.Problems, ProblemExpired)
	}
	if at.Before(cert.NotBefore) {
		c.Problems = append(c.Problems, ProblemNotYetValid)
	}
	if !hasKey {
		c.Problems = append(c.Problems, ProblemNoKey)
	}
	if cert.KeyUsage&(x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment) == 0 {
		c.Problems = append(c.Problems, ProblemKeyUsage)
	}
	return c
}

// PINRequest tells a PIN prompter what is asked for.
type PINRequest struct {
	Token       string // token label, or a CSP container's name (Container)
	Certificate *Certificate
	// Container: Token names a CSP's key container rather than a token
	// (the window then asks «пароль контейнера ключей»).
	Container bool
	// TriesLeft is the token's count of PIN tries left when it tells one
	// (a vendor's counter; 1 on the final try), else 0. TriesLow and
	// FinalTry repeat the token's warnings (CKF_USER_PIN_COUNT_LOW,
	// CKF_USER_PIN_FINAL_TRY) that a wrong PIN was entered before — never
	// by a retry of ours: each PIN tried is one the person entered.
	TriesLeft int
	TriesLow  bool
	FinalTry  bool
	// What the PIN is for, filled in by the agent (a store leaves
	// them): a login to a site, or the document Document summarises; the
	// dialog says which, so that a PIN typed for «вход» is not spent on a
	// document nobody saw.
	Login    bool
	Document *Summary
	// NewKey: the PIN is to make a key pair (createRequest); Install: to
	// write a certificate next to its key (installCertificate).
	NewKey  bool
	Install bool
}

// Summary describes a document to be signed.
type Summary struct {
	Description string // the page's words, already cleaned for showing
	Size        int
	Streebog    string // hex Streebog-256 of the data
	// DigestName names Streebog's digest when it is not Streebog-256
	// («Стрибог-512»); Count is the documents of a batch (0: one).
	DigestName string
	Count      int
}

type pinScopeKey struct{}

// WithPINScope returns ctx under which «Сохранить пароль» keeps a PIN for
// scope only: the agent passes the site's origin, so a PIN saved while
// site A signed never signs silently for site B. Without a scope a PIN is
// saved under the empty one (the command line).
func WithPINScope(ctx context.Context, scope string) context.Context {
	return context.WithValue(ctx, pinScopeKey{}, scope)
}

// PINScope returns the scope set by WithPINScope, or "".
func PINScope(ctx context.Context) string {
	s, _ := ctx.Value(pinScopeKey{}).(string)
	return s
}

// TryPIN logs in with one PIN the person entered — one press of OK — and
// carries out the operation that needed it; save is «Сохранить пароль».
// It returns nil when the token took the PIN and the operation is done.
// An error matching ErrPINIncorrect means the token refused it and the
// person may type again: the PINRequest returned is the token's state
// after the refusal (tries left), for the prompt to show. Any other error
// (ErrPINLocked, ErrTokenRemoved, …) ends the operation. A PIN equal to
// one already refused in this operation is refused without reaching the
// token. The caller clears pin.
type TryPIN func(pin []byte, save bool) (PINRequest, error)

// PINFunc asks the person for a PIN and hands each one they enter to
// try, once per confirmation: it is never called again with a PIN the
// person did not enter again, so a wrong PIN is never retried by code
// (tokens lock after a few). It returns nil once try returned nil,
// try's error when that ends the operation, or the reason it stopped
// asking (ErrCancelled when the person cancelled, ErrPINIncorrect when it
// does not ask again after a refusal).
type PINFunc func(ctx context.Context, req PINRequest, try TryPIN) error

// AskOnce makes a PINFunc of a prompt that asks once and whose answer is
// tried once: a wrong PIN ends the operation with ErrPINIncorrect (the
// command line's prompt, unattended runs, prompters whose window cannot
// stay open).
func AskOnce(ask func(ctx context.Context, req PINRequest) (pin []byte, save bool, err error)) PINFunc {
	return func(ctx context.Context, req PINRequest, try TryPIN) error {
		pin, save, err := ask(ctx, req)
		if err != nil {
			return err
		}
		defer clear(pin)
		_, err = try(pin, save)
		return err
	}
}

// Store is one source of keys: the PKCS#11 modules, or a platform's own
// certificate store.
type Store interface {
	// Name identifies the store in diagnostics.
	Name() string
	// Certificates lists the certificates found, with or without keys.
	Certificates(ctx context.Context) ([]*Certificate, error)
	// Signer returns a signer for the certificate with the given ID. It
	// logs in (asking pin when the token needs a PIN) for each signature,
	// unless a PIN was saved for the token and ctx's PINScope. The signer also implements
	// crypto.MessageSigner, so that tokens that hash themselves do.
	Signer(ctx context.Context, id string, pin PINFunc) (crypto.Signer, error)
	// Close releases the store.
	Close() error
}

// ModuleInfo describes one module or store for the agent's info method
// and for doctor.
type ModuleInfo struct {
	Name    string `json:"name"`
	Library string `json:"library,omitempty"`
	Loaded  bool   `json:"loaded"`
	Error   string `json:"error,omitempty"`
}

// StatusReporter is implemented by stores that can describe their
// modules.
type StatusReporter interface {
	Modules() []ModuleInfo
}

// Code is a stable reason code for a key store failure; the agent's
// protocol maps it to its own code of the same name, and its message
// (agent/wsapi: the one table of codes and messages).
type Code string

const (
	CodePINRequired   Code = "PIN_REQUIRED"
	CodePINIncorrect  Code = "PIN_INCORRECT"
	CodePINLocked     Code = "PIN_LOCKED"
	CodeTokenRemoved  Code = "TOKEN_REMOVED"
	CodeCertNotFound  Code = "CERT_NOT_FOUND"
	CodeNoProvider    Code = "NO_PROVIDER"
	CodeProviderError Code = "PROVIDER_ERROR"
	CodeTimeout       Code = "TIMEOUT"
	CodeCancelled     Code = "USER_CANCELLED"
)

// Error is a key store failure.
type Error struct {
	Code Code
	Err  error // detail for logs
}

func (e *Error) Error() string {
	if e.Err == nil {
		return "keystore: " + string(e.Code)
	}
	return "keystore: " + string(e.Code) + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// Is matches by code: errors.Is(err, keystore.ErrPINIncorrect).
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Err == nil && t.Code == e.Code
}

// Sentinels for errors.Is.
var (
	ErrPINRequired   = &Error{Code: CodePINRequired}
	ErrPINIncorrect  = &Error{Code: CodePINIncorrect}
	ErrPINLocked     = &Error{Code: CodePINLocked}
	ErrTokenRemoved  = &Error{Code: CodeTokenRemoved}
	ErrCertNotFound  = &Error{Code: CodeCertNotFound}
	ErrNoProvider    = &Error{Code: CodeNoProvider}
	ErrProviderError = &Error{Code: CodeProviderError}
	ErrTimeout       = &Error{Code: CodeTimeout}
	ErrCancelled     = &Error{Code: CodeCancelled}
)

// CodeOf returns the code of a key store error, or PROVIDER_ERROR.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeProviderError
}

// Codes of key generation and certificate installation (KeyMaker).
const (
	// CodeNoKeygen: the token's module cannot generate a key pair of the
	// algorithm asked (it does not offer the mechanism, or refuses it).
	CodeNoKeygen Code = "NO_KEYGEN"
	// CodeTokenNotFound: no token of that label, or several tokens and
	// none named.
	CodeTokenNotFound Code = "TOKEN_NOT_FOUND"
	// CodeNoMatchingKey: no token holds the key of the certificate.
	CodeNoMatchingKey Code = "NO_MATCHING_KEY"
	// CodeAlreadyInstalled: the certificate is on the token already.
	CodeAlreadyInstalled Code = "ALREADY_INSTALLED"
	// CodeBadCertificate: the file is no certificate (PEM, DER or a PKCS#7
	// bundle holding one).
	CodeBadCertificate Code = "BAD_CERTIFICATE"
)

// Sentinels of KeyMaker's codes.
var (
	ErrNoKeygen         = &Error{Code: CodeNoKeygen}
	ErrTokenNotFound    = &Error{Code: CodeTokenNotFound}
	ErrNoMatchingKey    = &Error{Code: CodeNoMatchingKey}
	ErrAlreadyInstalled = &Error{Code: CodeAlreadyInstalled}
	ErrBadCertificate   = &Error{Code: CodeBadCertificate}
)

// KeyAlgorithm is the kind of key a KeySpec asks for.
type KeyAlgorithm int

const (
	KeyGOST KeyAlgorithm = iota + 1
	KeyRSA
	KeyECDSA // P-256
)

// KeySpec is the key pair to generate.
type KeySpec struct {
	Algorithm KeyAlgorithm
	Curve     *gost3410.Curve // KeyGOST: the parameter set
	Bits      int             // KeyRSA: 2048 or 3072
}

// KeySpecByName reads the command line's and the protocol's names of a
// key: a GOST parameter set as "podpis speed --list" spells it
// (tc26-256-a, cryptopro-xcha, tc26-512-c…), rsa2048, rsa3072 or
// ecdsa-p256.
func KeySpecByName(name string) (KeySpec, bool) {
	switch name {
	case "rsa2048":
		return KeySpec{Algorithm: KeyRSA, Bits: 2048}, true
	case "rsa3072":
		return KeySpec{Algorithm: KeyRSA, Bits: 3072}, true
	case "ecdsa-p256":
		return KeySpec{Algorithm: KeyECDSA}, true
	}
	if c := gost3410.CurveByName(name); c != nil {
		return KeySpec{Algorithm: KeyGOST, Curve: c}, true
	}
	return KeySpec{}, false
}

// KeyRequest is a key pair to generate on a token.
type KeyRequest struct {
	Spec KeySpec
	// Token is the label of the token to generate on; "" when only one
	// token is present.
	Token string
	// Label is the keys' CKA_LABEL, a name the person recognises (the
	// owner's name and the date, say).
	Label string
	// Extractable lets the private key be exported, wrapped by another
	// key (it stays CKA_SENSITIVE: never in the clear); only when the
	// person chose so.
	Extractable bool
}

// NewKey is a key pair just generated on a token, while its session is
// open: Signer signs with it without asking the PIN again.
type NewKey struct {
	// ID is the key's CKA_ID: the SHA-1 key identifier of its public key
	// (RFC 5280 4.2.1.2 method 1), or another the token chose when it
	// refused to set ours.
	ID     []byte
	Token  string // label of the token it is on
	Signer crypto.Signer
}

// KeyMaker is a store that can make keys and take certificates in: the
// steps of getting a certificate (PKCS#10 request signed by the new key,
// then the CA's certificate installed next to it).
type KeyMaker interface {
	// GenerateKey generates a key pair on a token (asking pin to log in)
	// and calls use with it while the token's session is open; when use
	// returns an error, or anything fails after the key exists, the key
	// pair is destroyed, so that nothing is left behind. A token that
	// cannot generate the key gives ErrNoKeygen, a wrong PIN
	// ErrPINIncorrect with no key made.
	GenerateKey(ctx context.Context, req KeyRequest, pin PINFunc, use func(*NewKey) error) error
	// InstallCertificate writes the certificate in data (DER, PEM, or a
	// PKCS#7 bundle whose end-entity certificate is installed) to the
	// token holding its key, under the key's CKA_ID. It asks pin only when
	// the token needs a login to write. Codes: BAD_CERTIFICATE,
	// NO_MATCHING_KEY, ALREADY_INSTALLED.
	InstallCertificate(ctx context.Context, data []byte, pin PINFunc) (*Certificate, error)
}

// Consent is what a KeyMaker is about to do, once every refusal that needs
// no person is behind it (unknown algorithm, no such token, a token that
// cannot generate, no key for the certificate, a certificate already
// there) and before it asks the PIN: the agent's question to the person.
type Consent struct {
	Token string // label of the token the key goes on, or the certificate goes to
	// Certificate is the certificate to install (InstallCertificate);
	// nil when a key is to be made.
	Certificate *Certificate
}

// ConsentFunc asks the person; an error (ErrCancelled when they declined)
// ends the operation before the PIN is asked and before anything is
// written to the token.
type ConsentFunc func(ctx context.Context, c Consent) error

type consentKey struct{}

// WithConsent returns ctx under which a KeyMaker calls ask between its
// checks and its PIN: a question about the token it found is asked only
// once it is known that the answer matters, and always before the token
// is changed, whether the token needs a PIN or not. Without it (the
// command line, where the person typed the command) nobody is asked.
func WithConsent(ctx context.Context, ask ConsentFunc) context.Context {
	return context.WithValue(ctx, consentKey{}, ask)
}

// AskConsent calls the ConsentFunc set by WithConsent, if any.
func AskConsent(ctx context.Context, c Consent) error {
	if ask, ok := ctx.Value(consentKey{}).(ConsentFunc); ok && ask != nil {
		return ask(ctx, c)
	}
	return nil
}

// KeyNames lists every name KeySpecByName reads: the GOST parameter sets,
// then rsa2048, rsa3072, ecdsa-p256.
func KeyNames() []string {
	var out []string
	for _, c := range gost3410.Curves() {
		out = append(out, c.Name())
	}
	return append(out, "rsa2048", "rsa3072", "ecdsa-p256")
}

// KeygenToken is a token that offers key generation, and the keys it
// offers (names of KeySpecByName), as its module's mechanism list says:
// a module may still refuse a parameter set it lists the mechanism of.
type KeygenToken struct {
	Token      string
	Algorithms []string
}

// KeygenReporter is implemented by KeyMakers that can tell which tokens
// generate keys, for a page to offer only those (the info method).
type KeygenReporter interface {
	KeygenTokens(ctx context.Context) []KeygenToken
}
