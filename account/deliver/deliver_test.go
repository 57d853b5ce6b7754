package deliver_test

import (
	"context"
	"strings"
	"testing"

	"github.com/podpis/podpis/account/deliver"
	"github.com/podpis/podpis/account/deliver/delivertest"
)

// TestSMTP sends a Russian message through a real SMTP server and reads it
// back as a mail reader would: subject and body decoded.
func TestSMTP(t *testing.T) {
	srv := delivertest.StartSMTP(t)
	s := &deliver.SMTP{Addr: srv.Addr, From: "noreply@podpis.test"}
	err := s.Send(context.Background(), deliver.Message{Channel: deliver.Email, To: "ivan@mail.ru",
		Subject: "Код подтверждения podpis", Text: "Ваш код:\n123456\nНикому его не сообщайте."})
	if err != nil {
		t.Fatal(err)
	}
	m := srv.Last(t, "ivan@mail.ru")
	if m.Subject != "Код подтверждения podpis" || !strings.Contains(m.Text, "Никому его не сообщайте") {
		t.Fatalf("received %+v", m)
	}
	if c := srv.Code(t, "ivan@mail.ru"); c != "123456" {
		t.Fatalf("code %q", c)
	}
}

// TestSMTPNoPasswordInClear: a server without STARTTLS never gets the
// password.
func TestSMTPNoPasswordInClear(t *testing.T) {
	srv := delivertest.StartSMTP(t)
	s := &deliver.SMTP{Addr: srv.Addr, From: "noreply@podpis.test", Username: "u", Password: "secret"}
	if err := s.Send(context.Background(), deliver.Message{Channel: deliver.Email, To: "a@b.ru", Text: "123456"}); err == nil {
		t.Fatal("sent with a password over a server without STARTTLS")
	}
	if n := len(srv.All()); n != 0 {
		t.Fatalf("%d messages delivered", n)
	}
}

func TestSMSGateway(t *testing.T) {
	sink := delivertest.StartSMS(t, "tok")
	g := &deliver.SMSGateway{URL: sink.URL, Token: "tok"}
	if err := g.Send(context.Background(), deliver.Message{Channel: deliver.SMS, To: "+79161234567", Text: "Код podpis: 654321"}); err != nil {
		t.Fatal(err)
	}
	if c := sink.Code(t, "+79161234567"); c != "654321" {
		t.Fatalf("code %q", c)
	}
	bad := &deliver.SMSGateway{URL: sink.URL, Token: "wrong"}
	if err := bad.Send(context.Background(), deliver.Message{Channel: deliver.SMS, To: "+79161234567", Text: "x 111111"}); err == nil {
		t.Fatal("a refused request (401) counted as sent")
	}
	sink.Fail.Store(true)
	if err := g.Send(context.Background(), deliver.Message{Channel: deliver.SMS, To: "+79161234567", Text: "x 222222"}); err == nil {
		t.Fatal("a 502 counted as sent")
	}
}

func TestRouterOutbox(t *testing.T) {
	ob := &deliver.Outbox{Max: 2}
	r := &deliver.Router{Outbox: ob}
	for _, to := range []string{"a@b.ru", "+79161234567", "c@d.ru"} {
		ch := deliver.Email
		if strings.HasPrefix(to, "+") {
			ch = deliver.SMS
		}
		if err := r.Send(context.Background(), deliver.Message{Channel: ch, To: to, Text: "111111"}); err != nil {
			t.Fatal(err)
		}
	}
	got := ob.Messages()
	if len(got) != 2 || got[0].To != "c@d.ru" || got[1].To != "+79161234567" {
		t.Fatalf("outbox %+v", got)
	}
	if err := (&deliver.Router{}).Send(context.Background(), deliver.Message{Channel: deliver.SMS, To: "+7"}); err == nil {
		t.Fatal("a router without senders sent")
	}
}
