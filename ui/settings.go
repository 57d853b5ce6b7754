package ui

import (
	"bufio"
	"errors"
	"fmt"
	"image/color"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/podpis/podpis/login"
	"github.com/podpis/podpis/ui/uiproto"
)

// SettingsTitle is the settings window's title.
const SettingsTitle = "podpis — настройки"

// settingsSize is the window's size: a control panel's, big enough for a
// certificate's details beside the list.
var settingsSize = fyne.NewSize(760, 520)

// RunSettings shows the settings window: it reads snapshots from in and
// writes the person's actions to out (ui/uiproto) until the window is
// closed or in ends. The window changes nothing itself; it returns the
// program's exit code.
func RunSettings(a fyne.App, in io.Reader, out io.Writer) int {
	r := bufio.NewReader(in)
	first, err := uiproto.ReadSettings(r)
	if err != nil {
		fmt.Fprintf(os.Stderr, "podpis-ui: settings: %v\n", err)
		return 2
	}
	a.Settings().SetTheme(panelTheme{lightTheme{theme.DefaultTheme()}})
	w := a.NewWindow(SettingsTitle)
	s := newSettingsWindow(a, w, out)
	s.apply(first)
	w.SetContent(s.content())
	w.Resize(settingsSize)
	w.CenterOnScreen()
	w.Canvas().SetOnTypedKey(func(k *fyne.KeyEvent) {
		if k.Name == fyne.KeyEscape {
			w.Close()
		}
	})
	go func() {
		for {
			snap, err := uiproto.ReadSettings(r)
			if err != nil {
				// The opener has gone (or broke the protocol): a window
				// whose actions nobody carries out closes.
				if !errors.Is(err, io.EOF) {
					fmt.Fprintf(os.Stderr, "podpis-ui: settings: %v\n", err)
				}
				fyne.Do(a.Quit)
				return
			}
			fyne.Do(func() { s.apply(snap) })
		}
	}()
	w.ShowAndRun()
	return 0
}

// panelTheme is the prompts' light theme, made to look like the CSP
// control panels people know.
type panelTheme struct{ lightTheme }

func (t panelTheme) Color(n fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	if n == theme.ColorNameDisabled {
		// Field names and disabled buttons: grey, but readable.
		return color.Gray{Y: 0x70}
	}
	return t.lightTheme.Color(n, v)
}

// sizeNameReport is the report's monospace text size: at Fyne's caption
// size its monospace font loses its underscores (fyne-io/fyne#6006), and
// a path such as /usr/lib/x86_64-linux-gnu/ must read right.
const sizeNameReport fyne.ThemeSizeName = "podpisReport"

// Size is Fyne's with less padding inside widgets: a control panel shows
// a certificate's fields without scrolling.
func (t panelTheme) Size(n fyne.ThemeSizeName) float32 {
	switch n {
	case theme.SizeNameInnerPadding:
		return 6
	case sizeNameReport:
		return 14
	}
	return t.Theme.Size(n)
}

// settingsWindow is the window's state; its methods run on Fyne's thread.
type settingsWindow struct {
	app  fyne.App
	win  fyne.Window
	out  io.Writer
	snap *uiproto.Settings

	tabs       *container.AppTabs
	status     *widget.Label
	certList   *widget.List
	selected   int    // index into snap.Certificates, -1 for none
	selectedID string // its thumbprint
	details    *fyne.Container
	saveCert   *widget.Button
	certBody   *fyne.Container // the split, or the «none found» text
	siteList   *widget.List
	sitesBox   *fyne.Container
	report     *widget.Label
	about      *fyne.Container
}

func newSettingsWindow(a fyne.App, w fyne.Window, out io.Writer) *settingsWindow {
	return &settingsWindow{app: a, win: w, out: out, selected: -1}
}

// send writes an action for the opener.
func (s *settingsWindow) send(a uiproto.SettingsAction) {
	if err := uiproto.WriteAction(s.out, a); err != nil {
		s.setStatus("podpis не отвечает: окно настроек закроется.", true)
		s.app.Quit()
	}
}

func (s *settingsWindow) setStatus(text string, bad bool) {
	s.status.SetText(oneLine(text, maxFieldRunes))
	s.status.Importance = widget.MediumImportance
	if bad {
		s.status.Importance = widget.DangerImportance
	}
	s.status.Refresh()
}

