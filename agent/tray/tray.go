// Package tray is podpis's icon in the notification area and its menu:
// the state at a glance, the certificates, the sites the person allowed
// (and revoking them), diagnostics, the log, autostart and exit. On Linux
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

	"github.com/podpis/podpis/agent/doctor"
	"github.com/podpis/podpis/installer/autostart"
)

// Options are what the menu acts on; every field is required but
// Autostart and Renew.
type Options struct {
	Version     string
	Report      func(context.Context) *doctor.Report // state and certificates
	Allowed     func() []string                      // sites allowed «всегда»
	Revoke      func(origin string) error
	Diagnostics func() (path string, err error) // saves podpis doctor's report
	LogPath     string
	Autostart   autostart.Starter
	Renew       func() error // «Перевыпустить сертификат»
	Open        func(path string) error
	Quit        func() // stops the agent
	// Refresh is how often the menu is brought up to date; zero means 30 s.
	Refresh time.Duration
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
	systray.SetIcon(iconBytes(false))
	systray.SetTitle("podpis")
	systray.SetTooltip("podpis " + m.opts.Version)
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
		m.autostart = systray.AddMenuItemCheckbox("Автозапуск", "Запускать podpis при входе в систему", m.opts.Autostart.Method() != autostart.None)
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
			case <-diag.ClickedCh:
				if path, err := m.opts.Diagnostics(); err == nil {
					m.opts.Open(path)
				}
			case <-logs.ClickedCh:
				m.opts.Open(m.opts.LogPath)
			case <-renewCh:
				m.opts.Renew()
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
	case hasCode(r, "NO_PROVIDER", "CSP_WITHOUT_PKCS11", "MODULE_NOT_LOADABLE"):
		m.state.SetTitle("podpis: нет криптопровайдера")
	default:
		m.state.SetTitle("podpis: ошибка — откройте «Диагностика»")
	}
	systray.SetIcon(iconBytes(!r.Ready))
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
		if m.opts.Autostart.Method() != autostart.None {
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
	if m.opts.Autostart.Method() != autostart.None {
		m.opts.Autostart.Disable()
	} else {
		m.opts.Autostart.Enable()
	}
	m.refresh()
}

func hasCode(r *doctor.Report, codes ...string) bool {
	return slices.ContainsFunc(r.Findings, func(f doctor.Finding) bool { return slices.Contains(codes, f.Code) })
}
