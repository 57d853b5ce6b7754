package prompt

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"html/template"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/podpis/podpis/agent"
	"github.com/podpis/podpis/agent/keystore"
)

// Browser asks through a page the agent serves itself, opened in the
// person's default browser: the fallback where no dialog program exists.
//
// Each question lives at an unguessable, single-use address that appears
// nowhere another account can read: not in the opener's argv (every
// account reads /proc/*/cmdline) nor on stdout. The agent writes a small
// page that forwards to the address into a file only the person can read,
// in a folder only they can enter, and opens that file. Loading the
// question sets a cookie (SameSite=Strict, HttpOnly, for this question's
// path only) and puts the same fresh token into the form; an answer needs
// both, the agent's own Origin, and must come at least a second after the
// page was loaded — a Return meant for another window is not an answer.
type Browser struct {
	// BaseURL is the agent's own origin, set once the server listens:
	// podpis run uses http://127.0.0.1:PORT (see there why not https).
	BaseURL string
	// Dir is where the forwarding pages are written (created 0700; each
	// page 0600, removed once answered). Empty means
	// $XDG_RUNTIME_DIR/podpis.
	Dir string
	// Open shows a file to the person; nil is Open: $PODPIS_BROWSER with
	// the file's path when set, else the system's opener.
	Open func(path string) error
	// Tell, when opening fails, tells the person which file to open (the
	// agent prints it: a path, never the address itself); the page that
	// asked gets agent.NoticePromptNotShown. Nil: opening must work, or
	// the question fails with ErrNoDialog.
	Tell func(path string)
	// Settle is how soon after the page loads an approving answer is
	// refused (the page is shown again); zero means 1 s.
	Settle time.Duration

	mu      sync.Mutex
	pending map[string]*question
}

type question struct {
	Kind    string // origin, sign, pin
	Origin  string
	Cert    string
	Token   string
	Warning string
	Login   bool
	What    *agent.SignSummary // a document (sign, and pin for a document)
	// Purpose: "newkey" or "install" for those questions and their PIN;
	// Fields are what the newkey and install pages list (cleaned).
	Purpose string
	Fields  []agent.ShownField
	Count   int // the PIN is for a batch of Count documents

	// CSRF is the token of the last load of the page (cookie and form);
	// loaded is when. Guarded by Browser.mu.
	CSRF   string
	loaded time.Time
	answer chan answer

	// try, for a PIN asked through TryPIN, checks each PIN posted while
	// the page waits: a wrong one shows the page again with Warning, and
	// the question stays open; checking is set meanwhile. Guarded by
	// Browser.mu.
	try      func(pin []byte, save bool) (outcome, warning string)
	checking bool
}

// answer is what the person posted. pin is the caller's to clear.
type answer struct {
	choice string
	save   bool
	pin    []byte
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func (b *Browser) dir() (string, error) {
	d := b.Dir
	if d == "" {
		rt := os.Getenv("XDG_RUNTIME_DIR")
		if rt == "" {
			return "", errors.New("prompt: no folder for prompt pages: XDG_RUNTIME_DIR is not set")
		}
		d = filepath.Join(rt, "podpis")
	}
	if err := os.MkdirAll(d, 0o700); err != nil {
		return "", fmt.Errorf("prompt: %w", err)
	}
	// MkdirAll leaves an existing folder as it is, and follows a symlink:
	// what is there must be a folder of ours, checked without following
	// anything before its mode is narrowed (Chmod follows a symlink, and
	// would narrow whatever folder of the person's it points at).
	fi, err := os.Lstat(d)
	if err != nil {
		return "", fmt.Errorf("prompt: %w", err)
	}
	if !fi.IsDir() || !ownedByMe(fi) {
		return "", fmt.Errorf("prompt: %s is not a folder of this account's", d)
	}
	if fi.Mode().Perm() != 0o700 {
		if err := os.Chmod(d, 0o700); err != nil {
			return "", fmt.Errorf("prompt: %w", err)
		}
	}
	return d, nil
}

// forward writes the page that takes the person's browser to u, readable
// by them alone, and returns its path.
func (b *Browser) forward(u string) (string, error) {
	d, err := b.dir()
	if err != nil {
		return "", err
	}
	path := filepath.Join(d, "prompt-"+randomHex(8)+".html")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("prompt: %w", err)
	}
	u = html.EscapeString(u)
	_, err = fmt.Fprintf(f, `<!doctype html><html lang="ru"><meta charset="utf-8"><meta name="referrer" content="no-referrer">`+
		`<meta http-equiv="refresh" content="0;url=%s"><title>podpis</title>`+
		`<body style="font:16px system-ui,sans-serif;margin:3em"><a href="%s">Открыть запрос podpis</a></body></html>`, u, u)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return "", fmt.Errorf("prompt: %w", err)
	}
	return path, nil
}