func (s *settingsWindow) content() fyne.CanvasObject {
	s.tabs = container.NewAppTabs(
		container.NewTabItemWithIcon("Сертификаты", theme.AccountIcon(), s.certificatesTab()),
		container.NewTabItemWithIcon("Разрешённые сайты", theme.ConfirmIcon(), s.sitesTab()),
		container.NewTabItemWithIcon("Диагностика", theme.SearchIcon(), s.diagnosticsTab()),
		container.NewTabItemWithIcon("О программе", theme.InfoIcon(), s.aboutTab()),
	)
	s.tabs.SetTabLocation(container.TabLocationTop)
	s.fill()
	closeBtn := widget.NewButton("Закрыть", func() { s.win.Close() })
	bottom := container.NewBorder(nil, nil, nil, closeBtn, s.status)
	return container.NewBorder(nil, container.NewPadded(bottom), nil, nil, container.NewPadded(s.tabs))
}

// apply takes a new snapshot; before content() it only stores it.
func (s *settingsWindow) apply(snap *uiproto.Settings) {
	s.snap = snap
	if s.status == nil {
		s.status = widget.NewLabel("")
		s.status.Truncation = fyne.TextTruncateEllipsis
	}
	if snap.Failure != "" {
		s.setStatus(snap.Failure, true)
	}
	if s.tabs != nil {
		s.fill()
	}
}

// fill shows the snapshot in every tab.
func (s *settingsWindow) fill() {
	// The selected certificate stays selected across snapshots (found by
	// its thumbprint: a token taken out shifts the list).
	s.selected = -1
	for i, c := range s.snap.Certificates {
		if c.Thumbprint == s.selectedID {
			s.selected = i
		}
	}
	if s.selected < 0 && len(s.snap.Certificates) > 0 {
		s.selected = 0
	}
	s.certBody.Objects = []fyne.CanvasObject{s.certificatesBody()}
	s.certBody.Refresh()
	if s.selected >= 0 {
		s.certList.Select(s.selected)
	}
	s.showCertificate()
	s.siteList.Refresh()
	if len(s.snap.Allowed) == 0 {
		s.sitesBox.Objects = []fyne.CanvasObject{emptyText("Нет сайтов с постоянным разрешением. Когда вы нажмёте «Разрешить всегда» на странице входа, сайт появится здесь.")}
	} else {
		s.sitesBox.Objects = []fyne.CanvasObject{s.siteList}
	}
	s.sitesBox.Refresh()
	s.report.SetText(reportText(s.snap.Report))
	s.about.Objects = []fyne.CanvasObject{s.aboutBody()}
	s.about.Refresh()
}

func emptyText(text string) fyne.CanvasObject {
	l := widget.NewLabel(text)
	l.Wrapping = fyne.TextWrapWord
	l.Alignment = fyne.TextAlignCenter
	return container.NewVBox(layout.NewSpacer(), l, layout.NewSpacer())
}

// heading is a tab's explanation at its top, one label per line: labels
// that wrap report their height for the width they had before the window
// was laid out, and would make the window grow.
func heading(lines ...string) fyne.CanvasObject {
	box := container.New(&tightVBox{})
	for _, text := range lines {
		l := widget.NewLabel(text)
		l.Truncation = fyne.TextTruncateEllipsis
		box.Add(l)
	}
	return box
}

// ---- «Сертификаты»

