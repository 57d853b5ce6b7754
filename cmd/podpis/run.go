package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/podpis/podpis/agent"
	"github.com/podpis/podpis/agent/config"
	"github.com/podpis/podpis/agent/control"
	"github.com/podpis/podpis/agent/doctor"
	"github.com/podpis/podpis/agent/keystore"
	"github.com/podpis/podpis/agent/keystore/pkcs11"
	"github.com/podpis/podpis/agent/prompt"
	"github.com/podpis/podpis/agent/server"
	"github.com/podpis/podpis/agent/tray"
	"github.com/podpis/podpis/agent/wsapi"
	"github.com/podpis/podpis/internal/harden"
	"github.com/podpis/podpis/internal/instance"
	"github.com/podpis/podpis/internal/logfile"
)

// originsFlag collects repeated --trust-origin.
type originsFlag []agent.Rule

func (o *originsFlag) String() string { return fmt.Sprint(*o) }
func (o *originsFlag) Set(v string) error {
	r, err := agent.ParseRule(v)
	if err != nil {
		return err
	}
	*o = append(*o, r)
	return nil
}

// configPath and logPath may be moved for tests and portable use.
func configPath() string {
	if p := os.Getenv("PODPIS_CONFIG"); p != "" {
		return p
	}
	return config.UserPath()
}

func logPath() string {
	if d := os.Getenv("PODPIS_DATA_DIR"); d != "" {
		return filepath.Join(d, "podpis.log")
	}
	return logfile.DefaultPath()
}

// dataDir is where the agent keeps its TLS files.
func dataDir() string {
	if d := os.Getenv("PODPIS_DATA_DIR"); d != "" {
		return d
	}
	base, err := os.UserConfigDir()
	if err != nil {
		base = os.TempDir()
	}
	return filepath.Join(base, "podpis")
}

// promptDir is where the prompt page's forwarding files go: the user's
// runtime folder (tmpfs, gone at logout), else the data folder.
func promptDir() string {
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		return filepath.Join(d, "podpis")
	}
	return filepath.Join(dataDir(), "prompts")
}

