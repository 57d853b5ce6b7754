package main

// The demo as an OpenID Connect provider (package idp) at origin+/oidc:
// other services log people in through it with the account service's
// logins. Its login page is /oidc-login?request=ID: a person with an
// account session is answered at once (single sign-on); anyone else goes
// to the account screens with ?oidc=ID, logs in (password, code or
// certificate) and comes back. A service asking for a certificate
// (acr_values) inside a password session gets the screens' step-up: a
// certificate linked to that account (account.Service.StepUp).

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/podpis/podpis/account"
	"github.com/podpis/podpis/idp"
	_ "modernc.org/sqlite" // "sqlite"
)

// Files of the provider beside the demo's data.
const (
	idpKeyFile = "idp.key" // the key encryption key of the signing keys
	idpDBFile  = "idp.db"
)

// startOIDC makes the provider: its tables in dataDir/idp.db, its key
// encryption key in dataDir/idp.key (made on first use), its clients from
// clientsPath (a JSON list of idp.Client; none if empty).
func (d *demo) startOIDC(ctx context.Context, dataDir, clientsPath string) error {
	key, err := readOrMakeKey(filepath.Join(dataDir, idpKeyFile))
	if err != nil {
		return err
	}
	var clients []idp.Client
	if clientsPath != "" {
		b, err := os.ReadFile(clientsPath)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(b, &clients); err != nil {
			return fmt.Errorf("%s: %w", clientsPath, err)
		}
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dataDir, idpDBFile)+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)")
	if err != nil {
		return err
	}
	d.clients = clients
	d.idp, err = idp.New(ctx, idp.Config{
		Issuer:           d.origin + "/oidc",
		LoginURL:         d.origin + "/oidc-login",
		DB:               db,
		Dialect:          idp.SQLite,
		KeyEncryptionKey: key,
		Clients:          clients,
		Sessions:         demoSessions{d},
		// The demo's origin may be http on 127.0.0.1 (make run).
		AllowInsecure: strings.HasPrefix(d.origin, "http://"),
	})
	if err != nil {
		db.Close()
		return err
	}
	go func() {
		for range time.Tick(time.Hour) {
			if err := d.idp.Prune(ctx); err != nil {
				d.log.Warn("oidc prune", "err", err)
			}
		}
	}()
	return nil
}

// readOrMakeKey reads a 32-byte key, or makes one readable by this user
// only.
func readOrMakeKey(path string) ([]byte, error) {
	key, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		key = make([]byte, 32)
		rand.Read(key)
		if err := os.WriteFile(path, key, 0o600); err != nil {
			return nil, err
		}
		return key, nil
	}
	if err != nil {
		return nil, err
	}
	if len(key) != 32 {
		return nil, fmt.Errorf("%s: want 32 bytes, have %d", path, len(key))
	}
	return key, nil
}

// demoSessions ends the account service's sessions for the provider
// (the subject is an account id, the sid a session's public id).
type demoSessions struct{ d *demo }

func (s demoSessions) End(ctx context.Context, subject, sid string) error {
	if err := s.d.account.EndSession(ctx, subject, sid); err != nil && !errors.Is(err, account.ErrNotFound) {
		return err
	}
	return nil
}

func (s demoSessions) EndAll(ctx context.Context, subject string) error {
	return s.d.account.EndAllSessions(ctx, subject)
}

// accountSubject is the person of an account session.
func accountSubject(acc *account.Account, sess *account.Session) idp.Subject {
	// The account's phone and e-mail were each confirmed by a code.
	c := idp.Claims{Phone: acc.Phone, PhoneVerified: acc.Phone != "", Email: acc.Email, EmailVerified: acc.Email != ""}
	// The account has no name of its own: its certificates' owner, when
	// they all name one person (an account with certificates of several
	// people names nobody until a certificate login says who).
	for i, crt := range acc.Certificates {
		if i == 0 {
			c.Name = crt.Owner
		} else if crt.Owner != c.Name {
			c.Name = ""
			break
		}
	}
	// The session records the linked certificate it logged in (or
	// stepped up) with; its claims are that certificate's.
	if crt, ok := sessionCertificate(acc, sess); ok {
		c.Name = crt.Owner
		c.Certificate = &idp.Certificate{SNILS: crt.SNILS, INN: crt.INN, INNLE: crt.INNLE, OGRN: crt.OGRN,
			Organization: crt.Organization, Title: crt.Title, Thumbprint: crt.Thumbprint}
	}
	return idp.Subject{ID: acc.ID, SessionID: sess.ID, AMR: sess.AMR, AuthTime: sess.Created, Claims: c}
}

// sessionCertificate is the linked certificate sess logged in with: none
// for a login without one, or when it has been unlinked since.
func sessionCertificate(acc *account.Account, sess *account.Session) (account.Certificate, bool) {
	if sess.Thumbprint == "" || !slices.Contains(sess.AMR, idp.AMRCertificate) {
		return account.Certificate{}, false
	}
	i := slices.IndexFunc(acc.Certificates, func(c account.Certificate) bool { return c.Thumbprint == sess.Thumbprint })
	if i < 0 {
		return account.Certificate{}, false
	}
	return acc.Certificates[i], true
}

