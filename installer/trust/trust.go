// Package trust puts podpis's per-user local CA into the trust stores the
// browsers read, records exactly where, and takes it out of exactly those
// places again. Without it a page served over https cannot reach the agent
// over wss: the browser refuses the agent's certificate.
package trust

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/podpis/podpis/installer/record"
)

// ErrStillTrusted says a store still holds the CA after it was deleted
// from it.
var ErrStillTrusted = errors.New("trust: the certificate is still in the store after deleting it")

// Store is one trust store: an NSS database or the Windows user's Root store.
type Store interface {
	// ID says which store, stably across runs: it is what the manifest keeps.
	ID() string
	// Browser names who reads it, for people («Chromium», «Firefox (snap)»).
	Browser() string
	Add(ca *x509.Certificate, name string) error
	// Remove and Has find the certificate by the entry's name and
	// fingerprint: another certificate of the same name is not ours.
	Remove(e Entry) error
	Has(e Entry) (bool, error)
}

// Name is the label podpis's CA gets in a store: with part of its
// fingerprint, so that a renewed CA never collides with the one it replaces
// and two users' CAs are told apart.
func Name(ca *x509.Certificate) string {
	sum := sha256.Sum256(ca.Raw)
	return "podpis local CA " + hex.EncodeToString(sum[:4])
}

// Entry is one store that holds a CA podpis added.
type Entry struct {
	Store       string `json:"store"`
	Name        string `json:"name"`
	Fingerprint string `json:"sha256"`
	Browser     string `json:"browser"`
}

// creator is a store that podpis may have had to create; uninstall
// deletes it again when nothing else has been put into it since.
type creator interface {
	Created() bool
	DeleteIfEmpty() error
}

// Manifest is what podpis added, kept next to the CA so that uninstall
// removes exactly that.
type Manifest struct {
	path    string
	Entries []Entry `json:"entries"`
	// Created lists the stores podpis created to put its CA in.
	Created []string `json:"created,omitempty"`
}

// ManifestFile is the manifest's name in the agent's data folder.
const ManifestFile = "trust.json"

// LoadManifest reads dir's manifest; a missing one is empty.
func LoadManifest(dir string) (*Manifest, error) {
	m := &Manifest{path: filepath.Join(dir, ManifestFile)}
	if err := record.Load(m.path, m); err != nil {
		return nil, fmt.Errorf("trust: %w", err)
	}
	return m, nil
}

func (m *Manifest) save() error {
	return record.Save(m.path, m, len(m.Entries) == 0 && len(m.Created) == 0)
}

// Fingerprint is the SHA-256 of the certificate, in hex.
func Fingerprint(ca *x509.Certificate) string {
	sum := sha256.Sum256(ca.Raw)
	return hex.EncodeToString(sum[:])
}

// Result is what happened in one store.
type Result struct {
	Store   string
	Browser string
	Already bool // install: the store held the CA before
	Err     error
}

// Install adds ca to every store and records each success. A store that
// already holds it is recorded too and left alone: running install twice
// changes nothing.
func (m *Manifest) Install(ca *x509.Certificate, stores []Store) []Result {
	var out []Result
	for _, s := range stores {
		e := Entry{Store: s.ID(), Name: Name(ca), Fingerprint: Fingerprint(ca), Browser: s.Browser()}
		r := Result{Store: s.ID(), Browser: s.Browser()}
		has, err := s.Has(e)
		if err == nil && !has {
			err = s.Add(ca, e.Name)
		}
		r.Err, r.Already = err, has
		if err == nil && !slices.Contains(m.Entries, e) {
			m.Entries = append(m.Entries, e)
		}
		if c, ok := s.(creator); ok && c.Created() && !slices.Contains(m.Created, s.ID()) {
			m.Created = append(m.Created, s.ID())
		}
		out = append(out, r)
	}
	if err := m.save(); err != nil {
		out = append(out, Result{Store: m.path, Err: err})
	}
	return out
}

// Uninstall removes every CA the manifest lists from its store, using
// open to reach the store by its ID, and forgets the entries it removed.
// A store that no longer exists (a deleted Firefox profile) is forgotten.
// keep, when not empty, is a fingerprint to leave in place (renewal
// removes the old CA after adding the new one).
func (m *Manifest) Uninstall(open func(id string) (Store, bool), keep string) []Result {
	var out []Result
	var kept []Entry
	for _, e := range m.Entries {
		if e.Fingerprint == keep {
			kept = append(kept, e)
			continue
		}
		s, ok := open(e.Store)
		if !ok {
			continue
		}
		r := Result{Store: e.Store, Browser: e.Browser}
		r.Err = s.Remove(e)
		if r.Err != nil {
			kept = append(kept, e)
		}
		out = append(out, r)
	}
	m.Entries = kept
	var created []string
	for _, id := range m.Created {
		if slices.ContainsFunc(kept, func(e Entry) bool { return e.Store == id }) {
			created = append(created, id)
			continue
		}
		if s, ok := open(id); ok {
			if c, ok := s.(creator); ok {
				if err := c.DeleteIfEmpty(); err != nil {
					out = append(out, Result{Store: id, Browser: s.Browser(), Err: err})
				}
			}
		}
	}
	m.Created = created
	if err := m.save(); err != nil {
		out = append(out, Result{Store: m.path, Err: err})
	}
	return out
}

// StoreStatus says whether one store trusts ca, for podpis doctor.
type StoreStatus struct {
	Browser string `json:"browser"`
	Store   string `json:"store"`
	Trusted bool   `json:"trusted"`
	Error   string `json:"error,omitempty"`
}

// Status checks every store.
func Status(ca *x509.Certificate, stores []Store) []StoreStatus {
	out := []StoreStatus{}
	for _, s := range stores {
		has, err := s.Has(Entry{Name: Name(ca), Fingerprint: Fingerprint(ca)})
		st := StoreStatus{Browser: s.Browser(), Store: s.ID(), Trusted: has}
		if err != nil {
			st.Error = err.Error()
		}
		out = append(out, st)
	}
	return out
}
