package uiproto

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// The settings window (podpis-ui settings) is a view: whoever opens it —
// the agent from its tray, or podpis settings when no agent runs — writes
// a Settings snapshot as one JSON line on its stdin, and again after each
// action; the window writes a SettingsAction line on its stdout for each
// thing the person does that the opener must carry out. The window never
// changes the configuration itself, so that revoking from the window of a
// running agent changes that agent's decisions, not the file behind its
// back.

// Settings is what the settings window shows.
type Settings struct {
	Version      string                `json:"version"`
	LogPath      string                `json:"logPath"`
	Certificates []SettingsCertificate `json:"certificates"`
	// Allowed are the sites the person allowed «всегда».
	Allowed []string `json:"allowed"`
	// Report is podpis doctor's report, as text.
	Report string `json:"report"`
	// Failure is the last action's failure, in Russian, for the window to
	// show; empty when it went well.
	Failure string `json:"failure,omitempty"`
}

// SettingsCertificate is one certificate as the window shows it. The
// texts come from the certificate (anyone who issues one chooses them):
// the opener has made them safe to show on one line.
type SettingsCertificate struct {
	Owner        string    `json:"owner"`
	Organization string    `json:"organization,omitempty"`
	SNILS        string    `json:"snils,omitempty"` // 11 digits as in the certificate
	INN          string    `json:"inn,omitempty"`
	INNLE        string    `json:"innle,omitempty"`
	OGRN         string    `json:"ogrn,omitempty"`
	OGRNIP       string    `json:"ogrnip,omitempty"`
	Issuer       string    `json:"issuer"`
	NotBefore    time.Time `json:"notBefore"`
	NotAfter     time.Time `json:"notAfter"`
	Token        string    `json:"token"`
	Provider     string    `json:"provider"`
	Algorithm    string    `json:"algorithm"`
	Thumbprint   string    `json:"thumbprint"`
	// Problems are keystore's codes (EXPIRED, NO_PRIVATE_KEY, …); the
	// window words them.
	Problems []string `json:"problems,omitempty"`
	// DER is the certificate itself, for «Сохранить сертификат…».
	DER []byte `json:"der"`
}

// SettingsAction is what the person did that the opener carries out.
type SettingsAction struct {
	Action string `json:"action"`           // ActionRevoke or ActionRefresh
	Origin string `json:"origin,omitempty"` // the site, for ActionRevoke
}

const (
	// ActionRevoke forgets a site allowed «всегда». It is the only
	// change the window can ask for: it takes a permission away and
	// never grants one.
	ActionRevoke = "revoke"
	// ActionRefresh asks for a fresh snapshot with a new doctor report.
	ActionRefresh = "refresh"
)

const (
	// MaxSettingsLine bounds a snapshot line: certificates with their
	// DER and a doctor report are tens of kilobytes.
	MaxSettingsLine = 8 << 20
	// MaxActionLine bounds an action line: an origin is short.
	MaxActionLine = 4 << 10
)

// ErrLineTooLong means a peer sent a line over its bound; the stream is
// given up rather than resynchronised.
var ErrLineTooLong = errors.New("uiproto: line too long")

// WriteSettings writes a snapshot as one line (the opener's side).
func WriteSettings(w io.Writer, s *Settings) error { return writeLine(w, s) }

// ReadSettings reads one snapshot (the window's side); io.EOF when the
// opener has closed the stream.
func ReadSettings(r *bufio.Reader) (*Settings, error) {
	s := new(Settings)
	if err := readLine(r, MaxSettingsLine, s); err != nil {
		return nil, err
	}
	return s, nil
}

// WriteAction writes one action (the window's side).
func WriteAction(w io.Writer, a SettingsAction) error { return writeLine(w, a) }

// ReadAction reads one action (the opener's side); io.EOF when the window
// has closed.
func ReadAction(r *bufio.Reader) (SettingsAction, error) {
	var a SettingsAction
	err := readLine(r, MaxActionLine, &a)
	return a, err
}

func writeLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("uiproto: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// readLine reads one JSON line of at most max bytes into v.
func readLine(r *bufio.Reader, max int, v any) error {
	var line []byte
	for {
		chunk, err := r.ReadSlice('\n')
		if len(line)+len(chunk) > max+1 {
			return ErrLineTooLong
		}
		line = append(line, chunk...)
		if err == nil {
			break
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if errors.Is(err, io.EOF) && len(line) > 0 {
			return fmt.Errorf("uiproto: %w", io.ErrUnexpectedEOF)
		}
		return err
	}
	if err := json.Unmarshal(line, v); err != nil {
		return fmt.Errorf("uiproto: %w", err)
	}
	return nil
}

// problemWords says keystore's problem codes in Russian.
var problemWords = map[string]string{
	"EXPIRED": "срок действия истёк", "NOT_YET_VALID": "ещё не действует",
	"NO_PRIVATE_KEY": "нет закрытого ключа", "KEY_USAGE": "не предназначен для подписи",
	"NEEDS_CSP":    "ключ в контейнере КриптоПро CSP",
	"TOKEN_LOCKED": "токен заблокирован (PIN-код введён неверно слишком много раз)",
}

// ProblemWord is a certificate problem's code (keystore.Problem) in
// Russian; a code newer than this table still shows, as itself.
func ProblemWord(code string) string {
	if w, ok := problemWords[code]; ok {
		return w
	}
	return code
}

// ProblemsText is the problems of one certificate as a line of Russian.
func ProblemsText(codes []string) string {
	words := make([]string, 0, len(codes))
	for _, c := range codes {
		words = append(words, ProblemWord(c))
	}
	return strings.Join(words, ", ")
}
