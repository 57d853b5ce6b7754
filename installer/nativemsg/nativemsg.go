// Package nativemsg registers `podpis native-host` with the browsers:
// the native messaging host manifest named ru.podpis.agent that lets the
// podpis extension — and no other — start it, for Chromium, Chrome,
// Yandex Browser, Edge and Firefox, per user (files under the browsers'
// folders on Linux, HKCU registry keys on Windows). What install wrote is
// recorded next to the agent's data, so that uninstall removes exactly
// that and nothing a person or another program put there.
package nativemsg

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/podpis/podpis/installer/record"
)

// Name is the host's name, as agent/nativehost.Name and the extension's
// connectNative call spell it.
const Name = "ru.podpis.agent"

// ChromeExtensionKey is the public key in the extension's manifest.json
// ("key"): Chromium-family browsers derive the extension's ID from it, so
// the unpacked extension has the same ID everywhere and the host manifest
// can name it. The private key is not kept: a store listing signs with
// its own, and its ID is then added to AllowedOrigins.
const ChromeExtensionKey = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAxGH7NTnWnGDhCx3hOwLxvMypC3DVaeXRazKZAE/J9J9eAPF6hr3wTz+M7oqUWHZgWscfXbaZEElIk+df4TaOzRthtvgR09kewM5bUvu8YfD7Gt92TEq+hIPjCPNAvS6HELx6GaUqj28ItRiZXBIlVojZcRA6Rz++u8tJLAS/6l77Ppfvlv0RyamC3/R3Uqs3N+gsmz3ThoU+DFInXSaheujLqAS2J0dJ02Xd/xt+9Aia/AaxOTDo2h7tS+4WncKhp17hliXXl3Uz+bqGhVoUNIHTs+A07670XXPbm25ZvGDaNTiOi0CPSksBuiQw99X1vjKB1frLNzSguvbhUjWiywIDAQAB"

// FirefoxExtensionID is the extension's browser_specific_settings.gecko.id.
const FirefoxExtensionID = "agent@podpis.ru"

// ChromeExtensionID is the ID Chromium gives an extension with
// ChromeExtensionKey: the first 16 bytes of the SHA-256 of the key's DER,
// each hex digit 0–f written a–p.
func ChromeExtensionID() string {
	der, _ := base64.StdEncoding.DecodeString(ChromeExtensionKey)
	sum := sha256.Sum256(der)
	id := make([]byte, 0, 32)
	for _, b := range sum[:16] {
		id = append(id, 'a'+b>>4, 'a'+b&0xf)
	}
	return string(id)
}

const description = "podpis: вход и подпись по сертификату"

// ChromeManifest is the host manifest Chromium-family browsers read: the
// podpis executable at exe, startable by the podpis extension only.
func ChromeManifest(exe string) []byte {
	return manifest(map[string]any{"name": Name, "description": description, "path": exe, "type": "stdio",
		"allowed_origins": []string{"chrome-extension://" + ChromeExtensionID() + "/"}})
}

// FirefoxManifest is the same for Firefox, which names extensions by id.
func FirefoxManifest(exe string) []byte {
	return manifest(map[string]any{"name": Name, "description": description, "path": exe, "type": "stdio",
		"allowed_extensions": []string{FirefoxExtensionID}})
}

func manifest(m map[string]any) []byte {
	b, _ := json.MarshalIndent(m, "", "  ")
	return append(b, '\n')
}

// Result is what happened to one browser.
type Result struct {
	Browser string
	Path    string // the manifest file (and on Windows the registry key)
	Err     error
}

// Record is what install wrote: the manifest files, the folders it had
// to create for them, and on Windows the registry keys.
type Record struct {
	path    string
	Files   []string `json:"files,omitempty"`
	Created []string `json:"created,omitempty"`
	Keys    []string `json:"keys,omitempty"`
}

// RecordFile is the record's name in the agent's data folder.
const RecordFile = "nativemsg.json"

// LoadRecord reads dir's record; a missing one is empty.
func LoadRecord(dir string) (*Record, error) {
	r := &Record{path: filepath.Join(dir, RecordFile)}
	if err := record.Load(r.path, r); err != nil {
		return nil, fmt.Errorf("nativemsg: %w", err)
	}
	return r, nil
}

func (r *Record) save() error {
	return record.Save(r.path, r, len(r.Files) == 0 && len(r.Created) == 0 && len(r.Keys) == 0)
}

func (r *Record) addFile(p string) {
	if !slices.Contains(r.Files, p) {
		r.Files = append(r.Files, p)
	}
}

// writeFile writes a manifest, creating its folder (and recording each
// folder it created, so that uninstall can take them away again).
func (r *Record) writeFile(path string, b []byte) error {
	var made []string
	for d := filepath.Dir(path); ; d = filepath.Dir(d) {
		if _, err := os.Lstat(d); err == nil || d == filepath.Dir(d) {
			break
		}
		made = append(made, d)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	for _, d := range made {
		if !slices.Contains(r.Created, d) {
			r.Created = append(r.Created, d)
		}
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	r.addFile(path)
	return nil
}

// removeFiles removes the recorded files and then the recorded folders
// that are empty (deepest first): a folder the browser has since put
// something into stays.
func (r *Record) removeFiles() []Result {
	var out []Result
	var left []string
	for _, f := range r.Files {
		err := os.Remove(f)
		if errors.Is(err, os.ErrNotExist) {
			err = nil
		}
		if err != nil {
			left = append(left, f)
		}
		out = append(out, Result{Browser: browserOf(f), Path: f, Err: err})
	}
	r.Files = left
	slices.SortFunc(r.Created, func(a, b string) int { return len(b) - len(a) })
	for _, d := range r.Created {
		// A folder that is not empty is the browser's (or the
		// person's) now: it stays, and is forgotten.
		os.Remove(d)
	}
	r.Created = nil
	return out
}

// Uninstall removes exactly what Install recorded.
func (r *Record) Uninstall() []Result {
	out := r.removeFiles()
	out = append(out, r.removeKeys()...)
	if err := r.save(); err != nil {
		out = append(out, Result{Browser: "запись установки", Path: r.path, Err: err})
	}
	return out
}
