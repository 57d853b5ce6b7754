package account

import (
	"context"
	"crypto/hmac"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/podpis/podpis/sso"
	"github.com/podpis/podpis/sso/ssoweb"
	"github.com/podpis/podpis/sso/telegram"
)

// The outside ways in (issue 27): an identity at Госуслуги (ESIA) or
// Telegram, checked by sso/esia or sso/telegram through sso/ssoweb, is
// linked to an account while logged in, and then logs into that account
// alone. Its key is (provider, subject): ESIA's oid or Telegram's user
// ID, never a name, which changes and is not unique.

// Link is an outside identity linked to an account.
type Link struct {
	Provider string // sso.ESIA or sso.Telegram
	Name     string // as the provider gave it when linked
	Linked   time.Time
}

// providerText names a provider in messages: the thing linked (its
// grammatical gender differs) and the phrase for «not linked».
var providerText = map[string]struct{ what, notLinked, linked, unlinked, loggedIn string }{
	sso.ESIA: {"учётная запись Госуслуг", "Учётная запись Госуслуг не привязана к Личному кабинету",
		"Госуслуги привязаны: теперь можно входить через Госуслуги.", "Госуслуги отвязаны.", "Вы вошли через Госуслуги."},
	sso.Telegram: {"Telegram", "Telegram не привязан к Личному кабинету",
		"Telegram привязан: теперь можно входить через Telegram.", "Telegram отвязан.", "Вы вошли через Telegram."},
}

// The refusals of the outside ways (docs/account.md).
var (
	ErrSSONotLinked       = def("SSO_NOT_LINKED", http.StatusForbidden, "")
	ErrSSOLinkedElsewhere = def("SSO_LINKED_ELSEWHERE", http.StatusConflict, "")
	ErrSSOProviderLinked  = def("SSO_PROVIDER_LINKED", http.StatusConflict, "")
	ErrSSOLastWay         = def("SSO_LAST_WAY", http.StatusConflict, "Это единственный способ входа в учётную запись: без него в неё не войти. Сначала привяжите сертификат или другой способ входа.")
)

// ssoError fills the provider into one of the refusals above.
func ssoError(e *Error, provider string) *Error {
	t := providerText[provider]
	var msg string
	switch e.Code {
	case ErrSSONotLinked.Code:
		how := "Госуслуги"
		if provider == sso.Telegram {
			how = "Telegram"
		}
		msg = t.notLinked + ". Войдите по телефону или email и привяжите " + how + " в Личном кабинете: раздел «Госуслуги и Telegram», кнопка «Привязать»."
	case ErrSSOLinkedElsewhere.Code:
		msg = "Эта " + t.what + " уже привязана к другой учётной записи Личного кабинета. Войдите в ту учётную запись и отвяжите её там, затем привяжите здесь."
		if provider == sso.Telegram {
			msg = "Этот Telegram уже привязан к другой учётной записи Личного кабинета. Войдите в ту учётную запись и отвяжите его там, затем привяжите здесь."
		}
	case ErrSSOProviderLinked.Code:
		msg = "К Личному кабинету уже привязана другая " + t.what + ". Сначала отвяжите её."
		if provider == sso.Telegram {
			msg = "К Личному кабинету уже привязан другой Telegram. Сначала отвяжите его."
		}
	default:
		msg = e.Message
	}
	return e.with(nil, func(c *Error) { c.Message = msg })
}

func knownProvider(p string) bool { _, ok := providerText[p]; return ok }

func linkOf(r LinkRecord) Link { return Link{Provider: r.Provider, Name: r.Name, Linked: r.Linked} }

