// Command codesink is the far end of the account service's code delivery
// for the browser tests (webclient/test/account.test.mjs): a real SMTP
// server (github.com/emersion/go-smtp) and an SMS gateway that accepts the
// request of docs/account.md, both keeping what they received, so that a
// test reads a code from the mail or SMS the way a person would. It prints
//
//	smtp 127.0.0.1:PORT
//	sms http://127.0.0.1:PORT/sms
//	messages http://127.0.0.1:PORT/messages
//
// and serves GET /messages?to=ADDRESS: what came to ADDRESS, oldest first,
// as JSON [{"channel","to","subject","text"}]. It stops on SIGINT/SIGTERM.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/mail"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/emersion/go-smtp"
)

type message struct {
	Channel string `json:"channel"`
	To      string `json:"to"`
	Subject string `json:"subject,omitempty"`
	Text    string `json:"text"`
}

type inbox struct {
	mu   sync.Mutex
	msgs []message
}

func (in *inbox) add(m message) {
	in.mu.Lock()
	in.msgs = append(in.msgs, m)
	in.mu.Unlock()
}

func (in *inbox) to(addr string) []message {
	in.mu.Lock()
	defer in.mu.Unlock()
	out := []message{}
	for _, m := range in.msgs {
		if addr == "" || strings.EqualFold(m.To, addr) {
			out = append(out, m)
		}
	}
	return out
}

func main() {
	in := &inbox{}

	sl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{in: in}, nil }))
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	go srv.Serve(sl)

	hl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	// The gateway: the request format the service documents, nothing looser.
	mux.HandleFunc("POST /sms", func(w http.ResponseWriter, r *http.Request) {
		var req struct{ To, Text string }
		if r.Header.Get("Content-Type") != "application/json" || json.NewDecoder(r.Body).Decode(&req) != nil || req.To == "" || req.Text == "" {
			http.Error(w, `want application/json {"to","text"}`, http.StatusBadRequest)
			return
		}
		in.add(message{Channel: "sms", To: req.To, Text: req.Text})
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"status":"queued"}`))
	})
	mux.HandleFunc("GET /messages", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(in.to(r.URL.Query().Get("to")))
	})
	go http.Serve(hl, mux)

	fmt.Printf("smtp %s\nsms http://%s/sms\nmessages http://%s/messages\n", sl.Addr(), hl.Addr(), hl.Addr())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	srv.Close()
}

type session struct {
	in *inbox
	to []string
}

func (s *session) Reset()                                    { s.to = nil }
func (s *session) Logout() error                             { return nil }
func (s *session) Mail(string, *smtp.MailOptions) error      { return nil }
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error { s.to = append(s.to, to); return nil }

// Data reads the mail as a mail client would: the subject's encoded words
// and a quoted-printable body decoded.
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
		return errors.New("codesink: no recipient")
	}
	for _, to := range s.to {
		s.in.add(message{Channel: "email", To: to, Subject: subject, Text: strings.ReplaceAll(string(text), "\r\n", "\n")})
	}
	return nil
}
