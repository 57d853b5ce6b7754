// Package tray is podpis's icon in the notification area and its menu:
// the settings window, the state at a glance, the certificates, the sites
// the person allowed (and revoking them), diagnostics, the log, autostart
// and exit. On Linux
// it speaks StatusNotifierItem over D-Bus, on Windows the shell's API,
// both through fyne.io/systray.
package tray

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"fyne.io/systray"

	"github.com/podpis/podpis/agent/keystore"
)

// Options are what the menu acts on; every field is required but
// Autostart, Renew and Settings. What the tray needs it names here; podpis doctor's
// examination, the installer's autostart and the icon's drawing plug in
// from cmd/.
type Options struct {
	Version     string
	Report      func(context.Context) Status // state and certificates
	Allowed     func() []string              // sites allowed «всегда»
	Revoke      func(origin string) error
	Diagnostics func() (path string, err error) // saves podpis doctor's report
	LogPath     string
	Autostart   Autostart
	Renew       func() error // «Перевыпустить сертификат»
	Open        func(path string) error
	Quit        func() // stops the agent
	// Icon draws the icon in the form the platform's tray takes (PNG for
	// StatusNotifierItem, ICO for Windows); off is the grey «not working»
	// variant.
	Icon func(off bool) []byte
	// Refresh is how often the menu is brought up to date; zero means 30 s.
	Refresh time.Duration
	// Settings opens the settings window («Настройки…»); it returns at
	// once, the window living on its own.
	Settings func()
}

// Status is what the menu shows at a glance.
type Status struct {
	// Ready: certificate login can work here.
	Ready bool
	// Codes are the codes of podpis doctor's findings.
	Codes        []string
	Certificates []*keystore.Certificate
}

// Autostart switches starting podpis when the person logs in.
type Autostart interface {
	Enabled() bool
	Enable() error
	Disable() error
}

// slots is how many certificates or sites a submenu shows; more are
// summarised in the last line.
const slots = 8

type menu struct {
	opts  Options
	state *systray.MenuItem
	certs [slots]*systray.MenuItem
	sites struct {
		root  *systray.MenuItem
		items [slots]*systray.MenuItem
		mu    sync.Mutex
		shown [slots]string
	}
	autostart *systray.MenuItem
}

// Run shows the icon and serves the menu until «Выход» or Stop; it blocks.
func Run(opts Options) {
	if opts.Refresh == 0 {
		opts.Refresh = 30 * time.Second
	}
	systray.Run(func() { (&menu{opts: opts}).build() }, nil)
}

// Stop removes the icon; Run returns.
func Stop() { systray.Quit() }

func (m *menu) build() {
	systray.SetIcon(m.opts.Icon(false))
	systray.SetTitle("podpis")
	systray.SetTooltip("podpis " + m.opts.Version)
	var settingsCh <-chan struct{}
	if m.opts.Settings != nil {
		// First, where people look for a program's settings.
		settingsCh = systray.AddMenuItem("Настройки…", "Сертификаты, разрешённые сайты, диагностика").ClickedCh
	}
	m.state = systray.AddMenuItem("podpis: проверка…", "")
	m.state.Disable()
	systray.AddSeparator()
	certs := systray.AddMenuItem("Сертификаты", "Сертификаты, которые видит podpis")
	for i := range m.certs {
		m.certs[i] = certs.AddSubMenuItem("", "")
		m.certs[i].Disable()
		m.certs[i].Hide()
	}
	m.sites.root = systray.AddMenuItem("Разрешённые сайты", "Нажмите на сайт, чтобы отозвать разрешение")
	for i := range m.sites.items {
		m.sites.items[i] = m.sites.root.AddSubMenuItem("", "Отозвать разрешение")
		m.sites.items[i].Hide()
		go m.onRevoke(i)
	}
	diag := systray.AddMenuItem("Диагностика", "Проверить, почему не работает вход, и сохранить отчёт")
	logs := systray.AddMenuItem("Журнал", "Открыть журнал podpis")
	var renewCh, autoCh <-chan struct{}
	if m.opts.Renew != nil {
		renewCh = systray.AddMenuItem("Перевыпустить сертификат", "Новый сертификат для защищённого соединения с браузером").ClickedCh
	}
	if m.opts.Autostart != nil {
		m.autostart = systray.AddMenuItemCheckbox("Автозапуск", "Запускать podpis при входе в систему", m.opts.Autostart.Enabled())
		autoCh = m.autostart.ClickedCh
	}
	systray.AddSeparator()
	quit := systray.AddMenuItem("Выход", "Завершить podpis")
	m.refresh()

	tick := time.NewTicker(m.opts.Refresh)
	go func() {
		for {
			select {
			case <-tick.C:
				m.refresh()
			case <-settingsCh:
				m.opts.Settings()
			// Doctor, an opener that waits for its browser, a renewal:
			// each can take seconds, and the menu must keep answering
			// (and «Выход» keep working) meanwhile.
			case <-diag.ClickedCh:
				go func() {
					if path, err := m.opts.Diagnostics(); err == nil {
						m.opts.Open(path)
					}
				}()
			case <-logs.ClickedCh:
				go m.opts.Open(m.opts.LogPath)
			case <-renewCh:
				go m.opts.Renew()
			case <-autoCh:
				m.toggleAutostart()
			case <-quit.ClickedCh:
				tick.Stop()
				m.opts.Quit()
				systray.Quit()
				return
			}
		}
	}()
}

