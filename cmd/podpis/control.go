package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"

	"github.com/podpis/podpis/agent/control"
	"github.com/podpis/podpis/agent/keystore"
	"github.com/podpis/podpis/agent/keystore/pkcs11"
	"github.com/podpis/podpis/agent/nativehost"
)

// agentState is what the running agent tells podpis doctor (and the
// settings window) over its control channel.
type agentState struct {
	listen   string
	headless bool
	p        *pkcs11.Store
	others   []keystore.Store // stores besides PKCS#11 (CryptoAPI)
}

// status reads the modules' slots again and lists every certificate now,
// as a page would be offered them.
func (s *agentState) status(ctx context.Context) (*control.Status, error) {
	st := &control.Status{Product: "podpis", Version: version, Protocol: 2, Listen: s.listen, PID: os.Getpid(),
		Headless: s.headless, Modules: []control.Module{}, Certificates: []*keystore.Certificate{}}
	for _, m := range s.p.Current(ctx) {
		st.Modules = append(st.Modules, moduleOf(m))
	}
	var errs []error
	for _, store := range append([]keystore.Store{s.p}, s.others...) {
		if store != keystore.Store(s.p) {
			st.Modules = append(st.Modules, control.Module{Vendor: store.Name(), Name: store.Name(), Found: true, Loaded: true})
		}
		certs, err := store.Certificates(ctx)
		if err != nil {
			errs = append(errs, err)
		}
		st.Certificates = append(st.Certificates, certs...)
	}
	if err := errors.Join(errs...); err != nil {
		st.CertificatesError = err.Error()
	}
	return st, nil
}

func moduleOf(m pkcs11.ModuleStatus) control.Module {
	out := control.Module{Vendor: m.Vendor, Name: m.Name, Path: m.Path, Software: m.Software, CSP: m.CSP,
		Found: m.Found, Loaded: m.Loaded, Error: m.Error, Library: m.Library, Version: m.Version}
	for _, s := range m.Slots {
		out.Tokens = append(out.Tokens, control.Token{Slot: s.ID, Description: s.Description, Present: s.TokenPresent,
			Label: s.Label, Serial: s.Serial, Model: s.Model, PINLocked: s.PINLocked, PINCountLow: s.PINCountLow,
			PINFinalTry: s.PINFinalTry, PINSaved: s.PINSaved, GOSTMechanisms: s.GOSTMechanisms, Error: s.Error})
	}
	return out
}

// serveControl opens the agent's control channel for podpis doctor and
// podpis settings (programs of this account only); the agent works
// without it, with a warning.
func serveControl(srv *control.Server, log *slog.Logger, stderr io.Writer) *control.Server {
	path, err := nativehost.ControlPath()
	var l net.Listener
	if err == nil {
		l, err = nativehost.Listen(path)
	}
	if err != nil {
		fmt.Fprintf(stderr, "podpis: control channel: %v (podpis doctor will examine the modules itself)\n", err)
		return nil
	}
	srv.Log = log
	go func() {
		if err := srv.Serve(l); err != nil {
			log.Error("control channel", "err", err)
		}
	}()
	return srv
}
