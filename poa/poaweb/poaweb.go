// Package poaweb is «Доверенность»: the pages and the API with which the
// head of an organisation, logged in by certificate, issues a
// machine-readable power of attorney (package poa) and signs it with
// podpis. Any server mounts it under a path of its own,
//
//	h, err := poaweb.New(poaweb.Config{Verifier: v, Identity: sessionIdentity})
//	mux.Handle("/poa/", http.StripPrefix("/poa", h))
//
// and supplies two things: its verify.Verifier (the roots it trusts) and
// a way to tell whose session a request is (Config.Identity). The package
// keeps no state: the server builds the XML from the session's
// certificate and the form, the page has the agent sign it detached, and
// the server checks the pair it gets back (poa.Checker) before offering
// both files for download; a signature by anyone but the head of the
// organisation in the document is refused.
package poaweb

import (
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/podpis/podpis/login"
	"github.com/podpis/podpis/poa"
	"github.com/podpis/podpis/verify"
	"github.com/podpis/podpis/webclient"
)

//go:embed static
var static embed.FS

// Config configures the handler.
type Config struct {
	// Verifier checks the signatures (chain to the site's roots,
	// revocation). Required.
	Verifier *verify.Verifier
	// Identity says whose session r is: the certificate the person
	// logged in with. Required.
	Identity func(r *http.Request) (login.Identity, bool)
	// LoginURL is where a person without a session is sent to log in;
	// "" means "/".
	LoginURL string
	// AgentPorts are the ports the page probes for the agent; nil means
	// podpis.js's default.
	AgentPorts []int
	// CAdES is the signature format the page asks the agent for: "" or
	// "bes" (CAdES-BES, what the agent makes today), "t" or "xl1"
	// (CAdES-T, CAdES-X Long Type 1: they need TSA). It is passed
	// through to the agent's sign request unchanged.
	CAdES string
	// TSA is the time-stamp server's URL for CAdES "t" and "xl1".
	TSA string
	// StatusURL is the information system that answers whether a power
	// of attorney is in force (СведСист), the GUID appended; "" means
	// the FNS registry, poa.DefaultStatusURL.
	StatusURL string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Log receives what was refused and why; nil means slog.Default().
	Log *slog.Logger
}

type handler struct {
	cfg     Config
	checker *poa.Checker
	mux     *http.ServeMux
}

// New returns the handler, to be mounted with http.StripPrefix.
func New(cfg Config) (http.Handler, error) {
	if cfg.Verifier == nil || cfg.Identity == nil {
		return nil, errors.New("poaweb: Config needs a Verifier and Identity")
	}
	switch cfg.CAdES {
	case "", "bes":
	case "t", "xl1":
		if cfg.TSA == "" {
			return nil, fmt.Errorf("poaweb: CAdES %q needs a TSA", cfg.CAdES)
		}
	default:
		return nil, fmt.Errorf("poaweb: CAdES %q: bes, t or xl1", cfg.CAdES)
	}
	if cfg.LoginURL == "" {
		cfg.LoginURL = "/"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	h := &handler{cfg: cfg, checker: &poa.Checker{Verifier: cfg.Verifier, Now: cfg.Now}, mux: http.NewServeMux()}
	pages, _ := fs.Sub(static, "static")
	files := http.FileServerFS(pages)
	h.mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		b, _ := fs.ReadFile(pages, "index.html")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(b)
	})
	h.mux.Handle("GET /app.js", files)
	h.mux.Handle("GET /style.css", files)
	// podpis.js beside the page, so that a server mounting this need not
	// serve it.
	h.mux.Handle("GET /podpis.js", http.FileServerFS(webclient.Files))
	h.mux.HandleFunc("GET /api/session", h.session)
	h.mux.HandleFunc("POST /api/build", h.build)
	h.mux.HandleFunc("POST /api/check", h.check)
	return h, nil
}

// ServeHTTP sets the page's policy: it talks to its server and to the
// agent on 127.0.0.1 only, and is not framed.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", "default-src 'self'; connect-src 'self' ws://127.0.0.1:* wss://127.0.0.1:* http://127.0.0.1:* https://127.0.0.1:*; frame-ancestors 'none'; base-uri 'none'")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Cache-Control", "no-store")
	h.mux.ServeHTTP(w, r)
}

// sessionView is what the page needs to know of the session.
type sessionView struct {
	Identity login.Identity `json:"identity"`
	// Principal is the organisation and head the certificate names;
	// nil when it names none (NotPrincipal says why).
	Principal    *poa.Organisation `json:"principal"`
	NotPrincipal string            `json:"notPrincipal,omitempty"`
	Powers       []poa.Power       `json:"powers"`
	Today        string            `json:"today"`
	Ports        []int             `json:"ports,omitempty"`
	CAdES        string            `json:"cades,omitempty"`
	TSA          string            `json:"tsa,omitempty"`
	Login        string            `json:"login"`
}

func (h *handler) session(w http.ResponseWriter, r *http.Request) {
	id, ok := h.cfg.Identity(r)
	if !ok {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"code": "NO_SESSION", "message": "Войдите по сертификату, чтобы оформить доверенность", "login": h.cfg.LoginURL})
		return
	}
	v := sessionView{Identity: id, Powers: poa.Classifier, Today: h.cfg.Now().Format(time.DateOnly), Ports: h.cfg.AgentPorts,
		CAdES: h.cfg.CAdES, TSA: h.cfg.TSA, Login: h.cfg.LoginURL}
	if org, err := poa.PrincipalOf(id, ""); err != nil {
		v.NotPrincipal = err.(*poa.Error).MessageRU()
	} else {
		v.Principal = &org
	}
	writeJSON(w, http.StatusOK, v)
}

