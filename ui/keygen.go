package ui

import (
	"fmt"
	"io"
	"os"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/podpis/podpis/ui/uiproto"
)

var (
	newKeySize  = fyne.NewSize(580, 600)
	installSize = fyne.NewSize(580, 600)
)

// RunNewKey shows the window «Сайт … просит создать ключ электронной
// подписи на токене …»: the site, the token, whose key it is to be and
// its algorithm, and «Создать / Отмена», Отмена the default (Return, Esc
// and closing the window all cancel; Создать waits out the settle time).
func RunNewKey(in io.Reader, out io.Writer) int {
	var p uiproto.Prompt
	r := uiproto.NewReader(in)
	if err := r.Read(&p); err != nil || p.NewKey == nil {
		fmt.Fprintf(os.Stderr, "podpis-ui: no key to show (%v)\n", err)
		return 2
	}
	k := p.NewKey
	a := NewApp() // before any widget
	body := container.NewVBox(
		text("Сайт"),
		site(p.Origin, p.OriginASCII),
		text("просит создать ключ электронной подписи на токене «"+bounded(p.Token, 100)+"» и запрос на сертификат для него. "+
			"Создавайте ключ, только если вы сами сейчас получаете сертификат на этом сайте."),
	)
	export := "нет: ключ не покинет токен"
	if k.Exportable {
		export = "да, в зашифрованном виде"
	}
	// podpis's facts first: however long the page made the subject, they
	// are in view without scrolling.
	body.Add(fields("Алгоритм", algorithmName(k.Algorithm), "Экспорт ключа", export, "Имя ключа на токене", k.Label))
	body.Add(text("Удостоверяющий центр выпустит по запросу сертификат на имя:"))
	body.Add(fieldTable(k.Subject))
	body.Add(text("PIN-код токена будет спрошен отдельно."))
	return runApprove(a, r, out, uiproto.TitleNewKey, newKeySize, header(theme.ContentAddIcon(), "Создание ключа электронной подписи"), body, "Создать", p.SettleMillis)
}

// RunInstall shows the window asking to write a certificate to a token:
// the site, whose certificate it is (owner, SNILS, INN…), who issued it
// and when it is valid, and the token; «Установить / Отмена», Отмена the
// default.
func RunInstall(in io.Reader, out io.Writer) int {
	var p uiproto.Prompt
	r := uiproto.NewReader(in)
	if err := r.Read(&p); err != nil || p.Install == nil {
		fmt.Fprintf(os.Stderr, "podpis-ui: no certificate to show (%v)\n", err)
		return 2
	}
	a := NewApp() // before any widget
	body := container.NewVBox(
		text("Сайт"),
		site(p.Origin, p.OriginASCII),
		text("просит установить сертификат на токен «"+bounded(p.Token, 100)+"», рядом с его ключом:"),
		fieldTable(append([]uiproto.Field{{Name: "Владелец", Value: p.Owner}}, p.Install.Fields...)),
		text("PIN-код токена будет спрошен отдельно."),
	)
	return runApprove(a, r, out, uiproto.TitleInstall, installSize, header(theme.DownloadIcon(), "Установка сертификата"), body, "Установить", p.SettleMillis)
}

// runApprove shows a question whose answer is yes (the button yes, once
// the window has settled) or no (Отмена, the default: Return, Esc,
// closing the window, the agent going away).
func runApprove(a fyne.App, r *uiproto.Reader, out io.Writer, title string, size fyne.Size, head, body fyne.CanvasObject, yes string, settle int) int {
	return approveWindow(a, r, out, title, yes, settle, func(w fyne.Window, ok, no *keyButton) {
		frame(w, size, head, body, buttons(ok, no))
	})
}

// approveWindow is the yes/no window's behaviour, whatever lay puts in
// it: the answer written once, yes only once settled, Отмена on Return,
// Esc, closing and the agent going away.
func approveWindow(a fyne.App, r *uiproto.Reader, out io.Writer, title, yes string, settle int, lay func(w fyne.Window, ok, no *keyButton)) int {
	w := a.NewWindow(title)
	s := newSettle(settle)
	answered := false
	answer := func(ok bool) {
		if !answered {
			answered = true
			if ok {
				uiproto.Write(out, uiproto.Answer{Approve: true})
			} else {
				uiproto.Write(out, uiproto.Answer{Cancelled: true})
			}
		}
		a.Quit()
	}
	cancel := func() { answer(false) }
	w.SetCloseIntercept(cancel)
	closeOnEOF(r, cancel)
	ok := newButton(yes, widget.MediumImportance, func() {
		if s.done() {
			answer(true)
		}
	}, cancel)
	no := newButton("Отмена", widget.HighImportance, cancel, cancel)
	ok.Disable()
	s.after(ok.Enable)
	w.Canvas().SetOnTypedKey(func(k *fyne.KeyEvent) {
		switch k.Name {
		case fyne.KeyEscape, fyne.KeyReturn, fyne.KeyEnter:
			cancel()
		}
	})
	lay(w, ok, no)
	w.ShowAndRun()
	if !answered {
		uiproto.Write(out, uiproto.Answer{Cancelled: true})
	}
	return 0
}

// maxFields bounds the lines of a table from outside podpis.
const maxFields = 20

// fieldTable lays out named fields from outside podpis, bounded in
// number as fields bounds each value.
func fieldTable(fs []uiproto.Field) fyne.CanvasObject {
	pairs := make([]string, 0, 2*min(len(fs), maxFields))
	for _, f := range fs[:min(len(fs), maxFields)] {
		pairs = append(pairs, bounded(f.Name, 60), f.Value)
	}
	return fields(pairs...)
}

// algorithms are the names a person reads for the agent's algorithms.
var algorithms = map[string]string{
	"tc26-256-a": "ГОСТ Р 34.10-2012, 256 бит (ТК26 A)", "tc26-256-b": "ГОСТ Р 34.10-2012, 256 бит (ТК26 B)",
	"tc26-256-c": "ГОСТ Р 34.10-2012, 256 бит (ТК26 C)", "tc26-256-d": "ГОСТ Р 34.10-2012, 256 бит (ТК26 D)",
	"cryptopro-a": "ГОСТ Р 34.10-2012, 256 бит (КриптоПро A)", "cryptopro-b": "ГОСТ Р 34.10-2012, 256 бит (КриптоПро B)",
	"cryptopro-c": "ГОСТ Р 34.10-2012, 256 бит (КриптоПро C)", "cryptopro-xcha": "ГОСТ Р 34.10-2012, 256 бит (КриптоПро XchA)",
	"cryptopro-xchb": "ГОСТ Р 34.10-2012, 256 бит (КриптоПро XchB)",
	"tc26-512-a":     "ГОСТ Р 34.10-2012, 512 бит (ТК26 A)", "tc26-512-b": "ГОСТ Р 34.10-2012, 512 бит (ТК26 B)",
	"tc26-512-c": "ГОСТ Р 34.10-2012, 512 бит (ТК26 C)",
	"rsa2048":    "RSA, 2048 бит", "rsa3072": "RSA, 3072 бит", "ecdsa-p256": "ECDSA, P-256",
}

func algorithmName(a string) string {
	if n, ok := algorithms[a]; ok {
		return n
	}
	return bounded(a, 60)
}
