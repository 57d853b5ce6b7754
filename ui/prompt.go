package ui

import (
	"fmt"
	"image/color"
	"io"
	"os"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/podpis/podpis/ui/uiproto"
)

// Window sizes: fixed, as a CSP's dialogs are, so that nothing a page
// writes can grow a window past its buttons.
var (
	pinSize      = fyne.NewSize(520, 520)
	consentSize  = fyne.NewSize(540, 380)
	documentSize = fyne.NewSize(560, 560)
	batchSize    = fyne.NewSize(640, 680)
)

// Titles of the windows.
const (
	TitlePIN       = uiproto.TitlePIN
	TitleContainer = uiproto.TitleContainer
	TitleConsent   = uiproto.TitleConsent
	TitleDocument  = uiproto.TitleDocument
)

// Prompt modes of podpis-ui: each reads one uiproto.Prompt from in,
// shows its window and writes the answers to out. They return the
// program's exit code.

// RunPIN shows the PIN window. Each press of OK (or Return) writes one
// Answer with the PIN and reads the agent's Outcome: after a wrong PIN
// the window says so with the token's new count and waits for the person
// again; otherwise it closes.
func RunPIN(in io.Reader, out io.Writer) int {
	r := uiproto.NewReader(in)
	var p uiproto.Prompt
	if err := r.Read(&p); err != nil {
		fmt.Fprintf(os.Stderr, "podpis-ui: %v\n", err)
		return 2
	}
	a := NewApp()
	w := a.NewWindow(TitlePIN)
	if p.Container {
		w.SetTitle(TitleContainer)
	}
	s := newSettle(p.SettleMillis)
	answered := false
	cancel := func() {
		if !answered {
			answered = true
			uiproto.Write(out, uiproto.Answer{Cancelled: true})
		}
		a.Quit()
	}
	w.SetCloseIntercept(cancel)

	entry := newPINEntry(s, cancel)
	save := widget.NewCheck("Сохранить пароль (на 30 минут)", nil)
	if p.Purpose != "" {
		// A PIN for a new key or an installation is used once and kept
		// for nothing else.
		save.Hide()
	}
	status := widget.NewLabel("")
	status.Wrapping = fyne.TextWrapWord
	status.Importance = widget.DangerImportance
	status.TextStyle.Bold = true
	tries := text("")
	showTries(tries, p.TriesLeft, p.TriesLow, p.FinalTry)

	// The agent's replies, read from the start: stdin closed (the agent
	// went away or gave up) closes the window, whatever it shows.
	outcomes := make(chan uiproto.Outcome)
	go func() {
		for {
			var o uiproto.Outcome
			if err := r.Read(&o); err != nil {
				fyne.Do(func() {
					answered = true
					a.Quit()
				})
				return
			}
			outcomes <- o
		}
	}()

	var ok *keyButton
	submit := func() {
		if answered || !s.done() || ok.Disabled() || entry.Text == "" {
			return
		}
		pin := []byte(entry.Text)
		// The entry's string cannot be cleared; it is dropped at once, and
		// the bytes sent are.
		entry.SetText("")
		err := uiproto.Write(out, uiproto.Answer{PIN: pin, Save: save.Checked})
		clear(pin)
		if err != nil {
			answered = true
			a.Quit()
			return
		}
		ok.Disable()
		entry.Disable()
		status.SetText("Проверка PIN-кода…")
		status.Importance = widget.MediumImportance
		go func() {
			o := <-outcomes
			fyne.Do(func() {
				if o.Status != uiproto.OutcomeWrong {
					answered = true
					a.Quit()
					return
				}
				status.Importance = widget.DangerImportance
				status.SetText("Неверный PIN-код. Введите его ещё раз.")
				showTries(tries, o.TriesLeft, o.TriesLow, o.FinalTry)
				entry.Enable()
				ok.Enable()
				w.Canvas().Focus(entry)
			})
		}()
	}
	entry.OnSubmitted = func(string) { submit() }
	ok = newButton("OK", widget.HighImportance, submit, cancel)
	no := newButton("Отмена", widget.MediumImportance, cancel, cancel)
	ok.Disable()
	s.after(func() {
		if entry.Disabled() {
			return
		}
		ok.Enable()
	})

	ask, fieldName, tokenName, head := pinWords(p)
	body := container.NewVBox(text(ask), site(p.Origin, p.OriginASCII))
	size, docName := "", "Документ"
	if !p.Login && p.Document != nil {
		size = humanSize(p.Document.Size)
		if p.Document.Count > 1 {
			docName, size = "Документы", fmt.Sprintf("%d, всего %s", p.Document.Count, size)
		}
	}
	body.Add(fields(docName, size, "Владелец", p.Owner, tokenName, p.Token))
	body.Add(tries)
	body.Add(container.NewBorder(nil, nil, widget.NewLabel(fieldName+":"), nil, entry))
	body.Add(save)
	body.Add(status)
	frame(w, pinSize, header(theme.LoginIcon(), head), body, buttons(ok, no))
	w.Canvas().Focus(entry)
	w.ShowAndRun()
	if !answered {
		uiproto.Write(out, uiproto.Answer{Cancelled: true})
	}
	return 0
}

