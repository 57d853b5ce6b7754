package telegram

import (
	"bytes"
	"errors"
	"html/template"
	"net/url"
	"regexp"
)

// DefaultScriptURL is where Telegram serves the widget's script.
const DefaultScriptURL = "https://telegram.org/js/telegram-widget.js?22"

// Widget describes the login button a page embeds.
type Widget struct {
	// Bot is the bot's username (without @), as set with /setdomain.
	Bot string
	// AuthURL receives the signed data as its query when the person
	// confirms (data-auth-url); it must be on the bot's domain and have no
	// query of its own.
	AuthURL string
	// ScriptURL is the widget's script; empty means DefaultScriptURL. A
	// test or an offline stand is configured with its own.
	ScriptURL string
	// Size is large, medium or small; empty means large.
	Size string
	// RequestWrite asks the person to let the bot write to them.
	RequestWrite bool
}

var (
	botName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{4,31}$`)
	sizes   = map[string]bool{"": true, "large": true, "medium": true, "small": true}
)

var widgetTemplate = template.Must(template.New("widget").Parse(
	`<script async src="{{.Script}}" data-telegram-login="{{.Bot}}" data-size="{{.Size}}" data-auth-url="{{.AuthURL}}"` +
		`{{if .RequestWrite}} data-request-access="write"{{end}}></script>`))

// HTML returns the snippet that shows the button. Its attributes go
// through html/template; the bot name, size and URLs are checked first, so
// that a bad configuration fails here rather than as a dead button.
func (w Widget) HTML() (template.HTML, error) {
	if !botName.MatchString(w.Bot) {
		return "", errors.New("telegram: the widget's bot name is not a Telegram username")
	}
	if !sizes[w.Size] {
		return "", errors.New("telegram: the widget's size is not large, medium or small")
	}
	auth, err := url.Parse(w.AuthURL)
	if err != nil || (auth.Scheme != "https" && auth.Scheme != "http") || auth.Host == "" {
		return "", errors.New("telegram: the widget's auth URL is not an absolute http(s) URL")
	}
	if auth.RawQuery != "" || auth.Fragment != "" {
		// Telegram appends its fields to the URL: a query of ours would
		// join them and break the check string. Say «link» or «login» in
		// the path instead.
		return "", errors.New("telegram: the widget's auth URL must have no query")
	}
	script := w.ScriptURL
	if script == "" {
		script = DefaultScriptURL
	}
	if s, err := url.Parse(script); err != nil || (s.Scheme != "https" && s.Scheme != "http") || s.Host == "" {
		return "", errors.New("telegram: the widget's script URL is not an absolute http(s) URL")
	}
	size := w.Size
	if size == "" {
		size = "large"
	}
	var b bytes.Buffer
	err = widgetTemplate.Execute(&b, struct {
		Script       template.URL
		Bot, Size    string
		AuthURL      string
		RequestWrite bool
	}{template.URL(script), w.Bot, size, auth.String(), w.RequestWrite})
	if err != nil {
		return "", err
	}
	return template.HTML(b.String()), nil
}