// sessionsEnded is the account service's Config.SessionsEnded: a logout,
// a session ended from the list or «Выйти на всех устройствах» also
// ends the provider's tokens of those sessions.
func (d *demo) sessionsEnded(ctx context.Context, accountID, sessionID string) {
	if d.idp == nil {
		return
	}
	if err := d.idp.EndSession(ctx, accountID, sessionID); err != nil {
		d.log.Error("oidc: ending the provider's tokens", "err", err)
	}
}

// oidcLogin is the provider's login page: the account session answers
// it; without one (or when the service wants a fresh login, or a
// certificate the session has not shown) the account screens ask.
func (d *demo) oidcLogin(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.FormValue("request")
	if _, err := d.idp.Request(ctx, id); err != nil {
		d.log.Info("oidc login", "err", err)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintln(w, "Запрос входа не найден или устарел. Вернитесь в сервис и войдите снова.")
		return
	}
	acc, sess, err := d.account.Authenticate(ctx, r)
	if err != nil {
		// The account screens log in and come back here.
		http.Redirect(w, r, "/?oidc="+url.QueryEscape(id), http.StatusSeeOther)
		return
	}
	d.complete(w, r, id, accountSubject(acc, sess))
}

// complete answers the request with the person logged in, or sends the
// browser to the login page when that login is not enough.
func (d *demo) complete(w http.ResponseWriter, r *http.Request, id string, s idp.Subject) {
	to, err := d.idp.Complete(r.Context(), id, s)
	if errors.Is(err, idp.ErrReauthenticate) || errors.Is(err, idp.ErrStepUp) {
		// prompt=login or max_age: log in again; acr_values certificate
		// after a password: log in by certificate. The page asks.
		http.Redirect(w, r, "/?oidc="+url.QueryEscape(id), http.StatusSeeOther)
		return
	}
	if err != nil {
		d.log.Info("oidc complete", "err", err)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintln(w, "Запрос входа не найден или устарел. Вернитесь в сервис и войдите снова.")
		return
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// oidcRequest tells the demo's page which service the person is logging
// in to: GET /api/oidc/request?request=ID.
func (d *demo) oidcRequest(w http.ResponseWriter, r *http.Request) {
	lr, err := d.idp.Request(r.Context(), r.FormValue("request"))
	if err != nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"code": "NO_REQUEST",
			"message": "Запрос входа не найден или устарел. Вернитесь в сервис и войдите снова."})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"client": lr.ClientName, "certificate": lr.Certificate})
}

// oidcLogoutAll is «Выйти на всех устройствах» of a service:
// GET /oidc-logout-all?id_token_hint=…&post_logout_redirect_uri=…&state=…
// as RP-initiated logout, but it ends every session of the person — the
// account's and every client's tokens (idp.Provider.EndEverywhere, which
// ends the account's sessions through demoSessions). The ID token must be
// one this provider signed (an expired one will do: the person may log
// out long after logging in); it names the person and the client, whose
// registered post-logout URI the browser goes back to. Without a valid
// hint nothing ends: another site cannot log people out by a link.
func (d *demo) oidcLogoutAll(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	refuse := func(err error) {
		d.log.Info("oidc logout-all refused", "err", err)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintln(w, "Запрос выхода не понят. Выйдите в Личном кабинете: «Выйти на всех устройствах».")
	}
	// The keys straight from the provider's handler: no request to
	// ourselves over the network.
	keysCtx := oidc.ClientContext(context.WithoutCancel(ctx), &http.Client{Transport: handlerTransport{d.idp.Handler()}})
	keys := oidc.NewRemoteKeySet(keysCtx, d.idp.Issuer()+"/keys")
	tok, err := oidc.NewVerifier(d.idp.Issuer(), keys, &oidc.Config{SkipClientIDCheck: true, SkipExpiryCheck: true}).
		Verify(ctx, r.FormValue("id_token_hint"))
	if err != nil {
		refuse(err)
		return
	}
	back := r.FormValue("post_logout_redirect_uri")
	ok := slices.ContainsFunc(d.clients, func(c idp.Client) bool {
		return slices.Contains(tok.Audience, c.ID) && slices.Contains(c.PostLogoutRedirectURIs, back)
	})
	if !ok {
		refuse(fmt.Errorf("post_logout_redirect_uri %q is not registered for %v", back, tok.Audience))
		return
	}
	if err := d.idp.EndEverywhere(ctx, tok.Subject); err != nil {
		d.log.Error("oidc logout-all", "err", err)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "Сервис временно недоступен. Попробуйте позже.")
		return
	}
	d.log.Info("oidc logout-all", "sub", tok.Subject, "client", tok.Audience)
	if st := r.FormValue("state"); st != "" {
		u, _ := url.Parse(back)
		q := u.Query()
		q.Set("state", st)
		u.RawQuery = q.Encode()
		back = u.String()
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}

// handlerTransport answers HTTP requests with a handler of this process.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}
