package main

import (
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/podpis/podpis/agent/doctor"
	"github.com/podpis/podpis/agent/server"
	"github.com/podpis/podpis/installer/autostart"
	"github.com/podpis/podpis/installer/nativemsg"
	"github.com/podpis/podpis/installer/trust"
)

// runInstall: podpis install [--renew] [--no-autostart] — the per-user
// set-up: the local CA and the agent's certificate (the CA's key
// destroyed), the CA in every browser store of this user, the start at
// logon. Running it again changes nothing; --renew
// («Перевыпустить сертификат») makes a new CA and takes the old one out.
func runInstall(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("install")
	renew := fs.Bool("renew", false, "выпустить новые локальный УЦ и сертификат и заменить старый УЦ в хранилищах")
	noAutostart := fs.Bool("no-autostart", false, "не запускать podpis при входе в систему")
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	if fs.NArg() != 0 {
		return usageError("install", stderr)
	}
	dir := dataDir()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		fmt.Fprintf(stderr, "podpis: %v\n", err)
		return 1
	}
	if *renew {
		for _, f := range []string{server.ServerCertFile, server.ServerKeyFile, server.CAFile} {
			os.Remove(filepath.Join(dir, f))
		}
	}
	_, ca, err := server.LoadOrCreateTLS(dir, time.Now())
	if err != nil {
		fmt.Fprintf(stderr, "podpis: local certificate: %v\n", err)
		return 1
	}
	m, err := trust.LoadManifest(dir)
	if err != nil {
		fmt.Fprintf(stderr, "podpis: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "Сертификат podpis для защищённого соединения (wss): %s\n", trust.Name(ca))
	ok := report(stdout, "добавлен в доверенные", m.Install(ca, trust.UserStores()))
	// The old CA leaves the stores only once the new one is in: a failure
	// half-way leaves the person with a working set-up.
	ok = report(stdout, "старый сертификат удалён", m.Uninstall(trust.Open, trust.Fingerprint(ca))) && ok
	ok = installNative(stdout) && ok
	if !*noAutostart {
		if err := enableAutostart(); err != nil {
			fmt.Fprintf(stdout, "  ✗ Автозапуск: %v\n", err)
			ok = false
		} else {
			fmt.Fprintln(stdout, "  ✓ Автозапуск при входе в систему включён")
		}
	}
	if *renew && doctor.ProbeAgent(server.DefaultPorts).Running {
		fmt.Fprintln(stdout, "Перезапустите podpis, чтобы он начал использовать новый сертификат.")
	}
	if !ok {
		fmt.Fprintln(stdout, "Не все хранилища удалось изменить: см. выше. Повторный запуск podpis install безопасен.")
		return 1
	}
	return 0
}

// runUninstall: podpis uninstall — removes exactly what install added.
func runUninstall(args []string, stdout, stderr io.Writer) int {
	if code, done := noArgs("uninstall", args, stdout, stderr); done {
		return code
	}
	m, err := trust.LoadManifest(dataDir())
	if err != nil {
		fmt.Fprintf(stderr, "podpis: %v\n", err)
		return 1
	}
	ok := report(stdout, "удалён", m.Uninstall(trust.Open, ""))
	if r, err := nativemsg.LoadRecord(dataDir()); err != nil {
		fmt.Fprintf(stdout, "  ✗ %v\n", err)
		ok = false
	} else {
		ok = reportNative(stdout, "связь с расширением podpis снята", r.Uninstall()) && ok
	}
	if s, err := autostart.ForCurrentUser(); err == nil {
		if err := s.Remove(); err != nil {
			fmt.Fprintf(stdout, "  ✗ Автозапуск: %v\n", err)
			ok = false
		}
	}
	if !ok {
		return 1
	}
	return 0
}

// installNative registers podpis native-host with the browsers for the
// podpis extension (installer/nativemsg), recorded for uninstall.
func installNative(stdout io.Writer) bool {
	exe, err := os.Executable()
	if err == nil {
		exe, err = filepath.EvalSymlinks(exe)
	}
	var r *nativemsg.Record
	if err == nil {
		r, err = nativemsg.LoadRecord(dataDir())
	}
	if err != nil {
		fmt.Fprintf(stdout, "  ✗ Расширение podpis: %v\n", err)
		return false
	}
	return reportNative(stdout, "расширение podpis может обращаться к podpis", r.Install(exe))
}

func reportNative(w io.Writer, done string, rs []nativemsg.Result) bool {
	ok := true
	for _, r := range rs {
		if r.Err != nil {
			ok = false
			fmt.Fprintf(w, "  ✗ %s: %v\n", r.Browser, r.Err)
			continue
		}
		fmt.Fprintf(w, "  ✓ %s: %s\n", r.Browser, done)
	}
	return ok
}

func enableAutostart() error {
	s, err := autostart.ForCurrentUser()
	if err != nil {
		return err
	}
	return s.Enable()
}

func report(w io.Writer, done string, rs []trust.Result) bool {
	ok := true
	for _, r := range rs {
		who := r.Browser
		if who == "" {
			who = r.Store
		}
		if r.Err != nil {
			ok = false
			fmt.Fprintf(w, "  ✗ %s: %v\n", who, r.Err)
			continue
		}
		if r.Already {
			fmt.Fprintf(w, "  ✓ %s: уже доверяет\n", who)
			continue
		}
		fmt.Fprintf(w, "  ✓ %s: %s\n", who, done)
	}
	return ok
}

// followRenewal keeps the stores in step when the agent has had to renew
// its certificate (yearly: the CA's key is gone, so a new CA comes with
// it): where install once put the old CA, the new one goes, and the old
// one leaves. Without an install there is nothing to follow.
func followRenewal(ca *x509.Certificate, log *slog.Logger) {
	m, err := trust.LoadManifest(dataDir())
	if err != nil || len(m.Entries) == 0 || slices.ContainsFunc(m.Entries, func(e trust.Entry) bool { return e.Fingerprint == trust.Fingerprint(ca) }) {
		return
	}
	for _, r := range append(m.Install(ca, trust.UserStores()), m.Uninstall(trust.Open, trust.Fingerprint(ca))...) {
		if r.Err != nil {
			log.Warn("trust store", "store", r.Store, "err", r.Err)
		}
	}
	log.Info("local CA renewed in the trust stores", "name", trust.Name(ca))
}

// firstRunSetup does for a person what the package cannot do as root: the
// first time the desktop session starts podpis, its CA goes into the
// person's browser stores. Only the first time: someone who ran podpis
// uninstall later has decided against it.
func firstRunSetup(ca *x509.Certificate, log *slog.Logger) {
	marker := filepath.Join(dataDir(), "setup.done")
	if _, err := os.Stat(marker); err == nil {
		return
	}
	m, err := trust.LoadManifest(dataDir())
	if err != nil {
		log.Warn("first-run setup", "err", err)
		return
	}
	for _, r := range m.Install(ca, trust.UserStores()) {
		if r.Err != nil {
			log.Warn("trust store", "store", r.Store, "err", r.Err)
		}
	}
	os.WriteFile(marker, []byte(time.Now().Format(time.RFC3339)+"\n"), 0o600)
	log.Info("first-run setup: local CA trusted", "name", trust.Name(ca))
}
