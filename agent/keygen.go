package agent

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/podpis/podpis/agent/keystore"
	"github.com/podpis/podpis/certreq"
)

// Getting a certificate (docs/protocol.md: createRequest,
// installCertificate). Policy: a key is made, and a certificate written
// to a token, only after the person said yes in podpis's own window —
// for every site, trusted ones included. A trusted origin is a promise
// that a login there is what the person means; making a key changes the
// token for good (a key the person never asked for, a slot taken, a
// request that a CA may turn into a qualified certificate in their name),
// and nothing the page says is a person's yes. An agent with nobody to
// ask (podpis run --headless) refuses both.

// ErrNoConsent refuses a key or a certificate when nobody can be asked:
// an unattended agent, or a prompter without the windows for it.
var ErrNoConsent = fmt.Errorf("%w: nobody to ask for consent to change a token", ErrOriginDenied)

// KeyPrompter is implemented by prompters that can ask about changing a
// token: the agent refuses createRequest and installCertificate without
// one.
type KeyPrompter interface {
	// ConfirmNewKey asks «Сайт … просит создать ключ электронной подписи
	// на токене …», showing whose key it is to be; Создать / Отмена.
	ConfirmNewKey(ctx context.Context, origin string, what NewKeySummary) (bool, error)
	// ConfirmInstall asks to write cert (its owner, issuer, validity) to
	// token.
	ConfirmInstall(ctx context.Context, origin, token string, cert *keystore.Certificate) (bool, error)
}

// NewKeySummary is what the person is shown before a key is made. Every
// string is cleaned for showing (CleanText).
type NewKeySummary struct {
	Token     string
	Algorithm string // as KeySpecByName spells it: tc26-256-a, rsa2048…
	// Subject is the owner's name, field by field in the request's
	// order, each named as a person knows it (СНИЛС, ИНН…).
	Subject    []ShownField
	Exportable bool
	Label      string // the key's name on the token (the page's, or the CN)
}

// ShownField is one named line of a prompt.
type ShownField struct {
	Key   string // the protocol's key: "SNILS"
	Name  string // the person's: «СНИЛС»
	Value string
}

// NewKeyRequest is a createRequest.
type NewKeyRequest struct {
	Token     string // token label; "" when there is one
	Algorithm string // a name of keystore.KeySpecByName
	Request   *certreq.Request
	// Label names the key on the token; "" means the owner's CN.
	Label      string
	Exportable bool
}

// MaxLabel bounds a new key's label (CKA_LABEL), in runes.
const MaxLabel = 64

