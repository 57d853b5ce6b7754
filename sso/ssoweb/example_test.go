package ssoweb_test

import (
	"log"
	"net/http"

	"github.com/podpis/podpis/sso/esia"
	"github.com/podpis/podpis/sso/ssoweb"
	"github.com/podpis/podpis/sso/telegram"
)

// An account service mounts the handler at /sso and decides in Done:
// a login opens a session for the account linked to (Provider, Subject),
// or says how to link; a link attaches the identity to the session's
// account.
func Example() {
	var (
		esiaClient *esia.Client               // esia.New(esia.Config{Endpoints: esia.Production, …})
		tg         *telegram.Verifier         // telegram.New(telegram.Config{BotToken: …})
		csrfToken  func(*http.Request) string // the service's token for the browser's (pre-)session
		cookieKey  []byte                     // 32 random bytes from the configuration
	)
	h, err := ssoweb.New(ssoweb.Config{
		BaseURL: "https://id.example.ru/sso", ESIA: esiaClient, Telegram: tg, TelegramBot: "example_login_bot",
		BrowserToken: csrfToken, CookieKey: cookieKey,
		Done: func(w http.ResponseWriter, r *http.Request, res ssoweb.Result) {
			switch {
			case res.Err != nil:
				// res.Code for programs and logs, res.Message for the person.
				http.Redirect(w, r, "/?error="+res.Code, http.StatusSeeOther)
			case res.Purpose == ssoweb.Link:
				// link res.Identity to the session's account
			default:
				// look up the account linked to res.Identity.Provider and
				// res.Identity.Subject; none: «Учётная запись Госуслуг не
				// привязана…», with how to link it
			}
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	http.Handle("/sso/", h)
	// Pages show h.ESIAStartURL(r, ssoweb.Login) as the «Госуслуги» button
	// and h.TelegramWidget(r, ssoweb.Login) as Telegram's.
}
