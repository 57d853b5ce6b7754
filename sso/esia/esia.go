// Package esia logs a person in through Госуслуги (ЕСИА, the Unified
// Identification and Authentication System) with its OAuth 2.0 /
// OpenID Connect authorization code flow, as «Методические рекомендации
// по использованию Единой системы идентификации и аутентификации»
// (Минкомсвязь / Минцифры, versions 2.x, «Получение авторизационного
// кода» and «Получение маркера доступа в обмен на авторизационный код»,
// the PKCS#7 endpoints /aas/oauth2/ac and /te) describes it; docs/sso.md
// says what was followed and how it was checked:
//
//   - the client authenticates itself with client_secret: a detached
//     CMS (PKCS#7) signature, made with the organisation's GOST R
//     34.10-2012 certificate registered at ESIA, of the UTF-8
//     concatenation scope + timestamp + client_id + state, encoded
//     base64url; the timestamp is "yyyy.MM.dd HH:mm:ss Z" and the state a
//     fresh UUID. The signature is made by podpis's own crypto/cms, with
//     the key as any crypto.Signer: a key file or a PKCS#11 token;
//   - the authorization code is exchanged at the token endpoint with a
//     new state, timestamp and client_secret, grant_type
//     authorization_code and token_type Bearer;
//   - the identity token and the access token are JWTs signed by ESIA
//     (RS256, or GOST3410_2012_256 after ESIA's move to GOST keys), checked
//     against ESIA's published key given by configuration, with iss, aud,
//     exp, nbf and the subject;
//   - the person's basic data (name, SNILS, whether the account is
//     confirmed) is read from the REST API: GET {API}/prns/{oid} with the
//     access token as Bearer.
//
// Not implemented: the newer v2/ac and v3/te endpoints, where client_secret
// is a raw GOST signature (not CMS) of client_id + scope + timestamp +
// state + redirect_uri (+ code at v3/te) sent with client_certificate_hash;
// the CMS endpoints above remain ESIA's PKCS#7 variant.
//
// The state protects the callback: Begin returns it, the caller keeps it
// bound to the browser (a cookie), and Finish accepts a callback only with
// that state, only once, and only before it expires.
package esia

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/subtle"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/crypto/gostx509"
	"github.com/podpis/podpis/sso/replay"
)

// Endpoints are ESIA's addresses and the issuer its tokens name.
type Endpoints struct {
	Authorize string // the authorization endpoint, …/aas/oauth2/ac
	Token     string // the token endpoint, …/aas/oauth2/te
	API       string // the REST API root, …/rs (persons at {API}/prns/{oid})
	Logout    string // ends the person's ESIA session, …/idp/ext/Logout
	Issuer    string // the iss of ESIA's tokens
}

// Production is ESIA itself; Test is its test environment (ЕСИА ТС),
// where systems are registered before they go live.
var (
	Production = Endpoints{
		Authorize: "https://esia.gosuslugi.ru/aas/oauth2/ac",
		Token:     "https://esia.gosuslugi.ru/aas/oauth2/te",
		API:       "https://esia.gosuslugi.ru/rs",
		Logout:    "https://esia.gosuslugi.ru/idp/ext/Logout",
		Issuer:    "http://esia.gosuslugi.ru/",
	}
	Test = Endpoints{
		Authorize: "https://esia-portal1.test.gosuslugi.ru/aas/oauth2/ac",
		Token:     "https://esia-portal1.test.gosuslugi.ru/aas/oauth2/te",
		API:       "https://esia-portal1.test.gosuslugi.ru/rs",
		Logout:    "https://esia-portal1.test.gosuslugi.ru/idp/ext/Logout",
		Issuer:    "http://esia-portal1.test.gosuslugi.ru/",
	}
)

// TimestampLayout is ESIA's "yyyy.MM.dd HH:mm:ss Z" in Go's notation.
const TimestampLayout = "2006.01.02 15:04:05 -0700"

// DefaultRequestLife is how long a started login may take to come back
// when Config.RequestLife is zero.
const DefaultRequestLife = 10 * time.Minute

// leeway is the clock difference allowed between ESIA and us when checking
// a token's exp and nbf.
const leeway = time.Minute

var (
	ErrDenied    = errors.New("esia: ESIA refused the login")
	ErrState     = errors.New("esia: the callback's state is not the login's")
	ErrReplayed  = errors.New("esia: the callback was already used")
	ErrExpired   = errors.New("esia: the login took too long")
	ErrTokenCall = errors.New("esia: the token endpoint refused the code")
	ErrToken     = errors.New("esia: ESIA's token is not valid")
	ErrAPI       = errors.New("esia: ESIA's REST API failed")
)

