package account

import (
	"context"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"html/template"
	"mime"
	"net"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/podpis/podpis/account/contact"
	"github.com/podpis/podpis/login"
)

// Handler serves the JSON API of docs/account.md under /api/account/,
// and the outbox (GET /outbox) when Config.Outbox is set. Every POST
// needs the CSRF token.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/account/state", s.handleState)
	mux.HandleFunc("GET /api/account/me", s.handleMe)
	post := func(pattern string, h http.HandlerFunc) { mux.Handle("POST "+pattern, s.guard(h)) }
	post("/api/account/register", s.codeStep(s.register))
	post("/api/account/confirm", s.loginStep(s.confirm))
	post("/api/account/resend", s.codeStep(s.resend))
	post("/api/account/login", s.loginStep(s.loginPassword))
	post("/api/account/code", s.codeStep(s.requestCode(PurposeLogin)))
	post("/api/account/code/login", s.loginStep(s.loginCode))
	post("/api/account/reset", s.codeStep(s.requestCode(PurposeReset)))
	post("/api/account/reset/confirm", s.loginStep(s.resetPassword))
	post("/api/account/logout", s.handleLogout)
	post("/api/account/sessions/logout-all", s.handleLogoutAll)
	post("/api/account/sessions/{id}/logout", s.onAccount("id", s.EndSession))
	post("/api/account/certificates/challenge", s.handleLinkChallenge)
	post("/api/account/certificates", s.handleLink)
	post("/api/account/certificates/{id}/unlink", s.onAccount("id", s.Unlink))
	post("/api/account/login/certificate/challenge", s.handleLoginChallenge)
	post("/api/account/login/certificate", s.handleLoginCertificate)
	post("/api/account/login/certificate/confirm", s.handleRenewal)
	post("/api/account/links/{provider}/unlink", s.onAccount("provider", s.UnlinkIdentity))
	if s.cfg.Outbox != nil {
		mux.HandleFunc("GET /outbox", s.handleOutboxPage)
		mux.HandleFunc("GET /api/account/outbox.css", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/css; charset=utf-8")
			w.Write(outboxCSS)
		})
		mux.HandleFunc("GET /api/account/outbox", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusOK, s.cfg.Outbox.Messages())
		})
	}
	return mux
}

// guard refuses a POST without the CSRF token, or with a body that is
// not JSON (a cross-site form cannot send application/json).
func (s *Service) guard(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.checkCSRF(r) {
			s.log.Info("account: csrf refused", "path", r.URL.Path)
			writeError(w, ErrCSRF)
			return
		}
		if r.ContentLength != 0 {
			if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
				writeError(w, ErrCSRF.with(errors.New("not application/json")))
				return
			}
		}
		h(w, r)
	})
}

