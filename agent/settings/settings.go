// Package settings opens podpis's settings window and carries out what the
// person does in it. The window is a view drawn by podpis-ui (the toolkit
// never enters the agent): this package starts it, sends it snapshots of
// the certificates, the sites allowed «всегда» and the doctor report
// (ui/uiproto), and runs its actions against a Source — the running
// agent's own configuration and stores when the agent opens it from its
// tray, the files when podpis settings finds no agent.
//
// The window can only take a permission away (revoke) or ask for a fresh
// report: nothing it sends can allow a site, so a window process that
// misbehaves can at worst make podpis ask again.
package settings

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"slices"
	"strings"
	"sync"

	"github.com/podpis/podpis/agent"
	"github.com/podpis/podpis/agent/config"
	"github.com/podpis/podpis/agent/keystore"
	"github.com/podpis/podpis/ui/uiproto"
)

// Source is what the window shows and acts on.
type Source interface {
	// Certificates lists the certificates of the stores.
	Certificates(ctx context.Context) ([]*keystore.Certificate, error)
	// Allowed lists the sites allowed «всегда».
	Allowed() []string
	// Revoke forgets one of them.
	Revoke(ctx context.Context, origin string) error
	// Report is podpis doctor's report as text.
	Report(ctx context.Context) string
}

// Window opens the settings window; its zero value is not usable: Program
// and Source are required.
type Window struct {
	Program string   // podpis-ui
	Env     []string // its environment; nil: this process's
	Source  Source
	Version string
	LogPath string
	Log     *slog.Logger // nil: no log
	// Stderr takes the window program's diagnostics; nil discards them.
	Stderr io.Writer

	mu sync.Mutex
}

// ErrAgentRunning is a Source's answer when it must not make a change
// because an agent has started meanwhile: the change must be that
// agent's, or the agent's next save would undo it.
var ErrAgentRunning = errors.New("settings: an agent is running: the change must be made in its own window")

// ErrOpen means the window is already open: a second click on the tray
// item does not open a second one.
var ErrOpen = errors.New("settings: the window is already open")

// Show opens the window and serves it until the person closes it or ctx
// ends (the window is then closed).
func (w *Window) Show(ctx context.Context) error {
	if !w.mu.TryLock() {
		return ErrOpen
	}
	defer w.mu.Unlock()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := exec.CommandContext(ctx, w.Program, "settings")
	cmd.Env = uiproto.Env(w.Env)
	cmd.Stderr = w.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return fmt.Errorf("settings: %w", err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("settings: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("settings: starting the window: %w", err)
	}
	serr := w.serve(ctx, bufio.NewReader(out), in)
	in.Close()
	if serr != nil {
		// A window that broke the protocol is not waited for.
		cmd.Process.Kill()
	}
	werr := cmd.Wait()
	switch {
	case serr != nil:
		return serr
	case ctx.Err() != nil:
		return nil // closed by the caller
	case werr != nil:
		return fmt.Errorf("settings: the window: %w", werr)
	}
	return nil
}

// serve sends the first snapshot, then one after each action, until the
// window closes its end. The certificates and the report are examined
// when the window opens and on «Обновить» only: a revoke changes the
// sites alone, and examining tokens takes seconds.
func (w *Window) serve(ctx context.Context, actions *bufio.Reader, snapshots io.Writer) error {
	certs, report := w.examine(ctx)
	if err := uiproto.WriteSettings(snapshots, w.snapshot(certs, report, "")); err != nil {
		return fmt.Errorf("settings: %w", err)
	}
	for {
		a, err := uiproto.ReadAction(actions)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("settings: %w", err)
		}
		failure := ""
		switch a.Action {
		case uiproto.ActionRevoke:
			failure = w.revoke(ctx, a.Origin)
		case uiproto.ActionRefresh:
			certs, report = w.examine(ctx)
		default:
			w.log("settings window: unknown action", "action", a.Action)
			continue
		}
		if err := uiproto.WriteSettings(snapshots, w.snapshot(certs, report, failure)); err != nil {
			return fmt.Errorf("settings: %w", err)
		}
	}
}

