package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/podpis/podpis/internal/testdeps"
)

func TestDebVersion(t *testing.T) {
	for in, want := range map[string]string{
		"v1.2.3": "1.2.3", "1.2.3": "1.2.3", "v1.2.3-4-gabc1234": "1.2.3+git4.abc1234",
		"abc1234": "0~gitabc1234", "abc1234-dirty": "0~gitabc1234", "": "0~git",
	} {
		if got := debVersion(in); got != want {
			t.Errorf("debVersion(%q) = %q, want %q", in, got, want)
		}
	}
}

func run(t *testing.T, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// buildDebs builds podpis and the soft token from this tree and packages
// them as make package does, into a temporary folder.
func buildDebs(t *testing.T) (podpis, softtoken string) {
	t.Helper()
	root := filepath.Join("..", "..")
	bin := t.TempDir()
	run(t, nil, "go", "build", "-C", root, "-o", filepath.Join(bin, "podpis"), "./cmd/podpis")
	run(t, nil, "go", "build", "-C", root, "-o", filepath.Join(bin, "podpis-ui"), "./cmd/podpis-ui")
	run(t, nil, "go", "build", "-C", root, "-buildmode=c-shared", "-o", filepath.Join(bin, "libpodpis-softtoken.so"), "./cmd/podpis-softtoken")
	gen, dist := t.TempDir(), t.TempDir()
	if err := generate(gen, bin, "1.2.3-"+revision, time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"VERSION": "1.2.3", "RELEASE": revision, "BIN": bin, "ARCH": "amd64", "GEN": gen}
	wd, _ := os.Getwd()
	os.Chdir(root)
	defer os.Chdir(wd)
	var debs []string
	for _, p := range packages {
		deb := filepath.Join(dist, p.name+".deb")
		if err := build(p.config, deb, vars); err != nil {
			t.Fatal(p.name, err)
		}
		debs = append(debs, deb)
	}
	return debs[0], debs[1]
}

// TestDebRoundTrip installs the packages for real with dpkg into a
// throwaway root, runs podpis from it as a person would (version, doctor,
// install into a Firefox profile), removes the packages and checks that
// nothing of them is left: no file, and no CA in the profile.
func TestDebRoundTrip(t *testing.T) {
	testdeps.Need(t, "dpkg", "dpkg-deb", "certutil", "strip")
	deb, soft := buildDebs(t)
	info := run(t, nil, "dpkg-deb", "--info", deb)
	for _, want := range []string{"Package: podpis", "Version: 1.2.3-1", "Depends: libc6, libgl1, libx11-6, libxcursor1, libxrandr2, libxinerama1, libxi6, libxxf86vm1, libnss3-tools", "postinst", "prerm"} {
		if !strings.Contains(info, want) {
			t.Errorf("control lacks %q:\n%s", want, info)
		}
	}

	r := t.TempDir()
	for _, d := range []string{"var/lib/dpkg/info", "var/lib/dpkg/updates"} {
		os.MkdirAll(filepath.Join(r, d), 0o755)
	}
	os.WriteFile(filepath.Join(r, "var/lib/dpkg/status"), nil, 0o644)
	// Maintainer scripts run outside a chroot with DPKG_ROOT set, as dpkg
	// does for bootstrapping; the dependencies are not in the empty root.
	dpkg := []string{"--root=" + r, "--force-script-chrootless", "--force-depends", "--force-not-root"}
	run(t, nil, "dpkg", append(dpkg, "-i", deb, soft)...)
	podpis := filepath.Join(r, "usr/bin/podpis")
	if out := run(t, nil, podpis, "version"); !strings.HasPrefix(out, "podpis ") {
		t.Errorf("podpis version: %q", out)
	}
	for _, f := range []string{"usr/lib/podpis/libpodpis-softtoken.so", "usr/bin/podpis-ui", "usr/share/applications/podpis.desktop",
		"etc/xdg/autostart/podpis.desktop", "usr/share/icons/hicolor/scalable/apps/podpis.svg"} {
		if _, err := os.Stat(filepath.Join(r, f)); err != nil {
			t.Errorf("not installed: %s", f)
		}
	}

	// A person of the throwaway root: a Firefox profile, podpis set up.
	home := filepath.Join(r, "home/anna")
	profile := filepath.Join(home, ".mozilla/firefox/a1.default-release")
	os.MkdirAll(profile, 0o700)
	run(t, nil, "certutil", "-N", "-d", "sql:"+profile, "--empty-password")
	env := []string{"HOME=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, ".config"), "PODPIS_DATA_DIR=", "PODPIS_CONFIG="}
	run(t, env, podpis, "install")
	tokens := t.TempDir()
	cmd := exec.Command(podpis, "doctor", "--module", filepath.Join(r, "usr/lib/podpis/libpodpis-softtoken.so"))
	cmd.Env = append(os.Environ(), append(env, "PODPIS_SOFTTOKEN_DIR="+tokens)...)
	out, _ := cmd.CombinedOutput()
	for _, want := range []string{"диагностика", "podpis soft token", "Firefox, профиль a1.default-release — доверяет"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("doctor from the package lacks %q:\n%s", want, out)
		}
	}
	if l := run(t, nil, "certutil", "-L", "-d", "sql:"+profile); !strings.Contains(l, "podpis local CA") {
		t.Fatalf("install did not reach the profile:\n%s", l)
	}

	run(t, nil, "dpkg", append(dpkg, "--purge", "podpis", "podpis-softtoken")...)
	if l := run(t, nil, "certutil", "-L", "-d", "sql:"+profile); strings.Contains(l, "podpis") {
		t.Errorf("the CA is left in the profile after removal:\n%s", l)
	}
	filepath.Walk(r, func(p string, fi os.FileInfo, err error) error {
		rel, _ := filepath.Rel(r, p)
		if err == nil && !fi.IsDir() && !strings.HasPrefix(rel, "var/lib/dpkg") && !strings.HasPrefix(rel, "home/") {
			t.Errorf("left behind: %s", rel)
		}
		return nil
	})
}

// TestDebLintian runs Debian's own checker on both packages: no error may
// be left (warnings are reported in the log, as lintian prints them).
func TestDebLintian(t *testing.T) {
	testdeps.Need(t, "dpkg-deb", "strip", "lintian")
	// lintian also renders the man page with man --warnings (manpage-has-errors-from-man).
	deb, soft := buildDebs(t)
	cmd := exec.Command("lintian", "--tag-display-limit", "0", deb, soft)
	out, err := cmd.CombinedOutput()
	t.Logf("lintian:\n%s", out)
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "E: ") {
			t.Errorf("lintian error: %s", line)
		}
	}
	// lintian exits 1 on errors (reported above) and 2 when it could not
	// check at all, which must not pass for a clean result.
	if ee, ok := err.(*exec.ExitError); err != nil && !(ok && ee.ExitCode() == 1) {
		t.Fatalf("lintian: %v", err)
	}
}

