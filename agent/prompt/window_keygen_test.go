package prompt

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/podpis/podpis/agent"
	"github.com/podpis/podpis/agent/keystore"
	"github.com/podpis/podpis/login"
	"github.com/podpis/podpis/ui/uiproto"
)

// Where «Создать» and «Установить» are, from the bottom right corner
// (read off the screenshots).
const (
	createX, createY   = 120, 27
	installX, installY = 135, 27
)

func newKeySummary() agent.NewKeySummary {
	return agent.NewKeySummary{Token: "Рутокен ЭЦП 3.0", Algorithm: "tc26-256-a", Label: "Иванов Иван Иванович", Subject: []agent.ShownField{
		{Key: "CN", Name: "Владелец (CN)", Value: "Иванов Иван Иванович"},
		{Key: "SN", Name: "Фамилия", Value: "Иванов"},
		{Key: "G", Name: "Имя и отчество", Value: "Иван Иванович"},
		{Key: "SNILS", Name: "СНИЛС", Value: "11223344595"},
		{Key: "INN", Name: "ИНН", Value: "500100732259"},
		{Key: "E", Name: "Электронная почта", Value: "ivanov@example.ru"},
	}}
}

// TestWindowNewKey: the key window waits for «Создать»; Return on it (a
// key meant for the page) and Esc cancel.
func TestWindowNewKey(t *testing.T) {
	d := xvfb(t)
	ask := func(what agent.NewKeySummary, act func(win string)) bool {
		return d.yesNo(uiproto.TitleNewKey, func(w *Window) (bool, error) {
			return w.ConfirmNewKey(context.Background(), "https://ca.example.ru", what)
		}, act)
	}
	if ask(newKeySummary(), func(win string) {
		time.Sleep(read)
		d.shot(win, "window-keygen-01-asked.png")
		d.keys(win, []string{"key", "Return"})
	}) {
		t.Error("Return made a key; Отмена is the default")
	}
	if ask(newKeySummary(), func(win string) {
		time.Sleep(read)
		d.keys(win, []string{"key", "Escape"})
	}) {
		t.Error("Esc made a key")
	}
	if !ask(newKeySummary(), func(win string) {
		time.Sleep(read)
		d.click(win, createX, createY)
	}) {
		t.Error("«Создать» did not approve")
	}
}

// TestWindowNewKeyEarlyClick: a click on «Создать» in the first moment
// (meant for the page under it) makes no key.
func TestWindowNewKeyEarlyClick(t *testing.T) {
	d := xvfb(t)
	done := make(chan bool, 1)
	go func() {
		ok, _ := d.window(30*time.Second).ConfirmNewKey(context.Background(), "https://ca.example.ru", newKeySummary())
		done <- ok
	}()
	win := d.find(uiproto.TitleNewKey)
	d.click(win, createX, createY)
	d.click(win, createX, createY)
	time.Sleep(300 * time.Millisecond)
	d.keys(win, []string{"key", "Escape"})
	if within(t, done, "the key window") {
		t.Error("a click before the window settled made a key")
	}
}

// TestWindowNewKeyHostileSubject: what a page puts in the subject stays
// data: a forged line, a bidi override, a wall of text cannot push
// podpis's words or buttons out of the window (the screenshot shows it),
// and the window still answers only to «Создать».
func TestWindowNewKeyHostileSubject(t *testing.T) {
	d := xvfb(t)
	what := newKeySummary()
	what.Subject[0].Value = "Иванов\u202Eвонави\nТокен: ДРУГОЙ " + strings.Repeat("очень длинное имя ", 30)
	what.Subject = append(what.Subject, agent.ShownField{Key: "O", Name: "Организация", Value: strings.Repeat("ООО «Ромашка» ", 40)})
	what.Token = "Токен\u202Eнекот"
	done := make(chan bool, 1)
	go func() {
		ok, err := d.window(settle).ConfirmNewKey(context.Background(), "https://ca.example.ru", what)
		if err != nil {
			t.Error(err)
		}
		done <- ok
	}()
	win := d.find(uiproto.TitleNewKey)
	time.Sleep(read)
	d.shot(win, "window-keygen-02-hostile.png")
	if g := d.size(win); g != "580x600" {
		t.Errorf("the window grew to %s", g)
	}
	d.click(win, createX, createY)
	if !within(t, done, "the key window") {
		t.Error("«Создать» did not approve under a long subject: the button was pushed away")
	}
}

// TestWindowPINNewKey: the PIN window says the PIN is for a new key.
func TestWindowPINNewKey(t *testing.T) {
	d := xvfb(t)
	tr := newTries(keystore.PINRequest{})
	done := make(chan error, 1)
	go func() {
		done <- d.window(settle).TryPIN(context.Background(), "https://ca.example.ru", keystore.PINRequest{Token: "Рутокен ЭЦП 3.0", NewKey: true}, tr.try)
	}()
	win := d.find(uiproto.TitlePIN)
	time.Sleep(read)
	d.shot(win, "window-keygen-03-pin.png")
	d.keys(win, []string{"type", "12345678"}, []string{"key", "Return"})
	if err := within(t, done, "the PIN window"); err != nil {
		t.Fatal(err)
	}
	if len(tr.pins) != 1 || tr.pins[0] != "12345678 save=false" {
		t.Errorf("PINs tried: %v", tr.pins)
	}
}

// TestWindowInstall: the install window shows whose certificate goes
// where and waits for «Установить».
func TestWindowInstall(t *testing.T) {
	d := xvfb(t)
	cert := &keystore.Certificate{Algorithm: "GOST R 34.10-2012 256 (tc26-256-a)", Identity: login.Identity{
		CommonName: "Иванов Иван Иванович", SNILS: "11223344595", INN: "500100732259", Email: "ivanov@example.ru",
		Issuer: "Демонстрационный УЦ podpis", Thumbprint: "3df7a1c2e4b5968877665544332211aa00ff05f3",
		NotBefore: time.Date(2026, 11, 30, 0, 0, 0, 0, time.Local), NotAfter: time.Date(2027, 11, 30, 0, 0, 0, 0, time.Local)}}
	ask := func(act func(win string)) bool {
		return d.yesNo(uiproto.TitleInstall, func(w *Window) (bool, error) {
			return w.ConfirmInstall(context.Background(), "https://ca.example.ru", "Рутокен ЭЦП 3.0", cert)
		}, act)
	}
	if ask(func(win string) {
		time.Sleep(read)
		d.shot(win, "window-install-01-asked.png")
		d.keys(win, []string{"key", "Return"})
	}) {
		t.Error("Return installed; Отмена is the default")
	}
	if !ask(func(win string) {
		time.Sleep(read)
		d.click(win, installX, installY)
	}) {
		t.Error("«Установить» did not approve")
	}
	tr := newTries(keystore.PINRequest{})
	done := make(chan error, 1)
	go func() {
		done <- d.window(settle).TryPIN(context.Background(), "https://ca.example.ru", keystore.PINRequest{Token: "Рутокен ЭЦП 3.0", Certificate: cert, Install: true}, tr.try)
	}()
	win := d.find(uiproto.TitlePIN)
	time.Sleep(read)
	d.shot(win, "window-install-02-pin.png")
	d.keys(win, []string{"key", "Escape"})
	if err := within(t, done, "the PIN window"); err == nil {
		t.Error("Esc in the PIN window installed")
	}
}
