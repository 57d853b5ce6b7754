package autostart

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/kardianos/service"
)

// Linux starts podpis in one of two ways. Where systemd runs a manager for
// the person, a user unit bound to the graphical session (through
// kardianos/service); elsewhere an XDG autostart entry. Never both: the
// desktop would start two agents. The package ships a system-wide XDG
// entry in /etc/xdg/autostart; a person turns it off with a Hidden entry
// of the same name in ~/.config/autostart, as the XDG spec provides.
type Linux struct {
	Exec       string // the podpis binary
	ConfigHome string // $XDG_CONFIG_HOME or ~/.config
	SystemDir  string // /etc/xdg/autostart
	// UseSystemd says whether a systemd user manager is there; nil asks
	// systemctl.
	UseSystemd func() bool
}

// ForCurrentUser is the Linux set-up for this person.
func ForCurrentUser() (*Linux, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cfg, err := os.UserConfigDir()
	if err != nil {
		return nil, err
	}
	return &Linux{Exec: exe, ConfigHome: cfg, SystemDir: "/etc/xdg/autostart"}, nil
}

const entryName = "podpis.desktop"

func (l *Linux) userEntry() string   { return filepath.Join(l.ConfigHome, "autostart", entryName) }
func (l *Linux) systemEntry() string { return filepath.Join(l.SystemDir, entryName) }

func (l *Linux) systemd() bool {
	if l.UseSystemd != nil {
		return l.UseSystemd()
	}
	if service.ChosenSystem() == nil || service.ChosenSystem().String() != "linux-systemd" {
		return false
	}
	return exec.Command("systemctl", "--user", "is-system-running").Run() == nil ||
		exec.Command("systemctl", "--user", "show-environment").Run() == nil
}

// unit is the user unit: started with the graphical session so that the
// tray and the dialogs have a display, restarted if it crashes.
const unit = `[Unit]
Description={{Description}}
PartOf=graphical-session.target
After=graphical-session.target

[Service]
ExecStart={{Path | cmdEscape}}{{range Arguments}} {{. | cmd}}{{end}}
Restart=on-failure
RestartSec=5
# Exit 1 is "already running for this person": do not insist.
RestartPreventExitStatus=1

[Install]
WantedBy=graphical-session.target
`

func (l *Linux) service() (service.Service, error) {
	return service.New(nil, &service.Config{
		Name: "podpis", DisplayName: "podpis", Description: "podpis: вход на сайты по сертификату",
		Executable: l.Exec, Arguments: []string{"run", "--autostart"},
		Option: service.KeyValue{"UserService": true, "SystemdScript": unit},
	})
}

// Method reports how podpis starts at logon now.
func (l *Linux) Method() Method {
	if l.systemd() {
		if s, err := l.service(); err == nil {
			if _, err := s.Status(); err == nil {
				return SystemdUser
			}
		}
	}
	if l.xdgEnabled() {
		return XDG
	}
	return None
}

func (l *Linux) xdgEnabled() bool {
	if b, err := os.ReadFile(l.userEntry()); err == nil {
		return !hidden(string(b))
	}
	_, err := os.Stat(l.systemEntry())
	return err == nil
}

func hidden(entry string) bool {
	for _, line := range strings.Split(entry, "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok && k == "Hidden" && strings.TrimSpace(v) == "true" {
			return true
		}
	}
	return false
}

// Enable makes podpis start at logon.
func (l *Linux) Enable() error {
	if l.systemd() {
		s, err := l.service()
		if err != nil {
			return err
		}
		if err := s.Install(); err != nil && !strings.Contains(err.Error(), "already exists") {
			return err
		}
		return l.hideXDG() // the unit starts it; the XDG entry must not too
	}
	if _, err := os.Stat(l.systemEntry()); err == nil {
		// The package's entry does it; drop the person's Hidden override.
		if err := os.Remove(l.userEntry()); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return nil
	}
	return l.writeUserEntry(false)
}

// Disable stops podpis from starting at logon.
func (l *Linux) Disable() error {
	if err := l.removeUnit(); err != nil {
		return err
	}
	return l.hideXDG()
}

// removeUnit uninstalls the user unit if there is one.
func (l *Linux) removeUnit() error {
	if !l.systemd() {
		return nil
	}
	s, err := l.service()
	if err != nil {
		return nil
	}
	if _, err := s.Status(); err != nil {
		return nil // not installed
	}
	return s.Uninstall()
}

// Remove takes away what Enable or Disable wrote (podpis uninstall):
// the user unit and the person's entry; the package's entry is the
// package's business.
func (l *Linux) Remove() error {
	if err := l.removeUnit(); err != nil {
		return err
	}
	if err := os.Remove(l.userEntry()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

func (l *Linux) hideXDG() error {
	if _, err := os.Stat(l.systemEntry()); err != nil {
		// No package entry: just remove ours.
		if err := os.Remove(l.userEntry()); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return nil
	}
	return l.writeUserEntry(true)
}

func (l *Linux) writeUserEntry(hide bool) error {
	if err := os.MkdirAll(filepath.Dir(l.userEntry()), 0o700); err != nil {
		return err
	}
	entry := "[Desktop Entry]\nType=Application\nName=podpis\nComment=Вход на сайты по сертификату\n" +
		"Exec=" + quoteExec(l.Exec) + " run --autostart\nIcon=podpis\nTerminal=false\nNoDisplay=true\n"
	if hide {
		entry += "Hidden=true\n"
	}
	return os.WriteFile(l.userEntry(), []byte(entry), 0o644)
}

// quoteExec quotes a path for a desktop entry's Exec key.
func quoteExec(p string) string {
	if !strings.ContainsAny(p, " \t\"'\\$`") {
		return p
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "`", "\\`", "$", `\$`)
	return `"` + r.Replace(p) + `"`
}