// CreateRequest makes a key pair on a token and returns the PKCS#10
// request it signed, and the key's id. Everything the page sent is
// checked first (certreq's errors name the field); then the token is
// found and checked by the store; then the person is asked, then the PIN.
// A decline, a wrong PIN or any failure after the key exists leaves
// nothing on the token.
func (a *Agent) CreateRequest(ctx context.Context, origin string, req NewKeyRequest) (der, keyID []byte, err error) {
	n, err := NormalizeOrigin(origin)
	if err != nil {
		return nil, nil, ErrOriginDenied
	}
	spec, ok := keystore.KeySpecByName(req.Algorithm)
	if !ok {
		return nil, nil, &certreq.Error{Field: "algorithm", Reason: certreq.ReasonUnknown}
	}
	if req.Request == nil {
		return nil, nil, fmt.Errorf("%w: no request", ErrBadRequest)
	}
	if err := req.Request.Validate(); err != nil {
		return nil, nil, err
	}
	label := CleanText(req.Label, MaxLabel)
	if label == "" {
		label = CleanText(req.Request.Subject.Get("CN"), MaxLabel)
	}
	kp, err := a.keyPrompter()
	if err != nil {
		return nil, nil, err
	}
	km, err := a.keyMakers()
	if err != nil {
		return nil, nil, err
	}
	shown := make([]ShownField, 0, len(req.Request.Subject))
	for _, at := range req.Request.Subject {
		shown = append(shown, ShownField{Key: at.Key, Name: certreq.FieldName(at.Key), Value: CleanText(at.Value, MaxShownDescription)})
	}
	ctx = keystore.WithConsent(ctx, func(ctx context.Context, c keystore.Consent) error {
		return a.consent(n, func() (bool, error) {
			return kp.ConfirmNewKey(ctx, n, NewKeySummary{Token: CleanText(c.Token, 100), Algorithm: req.Algorithm, Subject: shown, Exportable: req.Exportable, Label: label})
		})
	})
	kr := keystore.KeyRequest{Spec: spec, Token: req.Token, Label: label, Extractable: req.Exportable}
	err = km[0].GenerateKey(keystore.WithPINScope(ctx, n), kr, a.keyPIN(n), func(k *keystore.NewKey) error {
		der, err = certreq.Create(nil, req.Request, k.Signer)
		keyID = k.ID
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return der, keyID, nil
}

// InstallCertificate writes the certificate in data (DER, PEM, or a
// PKCS#7 bundle) to the token holding its key, once the person saw whose
// certificate goes to which token and agreed. A certificate that is no
// certificate, whose key no token holds, or that is there already, is
// refused before anyone is asked.
func (a *Agent) InstallCertificate(ctx context.Context, origin string, data []byte) (*keystore.Certificate, error) {
	n, err := NormalizeOrigin(origin)
	if err != nil {
		return nil, ErrOriginDenied
	}
	kp, err := a.keyPrompter()
	if err != nil {
		return nil, err
	}
	km, err := a.keyMakers()
	if err != nil {
		return nil, err
	}
	ctx = keystore.WithConsent(keystore.WithPINScope(ctx, n), func(ctx context.Context, c keystore.Consent) error {
		return a.consent(n, func() (bool, error) {
			return kp.ConfirmInstall(ctx, n, CleanText(c.Token, 100), c.Certificate)
		})
	})
	for _, m := range km {
		c, err := m.InstallCertificate(ctx, data, a.keyPIN(n))
		if errors.Is(err, keystore.ErrNoMatchingKey) {
			continue
		}
		return c, err
	}
	return nil, keystore.ErrNoMatchingKey
}

// keyPrompter is the prompter's KeyPrompter, when a person is there to
// answer it.
func (a *Agent) keyPrompter() (KeyPrompter, error) {
	kp, ok := a.cfg.Prompter.(KeyPrompter)
	if !ok || a.cfg.OnlyTrusted || a.unattended() {
		return nil, ErrNoConsent
	}
	return kp, nil
}

// keyMakers are the stores that can make keys, in the configured order.
func (a *Agent) keyMakers() ([]keystore.KeyMaker, error) {
	if !a.hasProvider() {
		return nil, keystore.ErrNoProvider
	}
	var out []keystore.KeyMaker
	for _, s := range a.cfg.Stores {
		if km, ok := s.(keystore.KeyMaker); ok {
			out = append(out, km)
		}
	}
	if len(out) == 0 {
		return nil, &keystore.Error{Code: keystore.CodeNoKeygen, Err: errors.New("no store makes keys")}
	}
	return out, nil
}

// consent asks a question about changing a token as the one prompt on
// the screen, counted against the site's domain whether it is trusted or
// not: a site that could open key windows without limit could wear the
// person down into a yes, or fill the token with keys.
func (a *Agent) consent(origin string, ask func() (bool, error)) error {
	var ok bool
	err := a.promptCounted(origin, true, func() (err error) {
		ok, err = ask()
		return err
	})
	if err != nil {
		return err
	}
	if !ok {
		return ErrCancelled
	}
	return nil
}

// keyPIN asks the PIN through the prompter for origin, for what the store
// says (PINRequest.NewKey, Install): never for a login or a document.
func (a *Agent) keyPIN(origin string) keystore.PINFunc {
	return func(ctx context.Context, req keystore.PINRequest, try keystore.TryPIN) error {
		if a.cfg.Prompter == nil || a.unattended() && a.pinRefused.Load() {
			return keystore.ErrPINRequired
		}
		req.Login, req.Document = false, nil
		return a.prompt(origin, func() error {
			if t, ok := a.cfg.Prompter.(PINTrier); ok {
				return t.TryPIN(ctx, origin, req, try)
			}
			return keystore.AskOnce(func(ctx context.Context, req keystore.PINRequest) ([]byte, bool, error) {
				return a.cfg.Prompter.PIN(ctx, origin, req)
			})(ctx, req, try)
		})
	}
}

// keyAlgorithmNames maps the form of an algorithm (Astral's
// "gost2012_256" with a parameter set letter) to podpis's names.
var keyAlgorithmNames = map[string]map[string]string{
	"gost2012_256": {"A": "tc26-256-a", "B": "tc26-256-b", "C": "tc26-256-c", "D": "tc26-256-d",
		"CRYPTOPRO-A": "cryptopro-a", "CRYPTOPRO-B": "cryptopro-b", "CRYPTOPRO-C": "cryptopro-c",
		"CRYPTOPRO-XCHA": "cryptopro-xcha", "CRYPTOPRO-XCHB": "cryptopro-xchb"},
	"gost2012_512": {"A": "tc26-512-a", "B": "tc26-512-b", "C": "tc26-512-c"},
}

// KeyAlgorithmName is podpis's name of an algorithm given either as
// podpis names it (tc26-256-a, rsa2048…, paramSet empty) or as
// "gost2012_256"/"gost2012_512" with a parameter set (A…D, CryptoPro-A,
// CryptoPro-XchA…). An unknown one is returned as given, for
// CreateRequest to refuse.
func KeyAlgorithmName(algorithm, paramSet string) string {
	if sets, ok := keyAlgorithmNames[algorithm]; ok {
		if name, ok := sets[strings.ToUpper(paramSet)]; ok {
			return name
		}
		return algorithm + "/" + paramSet
	}
	if paramSet != "" {
		return algorithm + "/" + paramSet
	}
	return algorithm
}

// KeygenTokens tells a page which tokens can make keys, and of which
// algorithms, so that it offers only those. A token's label may name its
// owner: a site the person has not trusted or allowed learns only the
// algorithms, not the labels (as Diagnosis keeps personal findings).
func (a *Agent) KeygenTokens(ctx context.Context, origin string) []keystore.KeygenToken {
	n, err := NormalizeOrigin(origin)
	known := err == nil && (a.Trusted(n) || a.cfg.Decisions.Allowed(n))
	out := []keystore.KeygenToken{}
	for _, s := range a.cfg.Stores {
		r, ok := s.(keystore.KeygenReporter)
		if !ok {
			continue
		}
		for _, t := range r.KeygenTokens(ctx) {
			if !known {
				t.Token = ""
			}
			out = append(out, t)
		}
	}
	return out
}