// form is what the person fills in.
type form struct {
	KPP            string     `json:"kpp"`
	Representative poa.Person `json:"representative"`
	Powers         []string   `json:"powers"`
	Text           string     `json:"text"`
	Issued         string     `json:"issued"`
	Expires        string     `json:"expires"`
}

const maxRequest = 2 << 20

func (h *handler) build(w http.ResponseWriter, r *http.Request) {
	id, ok := h.cfg.Identity(r)
	if !ok {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"code": "NO_SESSION", "message": "Сеанс завершён: войдите снова"})
		return
	}
	var f form
	if !decode(w, r, &f) {
		return
	}
	p, err := h.document(id, f)
	if err != nil {
		h.refuse(w, r, err)
		return
	}
	doc, err := p.Marshal()
	if err != nil {
		h.refuse(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"fileName": p.FileName(), "signatureName": p.SignatureName(),
		"xml": base64.StdEncoding.EncodeToString(doc)})
}

// document makes the power of attorney: the principal from the session's
// certificate, never from the form, so a person can grant only their
// own organisation's powers.
func (h *handler) document(id login.Identity, f form) (*poa.PowerOfAttorney, error) {
	org, err := poa.PrincipalOf(id, f.KPP)
	if err != nil {
		return nil, err
	}
	today := h.cfg.Now().Format(time.DateOnly)
	issued, err := time.Parse(time.DateOnly, f.Issued)
	if err != nil {
		return nil, &poa.Error{Code: poa.CodeInvalid, Field: "issued", Reason: poa.ReasonRequired}
	}
	if f.Issued < today {
		return nil, &poa.Error{Code: poa.CodeInvalid, Field: "issued", Reason: poa.ReasonDates}
	}
	expires, err := time.Parse(time.DateOnly, f.Expires)
	if err != nil {
		return nil, &poa.Error{Code: poa.CodeInvalid, Field: "expires", Reason: poa.ReasonRequired}
	}
	rep := f.Representative
	rep.SNILS, rep.INN = poa.Digits(rep.SNILS), poa.Digits(rep.INN)
	p := &poa.PowerOfAttorney{ID: poa.NewID(), Issued: issued, Expires: expires, Principal: org, Representative: rep, Text: f.Text}
	p.Number = "МЧД-" + issued.Format("20060102") + "-" + p.ID[:8]
	if h.cfg.StatusURL != "" {
		p.StatusURL = h.cfg.StatusURL + p.ID
	}
	for _, code := range f.Powers {
		pw, ok := poa.PowerByCode(code)
		if !ok {
			return nil, &poa.Error{Code: poa.CodeInvalid, Field: "powers", Reason: poa.ReasonFormat}
		}
		p.Powers = append(p.Powers, pw)
	}
	return p, nil
}

func (h *handler) check(w http.ResponseWriter, r *http.Request) {
	id, ok := h.cfg.Identity(r)
	if !ok {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"code": "NO_SESSION", "message": "Сеанс завершён: войдите снова"})
		return
	}
	var req struct {
		XML       string `json:"xml"`
		Signature string `json:"signature"`
	}
	if !decode(w, r, &req) {
		return
	}
	doc, err1 := base64.StdEncoding.DecodeString(req.XML)
	sig, err2 := base64.StdEncoding.DecodeString(req.Signature)
	if err1 != nil || err2 != nil {
		h.refuse(w, r, verify.ErrMalformed)
		return
	}
	c, err := h.checker.Check(r.Context(), doc, sig)
	if err != nil {
		h.refuse(w, r, err)
		return
	}
	// The document is this session's organisation's: a head may not
	// have the site check a power of attorney of another's.
	if err := poa.MatchSigner(c.PowerOfAttorney, id); err != nil {
		h.refuse(w, r, err)
		return
	}
	h.cfg.Log.Info("poa signed", "id", c.ID, "innle", c.Principal.INNLE, "signer", c.Signer.Identity.Thumbprint)
	writeJSON(w, http.StatusOK, map[string]any{
		"fileName": c.FileName(), "signatureName": c.SignatureName(), "id": c.ID,
		"principal": c.Principal, "representative": c.Representative, "powers": c.Powers, "text": c.Text,
		"issued": c.Issued.Format(time.DateOnly), "expires": c.Expires.Format(time.DateOnly),
		"signer": c.Signer.Identity, "signingTime": c.Signer.SigningTime,
	})
}

// refuse answers with the stable code and the Russian message: the one
// place errors become responses. Whatever else went wrong is logged, and
// the page hears only that the service is unavailable.
func (h *handler) refuse(w http.ResponseWriter, r *http.Request, err error) {
	var pe *poa.Error
	var ve *verify.Error
	switch {
	case errors.As(err, &pe):
		h.cfg.Log.Info("poa refused", "path", r.URL.Path, "code", pe.Code, "field", pe.Field, "err", err)
		body := map[string]string{"code": string(pe.Code), "message": pe.MessageRU()}
		if pe.Field != "" {
			body["field"] = pe.Field
		}
		status := http.StatusUnprocessableEntity
		if pe.Code == poa.CodeNotPrincipal {
			status = http.StatusForbidden
		}
		writeJSON(w, status, body)
	case errors.As(err, &ve):
		h.cfg.Log.Info("poa signature refused", "code", ve.Code, "err", err)
		writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"code": string(ve.Code), "message": ve.Code.MessageRU()})
	default:
		h.cfg.Log.Error("poa", "path", r.URL.Path, "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"code": "UNAVAILABLE", "message": "Сервис временно недоступен"})
	}
}

func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxRequest)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"code": string(verify.CodeMalformed), "message": "Запрос повреждён: обновите страницу"})
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}