func (b *Browser) ask(ctx context.Context, q *question) (answer, error) {
	id := randomHex(16)
	q.answer = make(chan answer, 1)
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
	path, err := b.forward(b.BaseURL + "/prompt/" + id)
	if err != nil {
		return answer{}, fmt.Errorf("%w: %v", ErrNoDialog, err)
	}
	defer os.Remove(path)
	open := b.Open
	if open == nil {
		open = Open
	}
	if err := open(path); err != nil {
		if b.Tell == nil {
			return answer{}, fmt.Errorf("%w: %v", ErrNoDialog, err)
		}
		// Nothing showed the question: the person is told where it is
		// (the agent's terminal and log) and the page that asked, where
		// they are looking, says to look there — never the address
		// itself, which would let the page answer its own question.
		b.Tell(path)
		agent.Notify(ctx, agent.NoticePromptNotShown)
	}
	select {
	case a := <-q.answer:
		return a, nil
	case <-ctx.Done():
		return answer{}, ctx.Err()
	}
}

// openWait is how long an opener has to report failure. xdg-open and its
// kin hand the file to a browser and exit, with a status that says whether
// that worked (xdg-open: 3 when nothing here opens it, as on a machine
// with no desktop); a program still running after this is a browser in
// the foreground, showing the page. Either way the opener is waited for
// until it exits: no defunct child is left behind.
var openWait = 5 * time.Second

// Open shows a page or a file with the person's browser: $PODPIS_BROWSER
// when set (a program given the file as its one argument: test rigs,
// odd desktops), then the system's opener, each tried while the last
// failed. It fails when none of them could show it. Whatever it is given
// is in the opener's argv, which every account can read.
func Open(u string) error {
	var errs []error
	for _, argv := range openers(u) {
		err := run(argv)
		if err == nil {
			return nil
		}
		errs = append(errs, err)
	}
	return fmt.Errorf("prompt: nothing could open the page: %w", errors.Join(errs...))
}

// openers are the commands Open tries, in order.
func openers(u string) [][]string {
	var out [][]string
	if cmd := os.Getenv("PODPIS_BROWSER"); cmd != "" {
		out = append(out, []string{cmd, u})
	}
	switch runtime.GOOS {
	case "windows":
		return append(out, []string{"rundll32", "url.dll,FileProtocolHandler", u})
	case "darwin":
		return append(out, []string{"open", u})
	}
	return append(out, []string{"xdg-open", u})
}

// run starts argv and waits up to openWait for its verdict (see
// openWait); the rest of the wait goes on in the background.
func run(argv []string) error {
	cmd := exec.Command(argv[0], argv[1:]...)
	var out tail
	cmd.Stdout, cmd.Stderr = &out, &out
	// The browser an opener starts inherits its output and may keep it
	// open for hours: the opener's exit is what counts, its output is
	// read only a moment longer.
	cmd.WaitDelay = 200 * time.Millisecond
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t := time.NewTimer(openWait)
	defer t.Stop()
	select {
	case err := <-done:
		if err != nil && !errors.Is(err, exec.ErrWaitDelay) {
			return fmt.Errorf("%s: %w: %s", argv[0], err, out.String())
		}
		return nil
	case <-t.C:
		return nil
	}
}

// tail keeps the last bytes an opener wrote, for the log.
type tail struct {
	mu sync.Mutex
	b  []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > 512 {
		t.b = t.b[len(t.b)-512:]
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.b))
}

func (b *Browser) ConfirmOrigin(ctx context.Context, origin string) (agent.Decision, error) {
	a, err := b.ask(ctx, &question{Kind: "origin", Origin: origin})
	if err != nil {
		return agent.Deny, err
	}
	switch a.choice {
	case "always":
		return agent.AllowAlways, nil
	case "once":
		return agent.AllowOnce, nil
	}
	return agent.Deny, nil
}

