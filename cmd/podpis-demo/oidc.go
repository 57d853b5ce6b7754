package main

// The demo as an OpenID Connect provider (package idp) at origin+/oidc:
// other services log people in through it with the demo's certificate
// login. Its login page is /oidc-login?request=ID: a person with a demo
// session is answered at once (single sign-on); anyone else goes to the
// demo's page with ?oidc=ID, logs in by certificate and comes back.

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

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

// sessionRef is what ID tokens carry of a demo session (sid): a hash, for
// the cookie's value is the session itself.
func sessionRef(cookie string) string {
	h := sha256.Sum256([]byte("podpis-demo sid " + cookie))
	return hex.EncodeToString(h[:16])
}

// demoSessions ends the demo's sessions for the provider; the subject is
// the certificate's thumbprint.
type demoSessions struct{ d *demo }

func (s demoSessions) End(_ context.Context, subject, sid string) error {
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	for k, id := range s.d.sessions {
		if sessionRef(k) == sid && id.Thumbprint == subject {
			delete(s.d.sessions, k)
		}
	}
	return nil
}

func (s demoSessions) EndAll(_ context.Context, subject string) error {
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	for k, id := range s.d.sessions {
		if id.Thumbprint == subject {
			delete(s.d.sessions, k)
		}
	}
	return nil
}

// oidcLogin is the provider's login page.
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
	sid, who, ok := d.session(r)
	if !ok {
		// The demo's page logs in by certificate and comes back here.
		http.Redirect(w, r, "/?oidc="+url.QueryEscape(id), http.StatusSeeOther)
		return
	}
	d.mu.Lock()
	since := d.since[sid]
	d.mu.Unlock()
	// Every demo login is a certificate login: a step-up is always met.
	to, err := d.idp.Complete(ctx, id, idp.Subject{ID: who.Thumbprint, SessionID: sessionRef(sid),
		AMR: []string{idp.AMRCertificate}, AuthTime: since,
		Claims: idp.Claims{Name: who.CommonName, Email: who.Email, Certificate: idp.CertificateOf(who)}})
	if errors.Is(err, idp.ErrReauthenticate) {
		// prompt=login or max_age: the page asks for the certificate again.
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