func (s *Service) clientOf(r *http.Request) Client {
	if s.cfg.ClientAddress != nil {
		return Client{Address: s.cfg.ClientAddress(r), UserAgent: r.UserAgent()}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return Client{Address: host, UserAgent: r.UserAgent()}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

// errorBody is a refusal as the API writes it.
type errorBody struct {
	Code        string   `json:"code"`
	Message     string   `json:"message"`
	Field       string   `json:"field,omitempty"`
	TriesLeft   *int     `json:"triesLeft,omitempty"`
	RetryAfter  int      `json:"retryAfter,omitempty"`
	Confirm     string   `json:"confirm,omitempty"`
	Certificate *certDTO `json:"certificate,omitempty"`
}

func writeError(w http.ResponseWriter, err error) {
	var e *Error
	if !errors.As(err, &e) {
		e = ErrUnavailable.with(err)
	}
	b := errorBody{Code: e.Code, Message: e.Message, Field: e.Field, RetryAfter: e.RetryAfter, Confirm: e.Confirm}
	if e.Code == ErrWrongCode.Code {
		b.TriesLeft = &e.TriesLeft
	}
	if e.Renewed != nil {
		c := certView(*e.Renewed)
		b.Certificate = &c
	}
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	status := e.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	writeJSON(w, status, b)
}

// decode reads a JSON body of at most limit bytes into v.
func decode(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		return ErrBadRequest.with(err)
	}
	return nil
}

type certDTO struct {
	ID           string    `json:"id,omitempty"`
	Owner        string    `json:"owner"`
	SNILS        string    `json:"snils"`
	INN          string    `json:"inn"`
	INNLE        string    `json:"innle"`
	OGRN         string    `json:"ogrn"`
	Organization string    `json:"organization"`
	Issuer       string    `json:"issuer"`
	NotBefore    time.Time `json:"notBefore"`
	NotAfter     time.Time `json:"notAfter"`
	Thumbprint   string    `json:"thumbprint"`
	Linked       time.Time `json:"linked,omitzero"`
}

func certView(c Certificate) certDTO {
	snils := ""
	if c.SNILS != "" {
		snils = login.FormatSNILS(c.SNILS)
	}
	return certDTO{ID: c.ID, Owner: c.Owner, SNILS: snils, INN: c.INN, INNLE: c.INNLE, OGRN: c.OGRN, Organization: c.Organization,
		Issuer: c.Issuer, NotBefore: c.NotBefore, NotAfter: c.NotAfter, Thumbprint: c.Thumbprint, Linked: c.Linked}
}

type sessionDTO struct {
	ID        string    `json:"id"`
	Current   bool      `json:"current"`
	Created   time.Time `json:"created"`
	LastSeen  time.Time `json:"lastSeen"`
	UserAgent string    `json:"userAgent"`
	Address   string    `json:"address"`
	AMR       []string  `json:"amr"`
}

type accountDTO struct {
	ID           string       `json:"id"`
	Phone        *string      `json:"phone"`
	PhoneDisplay *string      `json:"phoneDisplay"`
	Email        *string      `json:"email"`
	Created      time.Time    `json:"created"`
	Certificates []certDTO    `json:"certificates"`
	Sessions     []sessionDTO `json:"sessions"`
	Links        []linkDTO    `json:"links"`
}

type linkDTO struct {
	Provider string    `json:"provider"`
	Name     string    `json:"name"`
	Linked   time.Time `json:"linked"`
}

// view is the Account object of the API: the account, its certificates
// and its sessions (current marked).
func (s *Service) view(ctx context.Context, a *Account, current string) (*accountDTO, error) {
	v := &accountDTO{ID: a.ID, Created: a.Created, Certificates: []certDTO{}, Sessions: []sessionDTO{}, Links: []linkDTO{}}
	for _, l := range a.Links {
		v.Links = append(v.Links, linkDTO{Provider: l.Provider, Name: l.Name, Linked: l.Linked})
	}
	if a.Phone != "" {
		p, d := a.Phone, contact.DisplayPhone(a.Phone)
		v.Phone, v.PhoneDisplay = &p, &d
	}
	if a.Email != "" {
		e := a.Email
		v.Email = &e
	}
	for _, c := range a.Certificates {
		v.Certificates = append(v.Certificates, certView(c))
	}
	ss, err := s.Sessions(ctx, a.ID, current)
	if err != nil {
		return nil, err
	}
	for _, x := range ss {
		v.Sessions = append(v.Sessions, sessionDTO{ID: x.ID, Current: x.Current, Created: x.Created, LastSeen: x.LastSeen,
			UserAgent: x.UserAgent, Address: x.Address, AMR: x.AMR})
	}
	return v, nil
}

func (s *Service) handleState(w http.ResponseWriter, r *http.Request) {
	acc, sess, err := s.Authenticate(r.Context(), r)
	if errors.Is(err, ErrNotLoggedIn) {
		pre := s.preValue(w, r)
		writeJSON(w, http.StatusOK, map[string]any{"csrf": s.csrfFor(pre), "account": nil,
			"sso": s.ssoState(pre, false), "ssoResult": s.takeFlash(w, r)})
		return
	}
	if err != nil {
		writeError(w, err)
		return
	}
	v, err := s.view(r.Context(), acc, sess.ID)
	if err != nil {
		writeError(w, err)
		return
	}
	s.preToken(w, r) // keep a pre-session cookie, for the forms after a logout
	writeJSON(w, http.StatusOK, map[string]any{"csrf": s.csrfFor(cookieValue(r, SessionCookie)), "account": v,
		"sso": s.ssoState(cookieValue(r, SessionCookie), true), "ssoResult": s.takeFlash(w, r)})
}

func (s *Service) handleMe(w http.ResponseWriter, r *http.Request) {
	acc, sess, err := s.Authenticate(r.Context(), r)
	if err != nil {
		writeError(w, err)
		return
	}
	v, err := s.view(r.Context(), acc, sess.ID)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// loggedIn opens the session of a login and answers with the account and
// the new CSRF token.
func (s *Service) loggedIn(w http.ResponseWriter, r *http.Request, acc *Account, amr []string, err error) {
	s.loggedInWith(w, r, acc, amr, "", "", err)
}

// loggedInWith is loggedIn recording the certificate that logged in
// (thumbprint) and keeping the session's public id (keepID, a step-up:
// the provider's tokens of the session stay bound to it).
func (s *Service) loggedInWith(w http.ResponseWriter, r *http.Request, acc *Account, amr []string, thumbprint, keepID string, err error) {
	if err != nil {
		writeError(w, err)
		return
	}
	ctx := r.Context()
	csrf, current, err := s.startSession(ctx, w, r, s.clientOf(r), acc, amr, thumbprint, keepID)
	if err != nil {
		writeError(w, err)
		return
	}
	v, err := s.view(ctx, acc, current)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"account": v, "csrf": csrf})
}

