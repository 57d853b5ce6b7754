// Package pkcs11 is the key store over PKCS#11 modules (CryptoPro CSP,
// ViPNet CSP, Rutoken, JaCarta, SoftHSM2, OpenSC, podpis's soft token)
// through github.com/miekg/pkcs11. The C interface stays inside this
// package: callers see keystore types and codes only.
package pkcs11

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/podpis/podpis/agent/keystore"
)

// Options tune a Store.
type Options struct {
	// Modules are extra module paths (config file, --module).
	Modules []string
	// OnlyModules, when set, disables the search of known paths.
	OnlyModules bool
	// SavedPINLifetime bounds how long «Сохранить пароль» keeps a PIN in
	// memory; zero means 30 minutes.
	SavedPINLifetime time.Duration
	// CallTimeout bounds one call into a module; zero means 20 s. Logging
	// in on a PIN pad gets four times as long.
	CallTimeout time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Store implements keystore.Store over every module it could load.
type Store struct {
	opts    Options
	modules []*Module
	status  []ModuleStatus

	mu   sync.Mutex
	pins map[string]*savedPIN // by module path + token serial + PIN scope
}

// New loads the known modules present on this system and opts.Modules. A
// module that is missing or fails to load is a diagnosis (Status), not an
// error; New fails only if an explicitly named module cannot be used.
func New(ctx context.Context, opts Options) (*Store, error) {
	if opts.SavedPINLifetime == 0 {
		opts.SavedPINLifetime = 30 * time.Minute
	}
	if opts.CallTimeout == 0 {
		opts.CallTimeout = 20 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	p := &Store{opts: opts, pins: map[string]*savedPIN{}}
	candidates := opts.Candidates()
	p.status = Diagnose(ctx, candidates)
	var errs []error
	for _, st := range p.status {
		if st.Loaded {
			m, _ := Open(Candidate{Vendor: st.Vendor, Path: st.Path})
			p.modules = append(p.modules, m)
		} else if st.Error != "" {
			for _, c := range candidates {
				if c.Path == st.Path && c.Explicit {
					errs = append(errs, errors.New(st.Error))
				}
			}
		}
	}
	if len(errs) > 0 {
		return p, &keystore.Error{Code: keystore.CodeNoProvider, Err: errors.Join(errs...)}
	}
	return p, nil
}

// Name is "pkcs11".
func (p *Store) Name() string { return "pkcs11" }

// Status returns what New found about every module.
func (p *Store) Status() []ModuleStatus { return p.status }

// Modules summarises Status for the agent's info method.
func (p *Store) Modules() []keystore.ModuleInfo {
	out := []keystore.ModuleInfo{}
	for _, st := range p.status {
		out = append(out, keystore.ModuleInfo{Name: st.Vendor, Library: st.Path, Loaded: st.Loaded, Error: st.Error})
	}
	return out
}

// Close forgets saved PINs. Modules stay loaded for the process: some
// vendors' modules crash when finalised and loaded again.
func (p *Store) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, s := range p.pins {
		clear(s.pin)
		delete(p.pins, k)
	}
	return nil
}

// Current is Status as it is now: the slots of every loaded module read
// again (a token inserted, removed or locked since the start), and for
// each token whether a PIN saved with «Сохранить пароль» is in effect. The
// agent's status request (podpis doctor) asks here, so that doctor shows
// what the agent sees rather than what it saw when it started.
func (p *Store) Current(ctx context.Context) []ModuleStatus {
	out := make([]ModuleStatus, len(p.status))
	copy(out, p.status)
	for i := range out {
		st := &out[i]
		if !st.Loaded {
			continue
		}
		var m *Module
		for _, mod := range p.modules {
			if mod.Path == st.Path {
				m = mod
			}
		}
		if m == nil {
			continue
		}
		slots, err := m.slots(ctx)
		st.Slots, st.Error = slots, ""
		if err != nil {
			st.Error = err.Error()
		}
		for j := range st.Slots {
			st.Slots[j].PINSaved = p.pinSaved(st.Path, st.Slots[j].Serial)
		}
	}
	return out
}

// pinSaved reports whether an unexpired PIN is saved for the token, for
// any site.
func (p *Store) pinSaved(path, serial string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	prefix := path + "\x00" + serial + "\x00"
	for k, s := range p.pins {
		if strings.HasPrefix(k, prefix) && !p.opts.Now().After(s.expires) {
			return true
		}
	}
	return false
}
