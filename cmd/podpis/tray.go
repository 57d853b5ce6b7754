package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/podpis/podpis/agent/config"
	"github.com/podpis/podpis/agent/doctor"
	"github.com/podpis/podpis/agent/keystore"
	"github.com/podpis/podpis/agent/prompt"
	"github.com/podpis/podpis/agent/settings"
	"github.com/podpis/podpis/agent/tray"
	"github.com/podpis/podpis/installer/autostart"
)

// trayOptions: the agent's extra modules and address go to the
// diagnostics so that the report describes this very agent.
func trayOptions(examine func(context.Context) *doctor.Report, conf *config.Config, modules []string, addr string,
	reloadTLS func() error, quit func(), openSettings func(context.Context) error, log *slog.Logger) tray.Options {
	opts := tray.Options{
		Version: version,
		Report: func(ctx context.Context) tray.Status {
			r := examine(ctx)
			st := tray.Status{Ready: r.Ready, Certificates: r.Certificates}
			for _, f := range r.Findings {
				st.Codes = append(st.Codes, f.Code)
			}
			return st
		},
		Allowed: conf.Allowances,
		Revoke: func(origin string) error {
			log.Info("permission revoked", "origin", origin)
			return conf.Revoke(origin)
		},
		Diagnostics: func() (string, error) {
			// The same report support staff get from podpis doctor.
			var b bytes.Buffer
			args := []string{"--agent", addr}
			for _, m := range modules {
				args = append(args, "--module", m)
			}
			runDoctor(args, &b, &b)
			path := filepath.Join(dataDir(), "doctor-"+time.Now().Format("20060102-150405")+".txt")
			return path, os.WriteFile(path, b.Bytes(), 0o600)
		},
		LogPath: logPath(),
		Renew: func() error {
			var b bytes.Buffer
			if runInstall([]string{"--renew", "--no-autostart"}, &b, &b) != 0 {
				log.Warn("certificate renewal", "report", b.String())
				return fmt.Errorf("renewal failed")
			}
			log.Info("local certificate renewed")
			return reloadTLS()
		},
		Open: prompt.Open,
		Quit: quit,
		Icon: trayIcon,
	}
	opts.Settings = func() { openSettings(context.Background()) }
	if s, err := autostart.ForCurrentUser(); err == nil {
		opts.Autostart = autostartSwitch{s}
	}
	return opts
}

// autostartSwitch is the installer's autostart as the tray's checkbox
// sees it.
type autostartSwitch struct{ autostart.Starter }

func (s autostartSwitch) Enabled() bool { return s.Method() != autostart.None }

// settingsWindow opens the settings window of this agent from the tray:
// its configuration and stores, and the report about this very agent.
// One window at a time; it closes when the agent ends (its stdin does).
func settingsWindow(examine func(context.Context) *doctor.Report, conf *config.Config, modules []string, addr string, log *slog.Logger) func(context.Context) error {
	args := []string{"--agent", addr}
	for _, m := range modules {
		args = append(args, "--module", m)
	}
	program, perr := settings.Program()
	win := &settings.Window{Program: program, Version: version, LogPath: logPath(), Log: log, Stderr: os.Stderr,
		Source: &settingsSource{conf: conf, doctorArgs: args,
			certificates: func(ctx context.Context) ([]*keystore.Certificate, error) { return examine(ctx).Certificates, nil }}}
	// The window outlives the request that opened it (a tray click, or
	// podpis settings over the control channel): it is the agent's own.
	return func(context.Context) error {
		if perr != nil {
			log.Warn("settings window", "err", perr)
			return perr
		}
		if !prompt.NativeAvailable() {
			return errNoDesktop
		}
		go func() {
			if err := win.Show(context.Background()); err != nil && !errors.Is(err, settings.ErrOpen) {
				log.Warn("settings window", "err", err)
			}
		}()
		return nil
	}
}

// errNoDesktop: the agent runs where it cannot show a window (no display).
var errNoDesktop = errors.New("у запущенного podpis нет рабочего стола, чтобы показать окно")