// codeStep is a step that sends or resends a code: it answers with the
// pending code's state.
func (s *Service) codeStep(do func(ctx context.Context, cl Client, req pendingCode) (*Pending, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req pendingCode
		if err := decode(w, r, maxBody, &req); err != nil {
			writeError(w, err)
			return
		}
		p, err := do(r.Context(), s.clientOf(r), req)
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, p)
	}
}

// loginStep is a step that ends in a login: it opens the session.
func (s *Service) loginStep(do func(ctx context.Context, cl Client, req pendingCode) (*Account, []string, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req pendingCode
		if err := decode(w, r, maxBody, &req); err != nil {
			writeError(w, err)
			return
		}
		acc, amr, err := do(r.Context(), s.clientOf(r), req)
		s.loggedIn(w, r, acc, amr, err)
	}
}

// pendingCode is the body of every step of a code or a password: a
// contact, or the pending code's id, and what the person typed.
type pendingCode struct {
	Contact
	Pending  string `json:"pending"`
	Code     string `json:"code"`
	Password string `json:"password"`
}

func (s *Service) register(ctx context.Context, cl Client, req pendingCode) (*Pending, error) {
	return s.Register(ctx, cl, req.Contact, req.Password)
}

func (s *Service) resend(ctx context.Context, cl Client, req pendingCode) (*Pending, error) {
	return s.Resend(ctx, cl, req.Pending)
}

func (s *Service) requestCode(p Purpose) func(ctx context.Context, cl Client, req pendingCode) (*Pending, error) {
	return func(ctx context.Context, cl Client, req pendingCode) (*Pending, error) {
		return s.RequestCode(ctx, cl, req.Contact, p)
	}
}

func (s *Service) confirm(ctx context.Context, cl Client, req pendingCode) (*Account, []string, error) {
	return s.Confirm(ctx, cl, req.Pending, req.Code)
}

func (s *Service) loginPassword(ctx context.Context, cl Client, req pendingCode) (*Account, []string, error) {
	return s.LoginPassword(ctx, cl, req.Contact, req.Password)
}

func (s *Service) loginCode(ctx context.Context, cl Client, req pendingCode) (*Account, []string, error) {
	return s.LoginCode(ctx, cl, req.Pending, req.Code)
}

func (s *Service) resetPassword(ctx context.Context, cl Client, req pendingCode) (*Account, []string, error) {
	return s.ResetPassword(ctx, cl, req.Pending, req.Code, req.Password)
}

func (s *Service) handleLogout(w http.ResponseWriter, r *http.Request) {
	csrf, err := s.endSession(r.Context(), w, r)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"csrf": csrf})
}

func (s *Service) handleLogoutAll(w http.ResponseWriter, r *http.Request) {
	rec, err := s.sessionOf(r.Context(), r)
	if err != nil {
		writeError(w, err)
		return
	}
	if err := s.EndAllSessions(r.Context(), rec.AccountID); err != nil {
		writeError(w, err)
		return
	}
	s.handleLogout(w, r)
}

func (s *Service) handleLinkChallenge(w http.ResponseWriter, r *http.Request) {
	rec, err := s.sessionOf(r.Context(), r)
	if err != nil {
		writeError(w, err)
		return
	}
	c, err := s.Challenge(r.Context(), s.clientOf(r), PurposeLink, rec.Hash)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

// onAccount is a POST that changes the logged-in person's account: do
// gets the account's id and the path's value named key; the answer is {}.
func (s *Service) onAccount(key string, do func(ctx context.Context, accountID, value string) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rec, err := s.sessionOf(r.Context(), r)
		if err != nil {
			writeError(w, err)
			return
		}
		if err := do(r.Context(), rec.AccountID, r.PathValue(key)); err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{})
	}
}