func (s *settingsWindow) certificatesTab() fyne.CanvasObject {
	s.certList = widget.NewList(
		func() int { return len(s.snap.Certificates) },
		func() fyne.CanvasObject {
			name := widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
			name.Truncation = fyne.TextTruncateEllipsis
			sub := widget.NewLabel("")
			sub.Truncation = fyne.TextTruncateEllipsis
			sub.SizeName = theme.SizeNameCaptionText
			return container.NewBorder(nil, nil, widget.NewIcon(theme.AccountIcon()), nil,
				container.New(&tightVBox{}, name, sub))
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			c := s.snap.Certificates[i]
			rows := o.(*fyne.Container).Objects[0].(*fyne.Container).Objects
			rows[0].(*widget.Label).SetText(oneLine(c.Owner, maxFieldRunes))
			sub := rows[1].(*widget.Label)
			sub.SetText(oneLine(listLine(c), maxFieldRunes))
			sub.Importance = widget.MediumImportance
			if len(c.Problems) > 0 {
				sub.Importance = widget.DangerImportance
			}
			sub.Refresh()
		},
	)
	s.certList.OnSelected = func(i widget.ListItemID) {
		s.selected = i
		s.selectedID = s.snap.Certificates[i].Thumbprint
		s.showCertificate()
	}
	s.details = container.New(layout.NewFormLayout())
	s.saveCert = widget.NewButtonWithIcon("Сохранить сертификат…", theme.DocumentSaveIcon(), s.saveCertificate)
	s.certBody = container.NewStack()
	return s.certBody
}

// certificatesBody is the list beside the details, or the «none found»
// text.
func (s *settingsWindow) certificatesBody() fyne.CanvasObject {
	if len(s.snap.Certificates) == 0 {
		return emptyText("Сертификаты не найдены. Вставьте токен с электронной подписью; что не так — на вкладке «Диагностика».")
	}
	right := container.NewBorder(nil, container.NewHBox(layout.NewSpacer(), s.saveCert), nil, nil,
		container.NewVScroll(container.NewPadded(s.details)))
	split := container.NewHSplit(s.certList, right)
	split.SetOffset(0.36)
	return split
}

// listLine is a certificate's second line in the list.
func listLine(c uiproto.SettingsCertificate) string {
	line := "до " + date(c.NotAfter)
	if len(c.Problems) > 0 {
		line = uiproto.ProblemsText(c.Problems) + " · " + line
	}
	if c.Token != "" {
		line += " · " + c.Token
	}
	return line
}

func (s *settingsWindow) showCertificate() {
	if s.selected < 0 || s.selected >= len(s.snap.Certificates) {
		s.details.Objects = nil
		s.details.Refresh()
		s.saveCert.Disable()
		return
	}
	c := s.snap.Certificates[s.selected]
	var objs []fyne.CanvasObject
	row := func(name, value string, imp widget.Importance) {
		if value == "" {
			return
		}
		k := fieldName(name)
		v := widget.NewLabel(oneLine(value, maxFieldRunes))
		// Wrapped, never widened: a long name takes lines, not the
		// window's width.
		v.Wrapping = fyne.TextWrapBreak
		v.Selectable = true
		v.Importance = imp
		objs = append(objs, k, v)
	}
	plain := widget.MediumImportance
	row("Владелец", c.Owner, plain)
	row("Организация", c.Organization, plain)
	row("СНИЛС", login.FormatSNILS(c.SNILS), plain)
	row("ИНН", c.INN, plain)
	row("ИНН организации", c.INNLE, plain)
	row("ОГРН", c.OGRN, plain)
	row("ОГРНИП", c.OGRNIP, plain)
	row("Издатель", c.Issuer, plain)
	validity := "с " + date(c.NotBefore) + " по " + date(c.NotAfter)
	vimp := plain
	if hasProblem(c, "EXPIRED") {
		validity += " (истёк)"
		vimp = widget.DangerImportance
	} else if hasProblem(c, "NOT_YET_VALID") {
		validity += " (ещё не действует)"
		vimp = widget.DangerImportance
	}
	row("Действителен", validity, vimp)
	row("Токен", c.Token, plain)
	row("Провайдер", c.Provider, plain)
	row("Алгоритм", c.Algorithm, plain)
	row("Отпечаток", c.Thumbprint, plain)
	if len(c.Problems) == 0 {
		row("Состояние", "пригоден для входа и подписи", widget.SuccessImportance)
	} else {
		row("Состояние", uiproto.ProblemsText(c.Problems), widget.DangerImportance)
	}
	s.details.Objects = objs
	s.details.Refresh()
	if len(c.DER) > 0 {
		s.saveCert.Enable()
	} else {
		s.saveCert.Disable()
	}
}

func hasProblem(c uiproto.SettingsCertificate, p string) bool {
	for _, q := range c.Problems {
		if q == p {
			return true
		}
	}
	return false
}

