package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

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

// TestDebRoundTrip installs the package for real with dpkg into a
// throwaway root, runs podpis from it as a person would (version, doctor,
// install into a Firefox profile), removes the package and checks that
// nothing of it is left: no file, and no CA in the profile.
func TestDebRoundTrip(t *testing.T) {
	testdeps.Need(t, "dpkg", "dpkg-deb", "certutil")
	root := filepath.Join("..", "..")
	bin := t.TempDir()
	run(t, nil, "go", "build", "-C", root, "-o", filepath.Join(bin, "podpis"), "./cmd/podpis")
	run(t, nil, "go", "build", "-C", root, "-buildmode=c-shared", "-o", filepath.Join(bin, "libpodpis-softtoken.so"), "./cmd/podpis-softtoken")
	deb := filepath.Join(t.TempDir(), "podpis.deb")
	wd, _ := os.Getwd()
	os.Chdir(root)
	err := build("installer/linux/nfpm.yaml", deb, map[string]string{"VERSION": "1.2.3", "BIN": bin, "ARCH": "amd64"})
	os.Chdir(wd)
	if err != nil {
		t.Fatal(err)
	}
	info := run(t, nil, "dpkg-deb", "--info", deb)
	for _, want := range []string{"Package: podpis", "Version: 1.2.3", "Depends: libc6, zenity, libnss3-tools", "postinst", "prerm"} {
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
	run(t, nil, "dpkg", append(dpkg, "-i", deb)...)
	podpis := filepath.Join(r, "usr/bin/podpis")
	if out := run(t, nil, podpis, "version"); !strings.HasPrefix(out, "podpis ") {
		t.Errorf("podpis version: %q", out)
	}
	for _, f := range []string{"usr/lib/podpis/libpodpis-softtoken.so", "usr/share/applications/podpis.desktop",
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

	run(t, nil, "dpkg", append(dpkg, "--purge", "podpis")...)
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
