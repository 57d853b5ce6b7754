package ui

import (
	"fmt"
	"image/color"
	"strings"
	"unicode"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// lightTheme is Fyne's own theme held to its light variant whatever the
// desktop prefers: the CSP dialogs people know are light, and a prompt
// that looks like them is one they read rather than dismiss.
type lightTheme struct{ fyne.Theme }

func (t lightTheme) Color(n fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	return t.Theme.Color(n, theme.VariantLight)
}

// maxShown bounds any one text from outside podpis in a window, after the
// agent's own bound: podpis-ui does not trust what it is given to be
// short.
const maxShown = 400

// bounded makes text from outside podpis fit to show, whatever the agent
// did before: control characters and line breaks become spaces (no lines
// of its own), format characters go (an RTL override would show
// "fdp.exe" as "exe.pdf"), and it is cut to max runes, the last being
// "…".
func bounded(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsControl(r) || unicode.In(r, unicode.Zl, unicode.Zp):
			return ' '
		case unicode.Is(unicode.Cf, r):
			return -1
		}
		return r
	}, s)
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return string(r[:max-1]) + "…"
}

// text is a label of podpis's own words.
func text(s string) *widget.Label {
	l := widget.NewLabel(s)
	l.Wrapping = fyne.TextWrapWord
	return l
}

// fields lays out «Name: value» pairs in two aligned columns; each
// value is from outside podpis: bounded, broken anywhere (a 300-character
// word must still wrap), and never bold, so that it cannot look like a
// heading of podpis's. Empty values are left out.
func fields(pairs ...string) fyne.CanvasObject {
	c := container.New(layout.NewFormLayout())
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			continue
		}
		n := widget.NewLabel(pairs[i] + ":")
		v := widget.NewLabel(bounded(pairs[i+1], maxShown))
		v.Wrapping = fyne.TextWrapWord
		c.Add(n)
		c.Add(v)
	}
	return c
}

// site is the origin, large and bold, with its punycode form under it
// when that differs: what the address bar shows and what it is.
func site(origin, ascii string) fyne.CanvasObject {
	o := widget.NewLabelWithStyle(bounded(origin, maxShown), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	o.SizeName = theme.SizeNameSubHeadingText
	o.Wrapping = fyne.TextWrapWord
	box := container.NewVBox(o)
	if ascii != "" && ascii != origin {
		a := widget.NewLabel("(в punycode: " + bounded(ascii, maxShown) + ")")
		a.Wrapping = fyne.TextWrapWord
		box.Add(a)
	}
	return box
}

// siteWords is a page's description, quoted in a box of its own under
// «Сайт пишет:». The box has a fixed height and scrolls: however long
// the text, it cannot push podpis's lines or buttons out of the window.
func siteWords(desc string, height float32) fyne.CanvasObject {
	l := widget.NewLabelWithStyle("«"+bounded(desc, maxShown)+"»", fyne.TextAlignLeading, fyne.TextStyle{Italic: true})
	l.Wrapping = fyne.TextWrapWord
	bg := canvas.NewRectangle(color.NRGBA{R: 0xf1, G: 0xf1, B: 0xf4, A: 0xff})
	bg.StrokeColor = color.NRGBA{R: 0xc8, G: 0xc8, B: 0xd0, A: 0xff}
	bg.StrokeWidth = 1
	scroll := container.NewVScroll(l)
	scroll.SetMinSize(fyne.NewSize(0, height))
	return container.NewVBox(text("Сайт пишет:"), container.NewStack(bg, scroll))
}

// humanSize is «1,5 КБ (1 536 байт)».
func humanSize(n int) string {
	b := groupDigits(n) + " байт"
	units := []string{"КБ", "МБ", "ГБ"}
	if n < 1024 {
		return b
	}
	v := float64(n)
	u := -1
	for v >= 1024 && u < len(units)-1 {
		v /= 1024
		u++
	}
	s := strings.Replace(fmt.Sprintf("%.1f", v), ".", ",", 1)
	s = strings.TrimSuffix(s, ",0")
	return s + " " + units[u] + " (" + b + ")"
}

// groupDigits writes 1536 as «1 536» (thin space, as Russian does).
func groupDigits(n int) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteRune('\u2009')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// groupHex writes a digest in groups of four, eight groups a line, to be
// read aloud or compared by eye.
func groupHex(h string) string {
	var b strings.Builder
	for i := 0; i < len(h); i += 4 {
		if i > 0 {
			if i%32 == 0 {
				b.WriteByte('\n')
			} else {
				b.WriteByte(' ')
			}
		}
		b.WriteString(h[i:min(i+4, len(h))])
	}
	return b.String()
}

// buttons lays out a dialog's buttons at the right, as the CSP dialogs
// do.
func buttons(bs ...fyne.CanvasObject) fyne.CanvasObject {
	return container.NewHBox(append([]fyne.CanvasObject{layout.NewSpacer()}, bs...)...)
}

// header is the band at the top of every podpis window: its icon and
// what the window is for, in podpis's own words, above anything a site
// wrote.
func header(icon fyne.Resource, title string) fyne.CanvasObject {
	bg := canvas.NewRectangle(color.NRGBA{R: 0xe8, G: 0xef, B: 0xfa, A: 0xff})
	img := canvas.NewImageFromResource(theme.NewPrimaryThemedResource(icon))
	img.FillMode = canvas.ImageFillContain
	img.SetMinSize(fyne.NewSize(36, 36))
	t := widget.NewLabelWithStyle(title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	t.SizeName = theme.SizeNameSubHeadingText
	return container.NewStack(bg, container.NewPadded(container.NewBorder(nil, nil, img, nil, t)))
}

// frame puts a window's content together: the header, a body that
// scrolls if it must, and the buttons pinned to the bottom of a window of
// fixed size.
func frame(w fyne.Window, size fyne.Size, head, body, foot fyne.CanvasObject) {
	bottom := container.NewVBox(widget.NewSeparator(), container.NewPadded(foot))
	content := container.NewBorder(head, bottom, nil, nil, container.NewPadded(container.NewVScroll(container.NewPadded(body))))
	w.SetContent(content)
	w.Resize(size)
	w.SetFixedSize(true)
	w.CenterOnScreen()
}