func date(t time.Time) string { return t.Local().Format("02.01.2006") }

// CertificateFileName is the name «Сохранить сертификат…» proposes: the
// owner's name with only letters, digits and dashes, then .cer.
func CertificateFileName(owner string) string {
	var b strings.Builder
	n := 0
	for _, r := range owner {
		if n == 60 {
			break
		}
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-':
			b.WriteRune(r)
		case unicode.IsSpace(r) || r == '_' || r == '.':
			if b.Len() > 0 && !strings.HasSuffix(b.String(), "_") {
				b.WriteByte('_')
			}
		default:
			continue
		}
		n++
	}
	name := strings.Trim(b.String(), "_")
	if name == "" {
		name = "certificate"
	}
	return name + ".cer"
}

func (s *settingsWindow) saveCertificate() {
	if s.selected < 0 || s.selected >= len(s.snap.Certificates) {
		return
	}
	c := s.snap.Certificates[s.selected]
	// A certificate is made to be handed on: the file is readable by
	// others, as any .cer.
	s.saveFile("Сохранить сертификат", CertificateFileName(c.Owner), ".cer", c.DER, 0o644, "Сертификат сохранён: ")
}

// saveFile asks where to save data with Fyne's save dialog and writes it
// with mode perm.
func (s *settingsWindow) saveFile(title, name, ext string, data []byte, perm os.FileMode, done string) {
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil {
			s.setStatus("Не удалось сохранить файл: "+err.Error(), true)
			return
		}
		if w == nil {
			return // Отмена
		}
		// The mode is set before the data goes in: Fyne creates the file
		// with the umask's mode.
		werr := os.Chmod(w.URI().Path(), perm)
		if werr == nil {
			_, werr = w.Write(data)
		}
		if cerr := w.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			s.setStatus("Не удалось сохранить файл: "+werr.Error(), true)
			return
		}
		s.setStatus(done+w.URI().Path(), false)
	}, s.win)
	d.SetTitleText(title)
	d.SetConfirmText("Сохранить")
	d.SetDismissText("Отмена")
	d.SetFileName(name)
	d.SetFilter(storage.NewExtensionFileFilter([]string{ext}))
	if dir := saveDir(); dir != "" {
		if l, err := storage.ListerForURI(storage.NewFileURI(dir)); err == nil {
			d.SetLocation(l)
		}
	}
	d.Resize(fyne.NewSize(settingsSize.Width-40, settingsSize.Height-40))
	d.Show()
}

// saveDir is where the save dialogs start: Documents, else home.
func saveDir() string {
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	for _, d := range []string{"Documents", "Документы"} {
		if st, err := os.Stat(filepath.Join(home, d)); err == nil && st.IsDir() {
			return filepath.Join(home, d)
		}
	}
	return home
}

// ---- «Разрешённые сайты»

func (s *settingsWindow) sitesTab() fyne.CanvasObject {
	s.siteList = widget.NewList(
		func() int { return len(s.snap.Allowed) },
		func() fyne.CanvasObject {
			site := widget.NewLabel("")
			site.Truncation = fyne.TextTruncateEllipsis
			return container.NewBorder(nil, nil, widget.NewIcon(theme.ComputerIcon()), widget.NewButton("Отозвать", nil), site)
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			origin := s.snap.Allowed[i]
			objs := o.(*fyne.Container).Objects
			objs[0].(*widget.Label).SetText(oneLine(origin, maxFieldRunes))
			b := objs[2].(*widget.Button)
			b.Enable()
			b.OnTapped = func() {
				b.Disable()
				s.setStatus("Разрешение для "+origin+" отозвано: при следующем входе сайт спросит снова.", false)
				s.send(uiproto.SettingsAction{Action: uiproto.ActionRevoke, Origin: origin})
			}
		},
	)
	s.siteList.OnSelected = func(widget.ListItemID) { s.siteList.UnselectAll() }
	s.sitesBox = container.NewStack()
	return container.NewBorder(
		heading("Этим сайтам разрешён вход по сертификату без вопроса («Разрешить всегда»).",
			"Отозванный сайт при следующем входе снова спросит разрешение."),
		nil, nil, nil, s.sitesBox)
}

// ---- «Диагностика»