// LinkIdentity links id to the account. Linking the identity the account
// already has is no change; one linked to another account is refused
// (SSO_LINKED_ELSEWHERE), and so is a second identity of a provider the
// account has one of (SSO_PROVIDER_LINKED).
func (s *Service) LinkIdentity(ctx context.Context, accountID string, id sso.Identity) (*Link, error) {
	if !knownProvider(id.Provider) || id.Subject == "" {
		return nil, ErrBadRequest.with(errors.New("unknown provider or empty subject"))
	}
	owner := func() (LinkRecord, error) {
		l, err := s.cfg.Store.LinkByIdentity(ctx, id.Provider, id.Subject)
		if err == nil && l.AccountID != accountID {
			s.log.Info("account: sso link refused: linked elsewhere", "provider", id.Provider, "account", accountID)
			return l, ssoError(ErrSSOLinkedElsewhere, id.Provider)
		}
		return l, err
	}
	if l, err := owner(); err == nil {
		out := linkOf(l)
		return &out, nil
	} else if !errors.Is(err, ErrNoRecord) {
		return nil, asUnavailable(err)
	}
	rec := LinkRecord{Provider: id.Provider, Subject: id.Subject, AccountID: accountID, Name: id.Name, Linked: s.now()}
	if err := s.cfg.Store.AddLink(ctx, rec); errors.Is(err, ErrDuplicate) {
		// Another request linked it meanwhile, or the account has an
		// identity of this provider: say which.
		if _, err := owner(); err != nil && !errors.Is(err, ErrNoRecord) {
			return nil, asUnavailable(err)
		}
		return nil, ssoError(ErrSSOProviderLinked, id.Provider)
	} else if err != nil {
		return nil, ErrUnavailable.with(err)
	}
	s.log.Info("account: sso linked", "provider", id.Provider, "account", accountID)
	out := linkOf(rec)
	return &out, nil
}

// asUnavailable keeps an *Error, and makes anything else UNAVAILABLE.
func asUnavailable(err error) error {
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return ErrUnavailable.with(err)
}

// LoginIdentity returns the account id is linked to, with the session's
// amr (["esia"] or ["telegram"], the values the OIDC provider reports).
// An identity linked to no account is refused with how to link it
// (SSO_NOT_LINKED), or with Config.SSORegister gets a new account of its
// own.
func (s *Service) LoginIdentity(ctx context.Context, id sso.Identity) (*Account, []string, error) {
	if !knownProvider(id.Provider) || id.Subject == "" {
		return nil, nil, ErrBadRequest.with(errors.New("unknown provider or empty subject"))
	}
	amr := []string{id.Provider}
	l, err := s.cfg.Store.LinkByIdentity(ctx, id.Provider, id.Subject)
	if errors.Is(err, ErrNoRecord) {
		if !s.cfg.SSORegister {
			s.log.Info("account: sso login refused: not linked", "provider", id.Provider)
			return nil, nil, ssoError(ErrSSONotLinked, id.Provider)
		}
		acc, err := s.registerIdentity(ctx, id)
		return acc, amr, err
	} else if err != nil {
		return nil, nil, ErrUnavailable.with(err)
	}
	acc, err := s.Account(ctx, l.AccountID)
	if err != nil {
		return nil, nil, ErrUnavailable.with(err)
	}
	return acc, amr, nil
}

// registerIdentity makes an account whose only way in is id: no phone,
// no e-mail, no password (an empty hash, which no password verifies).
func (s *Service) registerIdentity(ctx context.Context, id sso.Identity) (*Account, error) {
	now := s.now()
	rec := AccountRecord{ID: randomID(), Created: now}
	if err := s.cfg.Store.CreateAccount(ctx, rec); err != nil {
		return nil, ErrUnavailable.with(err)
	}
	link := LinkRecord{Provider: id.Provider, Subject: id.Subject, AccountID: rec.ID, Name: id.Name, Linked: now}
	if err := s.cfg.Store.AddLink(ctx, link); errors.Is(err, ErrDuplicate) {
		// The same person registered in another tab a moment ago: that
		// account is theirs. (The empty one stays unreachable.)
		l, err := s.cfg.Store.LinkByIdentity(ctx, id.Provider, id.Subject)
		if err != nil {
			return nil, ErrUnavailable.with(err)
		}
		rec.ID = l.AccountID
	} else if err != nil {
		return nil, ErrUnavailable.with(err)
	} else {
		s.log.Info("account: registered by sso", "provider", id.Provider, "account", rec.ID)
	}
	acc, err := s.Account(ctx, rec.ID)
	if err != nil {
		return nil, ErrUnavailable.with(err)
	}
	return acc, nil
}

