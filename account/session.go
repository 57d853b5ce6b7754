package account

import (
	"context"
	"crypto/hmac"
	"errors"
	"net/http"
	"slices"
)

// The cookies: the session, and the pre-session cookie that carries the
// CSRF binding of a browser not logged in.
const (
	SessionCookie = "podpis_session"
	preCookie     = "podpis_pre"
	csrfHeader    = "X-CSRF-Token"
)

func (s *Service) cookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode}
}

func cookieValue(r *http.Request, name string) string {
	if c, err := r.Cookie(name); err == nil && len(c.Value) == 64 {
		return c.Value
	}
	return ""
}

// Authenticate returns the account and session of r's session cookie, or
// ErrNotLoggedIn. The session's last use is updated at most once a
// minute.
func (s *Service) Authenticate(ctx context.Context, r *http.Request) (*Account, *Session, error) {
	rec, err := s.sessionOf(ctx, r)
	if err != nil {
		return nil, nil, err
	}
	acc, err := s.Account(ctx, rec.AccountID)
	if errors.Is(err, ErrNoRecord) {
		return nil, nil, ErrNotLoggedIn
	} else if err != nil {
		return nil, nil, ErrUnavailable.with(err)
	}
	sess := sessionOf(rec)
	sess.Current = true
	return acc, &sess, nil
}

func (s *Service) sessionOf(ctx context.Context, r *http.Request) (SessionRecord, error) {
	v := cookieValue(r, SessionCookie)
	if v == "" {
		return SessionRecord{}, ErrNotLoggedIn
	}
	rec, err := s.cfg.Store.SessionByHash(ctx, hash(v))
	if errors.Is(err, ErrNoRecord) {
		return rec, ErrNotLoggedIn
	} else if err != nil {
		return rec, ErrUnavailable.with(err)
	}
	now := s.now()
	if now.Sub(rec.LastSeen) > sessionIdle || now.Sub(rec.Created) > sessionMax {
		s.cfg.Store.DeleteSession(ctx, rec.Hash)
		return rec, ErrNotLoggedIn
	}
	if now.Sub(rec.LastSeen) > touchEvery {
		s.cfg.Store.TouchSession(ctx, rec.Hash, now)
		rec.LastSeen = now
	}
	return rec, nil
}

func sessionOf(r SessionRecord) Session {
	return Session{ID: r.ID, AccountID: r.AccountID, AMR: slices.Clone(r.AMR), Created: r.Created, LastSeen: r.LastSeen,
		UserAgent: r.UserAgent, Address: r.Address, Thumbprint: r.Thumbprint}
}

// startSession opens a session for acc in a new cookie, ending the one r
// had (rotation: a session id known before the login is worthless
// after), and returns the CSRF token bound to the new cookie and the
// session's public id.
func (s *Service) startSession(ctx context.Context, w http.ResponseWriter, r *http.Request, cl Client, acc *Account, amr []string, thumbprint, keepID string) (csrf, id string, err error) {
	if old := cookieValue(r, SessionCookie); old != "" {
		if err := s.cfg.Store.DeleteSession(ctx, hash(old)); err != nil {
			return "", "", ErrUnavailable.with(err)
		}
	}
	v := secret()
	now := s.now()
	ua := r.UserAgent()
	if len(ua) > 300 {
		ua = ua[:300]
	}
	sid := keepID
	if sid == "" {
		sid = randomID()
	}
	rec := SessionRecord{Hash: hash(v), ID: sid, AccountID: acc.ID, AMR: amr, Created: now, LastSeen: now, UserAgent: ua, Address: cl.Address,
		Thumbprint: thumbprint}
	if err := s.cfg.Store.CreateSession(ctx, rec); err != nil {
		return "", "", ErrUnavailable.with(err)
	}
	http.SetCookie(w, s.cookie(SessionCookie, v, int(sessionMax.Seconds())))
	s.log.Info("account: login", "account", acc.ID, "amr", amr)
	return s.csrfFor(v), rec.ID, nil
}

