// Package config reads and writes the agent's settings: a per-user file
// and, for administrators, a system-wide one. Both list trusted origins and
// extra PKCS#11 modules; the user's file also keeps the origins the person
// allowed with «Разрешить всегда», which the tray lists and revokes.
//
// A file that cannot be read is reported and never overwritten: podpis
// keeps running on what it could read, and the person's file stays as it
// was for them or support to fix.
package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"

	"github.com/podpis/podpis/agent"
)

// File is the format of both files.
type File struct {
	TrustedOrigins []string `json:"trustedOrigins,omitempty"`
	AllowedOrigins []string `json:"allowedOrigins,omitempty"`
	Modules        []string `json:"modules,omitempty"`
	// Timestamping names, per site rule (an origin or https://*.domain),
	// the time-stamping authority of its CAdES-T and X Long signatures.
	Timestamping []TSARule `json:"timestamping,omitempty"`
}

// TSARule is one site's time-stamping authority.
type TSARule struct {
	Site string `json:"site"`
	TSA  string `json:"tsa"` // http or https
}

// MaxSize bounds a configuration file.
const MaxSize = 1 << 20

// UserPath is the per-user file.
func UserPath() string {
	dir, err := os.UserConfigDir()
	if err != nil {
		dir = os.TempDir()
	}
	return filepath.Join(dir, "podpis", "config.json")
}

// SystemPath is the administrators' file. PODPIS_SYSTEM_CONFIG, when set,
// names another (empty: none), so that tests see no file of the machine's.
func SystemPath() string {
	if p, ok := os.LookupEnv("PODPIS_SYSTEM_CONFIG"); ok {
		return p
	}
	if runtime.GOOS == "windows" {
		return filepath.Join(os.Getenv("ProgramData"), "podpis", "config.json")
	}
	return "/etc/podpis/config.json"
}

// Config is the loaded settings; it implements agent.DecisionStore.
type Config struct {
	mu         sync.Mutex
	userPath   string
	user       File
	system     File
	userBroken bool
}

// Load reads both files; a missing file is empty. The error, if any,
// describes files that could not be used (Config is still usable).
func Load(userPath, systemPath string) (*Config, error) {
	c := &Config{userPath: userPath}
	var errs []error
	if err := read(systemPath, &c.system); err != nil {
		errs = append(errs, err)
	}
	if err := read(userPath, &c.user); err != nil {
		errs = append(errs, err)
		c.userBroken = true
		c.user = File{}
	}
	return c, errors.Join(errs...)
}

func read(path string, f *File) error {
	if path == "" {
		return nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("config: %s: %w", path, err)
	}
	if len(b) > MaxSize {
		return fmt.Errorf("config: %s: larger than %d bytes", path, MaxSize)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var tmp File
	if err := dec.Decode(&tmp); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line := 1 + bytes.Count(b[:se.Offset], []byte("\n"))
			return fmt.Errorf("config: %s, line %d: %v", path, line, err)
		}
		return fmt.Errorf("config: %s: %v", path, err)
	}
	for _, o := range append(append([]string{}, tmp.TrustedOrigins...), tmp.AllowedOrigins...) {
		if err := ValidRule(o); err != nil {
			return fmt.Errorf("config: %s: %w", path, err)
		}
	}
	for _, r := range tmp.Timestamping {
		if err := ValidRule(r.Site); err != nil {
			return fmt.Errorf("config: %s: timestamping: %w", path, err)
		}
		if u, err := url.Parse(r.TSA); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("config: %s: timestamping: %q is not an http(s) URL", path, r.TSA)
		}
	}
	*f = tmp
	return nil
}

// ValidRule checks an origin or https://*.domain pattern (agent.ParseRule).
func ValidRule(o string) error {
	_, err := agent.ParseRule(o)
	return err
}

// Trusted returns the trusted origins of both files.
func (c *Config) Trusted() []agent.Rule {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []agent.Rule
	for _, o := range append(append([]string{}, c.system.TrustedOrigins...), c.user.TrustedOrigins...) {
		// Load kept only rules that parse; their normal form is what
		// Rule.Match compares.
		if r, err := agent.ParseRule(o); err == nil {
			out = append(out, r)
		}
	}
	return out
}

// TSAFor is the time-stamping authority the first rule matching origin
// names, the administrators' file first; "" for none.
func (c *Config) TSAFor(origin string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range append(append([]TSARule{}, c.system.Timestamping...), c.user.Timestamping...) {
		if rule, err := agent.ParseRule(r.Site); err == nil && rule.Match(origin) {
			return r.TSA
		}
	}
	return ""
}

// Modules returns the extra modules of both files.
func (c *Config) Modules() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append(append([]string{}, c.system.Modules...), c.user.Modules...)
}

// Allowed reports whether the person allowed origin for good.
func (c *Config) Allowed(origin string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Contains(c.user.AllowedOrigins, origin)
}

// Allowances lists the remembered origins.
func (c *Config) Allowances() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.user.AllowedOrigins)
}

// Allow remembers origin and saves the user file.
func (c *Config) Allow(origin string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !slices.Contains(c.user.AllowedOrigins, origin) {
		c.user.AllowedOrigins = append(c.user.AllowedOrigins, origin)
	}
	return c.save()
}

// Revoke forgets a remembered origin and saves the user file.
func (c *Config) Revoke(origin string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.user.AllowedOrigins = slices.DeleteFunc(c.user.AllowedOrigins, func(o string) bool { return o == origin })
	return c.save()
}

// ErrNotSaved means the user file was unreadable at start: the change is
// kept for this run only, and the file is left for a person to fix.
var ErrNotSaved = errors.New("config: the configuration file is damaged; the change is kept until podpis exits")

func (c *Config) save() error {
	if c.userBroken {
		return ErrNotSaved
	}
	if err := os.MkdirAll(filepath.Dir(c.userPath), 0o700); err != nil {
		return err
	}
	b, _ := json.MarshalIndent(c.user, "", "  ")
	tmp, err := os.CreateTemp(filepath.Dir(c.userPath), ".config-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	tmp.Chmod(0o600)
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), c.userPath)
}
