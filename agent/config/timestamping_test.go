package config

import (
	"os"
	"path/filepath"
	"testing"
)

// TestTimestamping: the site rules name a TSA per origin, the
// administrators' file first; a rule that is not a site pattern, or a TSA
// that is not http(s), makes the file unusable rather than sending
// signatures' imprints somewhere else.
func TestTimestamping(t *testing.T) {
	dir := t.TempDir()
	sys, user := filepath.Join(dir, "system.json"), filepath.Join(dir, "user.json")
	os.WriteFile(sys, []byte(`{"timestamping":[{"site":"https://*.example.ru","tsa":"http://tsa.example.ru/tsp"}]}`), 0o644)
	os.WriteFile(user, []byte(`{"timestamping":[{"site":"https://lk.example.ru","tsa":"https://own.example/tsp"},
		{"site":"https://other.example","tsa":"https://other.example/tsp"}]}`), 0o600)
	c, err := Load(user, sys)
	if err != nil {
		t.Fatal(err)
	}
	for origin, want := range map[string]string{
		"https://lk.example.ru":     "http://tsa.example.ru/tsp", // the administrators' rule wins
		"https://other.example":     "https://other.example/tsp",
		"https://example.com":       "",
		"https://evil.example.ru.x": "",
	} {
		if got := c.TSAFor(origin); got != want {
			t.Errorf("%s: %q, want %q", origin, got, want)
		}
	}
	for _, bad := range []string{
		`{"timestamping":[{"site":"https://x.example","tsa":"file:///etc/passwd"}]}`,
		`{"timestamping":[{"site":"https://x.example","tsa":"tsa.example"}]}`,
		`{"timestamping":[{"site":"*","tsa":"http://tsa.example"}]}`,
	} {
		os.WriteFile(user, []byte(bad), 0o600)
		c, err := Load(user, "")
		if err == nil || c.TSAFor("https://x.example") != "" {
			t.Errorf("%s: accepted", bad)
		}
	}
}
