package idp

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// bindFlow ties an authorization request to the browser that made it:
// /authorize, sending the browser to the login page, sets a cookie named
// after the request, and /authorize/callback sends the code only to a
// browser that has it. A request id that leaks (a log, a copied link to
// the login page) does not bring its code to another browser, whose
// client would then log its owner in as the person who logged in.
func (p *Provider) bindFlow(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/authorize":
			h.ServeHTTP(&flowStarter{ResponseWriter: w, p: p}, r)
		case "/authorize/callback":
			id := r.URL.Query().Get("id")
			name, value := p.flowCookie(id)
			c, err := r.Cookie(name)
			if err != nil || !hmac.Equal([]byte(c.Value), []byte(value)) {
				w.Header().Set("Content-Type", "text/plain; charset=utf-8")
				w.WriteHeader(http.StatusForbidden)
				fmt.Fprintln(w, "Вход начат в другом браузере. Вернитесь в сервис и войдите снова.")
				return
			}
			http.SetCookie(w, &http.Cookie{Name: name, Path: p.path + "/authorize", MaxAge: -1})
			h.ServeHTTP(w, r)
		default:
			h.ServeHTTP(w, r)
		}
	})
}

// flowCookie is the cookie of request id: its name and value are MACs,
// so nobody without the provider's key can make one.
func (p *Provider) flowCookie(id string) (name, value string) {
	m := hmac.New(sha256.New, p.flowKey)
	m.Write([]byte(id))
	v := base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	return "idp_flow_" + v[:16], v
}

// flowStarter sets the flow cookie when op sends the browser to the
// login page.
type flowStarter struct {
	http.ResponseWriter
	p *Provider
}

func (f *flowStarter) WriteHeader(code int) {
	if loc := f.Header().Get("Location"); code/100 == 3 && strings.HasPrefix(loc, f.p.cfg.LoginURL) {
		if u, err := url.Parse(loc); err == nil {
			if id := u.Query().Get("request"); id != "" {
				name, value := f.p.flowCookie(id)
				http.SetCookie(f.ResponseWriter, &http.Cookie{Name: name, Value: value, Path: f.p.path + "/authorize",
					MaxAge: int(f.p.cfg.AuthRequestTTL.Seconds()), HttpOnly: true, SameSite: http.SameSiteLaxMode,
					Secure: strings.HasPrefix(f.p.cfg.Issuer, "https://")})
			}
		}
	}
	f.ResponseWriter.WriteHeader(code)
}