// UnlinkIdentity ends the account's link of provider. The last way into
// an account that has no phone, e-mail or certificate (one registered
// through the provider) is kept: without it nobody could log in.
func (s *Service) UnlinkIdentity(ctx context.Context, accountID, provider string) error {
	if !knownProvider(provider) {
		return ErrNotFound
	}
	acc, err := s.Account(ctx, accountID)
	if err != nil {
		return ErrUnavailable.with(err)
	}
	if acc.Phone == "" && acc.Email == "" && len(acc.Certificates) == 0 && len(acc.Links) == 1 && acc.Links[0].Provider == provider {
		return ErrSSOLastWay
	}
	if err := s.cfg.Store.DeleteLink(ctx, accountID, provider); errors.Is(err, ErrNoRecord) {
		return ErrNotFound
	} else if err != nil {
		return ErrUnavailable.with(err)
	}
	s.log.Info("account: sso unlinked", "provider", provider, "account", accountID)
	return nil
}

// BrowserToken is the CSRF token of r's browser, for sso/ssoweb: the
// live session's, else the pre-session's; "" without either. ssoweb puts
// it in every start and widget URL and takes only requests carrying it,
// so another site cannot start a link or a login in this browser.
func (s *Service) BrowserToken(r *http.Request) string {
	if v := cookieValue(r, SessionCookie); v != "" {
		if _, err := s.sessionOf(r.Context(), r); err == nil {
			return s.csrfFor(v)
		}
	}
	if v := cookieValue(r, preCookie); v != "" {
		return s.csrfFor(v)
	}
	return ""
}

// SSO makes the sso/ssoweb handler for the service, to mount at
// cfg.BaseURL's path (default Origin + "/sso"; ESIA's redirect URI is
// then Origin + "/sso/esia/callback"). It fills in BrowserToken, Done,
// Insecure (as the service's cookies) and CookieKey (from the service
// key, when nil), and the login page's state then offers the providers.
func (s *Service) SSO(cfg ssoweb.Config) (*ssoweb.Handler, error) {
	if cfg.BaseURL == "" {
		cfg.BaseURL = s.cfg.Origin + "/sso"
	}
	cfg.BrowserToken = s.BrowserToken
	cfg.Done = s.ssoDone
	cfg.Insecure = !s.secure
	if cfg.CookieKey == nil {
		cfg.CookieKey = []byte(s.mac("podpis-account-sso-cookie"))
	}
	h, err := ssoweb.New(cfg)
	if err != nil {
		return nil, err
	}
	s.sso, s.ssoCfg = h, cfg
	return h, nil
}

// ssoOutcome is what the page is told after an outside login or link,
// carried by the flash cookie to the next GET /api/account/state.
type ssoOutcome struct {
	OK       bool   `json:"ok"`
	Purpose  string `json:"purpose"`
	Provider string `json:"provider,omitempty"`
	Code     string `json:"code,omitempty"`
	Message  string `json:"message"`
}

const flashCookie = "podpis_sso"