func (b *Browser) ConfirmSign(ctx context.Context, origin string, cert *keystore.Certificate, what agent.SignSummary) (bool, error) {
	what.Description = agent.CleanText(what.Description, agent.MaxShownDescription)
	a, err := b.ask(ctx, &question{Kind: "sign", Origin: origin, Cert: agent.CleanText(cert.Identity.CommonName, 100), What: &what})
	if err != nil {
		return false, err
	}
	return a.choice == "sign", nil
}

// pinQuestion is the PIN page's question.
func pinQuestion(origin string, req keystore.PINRequest) *question {
	q := &question{Kind: "pin", Origin: origin, Token: agent.CleanText(req.Token, 100), Login: req.Login}
	switch {
	case req.NewKey:
		q.Purpose = "newkey"
	case req.Install:
		q.Purpose = "install"
	}
	if req.Certificate != nil {
		q.Cert = agent.CleanText(req.Certificate.Identity.CommonName, 100)
	}
	if d := req.Document; d != nil {
		q.What = &agent.SignSummary{Description: agent.CleanText(d.Description, agent.MaxShownDescription), Size: d.Size, Streebog: d.Streebog, DigestName: d.DigestName}
		q.Count = d.Count
	}
	q.Warning = triesWarning(req)
	return q
}

// triesWarning is what the page says of the token's tries left.
func triesWarning(req keystore.PINRequest) string {
	switch {
	case req.FinalTry:
		return "Последняя попытка: после неверного PIN-кода токен будет заблокирован."
	case req.TriesLeft > 0:
		return fmt.Sprintf("Осталось попыток: %d.", req.TriesLeft)
	case req.TriesLow:
		return "Ранее был введён неверный PIN-код."
	}
	return ""
}

func (b *Browser) PIN(ctx context.Context, origin string, req keystore.PINRequest) ([]byte, bool, error) {
	a, err := b.ask(ctx, pinQuestion(origin, req))
	if err != nil {
		return nil, false, err
	}
	if a.choice != "sign" || len(a.pin) == 0 {
		clear(a.pin)
		return nil, false, keystore.ErrCancelled
	}
	return a.pin, a.save, nil
}

// PIN page outcomes (question.try).
const (
	pinOK     = "ok"
	pinWrong  = "wrong"
	pinLocked = "locked"
	pinFailed = "failed"
)

// TryPIN asks on the PIN page and checks each PIN posted while the page
// waits for the answer: after a wrong one the page says so, with the
// token's new count, and asks again; it says «Готово» only once the token
// has taken a PIN.
func (b *Browser) TryPIN(ctx context.Context, origin string, req keystore.PINRequest, try keystore.TryPIN) error {
	q := pinQuestion(origin, req)
	var final error // set before the answer is sent on q.answer
	q.try = func(pin []byte, save bool) (string, string) {
		next, err := try(pin, save)
		switch {
		case err == nil:
			return pinOK, ""
		case errors.Is(err, keystore.ErrPINIncorrect):
			return pinWrong, strings.TrimSpace("Неверный PIN-код. Введите его ещё раз. " + triesWarning(next))
		case errors.Is(err, keystore.ErrPINLocked):
			final = err
			return pinLocked, ""
		}
		final = err
		return pinFailed, ""
	}
	a, err := b.ask(ctx, q)
	if err != nil {
		return err
	}
	clear(a.pin)
	switch a.choice {
	case pinOK:
		return nil
	case pinLocked, pinFailed:
		return final
	}
	return keystore.ErrCancelled
}

func (b *Browser) settle() time.Duration {
	if b.Settle == 0 {
		return time.Second
	}
	return b.Settle
}