// closeOnEOF refuses and closes the window once the agent closes its
// stdin: a question nobody waits for is not left on the screen.
func closeOnEOF(r *uiproto.Reader, refuse func()) {
	go func() {
		var discard struct{}
		for r.Read(&discard) == nil {
		}
		fyne.Do(refuse)
	}()
}

// showTries says what the token says of the tries left: a number when it
// tells one, else its warnings.
func showTries(l *widget.Label, left int, low, final bool) {
	l.TextStyle.Bold = final || low
	l.Importance = widget.MediumImportance
	if final {
		l.Importance = widget.DangerImportance
	}
	switch {
	case final:
		l.SetText("Осталось попыток: 1. После неверного PIN-кода токен будет заблокирован.")
	case left > 0:
		l.SetText(fmt.Sprintf("Осталось попыток: %d", left))
	case low:
		l.SetText("Ранее был введён неверный PIN-код: попыток осталось мало.")
	default:
		l.SetText("")
	}
	if l.Text == "" {
		l.Hide()
	} else {
		l.Show()
	}
}

// RunConsent shows the consent window: the site large, in Unicode and in
// punycode, and «Разрешить всегда / Только сейчас / Запретить», of which
// Запретить is the default — Return on a window that has just appeared,
// Esc and closing the window all deny.
func RunConsent(in io.Reader, out io.Writer) int {
	var p uiproto.Prompt
	r := uiproto.NewReader(in)
	if err := r.Read(&p); err != nil {
		fmt.Fprintf(os.Stderr, "podpis-ui: %v\n", err)
		return 2
	}
	a := NewApp()
	w := a.NewWindow(TitleConsent)
	s := newSettle(p.SettleMillis)
	answered := false
	answer := func(c string) {
		if !answered {
			answered = true
			uiproto.Write(out, uiproto.Answer{Consent: c})
		}
		a.Quit()
	}
	deny := func() { answer(uiproto.ConsentDeny) }
	w.SetCloseIntercept(deny)
	closeOnEOF(r, deny)
	always := newButton("Разрешить всегда", widget.MediumImportance, func() { answer(uiproto.ConsentAlways) }, deny)
	once := newButton("Только сейчас", widget.MediumImportance, func() { answer(uiproto.ConsentOnce) }, deny)
	no := newButton("Запретить", widget.HighImportance, deny, deny)
	always.Disable()
	once.Disable()
	s.after(func() { always.Enable(); once.Enable() })
	w.Canvas().SetOnTypedKey(func(k *fyne.KeyEvent) {
		switch k.Name {
		case fyne.KeyEscape, fyne.KeyReturn, fyne.KeyEnter:
			deny()
		}
	})
	body := container.NewVBox(
		text("Сайт запрашивает доступ к вашим сертификатам электронной подписи:"),
		site(p.Origin, p.OriginASCII),
		text("Разрешить этому сайту видеть сертификаты и просить подпись? PIN-код будет спрошен отдельно."),
	)
	frame(w, consentSize, header(theme.QuestionIcon(), "Доступ к сертификатам"), body, buttons(always, once, no))
	w.ShowAndRun()
	if !answered {
		uiproto.Write(out, uiproto.Answer{Consent: uiproto.ConsentDeny})
	}
	return 0
}

// RunDocument shows the document window: the site, the description
// marked as the site's words, the file's name, size and Streebog digest,
// and «Подписать / Отмена», Отмена the default.
func RunDocument(in io.Reader, out io.Writer) int {
	var p uiproto.Prompt
	r := uiproto.NewReader(in)
	if err := r.Read(&p); err != nil || p.Document == nil {
		fmt.Fprintf(os.Stderr, "podpis-ui: no document to show (%v)\n", err)
		return 2
	}
	a := NewApp()
	return approveWindow(a, r, out, TitleDocument, "Подписать", p.SettleMillis, func(w fyne.Window, sign, no *keyButton) {
		layDocument(w, p, sign, no)
	})
}

