package deliver

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"strings"
	"time"

	"net/smtp"
)

// SMTP sends e-mail through a mail server (net/smtp): STARTTLS when the server
// offers it (required when a password is set, so it never crosses the
// network in clear), AUTH PLAIN with Username and Password.
type SMTP struct {
	Addr               string // host:port
	From               string
	Username, Password string
	// TLS configures STARTTLS; nil means the server name of Addr.
	TLS *tls.Config
}

// Send writes m as a text/plain UTF-8 mail.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("deliver: smtp: %w", err)
	}
	dl, _ := ctx.Deadline()
	conn.SetDeadline(dl)
	host, _, _ := net.SplitHostPort(s.Addr)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("deliver: smtp: %w", err)
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok {
		cfg := s.TLS
		if cfg == nil {
			cfg = &tls.Config{ServerName: host}
		}
		if err := c.StartTLS(cfg); err != nil {
			return fmt.Errorf("deliver: smtp starttls: %w", err)
		}
	} else if s.Password != "" {
		return fmt.Errorf("deliver: smtp: %s offers no STARTTLS; the password is not sent in clear", s.Addr)
	}
	if s.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", s.Username, s.Password, host)); err != nil {
			return fmt.Errorf("deliver: smtp auth: %w", err)
		}
	}
	if err := c.Mail(s.From); err != nil {
		return fmt.Errorf("deliver: smtp: %w", err)
	}
	if err := c.Rcpt(m.To); err != nil {
		return fmt.Errorf("deliver: smtp: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("deliver: smtp: %w", err)
	}
	if _, err := w.Write(s.compose(m)); err != nil {
		return fmt.Errorf("deliver: smtp: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("deliver: smtp: %w", err)
	}
	return c.Quit()
}

func (s *SMTP) compose(m Message) []byte {
	var id [12]byte
	rand.Read(id[:])
	host := "localhost"
	if _, h, ok := strings.Cut(s.From, "@"); ok {
		host = h
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%s@%s>\r\n",
		s.From, m.To, mime.BEncoding.Encode("utf-8", m.Subject), time.Now().Format(time.RFC1123Z), hex.EncodeToString(id[:]), host)
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
	w := quotedprintable.NewWriter(&b)
	w.Write([]byte(strings.ReplaceAll(m.Text, "\n", "\r\n")))
	w.Close()
	b.WriteString("\r\n")
	return b.Bytes()
}
