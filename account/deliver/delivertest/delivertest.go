// Package delivertest runs the other ends of the account service's
// delivery for tests: a real SMTP server (github.com/emersion/go-smtp) and
// an SMS gateway sink, each keeping what it received, so a test reads a
// code from the mail or SMS the way a person would.
package delivertest

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// Received is one message as the far end got it.
type Received struct {
	Channel string `json:"channel"` // "email" or "sms"
	To      string `json:"to"`
	Subject string `json:"subject,omitempty"`
	Text    string `json:"text"`
}

// Inbox is what a sink received, by recipient.
type Inbox struct {
	mu   sync.Mutex
	msgs []Received
}

func newInbox() *Inbox { return &Inbox{} }

func (in *Inbox) add(r Received) {
	in.mu.Lock()
	in.msgs = append(in.msgs, r)
	in.mu.Unlock()
}

// All returns every message received.
func (in *Inbox) All() []Received {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]Received(nil), in.msgs...)
}

// Count is how many messages to went to.
func (in *Inbox) Count(to string) int {
	n := 0
	for _, m := range in.All() {
		if m.To == to {
			n++
		}
	}
	return n
}

var codeRE = regexp.MustCompile(`\b\d{6}\b`)

// Wait waits (up to 10 s: delivery may run in the background) until n
// messages went to to, failing t if they do not come.
func (in *Inbox) Wait(t testing.TB, to string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for in.Count(to) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d messages to %s, want %d", in.Count(to), to, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Last returns the last message to to, waiting for one, failing t if
// none comes.
func (in *Inbox) Last(t testing.TB, to string) Received {
	t.Helper()
	in.Wait(t, to, 1)
	msgs := in.All()
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].To == to {
			return msgs[i]
		}
	}
	t.Fatalf("no message to %s (received %d messages)", to, len(msgs))
	return Received{}
}

// Code returns the six-digit code of the last message to to.
func (in *Inbox) Code(t testing.TB, to string) string {
	t.Helper()
	m := in.Last(t, to)
	c := codeRE.FindString(m.Text)
	if c == "" {
		t.Fatalf("the message to %s has no code: %q", to, m.Text)
	}
	return c
}

// SMTP is a running SMTP server.
type SMTP struct {
	Addr string
	*Inbox
}

// StartSMTP runs an SMTP server on a loopback port for the duration of t.
func StartSMTP(t testing.TB) *SMTP {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &SMTP{Addr: l.Addr().String(), Inbox: newInbox()}
	srv := NewSMTPServer(s.add)
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return s
}

// NewSMTPServer is an SMTP server that hands each message it receives, as
// a mail client would read it, to add: the subject's encoded words and a
// quoted-printable body decoded. The browser tests' sink runs one too.
func NewSMTPServer(add func(Received)) *smtp.Server {
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{add: add}, nil }))
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	return srv
}

type session struct {
	add func(Received)
	to  []string
}

func (s *session) Reset()                                    { s.to = nil }
func (s *session) Logout() error                             { return nil }
func (s *session) Mail(string, *smtp.MailOptions) error      { return nil }
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error { s.to = append(s.to, to); return nil }
func (s *session) Data(r io.Reader) error {
	m, err := mail.ReadMessage(r)
	if err != nil {
		return err
	}
	var body io.Reader = m.Body
	if strings.EqualFold(m.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		body = quotedprintable.NewReader(body)
	}
	text, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		return err
	}
	if len(s.to) == 0 {
		return errors.New("delivertest: no recipient")
	}
	for _, to := range s.to {
		s.add(Received{Channel: "email", To: to, Subject: subject, Text: strings.ReplaceAll(string(text), "\r\n", "\n")})
	}
	return nil
}

// SMS is a running SMS gateway sink.
type SMS struct {
	URL string
	*Inbox
	// Fail, while set, makes the gateway answer 502.
	Fail atomic.Bool
}

// StartSMS runs an SMS gateway sink for the duration of t; it requires
// the request format of docs/account.md and the bearer token when token
// is not empty.
func StartSMS(t testing.TB, token string) *SMS {
	t.Helper()
	s := &SMS{Inbox: newInbox()}
	srv := httptest.NewServer(SMSHandler(token, &s.Fail, s.add))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// SMSHandler is the SMS gateway: it takes exactly the request of
// docs/account.md (and the bearer token, when token is not empty) and
// hands each message to add; while fail is set it answers 502.
func SMSHandler(token string, fail *atomic.Bool, add func(Received)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct{ To, Text string }
		switch {
		case r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json":
			http.Error(w, "POST application/json", http.StatusBadRequest)
		case token != "" && r.Header.Get("Authorization") != "Bearer "+token:
			http.Error(w, "bad token", http.StatusUnauthorized)
		case json.NewDecoder(r.Body).Decode(&req) != nil || req.To == "" || req.Text == "":
			http.Error(w, "want {to, text}", http.StatusBadRequest)
		case fail != nil && fail.Load():
			http.Error(w, "gateway down", http.StatusBadGateway)
		default:
			add(Received{Channel: "sms", To: req.To, Text: req.Text})
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"status":"queued"}`))
		}
	})
}