// cookieName is the cookie of the page's token; its Path keeps it to one
// question.
const cookieName = "podpis-prompt"

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
		b.show(w, r, q)
	case http.MethodPost:
		if r.Header.Get("Origin") != b.BaseURL {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		a, ok := readAnswer(w, r)
		if !ok {
			return
		}
		c, _ := r.Cookie(cookieName)
		b.mu.Lock()
		csrf, loaded := q.CSRF, q.loaded
		b.mu.Unlock()
		// The page's token, in the form and in the cookie the load set:
		// only the browser that loaded this very page has both.
		if csrf == "" || c == nil || subtle.ConstantTimeCompare([]byte(c.Value), []byte(csrf)) != 1 ||
			subtle.ConstantTimeCompare(a.token, []byte(csrf)) != 1 {
			clear(a.pin)
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		if approving(a.answer) && time.Since(loaded) < b.settle() {
			// Keys meant for another window: ask again.
			clear(a.pin)
			b.show(w, r, q)
			return
		}
		page := doneHTML
		if a.choice == "sign" && q.try != nil {
			outcome, ok := b.check(q, a.pin, a.save)
			clear(a.pin)
			a.pin = nil
			if !ok {
				http.Error(w, "PIN-код уже проверяется", http.StatusConflict)
				return
			}
			if outcome == pinWrong {
				b.show(w, r, q) // with the warning: the question stays open
				return
			}
			a.choice = outcome
			switch outcome {
			case pinLocked:
				page = lockedHTML
			case pinFailed:
				page = failedHTML
			}
		}
		b.mu.Lock()
		_, still := b.pending[id]
		delete(b.pending, id) // single use
		b.mu.Unlock()
		if !still {
			clear(a.pin)
			http.Error(w, "Запрос уже обработан", http.StatusNotFound)
			return
		}
		q.answer <- a.answer
		h.Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, page)
	default:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// check tries a posted PIN through q.try, one at a time; ok is false
// while another is being checked. A wrong PIN's warning goes on the page.
func (b *Browser) check(q *question, pin []byte, save bool) (outcome string, ok bool) {
	b.mu.Lock()
	if q.checking {
		b.mu.Unlock()
		return "", false
	}
	q.checking = true
	b.mu.Unlock()
	outcome, warning := q.try(pin, save)
	b.mu.Lock()
	q.checking = false
	if outcome == pinWrong {
		q.Warning = warning
	}
	b.mu.Unlock()
	return outcome, true
}

// approving answers need the page to have been up for a while; a refusal
// is taken at once.
func approving(a answer) bool {
	return a.choice == "always" || a.choice == "once" || a.choice == "sign" || a.choice == "approve"
}

// show renders the question with a fresh token, set in the cookie too.
func (b *Browser) show(w http.ResponseWriter, r *http.Request, q *question) {
	csrf := randomHex(16)
	b.mu.Lock()
	q.CSRF, q.loaded = csrf, time.Now()
	view := *q
	b.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: csrf, Path: r.URL.Path, HttpOnly: true,
		Secure: strings.HasPrefix(b.BaseURL, "https:"), SameSite: http.SameSiteStrictMode})
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	pageTemplate.Execute(w, &view)
}

// postedAnswer is a parsed form: the answer and the page's token.
type postedAnswer struct {
	answer
	token []byte
}

// readAnswer parses the form body itself, into one buffer it clears, so
// that the PIN is never a Go string (url.Values would make it one).
func readAnswer(w http.ResponseWriter, r *http.Request) (postedAnswer, bool) {
	if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return postedAnswer{}, false
	}
	body := make([]byte, 4097)
	n, _ := io.ReadFull(r.Body, body)
	defer clear(body)
	if n > 4096 {
		http.Error(w, "bad request", http.StatusRequestEntityTooLarge)
		return postedAnswer{}, false
	}
	var a postedAnswer
	for field := range bytes.SplitSeq(body[:n], []byte("&")) {
		k, v, _ := bytes.Cut(field, []byte("="))
		v, ok := unescapeInPlace(v)
		if !ok {
			clear(a.pin)
			http.Error(w, "bad request", http.StatusBadRequest)
			return postedAnswer{}, false
		}
		switch string(k) {
		case "choice":
			a.choice = string(v)
		case "save":
			a.save = string(v) == "on"
		case "csrf":
			a.token = bytes.Clone(v)
		case "pin":
			clear(a.pin)
			a.pin = bytes.Clone(v)
		}
	}
	return a, true
}

