package ui

import (
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
)

// settle tells whether a window has been on the screen long enough to
// take keys as meant for it. A page can open a prompt while the person
// types elsewhere; their Return or Space in the window's first moment is
// not an answer. (The zenity dialogs did this by showing a dialog again;
// the browser page refuses an answer posted too soon.)
type settle struct {
	since time.Time
	d     time.Duration
}

func newSettle(millis int) settle {
	d := time.Duration(millis) * time.Millisecond
	if d <= 0 {
		d = time.Second
	}
	return settle{since: time.Now(), d: d}
}

func (s settle) done() bool { return time.Since(s.since) >= s.d }

// after runs f on the UI goroutine once the window has settled.
func (s settle) after(f func()) {
	time.AfterFunc(time.Until(s.since.Add(s.d)), func() { fyne.Do(f) })
}

// pinEntry is the masked PIN field: it drops what is typed or pasted
// before the window settles, and takes Esc for Отмена (a focused entry
// gets every key, so the window's own handler would never see it).
type pinEntry struct {
	widget.Entry
	settle   settle
	onCancel func()
}

func newPINEntry(s settle, cancel func()) *pinEntry {
	e := &pinEntry{settle: s, onCancel: cancel}
	e.Password = true
	e.ExtendBaseWidget(e)
	return e
}

func (e *pinEntry) TypedRune(r rune) {
	if e.settle.done() {
		e.Entry.TypedRune(r)
	}
}

func (e *pinEntry) TypedKey(k *fyne.KeyEvent) {
	switch {
	case k.Name == fyne.KeyEscape:
		e.onCancel()
	case !e.settle.done():
	default:
		e.Entry.TypedKey(k)
	}
}

func (e *pinEntry) TypedShortcut(s fyne.Shortcut) {
	if e.settle.done() {
		e.Entry.TypedShortcut(s)
	}
}

// keyButton is a button that Return presses when it has the focus, as
// in the system's dialogs, and that passes Esc to the window's refusal.
type keyButton struct {
	widget.Button
	onEscape func()
}

func newButton(label string, imp widget.Importance, tapped, escape func()) *keyButton {
	b := &keyButton{onEscape: escape}
	b.Text, b.Importance, b.OnTapped = label, imp, tapped
	b.ExtendBaseWidget(b)
	return b
}

func (b *keyButton) TypedKey(k *fyne.KeyEvent) {
	switch k.Name {
	case fyne.KeyEscape:
		b.onEscape()
	case fyne.KeyReturn, fyne.KeyEnter:
		if !b.Disabled() {
			b.Tapped(nil)
		}
	default:
		b.Button.TypedKey(k)
	}
}
