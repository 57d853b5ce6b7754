package uiproto

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// The prompt windows. The agent starts «podpis-ui KIND», writes one
// Prompt, and reads Answers; for a PIN it answers each one with an
// Outcome, and the window stays open after a wrong PIN for the person to
// type again.
const (
	KindPIN      = "pin"
	KindConsent  = "consent"
	KindDocument = "document"
)

// Titles of the windows: podpis's own words, which the person learns to
// recognise (and tests find the windows by).
const (
	TitlePIN       = "podpis — PIN-код токена"
	TitleContainer = "podpis — пароль контейнера ключей"
	TitleConsent   = "podpis — доступ к сертификатам"
	TitleDocument  = "podpis — подпись документа"
)

// MaxLine bounds one message in either direction: a description is at
// most a few hundred runes by the time it gets here, and a PIN 64 bytes.
const MaxLine = 64 << 10

// Prompt is what a window shows. Every string in it that comes from
// outside podpis (the page, the token, the certificate) has been cleaned
// by the agent (agent.CleanText); the window bounds and wraps it again.
type Prompt struct {
	// Origin is the site as the browser shows it (Unicode for an IDN);
	// OriginASCII is its punycode form, set only when it differs.
	Origin      string `json:"origin"`
	OriginASCII string `json:"originASCII,omitempty"`
	// Owner is the certificate's owner (its common name).
	Owner string `json:"owner,omitempty"`
	// Token is the token's label, or a CSP container's name when
	// Container is set.
	Token     string `json:"token,omitempty"`
	Container bool   `json:"container,omitempty"`
	// TriesLeft is the token's count of PIN tries left, 0 when it does
	// not tell; TriesLow and FinalTry are the PKCS#11 flags
	// (CKF_USER_PIN_COUNT_LOW, CKF_USER_PIN_FINAL_TRY).
	TriesLeft int  `json:"triesLeft,omitempty"`
	TriesLow  bool `json:"triesLow,omitempty"`
	FinalTry  bool `json:"finalTry,omitempty"`
	// Login: the PIN is for a login to the site; else for Document.
	Login    bool      `json:"login,omitempty"`
	Document *Document `json:"document,omitempty"`
	// Purpose is PurposeNewKey or PurposeInstall when the PIN is for
	// that, not a login or a document; NewKey and Install are what the
	// newkey and install windows show.
	Purpose string   `json:"purpose,omitempty"`
	NewKey  *NewKey  `json:"newKey,omitempty"`
	Install *Install `json:"install,omitempty"`
	// SettleMillis is how long after the window appears it ignores the
	// keyboard and its approving buttons: keys meant for another window
	// are not an answer. Zero means 1000.
	SettleMillis int `json:"settleMillis,omitempty"`
}

// Document is what is signed.
type Document struct {
	Description string `json:"description,omitempty"` // the site's words
	Name        string `json:"name,omitempty"`        // file name, when known
	Size        int    `json:"size"`
	Streebog    string `json:"streebog"` // hex Streebog-256
	// DigestName names the digest when it is not Streebog-256 of the
	// data («Стрибог-512»); HashOnly: the site sent only the digest, the
	// size is not known.
	DigestName string `json:"digestName,omitempty"`
	HashOnly   bool   `json:"hashOnly,omitempty"`
	// Items are the documents of a batch, each shown (the agent sends
	// at most agent.MaxBatch); Count is how many for the PIN window.
	Items []Item `json:"items,omitempty"`
	Count int    `json:"count,omitempty"`
}

// Item is one document of a batch.
type Item struct {
	Name   string `json:"name,omitempty"`
	Size   int64  `json:"size"` // -1: not known (the site sent the digest)
	Digest string `json:"digest"`
}

// Consent answers.
const (
	ConsentAlways = "always"
	ConsentOnce   = "once"
	ConsentDeny   = "deny"
)

// Answer is what a window says. Exactly one of its groups is set:
// Cancelled (Отмена, Esc, the window closed); PIN and Save; Consent;
// Approve (the document window's «Подписать»).
type Answer struct {
	Cancelled bool   `json:"cancelled,omitempty"`
	PIN       []byte `json:"pin,omitempty"`
	Save      bool   `json:"save,omitempty"`
	Consent   string `json:"consent,omitempty"`
	Approve   bool   `json:"approve,omitempty"`
}

// PIN outcomes, the agent's reply to an Answer with a PIN.
const (
	OutcomeOK     = "ok"     // accepted: the window closes
	OutcomeWrong  = "wrong"  // refused: the window says so and asks again
	OutcomeLocked = "locked" // the token locked: the window closes
	OutcomeFailed = "failed" // something else went wrong: the window closes
)

// Outcome is what became of a PIN. After "wrong" the counters are the
// token's new ones.
type Outcome struct {
	Status    string `json:"status"`
	TriesLeft int    `json:"triesLeft,omitempty"`
	TriesLow  bool   `json:"triesLow,omitempty"`
	FinalTry  bool   `json:"finalTry,omitempty"`
}

// ErrTooLong is a message longer than MaxLine.
var ErrTooLong = errors.New("uiproto: message too long")

// Write writes v as one line. The encoded line is cleared once written:
// an Answer's holds a PIN.
func Write(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("uiproto: %w", err)
	}
	b = append(b, '\n')
	_, err = w.Write(b)
	clear(b)
	if err != nil {
		return fmt.Errorf("uiproto: %w", err)
	}
	return nil
}

// Reader reads messages, one per line.
type Reader struct {
	s *bufio.Scanner
}

// NewReader reads from r.
func NewReader(r io.Reader) *Reader {
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 0, 4096), MaxLine)
	return &Reader{s: s}
}

// Read decodes the next line into v; at the end of input it returns
// io.EOF. The line's bytes are cleared after decoding (they may hold a
// PIN); a PIN decoded into v is the caller's to clear.
func (r *Reader) Read(v any) error {
	if !r.s.Scan() {
		if err := r.s.Err(); err != nil {
			if errors.Is(err, bufio.ErrTooLong) {
				return ErrTooLong
			}
			return fmt.Errorf("uiproto: %w", err)
		}
		return io.EOF
	}
	line := r.s.Bytes()
	err := json.Unmarshal(line, v)
	clear(line)
	if err != nil {
		return fmt.Errorf("uiproto: %w", err)
	}
	return nil
}