// unescapeInPlace decodes application/x-www-form-urlencoded text over
// itself: it only ever shrinks.
func unescapeInPlace(s []byte) ([]byte, bool) {
	out := s[:0]
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '+':
			out = append(out, ' ')
		case '%':
			if i+2 >= len(s) {
				return nil, false
			}
			hi, ok1 := unhex(s[i+1])
			lo, ok2 := unhex(s[i+2])
			if !ok1 || !ok2 {
				return nil, false
			}
			out = append(out, hi<<4|lo)
			i += 2
		default:
			out = append(out, c)
		}
	}
	return out, true
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

const doneHTML = `<!doctype html><html lang="ru"><meta charset="utf-8"><title>podpis</title>
<body style="font:16px system-ui,sans-serif;margin:3em">Готово. Эту вкладку можно закрыть.</body></html>`

// After a PIN the token did not take for a reason other than a wrong
// PIN: the page must not say «Готово».
const lockedHTML = `<!doctype html><html lang="ru"><meta charset="utf-8"><title>podpis</title>
<body style="font:16px system-ui,sans-serif;margin:3em"><p style="color:#a40000;font-weight:600">Токен заблокирован: неверный PIN-код введён слишком много раз.</p>
<p>Разблокировать его можно PUK-кодом, программой производителя токена. Эту вкладку можно закрыть.</p></body></html>`

const failedHTML = `<!doctype html><html lang="ru"><meta charset="utf-8"><title>podpis</title>
<body style="font:16px system-ui,sans-serif;margin:3em"><p style="color:#a40000;font-weight:600">Подпись не выполнена.</p>
<p>Сайт получит сообщение об ошибке. Эту вкладку можно закрыть.</p></body></html>`

