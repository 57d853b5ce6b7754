package prompt

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/podpis/podpis/agent"
	"github.com/podpis/podpis/agent/keystore"
	"github.com/podpis/podpis/ui/uiproto"
)

// TestWindowBatch (issue 24): a batch is one window that lists every
// document — its name, size and digest, the one the site hashed itself
// marked so — above one «Подписать»; Return is Отмена; the window keeps
// its size however long the list.
func TestWindowBatch(t *testing.T) {
	d := xvfb(t)
	names := []string{"Договор поставки № 17.pdf", "Спецификация (приложение 1).pdf", "Акт приёма-передачи.docx",
		"Счёт-фактура 2026-11-30.xml", "Доверенность на Петрова П. П..pdf", "Протокол разногласий.odt"}
	what := agent.SignSummary{Description: "Документы по договору поставки № 17/2026", DigestName: "Стрибог-256"}
	for i, n := range names {
		size := int64(12_345 * (i + 1) * (i + 1))
		if i == 3 {
			size = -1
			what.HashOnly = true
		}
		what.Documents = append(what.Documents, agent.DocumentSummary{Name: n, Size: size, Digest: strings.Repeat(fmt.Sprintf("%x", 10+i), 64)})
	}
	ask := func(act func(win string)) bool {
		return d.yesNo(uiproto.TitleDocument, func(w *Window) (bool, error) {
			return w.ConfirmSign(context.Background(), "https://lk.example.ru", ownerCert(), what)
		}, act)
	}
	if ask(func(win string) {
		time.Sleep(read)
		d.shot(win, "window-batch-01.png")
		if got := d.size(win); got != "640x680" {
			t.Errorf("batch window %s, want 640x680", got)
		}
		d.keys(win, []string{"key", "Return"})
	}) {
		t.Error("Return signed the batch; Отмена is the default")
	}
	if !ask(func(win string) {
		time.Sleep(read)
		d.click(win, signX, signY)
	}) {
		t.Error("«Подписать» did not approve the batch")
	}
}

// TestWindowSignHash: a digest from the site (signHash) is shown with
// the size unknown and the digest's name.
func TestWindowSignHash(t *testing.T) {
	d := xvfb(t)
	what := agent.SignSummary{Description: "Счёт № 17", HashOnly: true, DigestName: "Стрибог-512", Size: 0,
		Streebog:  strings.Repeat("0123456789abcdef", 8),
		Documents: []agent.DocumentSummary{{Name: "Счёт 17.pdf", Size: -1, Digest: strings.Repeat("0123456789abcdef", 8)}}}
	done := make(chan bool, 1)
	go func() {
		ok, _ := d.window(settle).ConfirmSign(context.Background(), "https://lk.example.ru", ownerCert(), what)
		done <- ok
	}()
	win := d.find(uiproto.TitleDocument)
	time.Sleep(read)
	d.shot(win, "window-document-03-hash.png")
	d.keys(win, []string{"key", "Escape"})
	if within(t, done, "the signHash window") {
		t.Error("Esc approved")
	}
}

// TestWindowPINBatch: the PIN window after a batch's window says how many
// documents the one PIN signs, and hands over the PIN once.
func TestWindowPINBatch(t *testing.T) {
	d := xvfb(t)
	tr := newTries(keystore.PINRequest{}, nil)
	done := make(chan error, 1)
	go func() {
		done <- d.window(settle).TryPIN(context.Background(), "https://lk.example.ru",
			keystore.PINRequest{Token: "Rutoken ECP 2.0 (3a5f8c21)", Certificate: ownerCert(),
				Document: &keystore.Summary{Description: "Документы по договору поставки № 17/2026", Size: 925_875, Count: 6}}, tr.try)
	}()
	win := d.find(uiproto.TitlePIN)
	time.Sleep(read)
	d.shot(win, "window-pin-batch.png")
	d.keys(win, []string{"type", "1234"}, []string{"key", "Return"})
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the window did not close on the right PIN")
	}
	if fmt.Sprint(tr.pins) != fmt.Sprint([]string{"1234 save=false"}) {
		t.Fatalf("PINs handed over: %q", tr.pins)
	}
}