// refresh brings the state, the certificates and the sites up to date.
func (m *menu) refresh() {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r := m.opts.Report(ctx)
	switch {
	case r.Ready:
		m.state.SetTitle("podpis работает")
	case slices.ContainsFunc(r.Codes, func(c string) bool {
		return slices.Contains([]string{"NO_PROVIDER", "CSP_WITHOUT_PKCS11", "MODULE_NOT_LOADABLE"}, c)
	}):
		m.state.SetTitle("podpis: нет криптопровайдера")
	default:
		m.state.SetTitle("podpis: ошибка — откройте «Диагностика»")
	}
	systray.SetIcon(m.opts.Icon(!r.Ready))
	var lines []string
	for _, c := range r.Certificates {
		line := fmt.Sprintf("%s — до %s", c.Identity.CommonName, c.Identity.NotAfter.Format("02.01.2006"))
		if !c.Usable() {
			line += " (непригоден)"
		}
		lines = append(lines, line)
	}
	if len(lines) == 0 {
		lines = []string{"Сертификаты не найдены"}
	}
	fill(m.certs[:], lines)

	m.sites.mu.Lock()
	defer m.sites.mu.Unlock()
	sites := m.opts.Allowed()
	m.sites.shown = [slots]string{}
	copy(m.sites.shown[:], sites)
	if len(sites) == 0 {
		m.sites.root.Disable()
	} else {
		m.sites.root.Enable()
	}
	titles := make([]string, len(sites))
	for i, s := range sites {
		titles[i] = s + " — отозвать"
	}
	fill(m.sites.items[:], titles)
	if m.autostart != nil {
		if m.opts.Autostart.Enabled() {
			m.autostart.Check()
		} else {
			m.autostart.Uncheck()
		}
	}
}

// fill shows lines in items, hiding the spare ones.
func fill(items []*systray.MenuItem, lines []string) {
	if len(lines) > len(items) {
		more := fmt.Sprintf("… и ещё %d", len(lines)-len(items)+1)
		lines = append(slices.Clip(lines[:len(items)-1]), more)
	}
	for i, it := range items {
		if i >= len(lines) {
			it.Hide()
			continue
		}
		it.SetTitle(lines[i])
		it.Show()
	}
}

func (m *menu) onRevoke(i int) {
	for range m.sites.items[i].ClickedCh {
		m.sites.mu.Lock()
		origin := m.sites.shown[i]
		m.sites.mu.Unlock()
		if origin != "" {
			m.opts.Revoke(origin)
			m.refresh()
		}
	}
}

func (m *menu) toggleAutostart() {
	if m.opts.Autostart.Enabled() {
		m.opts.Autostart.Disable()
	} else {
		m.opts.Autostart.Enable()
	}
	m.refresh()
}