// ssoDone logs in or links, then sends the browser back to the page with
// the outcome in a flash cookie: the page's URL carries no message
// another site could write.
func (s *Service) ssoDone(w http.ResponseWriter, r *http.Request, res ssoweb.Result) {
	ctx := r.Context()
	out := ssoOutcome{Purpose: res.Purpose, Provider: res.Identity.Provider}
	if out.Provider == "" {
		// A refusal carries no identity: the route says whose it is.
		out.Provider = sso.ESIA
		if strings.Contains(r.URL.Path, "/telegram/") {
			out.Provider = sso.Telegram
		}
	}
	var err error
	switch {
	case res.Err != nil:
		out.Code, out.Message = res.Code, res.Message
		s.log.Info("account: sso refused", "purpose", res.Purpose, "code", res.Code, "err", res.Err)
	case res.Purpose == ssoweb.Link:
		var rec SessionRecord
		if rec, err = s.sessionOf(ctx, r); err == nil {
			_, err = s.LinkIdentity(ctx, rec.AccountID, res.Identity)
		}
		if err == nil {
			out.OK, out.Message = true, providerText[res.Identity.Provider].linked
		}
	default:
		var acc *Account
		var amr []string
		if acc, amr, err = s.LoginIdentity(ctx, res.Identity); err == nil {
			_, _, err = s.startSession(ctx, w, r, s.clientOf(r), acc, amr, "", "")
		}
		if err == nil {
			out.OK, out.Message = true, providerText[res.Identity.Provider].loggedIn
		}
	}
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			e = ErrUnavailable.with(err)
		}
		out.Code, out.Message = e.Code, e.Message
	}
	body, _ := json.Marshal(out)
	b64 := base64.RawURLEncoding.EncodeToString(body)
	http.SetCookie(w, s.cookie(flashCookie, b64+"."+s.mac("podpis-account-sso-flash", b64), 300))
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// takeFlash returns the outcome of r's flash cookie (nil without a valid
// one) and clears it: it is told once.
func (s *Service) takeFlash(w http.ResponseWriter, r *http.Request) *ssoOutcome {
	c, err := r.Cookie(flashCookie)
	if err != nil {
		return nil
	}
	http.SetCookie(w, s.cookie(flashCookie, "", -1))
	b64, mac, ok := strings.Cut(c.Value, ".")
	if !ok || !hmac.Equal([]byte(mac), []byte(s.mac("podpis-account-sso-flash", b64))) {
		return nil
	}
	body, err := base64.RawURLEncoding.DecodeString(b64)
	var out ssoOutcome
	if err != nil || json.Unmarshal(body, &out) != nil {
		return nil
	}
	return &out
}

// ssoWay is one provider's offer in the state: the URLs of its buttons
// (the widget's data-auth-url for Telegram), bound to this browser.
type ssoWay struct {
	Login  string `json:"login"`
	Link   string `json:"link,omitempty"`
	Bot    string `json:"bot,omitempty"`
	Script string `json:"script,omitempty"`
}

// ssoState is the state's "sso": the providers on offer for the browser
// whose CSRF cookie is cookie (set by this very response, perhaps), and
// the outcome of the last outside login.
func (s *Service) ssoState(cookie string, loggedIn bool) map[string]*ssoWay {
	if s.sso == nil {
		return nil
	}
	// The URLs carry the token of the cookie this response leaves the
	// browser with, which the request may not carry yet.
	tok := ""
	if cookie != "" {
		tok = s.csrfFor(cookie)
	}
	out := map[string]*ssoWay{}
	if u := s.sso.ESIAStartURLFor(tok, ssoweb.Login); u != "" {
		w := &ssoWay{Login: u}
		if loggedIn {
			w.Link = s.sso.ESIAStartURLFor(tok, ssoweb.Link)
		}
		out[sso.ESIA] = w
	}
	if u := s.sso.TelegramAuthURLFor(tok, ssoweb.Login); u != "" {
		script := s.ssoCfg.TelegramScript
		if script == "" {
			script = telegram.DefaultScriptURL
		}
		w := &ssoWay{Login: u, Bot: s.ssoCfg.TelegramBot, Script: script}
		if loggedIn {
			w.Link = s.sso.TelegramAuthURLFor(tok, ssoweb.Link)
		}
		out[sso.Telegram] = w
	}
	return out
}