// endSession ends r's session and returns the CSRF token of the
// pre-session cookie, made if missing.
func (s *Service) endSession(ctx context.Context, w http.ResponseWriter, r *http.Request) (string, error) {
	if v := cookieValue(r, SessionCookie); v != "" {
		rec, known := s.cfg.Store.SessionByHash(ctx, hash(v))
		if err := s.cfg.Store.DeleteSession(ctx, hash(v)); err != nil {
			return "", ErrUnavailable.with(err)
		}
		if known == nil {
			s.ended(ctx, rec.AccountID, rec.ID)
		}
	}
	http.SetCookie(w, s.cookie(SessionCookie, "", -1))
	return s.preToken(w, r), nil
}

// preToken returns the CSRF token of r's pre-session cookie, setting a
// new cookie when r has none.
func (s *Service) preToken(w http.ResponseWriter, r *http.Request) string {
	return s.csrfFor(s.preValue(w, r))
}

// preValue returns r's pre-session cookie, setting a new one when r has
// none.
func (s *Service) preValue(w http.ResponseWriter, r *http.Request) string {
	v := cookieValue(r, preCookie)
	if v == "" {
		v = secret()
		http.SetCookie(w, s.cookie(preCookie, v, int(sessionMax.Seconds())))
	}
	return v
}

func (s *Service) csrfFor(cookie string) string {
	return s.mac("podpis-account-csrf", cookie)
}

// checkCSRF accepts r when its X-CSRF-Token is the token of the session
// or pre-session cookie it carries: a page of another site can send the
// cookies but cannot read the token.
func (s *Service) checkCSRF(r *http.Request) bool {
	tok := r.Header.Get(csrfHeader)
	if tok == "" {
		return false
	}
	for _, name := range []string{SessionCookie, preCookie} {
		if v := cookieValue(r, name); v != "" && hmac.Equal([]byte(tok), []byte(s.csrfFor(v))) {
			return true
		}
	}
	return false
}

// browser is the hash of the cookie that identifies r's browser, for
// binding a renewal confirmation to the browser that asked.
func browser(r *http.Request) string {
	if v := cookieValue(r, preCookie); v != "" {
		return hash("pre" + v)
	}
	if v := cookieValue(r, SessionCookie); v != "" {
		return hash("session" + v)
	}
	return ""
}

// Sessions lists the account's sessions, marking current (a session's
// public id).
func (s *Service) Sessions(ctx context.Context, accountID, current string) ([]Session, error) {
	recs, err := s.cfg.Store.Sessions(ctx, accountID)
	if err != nil {
		return nil, ErrUnavailable.with(err)
	}
	out := make([]Session, 0, len(recs))
	for _, r := range recs {
		ss := sessionOf(r)
		ss.Current = r.ID == current
		out = append(out, ss)
	}
	return out, nil
}

// EndSession ends one of the account's sessions by its public id.
func (s *Service) EndSession(ctx context.Context, accountID, id string) error {
	if err := s.cfg.Store.DeleteSessionByID(ctx, accountID, id); errors.Is(err, ErrNoRecord) {
		return ErrNotFound
	} else if err != nil {
		return ErrUnavailable.with(err)
	}
	s.ended(ctx, accountID, id)
	return nil
}

// EndAllSessions ends every session of the account.
func (s *Service) EndAllSessions(ctx context.Context, accountID string) error {
	if err := s.cfg.Store.DeleteSessions(ctx, accountID); err != nil {
		return ErrUnavailable.with(err)
	}
	s.ended(ctx, accountID, "")
	return nil
}

// ended tells Config.SessionsEnded, if set.
func (s *Service) ended(ctx context.Context, accountID, sessionID string) {
	if s.cfg.SessionsEnded != nil {
		s.cfg.SessionsEnded(ctx, accountID, sessionID)
	}
}
