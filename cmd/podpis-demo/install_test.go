package main

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/podpis/podpis/crypto/streebog"
)

const (
	linuxUA   = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Safari/537.36"
	windowsUA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Safari/537.36"
)

// distFixture is a dist/ folder as make package leaves it, with what else
// may lie about: the demo's soft token package, a file that is no package,
// a folder and a symlink under package names, and secrets beside it.
func distFixture(t *testing.T) (dist string, files map[string][]byte) {
	t.Helper()
	top := t.TempDir()
	dist = filepath.Join(top, "dist")
	os.Mkdir(dist, 0o755)
	files = map[string][]byte{
		"podpis_1.2.3-1_amd64.deb":           []byte("!<arch>\ndebian-binary   the podpis package"),
		"podpis-setup-1.2.3.exe":             []byte("MZ the Windows installer"),
		"podpis-softtoken_1.2.3-1_amd64.deb": []byte("!<arch>\nthe demo token"),
		"secret.txt":                         []byte("not a package"),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dist, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(top, "outside.deb"), []byte("outside dist"), 0o644)
	os.WriteFile(filepath.Join(top, "podpis_6.6.6-1_amd64.deb"), []byte("outside dist, a package's name"), 0o644)
	if err := os.Symlink(filepath.Join(top, "outside.deb"), filepath.Join(dist, "podpis_9.9.9-1_amd64.deb")); err != nil {
		t.Fatal(err)
	}
	os.Mkdir(filepath.Join(dist, "podpis_7.0.0-1_amd64.deb"), 0o755)
	return dist, files
}