// The page focuses nothing: keys typed elsewhere when it opens neither
// press a button nor fill in the PIN. The page's own words come last.
var pageTemplate = template.Must(template.New("prompt").Parse(`<!doctype html>
<html lang="ru"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>podpis</title>
<style>
body{font:16px system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1d1d1f}
main{max-width:28em;margin:3em auto;background:#fff;border-radius:8px;padding:1.5em 2em;box-shadow:0 1px 4px #0002}
h1{font-size:1.2em;margin-top:0} .site{font-weight:600;word-break:break-all}
.warn{color:#a40000;font-weight:600} dl{margin:1em 0} dt{color:#555;font-size:.9em} dd{margin:0 0 .6em}
.words{word-break:break-word;font-style:italic} code{overflow-wrap:anywhere;font-size:.85em;color:#333}
ol.docs{margin:.3em 0;padding-left:1.6em;max-height:22em;overflow-y:auto} ol.docs li{margin-bottom:.5em} .name{font-weight:600;word-break:break-all}
label{display:block;margin:.8em 0 .3em} input[type=password]{width:100%;font-size:1.1em;padding:.4em;box-sizing:border-box}
.buttons{margin-top:1.2em;display:flex;gap:.6em;flex-wrap:wrap} button{font-size:1em;padding:.5em 1em}
</style></head><body><main>
{{define "digest"}}{{if .DigestName}}{{.DigestName}}{{else}}Стрибог-256{{end}}{{end}}
{{define "document"}}{{if gt (len .Documents) 1}}<dt>Документы: {{len .Documents}}{{if .Size}}, всего {{.Size}} байт{{end}}; хэш {{template "digest" .}}</dt>
<dd><ol class="docs">{{range .Documents}}<li><span class="name">{{if .Name}}{{.Name}}{{else}}без имени{{end}}</span> · {{if lt .Size 0}}размер неизвестен: сайт передал только хэш{{else}}{{.Size}} байт{{end}}<br><code>{{.Digest}}</code></li>{{end}}</ol></dd>
{{else}}{{range .Documents}}{{if .Name}}<dt>Файл</dt><dd class="name">{{.Name}}</dd>{{end}}{{end}}
<dt>Размер</dt><dd>{{if .HashOnly}}неизвестен: сайт передал только хэш документа{{else}}{{.Size}} байт{{end}}</dd><dt>Хэш ({{template "digest" .}})</dt><dd><code>{{.Streebog}}</code></dd>{{end}}{{end}}
{{define "words"}}{{if .What}}{{if .What.Description}}<dt>Описание со слов сайта</dt><dd class="words">«{{.What.Description}}»</dd>{{end}}{{end}}{{end}}
{{if eq .Kind "origin"}}
<h1>Доступ к сертификатам</h1>
<p>Сайт <span class="site">{{.Origin}}</span> запрашивает доступ к сертификатам. Разрешить?</p>
<form method="post"><input type="hidden" name="csrf" value="{{.CSRF}}"><div class="buttons">
<button name="choice" value="deny">Запретить</button>
<button name="choice" value="once">Только сейчас</button>
<button name="choice" value="always">Разрешить всегда</button></div></form>
{{else if eq .Kind "sign"}}
{{if gt (len .What.Documents) 1}}<h1>Подписание документов</h1>
<p>Сайт <span class="site">{{.Origin}}</span> просит подписать документы ({{len .What.Documents}}) одним PIN-кодом.</p>
{{else}}<h1>Подписание документа</h1>
<p>Сайт <span class="site">{{.Origin}}</span> просит подписать документ.</p>{{end}}
<dl>{{template "document" .What}}<dt>Сертификат</dt><dd>{{.Cert}}</dd>{{template "words" .}}</dl>
<form method="post"><input type="hidden" name="csrf" value="{{.CSRF}}"><div class="buttons">
<button name="choice" value="cancel">Отмена</button><button name="choice" value="sign">Подписать</button></div></form>
{{else if eq .Kind "newkey"}}
<h1>Создание ключа электронной подписи</h1>
<p>Сайт <span class="site">{{.Origin}}</span> просит создать ключ электронной подписи на токене «{{.Token}}» и запрос на сертификат для него.
Создавайте ключ, только если вы сами сейчас получаете сертификат на этом сайте.</p>
<dl><dt>Алгоритм</dt><dd>{{.Cert}}</dd>{{range .Fields}}<dt>{{.Name}}</dt><dd>{{.Value}}</dd>{{end}}</dl>
<form method="post"><input type="hidden" name="csrf" value="{{.CSRF}}"><div class="buttons">
<button name="choice" value="cancel">Отмена</button><button name="choice" value="approve">Создать</button></div></form>
{{else if eq .Kind "install"}}
<h1>Установка сертификата</h1>
<p>Сайт <span class="site">{{.Origin}}</span> просит установить сертификат на токен «{{.Token}}», рядом с его ключом.</p>
<dl><dt>Владелец</dt><dd>{{.Cert}}</dd>{{range .Fields}}<dt>{{.Name}}</dt><dd>{{.Value}}</dd>{{end}}</dl>
<form method="post"><input type="hidden" name="csrf" value="{{.CSRF}}"><div class="buttons">
<button name="choice" value="cancel">Отмена</button><button name="choice" value="approve">Установить</button></div></form>
{{else}}
<h1>PIN-код токена</h1>
{{if eq .Purpose "newkey"}}<p>Сайт <span class="site">{{.Origin}}</span>: создание нового ключа на токене.</p>
{{else if eq .Purpose "install"}}<p>Сайт <span class="site">{{.Origin}}</span>: установка сертификата на токен.</p>
{{else if .Login}}<p>Сайт <span class="site">{{.Origin}}</span>: вход на сайт.</p>
{{else if .Count}}<p>Сайт <span class="site">{{.Origin}}</span>: подпись документов ({{.Count}}).</p>
{{else if .What}}<p>Сайт <span class="site">{{.Origin}}</span>: подпись документа.</p>
{{else}}<p>Сайт <span class="site">{{.Origin}}</span> просит подпись.</p>{{end}}
<dl>{{if .Count}}<dt>Документы</dt><dd>{{.Count}}, всего {{.What.Size}} байт (список — в предыдущем окне)</dd>{{else if .What}}{{template "document" .What}}{{end}}<dt>Сертификат</dt><dd>{{.Cert}}</dd><dt>Токен</dt><dd>{{.Token}}</dd>{{template "words" .}}</dl>
{{if .Warning}}<p class="warn">{{.Warning}}</p>{{end}}
<form method="post" autocomplete="off"><input type="hidden" name="csrf" value="{{.CSRF}}">
<label for="pin">PIN-код</label><input id="pin" name="pin" type="password" required>
<label><input type="checkbox" name="save"> Сохранить пароль</label>
<div class="buttons"><button name="choice" value="sign">Подписать</button>
<button name="choice" value="cancel" formnovalidate>Отмена</button></div></form>
{{end}}
</main></body></html>
`))