// Config configures a Client.
type Config struct {
	// ClientID is the system's mnemonic registered at ESIA.
	ClientID string
	// RedirectURI is where ESIA sends the browser back with the code; it
	// must be registered at ESIA with the system.
	RedirectURI string
	// Scope is what the login asks for; it must include "openid".
	// "fullname" and "snils" give the person's name and SNILS.
	Scope []string
	// Endpoints are Production, Test or a stand-in's.
	Endpoints Endpoints
	// Certificate is the organisation's certificate registered at ESIA,
	// and Key its private key: a *gost3410.PrivateKey from a key file, a
	// PKCS#11 key, any crypto.Signer.
	Certificate *x509.Certificate
	Key         crypto.Signer
	// ProviderKey is ESIA's published public key that signs its tokens:
	// a *gost3410.PublicKey (GOST3410_2012_256) or an *rsa.PublicKey
	// (RS256). ProviderKeyFromCertificate reads it from ESIA's certificate.
	ProviderKey crypto.PublicKey
	// Store remembers finished logins' states; nil means a replay.Memory
	// (one process: use sso/replay/redisreplay behind a balancer).
	Store replay.Store
	// RequestLife is how long a started login stays valid; zero means
	// DefaultRequestLife.
	RequestLife time.Duration
	// HTTPClient calls the token endpoint and the API; nil means a client
	// with a 30-second timeout.
	HTTPClient *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Client runs logins for one registered system. It is safe for
// concurrent use.
type Client struct {
	cfg   Config
	scope string
	alg   string
	now   func() time.Time
	http  *http.Client
	store replay.Store
}

// New checks cfg and returns a Client.
func New(cfg Config) (*Client, error) {
	if cfg.ClientID == "" {
		return nil, errors.New("esia: no ClientID")
	}
	if u, err := url.Parse(cfg.RedirectURI); err != nil || !u.IsAbs() || u.Host == "" {
		return nil, errors.New("esia: RedirectURI is not an absolute URL")
	}
	if !slices.Contains(cfg.Scope, "openid") {
		return nil, errors.New(`esia: Scope must include "openid"`)
	}
	for _, s := range cfg.Scope {
		if s == "" || strings.ContainsAny(s, " \t\n") {
			return nil, fmt.Errorf("esia: bad scope %q", s)
		}
	}
	e := cfg.Endpoints
	for _, u := range []string{e.Authorize, e.Token, e.API} {
		if p, err := url.Parse(u); err != nil || !p.IsAbs() || p.Host == "" {
			return nil, fmt.Errorf("esia: endpoint %q is not an absolute URL", u)
		}
	}
	if e.Issuer == "" {
		return nil, errors.New("esia: no Endpoints.Issuer")
	}
	if cfg.Certificate == nil || cfg.Key == nil {
		return nil, errors.New("esia: the organisation's Certificate and Key are required")
	}
	c := &Client{cfg: cfg, scope: strings.Join(cfg.Scope, " "), now: cfg.Now, http: cfg.HTTPClient, store: cfg.Store}
	switch k := cfg.ProviderKey.(type) {
	case *gost3410.PublicKey:
		c.alg = algGOST256
		if k.Curve().Size() != 32 {
			return nil, errors.New("esia: ESIA's GOST key must be 256-bit (GOST3410_2012_256)")
		}
	case *rsa.PublicKey:
		c.alg = algRS256
	default:
		return nil, fmt.Errorf("esia: ESIA's key must be GOST R 34.10-2012 256 or RSA, not %T", cfg.ProviderKey)
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.cfg.RequestLife == 0 {
		c.cfg.RequestLife = DefaultRequestLife
	}
	if c.http == nil {
		c.http = &http.Client{Timeout: 30 * time.Second}
	}
	if c.store == nil {
		c.store = &replay.Memory{Now: c.now}
	}
	// Checked now, without signing (a token would ask its PIN), so that a
	// key that is not the certificate's fails at start, not at a login.
	pub, err := gostx509.PublicKey(cfg.Certificate)
	if err != nil {
		return nil, fmt.Errorf("esia: the organisation's certificate must hold a GOST R 34.10-2012 key: %w", err)
	}
	if !pub.Equal(cfg.Key.Public()) {
		return nil, errors.New("esia: the Key is not the Certificate's")
	}
	return c, nil
}

// ProviderKeyFromCertificate returns the public key of ESIA's certificate
// (GOST R 34.10-2012 or RSA) for Config.ProviderKey.
func ProviderKeyFromCertificate(cert *x509.Certificate) (crypto.PublicKey, error) {
	if k, err := gostx509.PublicKey(cert); err == nil {
		return k, nil
	}
	if k, ok := cert.PublicKey.(*rsa.PublicKey); ok {
		return k, nil
	}
	return nil, errors.New("esia: ESIA's certificate holds neither a GOST nor an RSA key")
}

// Request is a started login: send the browser to URL, keep State and
// Expires with the browser's session, and give them back to Finish.
type Request struct {
	URL     string
	State   string
	Expires time.Time
}

// Begin starts a login: a fresh state, the timestamp, and the signed
// client_secret in the authorization URL.
func (c *Client) Begin(ctx context.Context) (*Request, error) {
	state, err := newState()
	if err != nil {
		return nil, err
	}
	now := c.now()
	ts := now.Format(TimestampLayout)
	secret, err := c.clientSecret(state, now)
	if err != nil {
		return nil, err
	}
	q := url.Values{
		"client_id":     {c.cfg.ClientID},
		"client_secret": {secret},
		"redirect_uri":  {c.cfg.RedirectURI},
		"scope":         {c.scope},
		"response_type": {"code"},
		"state":         {state},
		"timestamp":     {ts},
		"access_type":   {"online"},
	}
	u := c.cfg.Endpoints.Authorize
	if strings.Contains(u, "?") {
		u += "&" + q.Encode()
	} else {
		u += "?" + q.Encode()
	}
	return &Request{URL: u, State: state, Expires: now.Add(c.cfg.RequestLife)}, nil
}

// Identity is who logged in.
type Identity struct {
	// OID is the person's ESIA identifier: the external ID to link.
	OID        string
	Person     Person
	AuthMethod string    // the id_token's amr (PWD, DS, …)
	AuthTime   time.Time // when the person authenticated at ESIA
}

// Finish completes the login req started, from the query of ESIA's
// redirect to RedirectURI: it checks the state, exchanges the code for
// tokens, checks them and reads the person.
func (c *Client) Finish(ctx context.Context, req *Request, callback url.Values) (*Identity, error) {
	if req == nil || req.State == "" {
		return nil, fmt.Errorf("%w: no login was started in this session", ErrState)
	}
	got := callback.Get("state")
	if subtle.ConstantTimeCompare([]byte(got), []byte(req.State)) != 1 {
		return nil, ErrState
	}
	now := c.now()
	if !now.Before(req.Expires) {
		return nil, ErrExpired
	}
	// Used up before anything else, so that a callback opened twice (a
	// reload, a leaked URL) never reaches ESIA a second time.
	if err := c.store.Use(ctx, "esia-state:"+req.State, req.Expires); err != nil {
		if errors.Is(err, replay.ErrUsed) {
			return nil, ErrReplayed
		}
		if errors.Is(err, replay.ErrExpired) {
			return nil, ErrExpired
		}
		return nil, fmt.Errorf("esia: replay store: %w", err)
	}
	if e := callback.Get("error"); e != "" {
		return nil, fmt.Errorf("%w: %s: %s", ErrDenied, e, callback.Get("error_description"))
	}
	code := callback.Get("code")
	if code == "" {
		return nil, fmt.Errorf("%w: no code in the callback", ErrDenied)
	}
	tok, err := c.exchange(ctx, code)
	if err != nil {
		return nil, err
	}
	id, err := c.checkTokens(tok, c.now())
	if err != nil {
		return nil, err
	}
	if id.Person, err = c.person(ctx, id.OID, tok.AccessToken); err != nil {
		return nil, err
	}
	return id, nil
}

// LogoutURL is where to send the browser to end its ESIA session too
// (logging out of ours leaves ESIA's open); ESIA then returns it to
// redirect. Empty when no Logout endpoint is configured.
func (c *Client) LogoutURL(redirect string) string {
	if c.cfg.Endpoints.Logout == "" {
		return ""
	}
	return c.cfg.Endpoints.Logout + "?" + url.Values{"client_id": {c.cfg.ClientID}, "redirect_url": {redirect}}.Encode()
}

// newState returns a random (version 4) UUID, as ESIA requires the state.
func newState() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("esia: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}