// runAgent: podpis run --headless [--trust-origin ORIGIN]... [--module PATH]...
// [--listen 127.0.0.1:PORT] [--no-known-modules]
func runAgent(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("run")
	headless := fs.Bool("headless", false, "без окон: только сайты из --trust-origin, PIN из PODPIS_PIN (серверы, киоски, тесты)")
	var trusted originsFlag
	fs.Var(&trusted, "trust-origin", "`САЙТ`, обслуживаемый без вопроса (можно повторять; допустимо https://*.домен)")
	var modules listFlag
	fs.Var(&modules, "module", "`ПУТЬ` к модулю PKCS#11 сверх известных (можно повторять)")
	listen := fs.String("listen", "", "`АДРЕС` для подключений (без флага: 127.0.0.1, первый свободный порт из 24730-24733)")
	onlyNamed := fs.Bool("no-known-modules", false, "только модули из --module, без известных путей CSP")
	autostart := fs.Bool("autostart", false, "запуск вместе с сеансом: при первом запуске настроить доверие к локальному УЦ")
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	if fs.NArg() != 0 {
		return usageError("run", stderr)
	}
	// Before anything is read or written: no core dumps of PINs and keys,
	// and folders that are this account's alone.
	for _, harden := range []func() error{harden.Process, func() error { return harden.Dir(dataDir()) },
		func() error { return harden.Dir(filepath.Dir(logPath())) }} {
		if err := harden(); err != nil {
			fmt.Fprintf(stderr, "podpis: %v\n", err)
			return 1
		}
	}
	held, err := instance.Acquire(dataDir())
	if err != nil {
		if errors.Is(err, instance.ErrRunning) {
			fmt.Fprintf(stderr, "podpis уже запущен для этого пользователя: второй экземпляр не нужен (%v)\n", err)
		} else {
			fmt.Fprintf(stderr, "podpis: %v\n", err)
		}
		return 1
	}
	defer held.Release()
	logFile := &logfile.Writer{Path: logPath()}
	defer logFile.Close()
	log := slog.New(slog.NewTextHandler(io.MultiWriter(stderr, logFile), &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	conf, err := config.Load(configPath(), config.SystemPath())
	if err != nil {
		// Keep running on what could be read; the file is left as it is.
		log.Warn("configuration", "err", err)
		fmt.Fprintf(stderr, "podpis: %v\n", err)
	}
	trusted = append(trusted, conf.Trusted()...)
	modules = append(modules, conf.Modules()...)

	pkcs11Opts := pkcs11.Options{Modules: modules, OnlyModules: *onlyNamed}
	p, err := pkcs11.New(ctx, pkcs11Opts)
	if err != nil {
		fmt.Fprintf(stderr, "podpis: %v\n", err)
		return 1
	}
	defer p.Close()
	cfg := agent.Config{Stores: append([]keystore.Store{p}, platformStores()...), Trusted: trusted, Decisions: conf, Version: version,
		Timestamping: conf.TSAFor}
	candidates := pkcs11Opts.Candidates()
	examine := func(ctx context.Context) *doctor.Report {
		return doctor.Examine(ctx, doctor.Options{Candidates: candidates, Store: p, Stores: cfg.Stores[1:], CSPs: platformCSPs()})
	}
	cfg.Diagnose = func(ctx context.Context) agent.Diagnosis { return examine(ctx).Diagnosis() }
	if *headless {
		// Only the command line reaches this: a page can never turn
		// prompts off.
		cfg.Prompter = &prompt.NonInteractive{Secret: []byte(os.Getenv("PODPIS_PIN"))}
		cfg.OnlyTrusted = true
	}
	var pages *prompt.Browser
	if !*headless {
		if prompt.NativeAvailable() {
			cfg.Prompter = prompt.Native()
		} else {
			// No dialog program or no display: the agent's own page in
			// the default browser.
			// The page's address is secret: it goes into a file only
			// this account can read, and the file is what is opened and
			// printed (argv and stdout are readable by others).
			pages = &prompt.Browser{Dir: promptDir(),
				Open: func(path string) error {
					err := prompt.Open(path)
					if err != nil {
						log.Warn("prompt page not opened", "err", err)
					}
					return err
				},
				// Nothing could show the question: the person reads
				// where it is in the agent's terminal and log (the
				// page that asked says to look there).
				Tell: func(path string) {
					u := (&url.URL{Scheme: "file", Path: path}).String()
					log.Warn("prompt not shown: the person must open it", "file", u)
					fmt.Fprintf(io.MultiWriter(stderr, logFile), "podpis: не удалось открыть окно запроса. "+
						"Откройте в браузере этого компьютера адрес %s — там вопрос podpis (PIN-код или разрешение для сайта)\n", u)
				}}
			cfg.Prompter = pages
		}
	}
	a := agent.New(cfg)
	// The certificate is looked up per handshake so that «Перевыпустить
	// сертификат» takes effect without a restart.
	var tlsCfg *tls.Config
	reloadTLS := func() error { return errors.New("local TLS is off") }
	if local, ca, err := server.OpenLocalTLS(dataDir()); err != nil {
		fmt.Fprintf(stderr, "podpis: local TLS: %v (serving ws only)\n", err)
	} else {
		tlsCfg, reloadTLS = local.Config(), local.Reload
		if *autostart {
			firstRunSetup(ca, log)
		}
		followRenewal(ca, log)
	}
	l, err := server.Listen(*listen, server.DefaultPorts)
	if err != nil {
		fmt.Fprintf(stderr, "podpis: %v\n", err)
		return 1
	}
	api := wsapi.New(a)
	srv := &server.Server{API: api, TLS: tlsCfg, Log: log}
	if ch := serveNative(api, log, stderr); ch != nil {
		defer ch.Close()
	}
	state := &agentState{listen: l.Addr().String(), headless: *headless, p: p, others: cfg.Stores[1:]}
	// podpis settings with this agent running opens this agent's
	// window (so a revoke changes its config, not the file behind it); a
	// headless agent has none to show.
	var openSettings func(context.Context) error
	if !*headless {
		openSettings = settingsWindow(examine, conf, modules, l.Addr().String(), log)
	}
	if cs := serveControl(&control.Server{Status: state.status, OpenSettings: openSettings}, log, stderr); cs != nil {
		defer cs.Close()
	}
	if pages != nil {
		// Plain http, even when the port speaks TLS too: the local CA
		// is not trusted by every browser that may open the page (make
		// run never installs it; a profile made after podpis install
		// lacks it), and a certificate warning in front of the PIN
		// page teaches clicking through warnings. http://127.0.0.1 is
		// a secure context for browsers, and TLS on loopback guards
		// against nothing the rest does not: nobody but root reads
		// loopback traffic, the peer check refuses other accounts, the
		// Host check DNS rebinding, and an answer still needs the
		// unguessable address, this Origin and the per-load token in
		// both the SameSite=Strict cookie and the form.
		pages.BaseURL = "http://" + l.Addr().String()
		srv.Prompts = pages
	}
	// Start-up (loading modules, scanning tokens, TLS files) leaves
	// garbage behind; an agent idles for hours, so give it back now.
	debug.FreeOSMemory()
	fmt.Fprintf(stdout, "podpis: listening on %s (ws and wss)\n", l.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	if !*headless && tray.Available() {
		go func() {
			<-ctx.Done() // a signal or the server's end take the icon away
			tray.Stop()
		}()
		go func() {
			if err := <-errc; err != nil {
				log.Error("server", "err", err)
			}
			stop()
		}()
		tray.Run(trayOptions(examine, conf, modules, l.Addr().String(), reloadTLS, stop, openSettings, log))
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
		return 0
	}
	select {
	case err := <-errc:
		if err != nil {
			fmt.Fprintf(stderr, "podpis: %v\n", err)
			return 1
		}
	case <-ctx.Done():
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
	}
	return 0
}