func get(t *testing.T, h http.Handler, path, ua string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest("GET", "http://127.0.0.1:8080/", nil)
	r.URL.Path, r.URL.RawPath, r.RequestURI = "", "", path
	u, err := r.URL.Parse(path)
	if err != nil {
		t.Fatal(err)
	}
	r.URL = u
	r.Header.Set("User-Agent", ua)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// TestInstallFiles: only our packages in dist/ itself are served; no
// name in the URL — a traversal, encoded or not, the demo's soft token, a
// file that is no package, a symlink or a folder under a package's name —
// reaches anything else.
func TestInstallFiles(t *testing.T) {
	dist, files := distFixture(t)
	h := (&demo{install: &installer{Dir: dist}}).routes()
	for _, name := range []string{"podpis_1.2.3-1_amd64.deb", "podpis-setup-1.2.3.exe"} {
		w := get(t, h, "/install/"+name, linuxUA)
		if w.Code != 200 || w.Body.String() != string(files[name]) {
			t.Errorf("%s: %d %q", name, w.Code, w.Body)
		}
		if cd := w.Header().Get("Content-Disposition"); cd != `attachment; filename="`+name+`"` {
			t.Errorf("%s: Content-Disposition %q", name, cd)
		}
	}
	for _, path := range []string{
		"/install/secret.txt",
		"/install/podpis-softtoken_1.2.3-1_amd64.deb",
		"/install/podpis_9.9.9-1_amd64.deb", // a symlink out of dist
		"/install/podpis_7.0.0-1_amd64.deb", // a folder
		"/install/..%2Foutside.deb",
		"/install/..%2Fpodpis_6.6.6-1_amd64.deb",
		"/install/%2e%2e%2fpodpis_6.6.6-1_amd64.deb",
		"/install/..%5Cpodpis_6.6.6-1_amd64.deb",
		"/install/podpis_1.2.3-1_amd64.deb%00.txt",
		"/install/../install/secret.txt",
		"/install/.",
		"/install/",
		"/install/%2F",
		"/install/dist%2Fpodpis_1.2.3-1_amd64.deb",
	} {
		w := get(t, h, path, linuxUA)
		body := w.Body.String()
		if w.Code == 200 || strings.Contains(body, "outside dist") || strings.Contains(body, "not a package") || strings.Contains(body, "demo token") {
			t.Errorf("%s: %d %q", path, w.Code, body)
		}
	}
}

// TestInstallPage: the page offers the visitor's system's package first
// (from the User-Agent) and lists both, with size and the SHA-256 and
// Streebog-256 of the very bytes served, the three steps and what to do
// when podpis is installed but not running; without packages it says
// plainly that make package has not been run.
func TestInstallPage(t *testing.T) {
	dist, files := distFixture(t)
	h := (&demo{install: &installer{Dir: dist}}).routes()
	recommended := regexp.MustCompile(`(?s)id="recommended" data-system="(\w+)">.*?href="/install/([^"]+)"`)
	for _, tc := range []struct {
		ua, system, file string
	}{
		{linuxUA, "linux", "podpis_1.2.3-1_amd64.deb"},
		{windowsUA, "windows", "podpis-setup-1.2.3.exe"},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 Safari/605.1.15", "", ""},
	} {
		body := get(t, h, "/install", tc.ua).Body.String()
		m := recommended.FindStringSubmatch(body)
		switch {
		case tc.system == "" && (m != nil || !strings.Contains(body, "Для вашей системы готового пакета нет")):
			t.Errorf("%s: offered %v", tc.ua, m)
		case tc.system != "" && (m == nil || m[1] != tc.system || m[2] != tc.file):
			t.Errorf("%s: recommended %v, want %s", tc.ua, m, tc.file)
		}
		for _, name := range []string{"podpis_1.2.3-1_amd64.deb", "podpis-setup-1.2.3.exe"} {
			s := sha256.Sum256(files[name])
			g := streebog.Sum256(files[name])
			for _, want := range []string{`href="/install/` + name + `"`, hex.EncodeToString(s[:]), hex.EncodeToString(g[:])} {
				if !strings.Contains(body, want) {
					t.Errorf("%s: the page lacks %s", tc.ua, want)
				}
			}
		}
		for _, want := range []string{"Скачайте", "Установите", "нажмите «Обновить»", "podpis установлен, но не запущен", "podpis run", "Автозапуск"} {
			if !strings.Contains(body, want) {
				t.Errorf("%s: the page lacks %q", tc.ua, want)
			}
		}
		for _, not := range []string{"softtoken", "secret", "6.6.6", "7.0.0", "9.9.9"} {
			if strings.Contains(body, not) {
				t.Errorf("%s: the page lists %s", tc.ua, not)
			}
		}
	}
	for _, dir := range []string{"", t.TempDir(), filepath.Join(t.TempDir(), "missing")} {
		h := (&demo{install: &installer{Dir: dir}}).routes()
		w := get(t, h, "/install", linuxUA)
		if w.Code != 200 || !strings.Contains(w.Body.String(), "Пакеты не собраны: выполните <code>make package</code>") {
			t.Errorf("dist %q: %d %s", dir, w.Code, w.Body)
		}
	}
}

// TestInstallLink: «Отсутствует соединение с podpis» leads to the install
// page, not to a developer's document.
func TestInstallLink(t *testing.T) {
	h := (&demo{install: &installer{}}).routes()
	page, _ := io.ReadAll(get(t, h, "/", linuxUA).Result().Body)
	fix := regexp.MustCompile(`(?s)data-code="NOT_RUNNING".*?</div>`).Find(page)
	if fix == nil || !strings.Contains(string(fix), `href="/install"`) || strings.Contains(string(fix), "github.com") {
		t.Fatalf("the NOT_RUNNING steps: %s", fix)
	}
}

// BenchmarkInstallDigest: what the first visit of the install page costs
// per package (SHA-256 and Streebog-256 of a 10 MB file, read once; later
// visits hit the cache).
func BenchmarkInstallDigest(b *testing.B) {
	dir := b.TempDir()
	os.WriteFile(filepath.Join(dir, "podpis_1.0.0-1_amd64.deb"), make([]byte, 10<<20), 0o644)
	b.SetBytes(10 << 20)
	b.ReportAllocs()
	for b.Loop() {
		in := &installer{Dir: dir}
		pkgs, root, err := in.list()
		if err != nil || len(pkgs) != 1 {
			b.Fatal(pkgs, err)
		}
		root.Close()
	}
}