// readCMS reads {"cms":"<base64 DER>", "step_up": bool}.
func readCMS(w http.ResponseWriter, r *http.Request) (der []byte, stepUp bool, err error) {
	var req struct {
		CMS    string `json:"cms"`
		StepUp bool   `json:"step_up"`
	}
	if err := decode(w, r, maxCMSBody, &req); err != nil {
		return nil, false, err
	}
	der, err = base64.StdEncoding.DecodeString(req.CMS)
	if err != nil || len(der) == 0 {
		return nil, false, ErrBadRequest.with(errors.New("cms is not base64"))
	}
	return der, req.StepUp, nil
}

func (s *Service) handleLink(w http.ResponseWriter, r *http.Request) {
	rec, err := s.sessionOf(r.Context(), r)
	if err != nil {
		writeError(w, err)
		return
	}
	der, _, err := readCMS(w, r)
	if err != nil {
		writeError(w, err)
		return
	}
	c, err := s.Link(r.Context(), s.clientOf(r), rec.AccountID, rec.Hash, der)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"certificate": certView(*c)})
}

func (s *Service) handleLoginChallenge(w http.ResponseWriter, r *http.Request) {
	c, err := s.Challenge(r.Context(), s.clientOf(r), PurposeLogin, "")
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

// handleLoginCertificate logs in by certificate; with "step_up": true,
// inside the current session, with a certificate linked to its account
// (StepUp): the session gains "hwk" and the certificate, keeping its id.
func (s *Service) handleLoginCertificate(w http.ResponseWriter, r *http.Request) {
	der, stepUp, err := readCMS(w, r)
	if err != nil {
		writeError(w, err)
		return
	}
	ctx := r.Context()
	if stepUp {
		rec, err := s.sessionOf(ctx, r)
		if err != nil {
			writeError(w, err)
			return
		}
		thumb, err := s.StepUp(ctx, s.clientOf(r), rec.AccountID, der)
		if err != nil {
			writeError(w, err)
			return
		}
		acc, err := s.Account(ctx, rec.AccountID)
		if err != nil {
			err = ErrUnavailable.with(err)
		}
		amr := slices.Clone(rec.AMR)
		if !slices.Contains(amr, "hwk") {
			amr = append(amr, "hwk")
		}
		s.loggedInWith(w, r, acc, amr, thumb, rec.ID, err)
		return
	}
	acc, id, err := s.loginCertificate(ctx, s.clientOf(r), browser(r), der)
	s.loggedInWith(w, r, acc, []string{"hwk"}, id.Thumbprint, "", err)
}

func (s *Service) handleRenewal(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Confirm string `json:"confirm"`
	}
	if err := decode(w, r, maxBody, &req); err != nil {
		writeError(w, err)
		return
	}
	acc, thumb, err := s.confirmRenewal(r.Context(), s.clientOf(r), browser(r), req.Confirm)
	s.loggedInWith(w, r, acc, []string{"hwk"}, thumb, "", err)
}

//go:embed static/outbox.css
var outboxCSS []byte

// outboxPage refreshes itself every 5 s: a demo watches codes arrive.
var outboxPage = template.Must(template.New("outbox").Funcs(template.FuncMap{"phone": contact.DisplayPhone}).Parse(`<!doctype html>
<html lang="ru"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="5">
<title>Исходящие сообщения — podpis</title><link rel="stylesheet" href="/api/account/outbox.css"></head>
<body>
<header><div><span class="brand">podpis <span>· демо</span></span><a href="/">← Ко входу</a></div></header>
<main>
<h1>Исходящие сообщения</h1>
<p class="lead">SMS и письма с кодами, которые сервис отправил бы. В рабочей системе они уходят через SMS-шлюз и почтовый сервер. Новые сверху; страница обновляется сама.</p>
{{if .}}<ol>{{range .}}
<li><div class="body">
<p class="meta"><span class="badge {{.Channel}}">{{if eq .Channel "sms"}}SMS{{else}}Email{{end}}</span>
<span class="to">{{if eq .Channel "sms"}}{{phone .To}}{{else}}{{.To}}{{end}}</span>
<time datetime="{{.Sent.Format "2006-01-02T15:04:05Z07:00"}}">{{.Sent.Local.Format "15:04:05"}}</time></p>
{{if and .Subject (ne .Channel "sms")}}<p class="subject">{{.Subject}}</p>{{end}}
<p class="text">{{.Text}}</p></div>
{{if .Code}}<p class="code" aria-label="Код {{.Code}}">{{.Code}}</p>{{end}}
</li>{{end}}
</ol>{{else}}<p class="empty">Сообщений пока нет. Зарегистрируйтесь или запросите код — он появится здесь.</p>{{end}}
</main></body></html>
`))

func (s *Service) handleOutboxPage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	outboxPage.Execute(w, s.cfg.Outbox.Messages())
}