// extract unpacks a .deb's files into a new folder.
func extract(t *testing.T, deb string) string {
	t.Helper()
	dir := t.TempDir()
	run(t, nil, "dpkg-deb", "-x", deb, dir)
	return dir
}

func gunzip(t *testing.T, path string) (*gzip.Reader, string) {
	t.Helper()
	f, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	z, err := gzip.NewReader(bytes.NewReader(f))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	b, err := io.ReadAll(z)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return z, string(b)
}

// TestDebContents checks what Debian asks of a package and what people
// get: the licence, changelog and man page in podpis; Russian names in the
// desktop entries; the demo soft token only in podpis-softtoken, which
// podpis does not pull in.
func TestDebContents(t *testing.T) {
	testdeps.Need(t, "dpkg-deb", "strip")
	deb, soft := buildDebs(t)
	p, s := extract(t, deb), extract(t, soft)

	for _, pkg := range []struct{ dir, name string }{{p, "podpis"}, {s, "podpis-softtoken"}} {
		c, err := os.ReadFile(filepath.Join(pkg.dir, "usr/share/doc", pkg.name, "copyright"))
		if err != nil || !strings.HasPrefix(string(c), "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n") ||
			!strings.Contains(string(c), "\nLicense: Expat\n") {
			t.Errorf("%s: copyright is not machine-readable Expat: %v\n%s", pkg.name, err, c)
		}
		z, log := gunzip(t, filepath.Join(pkg.dir, "usr/share/doc", pkg.name, "changelog.Debian.gz"))
		if !strings.HasPrefix(log, "podpis (1.2.3-1) unstable; urgency=medium\n") || !strings.Contains(log, "\n -- podpis developers <podpis@example.org>  Mon, 30 Nov 2026 06:00:00 +0000\n") {
			t.Errorf("%s: changelog:\n%s", pkg.name, log)
		}
		// gzip -9n: no file name, no time, so the package is reproducible.
		if z.Name != "" || !z.ModTime.IsZero() {
			t.Errorf("%s: changelog gzip keeps name %q, time %v", pkg.name, z.Name, z.ModTime)
		}
	}

	// The man page is the built podpis's own usage, every command of it.
	usage := run(t, nil, filepath.Join(p, "usr/bin/podpis"), "help")
	_, man := gunzip(t, filepath.Join(p, "usr/share/man/man1/podpis.1.gz"))
	if !strings.HasPrefix(man, ".TH PODPIS 1 ") || !strings.Contains(man, "\n.SH NAME\npodpis \\- ") {
		t.Errorf("man page header:\n%s", man)
	}
	commands := 0
	for _, line := range strings.Split(usage, "\n") {
		if cmd, ok := strings.CutPrefix(strings.TrimSpace(line), "podpis "); ok {
			commands++
			if !strings.Contains(man, `\&`+roff(line)+"\n") {
				t.Errorf("man page lacks %q", cmd)
			}
		}
	}
	if commands == 0 {
		t.Errorf("podpis help lists no command:\n%s", usage)
	}
	for _, f := range []string{"usr/share/applications/podpis.desktop", "etc/xdg/autostart/podpis.desktop"} {
		d, err := os.ReadFile(filepath.Join(p, f))
		if err != nil {
			t.Fatal(err)
		}
		for _, key := range []string{"\nName[ru]=", "\nComment[ru]="} {
			if !strings.Contains(string(d), key) {
				t.Errorf("%s lacks %s", f, key[1:])
			}
		}
	}

	if _, err := os.Stat(filepath.Join(p, "usr/lib/podpis/libpodpis-softtoken.so")); err == nil {
		t.Error("podpis ships the demo soft token")
	}
	if _, err := os.Stat(filepath.Join(s, "usr/lib/podpis/libpodpis-softtoken.so")); err != nil {
		t.Errorf("podpis-softtoken lacks the module: %v", err)
	}
	if strings.Contains(run(t, nil, "dpkg-deb", "--field", deb), "softtoken") {
		t.Error("podpis's control names the soft token")
	}
	if info := run(t, nil, "dpkg-deb", "--field", soft); !strings.Contains(info, "Package: podpis-softtoken\n") {
		t.Errorf("soft token control:\n%s", info)
	}
}