func (s *settingsWindow) diagnosticsTab() fyne.CanvasObject {
	s.report = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
	s.report.Selectable = true
	s.report.SizeName = sizeNameReport
	copyBtn := widget.NewButtonWithIcon("Скопировать отчёт", theme.ContentCopyIcon(), func() {
		s.app.Clipboard().SetContent(s.snap.Report)
		s.setStatus("Отчёт скопирован в буфер обмена: вставьте его в письмо службе поддержки.", false)
	})
	saveBtn := widget.NewButtonWithIcon("Сохранить отчёт…", theme.DocumentSaveIcon(), func() {
		name := "podpis-doctor-" + time.Now().Format("20060102-150405") + ".txt"
		// The report names the person, their tokens and sites: the
		// file is theirs alone, as the tray's «Диагностика» saves it.
		s.saveFile("Сохранить отчёт", name, ".txt", []byte(s.snap.Report+"\n"), 0o600, "Отчёт сохранён: ")
	})
	refreshBtn := widget.NewButtonWithIcon("Обновить", theme.ViewRefreshIcon(), func() {
		s.setStatus("Проверка…", false)
		s.send(uiproto.SettingsAction{Action: uiproto.ActionRefresh})
	})
	bg := canvas.NewRectangle(color.White)
	bg.StrokeColor = color.Gray{Y: 0xc8}
	bg.StrokeWidth = 1
	report := container.NewStack(bg, container.NewScroll(s.report))
	buttons := container.NewHBox(copyBtn, saveBtn, layout.NewSpacer(), refreshBtn)
	return container.NewBorder(heading("Отчёт podpis doctor: что найдено на этом компьютере и что исправить.",
		"Его можно отправить в службу поддержки: «Скопировать отчёт» или «Сохранить отчёт…»."),
		buttons, nil, nil, report)
}

// ---- «О программе»

func (s *settingsWindow) aboutTab() fyne.CanvasObject {
	s.about = container.NewStack()
	return s.about
}

func (s *settingsWindow) aboutBody() fyne.CanvasObject {
	name := canvas.NewText("podpis", theme.Color(theme.ColorNamePrimary))
	name.TextSize = 28
	name.TextStyle = fyne.TextStyle{Bold: true}
	version := widget.NewLabel("Версия " + oneLine(s.snap.Version, 100))
	what := widget.NewLabel("Агент электронной подписи: вход на сайты и подпись документов сертификатами " +
		"с токенов и из криптопровайдеров (ГОСТ Р 34.10-2012, ГОСТ Р 34.11-2012 «Стрибог»). " +
		"Закрытый ключ не покидает токен; PIN-код podpis спрашивает в своём окне.")
	what.Wrapping = fyne.TextWrapWord
	form := container.New(layout.NewFormLayout(),
		fieldName("Лицензия"), widget.NewLabel("MIT — свободное использование, изменение и распространение"),
		fieldName("Журнал"), selectable(oneLine(s.snap.LogPath, maxFieldRunes)),
	)
	return container.NewVScroll(container.NewPadded(container.NewVBox(name, version, what, form)))
}

// fieldName is the grey name of a field in a form.
func fieldName(name string) *widget.Label {
	l := widget.NewLabelWithStyle(name+":", fyne.TextAlignTrailing, fyne.TextStyle{})
	l.Importance = widget.LowImportance
	return l
}

func selectable(text string) *widget.Label {
	l := widget.NewLabel(text)
	l.Selectable = true
	l.Wrapping = fyne.TextWrapBreak
	return l
}

// tightVBox stacks its objects with one padding of overlap: a list
// row's two lines read as one item.
type tightVBox struct{}

func (tightVBox) overlap() float32 { return 1.5 * theme.Padding() }

func (v tightVBox) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var s fyne.Size
	for i, o := range objs {
		m := o.MinSize()
		s.Width = max(s.Width, m.Width)
		s.Height += m.Height
		if i > 0 {
			s.Height -= v.overlap()
		}
	}
	return s
}

func (v tightVBox) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	y := float32(0)
	for _, o := range objs {
		h := o.MinSize().Height
		o.Move(fyne.NewPos(0, y))
		o.Resize(fyne.NewSize(size.Width, h))
		y += h - v.overlap()
	}
}
