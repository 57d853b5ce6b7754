package main

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/podpis/podpis/crypto/streebog"
)

// installer serves «Установка podpis»: the packages make package wrote
// to Dir, the one for the visitor's system first. Only files whose names
// are those of our packages, found in Dir itself at the time of the
// request, are ever served: a name in the URL is looked up in that list,
// never joined to a path, and the file is opened through an os.Root of
// Dir, so that neither "../", an encoded slash nor a symlink planted
// under a package's name reaches anything else.
type installer struct {
	// Dir is make package's output (dist/); empty: no packages.
	Dir string

	mu     sync.Mutex
	hashes map[hashKey]digests
}

// packageKinds are the files make package writes that a person installs,
// by system: the .deb of podpis itself (not podpis-softtoken, the demo's
// software token, which is no end user's business) and the Windows
// installer.
var packageKinds = []struct {
	system string // "linux" or "windows": what the User-Agent says
	name   *regexp.Regexp
	title  string
}{
	{"linux", regexp.MustCompile(`^podpis_[0-9A-Za-z.+~-]+_[0-9a-z]+\.deb$`), "Linux: Astra Linux, РЕД ОС, ALT, Debian, Ubuntu (пакет .deb)"},
	{"windows", regexp.MustCompile(`^podpis-setup-[0-9A-Za-z.+~-]+\.exe$`), "Windows 10 и 11 (установщик)"},
}

type hashKey struct {
	name string
	size int64
	mod  time.Time
}

type digests struct{ sha256, streebog string }

// pkg is one package as the page shows it.
type pkg struct {
	System, Title    string
	Name             string
	Size             int64
	SHA256, Streebog string
}

// HumanSize is the size as a person reads it: «12,3 МБ».
func (p pkg) HumanSize() string {
	switch {
	case p.Size >= 1<<20:
		return strings.Replace(fmt.Sprintf("%.1f МБ", float64(p.Size)/(1<<20)), ".", ",", 1)
	case p.Size >= 1<<10:
		return fmt.Sprintf("%d КБ", p.Size>>10)
	}
	return fmt.Sprintf("%d байт", p.Size)
}

// list reads Dir: the packages there now, regular files only, and the
// Root they are opened through (the caller closes it).
func (in *installer) list() ([]pkg, *os.Root, error) {
	if in.Dir == "" {
		return nil, nil, nil
	}
	root, err := os.OpenRoot(in.Dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, nil
		}
		return nil, nil, err
	}
	entries, err := fs.ReadDir(root.FS(), ".")
	if err != nil {
		root.Close()
		return nil, nil, err
	}
	var out []pkg
	for _, kind := range packageKinds {
		for _, e := range entries {
			if !kind.name.MatchString(e.Name()) || !e.Type().IsRegular() {
				continue
			}
			fi, err := e.Info()
			if err != nil {
				continue
			}
			d, err := in.digest(root, fi)
			if err != nil {
				continue
			}
			out = append(out, pkg{System: kind.system, Title: kind.title, Name: e.Name(), Size: fi.Size(),
				SHA256: d.sha256, Streebog: d.streebog})
		}
	}
	return out, root, nil
}

// digest is the file's SHA-256 and Streebog-256, computed once per
// version of the file (name, size, time).
func (in *installer) digest(root *os.Root, fi fs.FileInfo) (digests, error) {
	k := hashKey{fi.Name(), fi.Size(), fi.ModTime()}
	in.mu.Lock()
	d, ok := in.hashes[k]
	in.mu.Unlock()
	if ok {
		return d, nil
	}
	f, err := root.Open(fi.Name())
	if err != nil {
		return digests{}, err
	}
	defer f.Close()
	s, g := sha256.New(), streebog.New256()
	if _, err := io.Copy(io.MultiWriter(s, g), f); err != nil {
		return digests{}, err
	}
	d = digests{hex.EncodeToString(s.Sum(nil)), hex.EncodeToString(g.Sum(nil))}
	in.mu.Lock()
	if in.hashes == nil {
		in.hashes = map[hashKey]digests{}
	}
	in.hashes[k] = d
	in.mu.Unlock()
	return d, nil
}

// systemOf reads the visitor's system from the User-Agent: only to put
// its package first; both are listed anyway.
func systemOf(ua string) string {
	switch {
	case strings.Contains(ua, "Windows"):
		return "windows"
	case strings.Contains(ua, "Android"):
		return ""
	case strings.Contains(ua, "Linux"), strings.Contains(ua, "X11"):
		return "linux"
	}
	return ""
}

//go:embed install.html
var installHTML string

var installPage = template.Must(template.New("install").Parse(installHTML))

type installView struct {
	System      string // "linux", "windows" or ""
	SystemName  string
	Recommended *pkg
	Packages    []pkg
	Unavailable bool // Dir cannot be read
}

func (in *installer) page(w http.ResponseWriter, r *http.Request) {
	pkgs, root, err := in.list()
	if root != nil {
		root.Close()
	}
	v := installView{System: systemOf(r.UserAgent()), Packages: pkgs, Unavailable: err != nil}
	v.SystemName = map[string]string{"linux": "Linux", "windows": "Windows"}[v.System]
	for i := range pkgs {
		if pkgs[i].System == v.System {
			v.Recommended = &pkgs[i]
			break
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	installPage.Execute(w, v)
}

// file serves one package by its exact name, as listed now.
func (in *installer) file(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	pkgs, root, err := in.list()
	if root != nil {
		defer root.Close()
	}
	var found *pkg
	for i := range pkgs {
		if pkgs[i].Name == name {
			found = &pkgs[i]
		}
	}
	if err != nil || found == nil {
		http.NotFound(w, r)
		return
	}
	f, err := root.Open(name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		http.NotFound(w, r)
		return
	}
	ct := "application/octet-stream"
	if strings.HasSuffix(name, ".deb") {
		ct = "application/vnd.debian.binary-package"
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
	h.Set("X-Checksum-Sha256", found.SHA256)
	http.ServeContent(w, r, name, fi.ModTime(), f)
}