// layDocument lays out one document, or the list of a batch.
func layDocument(w fyne.Window, p uiproto.Prompt, sign, no *keyButton) {
	d := p.Document
	digestName := d.DigestName
	if digestName == "" {
		digestName = "Стрибог-256"
	}
	if len(d.Items) > 1 {
		runBatch(w, p, digestName, sign, no)
	} else {
		digest := widget.NewLabelWithStyle(groupHex(d.Streebog), fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
		body := container.NewVBox(
			text("Сайт просит подписать документ:"),
			site(p.Origin, p.OriginASCII),
		)
		if d.Description != "" {
			body.Add(siteWords(d.Description, 64))
		}
		size := humanSize(d.Size)
		if d.HashOnly {
			size = "неизвестен: сайт передал только хэш документа"
		}
		body.Add(fields("Файл", d.Name, "Размер", size, "Сертификат", p.Owner))
		hash := widget.NewLabel("Хэш «" + digestName + "»:")
		body.Add(container.NewVBox(hash, digest))
		frame(w, documentSize, header(theme.DocumentIcon(), "Подпись документа"), body, buttons(sign, no))
	}
}

// runBatch lays out the document window for a batch: every document
// with its name, size and digest in a list of fixed height that scrolls
// (the site's words and podpis's buttons stay in place), one «Подписать»
// for all, one PIN after it.
func runBatch(w fyne.Window, p uiproto.Prompt, digestName string, sign, no fyne.CanvasObject) {
	d := p.Document
	var total int64
	known := true
	for _, it := range d.Items {
		if it.Size < 0 {
			known = false
		} else {
			total += it.Size
		}
	}
	body := container.NewVBox(
		text(fmt.Sprintf("Сайт просит подписать документы (%d) одним PIN-кодом:", len(d.Items))),
		site(p.Origin, p.OriginASCII),
	)
	if d.Description != "" {
		body.Add(siteWords(d.Description, 36))
	}
	sum := humanSize(int(total))
	if !known {
		sum += "; у части документов — только хэш от сайта"
	}
	body.Add(fields("Всего", sum, "Сертификат", p.Owner))
	list := container.NewVBox()
	for i, it := range d.Items {
		name := it.Name
		if name == "" {
			name = "без имени"
		}
		size := "размер неизвестен: сайт передал только хэш"
		if it.Size >= 0 {
			size = humanSize(int(it.Size))
		}
		n := widget.NewLabelWithStyle(fmt.Sprintf("%d. %s", i+1, bounded(name, maxShown)), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		n.Wrapping = fyne.TextWrapBreak
		h := widget.NewLabelWithStyle(groupHex(it.Digest), fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
		row := container.New(tightVBox{}, n, widget.NewLabel(size), h)
		if i > 0 {
			list.Add(widget.NewSeparator())
		}
		list.Add(row)
	}
	// The list scrolls in a box of its own, the rest of the window stays.
	bg := canvas.NewRectangle(color.NRGBA{R: 0xfa, G: 0xfa, B: 0xfc, A: 0xff})
	bg.StrokeColor = color.NRGBA{R: 0xc8, G: 0xc8, B: 0xd0, A: 0xff}
	bg.StrokeWidth = 1
	scroll := container.NewVScroll(list)
	scroll.SetMinSize(fyne.NewSize(0, 262))
	body.Add(widget.NewLabel("Документы и их хэши «" + digestName + "»:"))
	body.Add(container.NewStack(bg, scroll))
	frame(w, batchSize, header(theme.DocumentIcon(), "Подпись пакета документов"), body, buttons(sign, no))
}

// pinWords are the PIN window's own lines: what the secret is for (a
// login, or a document, so that a PIN typed for «вход» is not spent on a
// document nobody saw), and a token's PIN or a CSP container's password.
func pinWords(p uiproto.Prompt) (ask, field, token, head string) {
	doing := "войти на сайт"
	switch {
	case p.Purpose == uiproto.PurposeNewKey:
		doing = "создать на токене новый ключ электронной подписи для сайта"
	case p.Purpose == uiproto.PurposeInstall:
		doing = "установить на токен сертификат от сайта"
	case p.Login:
	case p.Document != nil && p.Document.Count > 1:
		doing = fmt.Sprintf("подписать документы (%d) для сайта", p.Document.Count)
	default:
		doing = "подписать документ для сайта"
	}
	if p.Container {
		return "Введите пароль доступа к контейнеру ключей, чтобы " + doing + ":", "Пароль", "Имя контейнера", "Пароль контейнера ключей"
	}
	return "Введите PIN-код токена, чтобы " + doing + ":", "PIN-код", "Токен", "PIN-код токена"
}