// examine lists the certificates, cleaned for the window, and makes the
// report.
func (w *Window) examine(ctx context.Context) ([]uiproto.SettingsCertificate, string) {
	list, err := w.Source.Certificates(ctx)
	if err != nil {
		w.log("settings window: certificates", "err", err)
	}
	certs := []uiproto.SettingsCertificate{}
	for _, c := range list {
		certs = append(certs, certificate(c))
	}
	return certs, cleanReport(w.Source.Report(ctx))
}

// revoke forgets origin if it is one of the allowed sites, and returns
// the failure to show, if any.
func (w *Window) revoke(ctx context.Context, origin string) string {
	if !slices.Contains(w.Source.Allowed(), origin) {
		return "" // already gone (revoked from the tray meanwhile)
	}
	if err := w.Source.Revoke(ctx, origin); err != nil {
		w.log("settings window: revoke", "origin", origin, "err", err)
		switch {
		case errors.Is(err, ErrAgentRunning):
			return "podpis запущен: отзовите разрешение в его окне настроек (значок podpis → «Настройки…»)."
		case errors.Is(err, config.ErrNotSaved):
			return "Разрешение для " + origin + " отозвано до выхода из podpis, но не сохранено: файл настроек повреждён."
		}
		return "Не удалось отозвать разрешение для " + origin + ". Подробности — в журнале podpis."
	}
	w.log("permission revoked", "origin", origin)
	return ""
}

func (w *Window) log(msg string, args ...any) {
	if w.Log != nil {
		w.Log.Info(msg, args...)
	}
}

// maxField bounds each text of a certificate in the window.
const maxField = 200

// snapshot is what the window shows now.
func (w *Window) snapshot(certs []uiproto.SettingsCertificate, report, failure string) *uiproto.Settings {
	s := &uiproto.Settings{Version: w.Version, LogPath: w.LogPath, Allowed: w.Source.Allowed(),
		Report: report, Failure: failure, Certificates: certs}
	if s.Allowed == nil {
		s.Allowed = []string{}
	}
	return s
}

// certificate is c as the window shows it. A certificate's texts are the
// issuer's words: they are cleaned here, in the one place the agent's
// prompts clean a page's words (agent.CleanText), so that a name cannot
// start lines of its own, reverse what follows it or push the window's
// layout apart.
func certificate(c *keystore.Certificate) uiproto.SettingsCertificate {
	id := c.Identity
	clean := func(s string) string { return agent.CleanText(s, maxField) }
	owner := id.CommonName
	if owner == "" {
		owner = strings.TrimSpace(id.Surname + " " + id.GivenName)
	}
	out := uiproto.SettingsCertificate{
		Owner: clean(owner), Organization: clean(id.Organization),
		SNILS: clean(id.SNILS), INN: clean(id.INN), INNLE: clean(id.INNLE), OGRN: clean(id.OGRN), OGRNIP: clean(id.OGRNIP),
		Issuer: clean(id.Issuer), NotBefore: id.NotBefore, NotAfter: id.NotAfter,
		Token: clean(c.Token), Provider: clean(c.Source), Algorithm: clean(c.Algorithm), Thumbprint: clean(c.ID),
	}
	for _, p := range c.Problems {
		out.Problems = append(out.Problems, string(p))
	}
	if c.Cert != nil {
		out.DER = c.Cert.Raw
	}
	return out
}

// maxReportLine bounds a line of the report; the report's lines are its
// own, but the names in them are certificates' and tokens'.
const maxReportLine = 400

// cleanReport cleans each line of the doctor report on its own, keeping
// the report's line structure and its indentation.
func cleanReport(report string) string {
	lines := strings.Split(strings.TrimRight(report, "\n"), "\n")
	for i, l := range lines {
		indent := len(l) - len(strings.TrimLeft(l, " "))
		lines[i] = strings.Repeat(" ", indent) + agent.CleanText(l, maxReportLine)
	}
	return strings.Join(lines, "\n")
}

// Program finds podpis-ui (uiproto.Program).
func Program() (string, error) { return uiproto.Program() }
