package prompt

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"html/template"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"

	"github.com/podpis/podpis/agent"
	"github.com/podpis/podpis/agent/keystore"
)

// Browser asks through a page the agent serves itself, opened in the
// person's default browser: the fallback where no dialog program exists.
// Each question lives at an unguessable, single-use address; the answer
// must be posted from that very page (its Origin is the agent's own), so
// no other site can answer for the person; the page cannot be framed.
type Browser struct {
	// BaseURL is the agent's own origin, e.g. https://127.0.0.1:24730; set
	// once the server listens.
	BaseURL string
	// Open shows a URL to the person; nil runs $PODPIS_BROWSER with the URL
	// when set, else the system's opener.
	Open func(url string) error
	// Tell, when opening fails, shows the URL some other way (the agent
	// prints it), so the person can still answer.
	Tell func(url string)

	mu      sync.Mutex
	pending map[string]*question
}

type question struct {
	Kind    string // origin, sign, pin
	Origin  string
	Cert    string
	Token   string
	Warning string
	What    agent.SignSummary
	answer  chan url
}

type url = map[string][]string

func (b *Browser) ask(ctx context.Context, q *question) (map[string][]string, error) {
	var raw [16]byte
	rand.Read(raw[:])
	id := hex.EncodeToString(raw[:])
	q.answer = make(chan url, 1)
	b.mu.Lock()
	if b.pending == nil {
		b.pending = map[string]*question{}
	}
	b.pending[id] = q
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		delete(b.pending, id)
		b.mu.Unlock()
	}()
	open := b.Open
	if open == nil {
		open = Open
	}
	if err := open(b.BaseURL + "/prompt/" + id); err != nil {
		if b.Tell == nil {
			return nil, fmt.Errorf("%w: %v", ErrNoDialog, err)
		}
		b.Tell(b.BaseURL + "/prompt/" + id)
	}
	select {
	case a := <-q.answer:
		return a, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Open shows a page or a file with the person's default program
// (PODPIS_BROWSER overrides it, for tests and odd desktops).
func Open(u string) error {
	if cmd := os.Getenv("PODPIS_BROWSER"); cmd != "" {
		return exec.Command(cmd, u).Start()
	}
	switch runtime.GOOS {
	case "windows":
		return exec.Command("rundll32", "url.dll,FileProtocolHandler", u).Start()
	case "darwin":
		return exec.Command("open", u).Start()
	}
	return exec.Command("xdg-open", u).Start()
}

func (b *Browser) ConfirmOrigin(ctx context.Context, origin string) (agent.Decision, error) {
	a, err := b.ask(ctx, &question{Kind: "origin", Origin: origin})
	if err != nil {
		return agent.Deny, err
	}
	switch first(a, "choice") {
	case "always":
		return agent.AllowAlways, nil
	case "once":
		return agent.AllowOnce, nil
	}
	return agent.Deny, nil
}

func (b *Browser) ConfirmSign(ctx context.Context, origin string, cert *keystore.Certificate, what agent.SignSummary) (bool, error) {
	a, err := b.ask(ctx, &question{Kind: "sign", Origin: origin, Cert: cert.Identity.CommonName, What: what})
	if err != nil {
		return false, err
	}
	return first(a, "choice") == "sign", nil
}

func (b *Browser) PIN(ctx context.Context, origin string, req keystore.PINRequest) ([]byte, bool, error) {
	q := &question{Kind: "pin", Origin: origin, Cert: req.Certificate.Identity.CommonName, Token: req.Token}
	if req.FinalTry {
		q.Warning = "Последняя попытка: после неверного PIN-кода токен будет заблокирован."
	} else if req.TriesLow {
		q.Warning = "Ранее был введён неверный PIN-код."
	}
	a, err := b.ask(ctx, q)
	if err != nil {
		return nil, false, err
	}
	pin := first(a, "pin")
	if first(a, "choice") != "sign" || pin == "" {
		return nil, false, keystore.ErrCancelled
	}
	return []byte(pin), first(a, "save") == "on", nil
}

func first(v map[string][]string, k string) string {
	if len(v[k]) == 0 {
		return ""
	}
	return v[k][0]
}

// ServeHTTP serves /prompt/ID: the question on GET, the answer on POST.
func (b *Browser) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	// Not no-referrer: then browsers send "Origin: null" on the page's own
	// form post, and the answer could not be told from a foreign one.
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	id := strings.TrimPrefix(r.URL.Path, "/prompt/")
	b.mu.Lock()
	var q *question
	for k, v := range b.pending {
		if subtle.ConstantTimeCompare([]byte(k), []byte(id)) == 1 {
			q = v
		}
	}
	b.mu.Unlock()
	if q == nil {
		http.Error(w, "Запрос не найден или уже обработан", http.StatusNotFound)
		return
	}
	switch r.Method {
	case http.MethodGet:
		h.Set("Content-Type", "text/html; charset=utf-8")
		pageTemplate.Execute(w, q)
	case http.MethodPost:
		if r.Header.Get("Origin") != b.BaseURL {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, 4096)
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		b.mu.Lock()
		_, still := b.pending[id]
		delete(b.pending, id) // single use
		b.mu.Unlock()
		if !still {
			http.Error(w, "Запрос уже обработан", http.StatusNotFound)
			return
		}
		q.answer <- url(r.PostForm)
		h.Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, doneHTML)
	default:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

const doneHTML = `<!doctype html><html lang="ru"><meta charset="utf-8"><title>podpis</title>
<body style="font:16px system-ui,sans-serif;margin:3em">Готово. Эту вкладку можно закрыть.</body></html>`

var pageTemplate = template.Must(template.New("prompt").Parse(`<!doctype html>
<html lang="ru"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>podpis</title>
<style>
body{font:16px system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1d1d1f}
main{max-width:28em;margin:3em auto;background:#fff;border-radius:8px;padding:1.5em 2em;box-shadow:0 1px 4px #0002}
h1{font-size:1.2em;margin-top:0} .site{font-weight:600;word-break:break-all}
.warn{color:#a40000;font-weight:600} dl{margin:1em 0} dt{color:#555;font-size:.9em} dd{margin:0 0 .6em}
label{display:block;margin:.8em 0 .3em} input[type=password]{width:100%;font-size:1.1em;padding:.4em;box-sizing:border-box}
.buttons{margin-top:1.2em;display:flex;gap:.6em;flex-wrap:wrap} button{font-size:1em;padding:.5em 1em}
</style></head><body><main>
{{if eq .Kind "origin"}}
<h1>Доступ к сертификатам</h1>
<p>Сайт <span class="site">{{.Origin}}</span> запрашивает доступ к сертификатам. Разрешить?</p>
<form method="post"><div class="buttons">
<button name="choice" value="always" autofocus>Разрешить всегда</button>
<button name="choice" value="once">Только сейчас</button>
<button name="choice" value="deny">Запретить</button></div></form>
{{else if eq .Kind "sign"}}
<h1>Подписание документа</h1>
<p>Сайт <span class="site">{{.Origin}}</span> просит подписать документ.</p>
<dl><dt>Описание (со слов сайта)</dt><dd>{{.What.Description}}</dd>
<dt>Размер</dt><dd>{{.What.Size}} байт</dd><dt>Хэш (Стрибог-256)</dt><dd><code>{{.What.Streebog}}</code></dd>
<dt>Сертификат</dt><dd>{{.Cert}}</dd></dl>
<form method="post"><div class="buttons">
<button name="choice" value="sign">Подписать</button><button name="choice" value="cancel">Отмена</button></div></form>
{{else}}
<h1>PIN-код токена</h1>
<p>Сайт <span class="site">{{.Origin}}</span> просит подписать вход.</p>
<dl><dt>Сертификат</dt><dd>{{.Cert}}</dd><dt>Токен</dt><dd>{{.Token}}</dd></dl>
{{if .Warning}}<p class="warn">{{.Warning}}</p>{{end}}
<form method="post" autocomplete="off">
<label for="pin">PIN-код</label><input id="pin" name="pin" type="password" autofocus required>
<label><input type="checkbox" name="save"> Сохранить пароль</label>
<div class="buttons"><button name="choice" value="sign">Подписать</button>
<button name="choice" value="cancel" formnovalidate>Отмена</button></div></form>
{{end}}
</main></body></html>
`))
