package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/podpis/podpis/agent/config"
	"github.com/podpis/podpis/agent/control"
	"github.com/podpis/podpis/agent/keystore"
	"github.com/podpis/podpis/agent/settings"
	"github.com/podpis/podpis/internal/instance"
)

// exitAgentRunning is podpis settings' exit code when this person's agent
// runs and cannot be asked to open its window: the window must be the
// agent's, so that revoking changes the running agent's decisions rather
// than the file behind its back.
const exitAgentRunning = 3

// settingsExitCodes follows podpis settings --help.
const settingsExitCodes = `
Коды выхода:
  0  окно настроек закрыто
  1  окно не открылось (нет podpis-ui или нет рабочего стола)
  2  неверные аргументы
  3  podpis уже запущен: откройте настройки из его значка («Настройки…»)`

// openInAgent asks this person's running agent to open its settings
// window, over the agent's per-user control channel: the window must be
// the agent's, so that a revoke changes the running agent's config rather
// than the file behind its back. Tests replace it.
var openInAgent = func(ctx context.Context) error { return (&control.Client{}).OpenSettings(ctx) }

// runSettings: podpis settings [--module ПУТЬ]... [--no-known-modules]
func runSettings(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("settings")
	var modules listFlag
	fs.Var(&modules, "module", "`ПУТЬ` к модулю PKCS#11 сверх известных (можно повторять)")
	onlyNamed := fs.Bool("no-known-modules", false, "только модули из --module, без известных путей CSP")
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		if code == 0 {
			fmt.Fprintln(stdout, settingsExitCodes)
		}
		return code
	}
	if fs.NArg() != 0 {
		return usageError("settings", stderr)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if agentRunning() {
		switch err := openInAgent(ctx); {
		case err == nil:
			fmt.Fprintln(stdout, "podpis: окно настроек открыл запущенный podpis")
			return 0
		case errors.Is(err, control.ErrNotAvailable), errors.Is(err, control.ErrNotRunning):
			// A headless or older agent, or one whose control channel
			// is not there: its config must not be edited behind it.
			fmt.Fprintln(stderr, "podpis: podpis уже запущен и не может открыть окно настроек сам: откройте их из его значка в области уведомлений — пункт «Настройки…»")
			return exitAgentRunning
		default:
			fmt.Fprintf(stderr, "podpis: запущенный podpis не открыл окно настроек: %v\n", err)
			return 1
		}
	}
	program, err := settings.Program()
	if err != nil {
		fmt.Fprintf(stderr, "podpis: окно настроек не открыть: не найдена программа podpis-ui (%v)\n", err)
		return 1
	}
	conf, err := config.Load(configPath(), config.SystemPath())
	if err != nil {
		// Shown on what could be read; a revoke then says it was not saved.
		fmt.Fprintf(stderr, "podpis: %v\n", err)
	}
	// doctor reads the configuration's modules itself: it is given
	// those of the command line.
	doctorArgs := []string{}
	for _, m := range modules {
		doctorArgs = append(doctorArgs, "--module", m)
	}
	p, ok := openStore(append(modules, conf.Modules()...), *onlyNamed, stderr)
	if !ok {
		return 1
	}
	defer p.Close()
	if *onlyNamed {
		doctorArgs = append(doctorArgs, "--no-known-modules")
	}
	src := &settingsSource{conf: conf, certificates: storeCertificates(append([]keystore.Store{p}, platformStores()...)), doctorArgs: doctorArgs, standalone: true}
	w := &settings.Window{Program: program, Source: src, Version: version, LogPath: logPath(), Stderr: stderr}
	if err := w.Show(ctx); err != nil {
		fmt.Fprintf(stderr, "podpis: окно настроек не открылось (нет рабочего стола?): %v\n", err)
		return 1
	}
	return 0
}

// agentRunning tells whether this person's agent holds its lock.
func agentRunning() bool {
	l, err := instance.Acquire(dataDir())
	if err != nil {
		return errors.Is(err, instance.ErrRunning)
	}
	l.Release()
	return false
}

// settingsSource is what the settings window shows and acts on: in the
// running agent (from the tray) its own configuration — a revoke takes
// effect at once — and stores; in podpis settings with no agent, the
// stores opened here and the user's file. The report is podpis doctor's,
// the same support staff get.
type settingsSource struct {
	conf         *config.Config
	certificates func(context.Context) ([]*keystore.Certificate, error)
	doctorArgs   []string
	// standalone: no agent ran when the window opened. One may start
	// while it is open; the file is then that agent's to change.
	standalone bool
}

func (s *settingsSource) Certificates(ctx context.Context) ([]*keystore.Certificate, error) {
	return s.certificates(ctx)
}

func (s *settingsSource) Allowed() []string { return s.conf.Allowances() }

func (s *settingsSource) Revoke(_ context.Context, origin string) error {
	if s.standalone && agentRunning() {
		return settings.ErrAgentRunning
	}
	return s.conf.Revoke(origin)
}

func (s *settingsSource) Report(context.Context) string {
	var b bytes.Buffer
	runDoctor(s.doctorArgs, &b, &b)
	return b.String()
}

// storeCertificates lists the certificates of every store; a store that
// fails leaves the others shown.
func storeCertificates(stores []keystore.Store) func(context.Context) ([]*keystore.Certificate, error) {
	return func(ctx context.Context) ([]*keystore.Certificate, error) {
		var all []*keystore.Certificate
		var errs []error
		for _, s := range stores {
			c, err := s.Certificates(ctx)
			all = append(all, c...)
			if err != nil {
				errs = append(errs, err)
			}
		}
		return all, errors.Join(errs...)
	}
}
