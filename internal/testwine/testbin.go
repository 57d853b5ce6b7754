package testwine

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// BuildTest cross-compiles a package's tests for windows/amd64 (go test
// -c, cgo through mingw) into dir and returns the .test.exe: the Windows
// half of a test whose Linux half runs it under Wine and judges what it
// wrote.
func BuildTest(t testing.TB, dir, out, pkg string) string {
	t.Helper()
	Need(t)
	path := filepath.Join(dir, out)
	cmd := exec.Command("go", "test", "-c", "-o", path, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1", "CC=x86_64-w64-mingw32-gcc", "GOOS=windows", "GOARCH=amd64")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go test -c %s for windows: %v\n%s", pkg, err, out)
	}
	return path
}

// WindowsPath is how a program under Wine names a Linux file: through the
// Z: drive Wine maps to /.
func WindowsPath(linux string) string {
	abs, err := filepath.Abs(linux)
	if err != nil {
		abs = linux
	}
	return `Z:` + strings.ReplaceAll(abs, "/", `\`)
}

// Reg runs Wine's reg.exe (add, query, delete, export) in the prefix.
func (p *Prefix) Reg(ctx context.Context, args ...string) (string, error) {
	out, err := p.Run(ctx, "wine", append([]string{"reg"}, args...)...)
	return string(out), err
}

// RegValue reads one value with reg query: its data as reg prints it, and
// false when the key or the value is not there. The empty name is the
// key's default value.
func (p *Prefix) RegValue(ctx context.Context, key, name string) (string, bool) {
	args := []string{"query", key, "/v", name}
	if name == "" {
		args, name = []string{"query", key, "/ve"}, "(Default)"
	}
	out, err := p.Reg(ctx, args...)
	if err != nil {
		return "", false
	}
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimRight(line, "\r")
		// "    name    REG_SZ    data"
		n, rest, ok := strings.Cut(strings.TrimLeft(line, " "), "    REG_")
		if !ok || n != name {
			continue
		}
		_, data, _ := strings.Cut(rest, "    ")
		return data, true
	}
	return "", false
}

// RegKeyExists says whether reg query finds key.
func (p *Prefix) RegKeyExists(ctx context.Context, key string) bool {
	_, err := p.Reg(ctx, "query", key)
	return err == nil
}

// StartAgent runs podpis.exe run (exe, with args and env) on a free
// loopback port and waits until it says it listens; it returns the
// address and the file of its output. The agent is stopped when t ends.
func (p *Prefix) StartAgent(t testing.TB, env []string, exe string, args ...string) (addr, log string) {
	t.Helper()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr = l.Addr().String()
	l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	log = filepath.Join(t.TempDir(), "agent.out")
	f, err := os.Create(log)
	if err != nil {
		t.Fatal(err)
	}
	cmd := p.Wine(ctx, exe, append(append([]string{"run"}, args...), "--listen", addr)...)
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); f.Close(); close(done) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		out, _ := os.ReadFile(log)
		if strings.Contains(string(out), "listening on "+addr) {
			return addr, log
		}
		select {
		case <-done:
			t.Fatalf("podpis.exe run exited:\n%s", out)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("podpis.exe run did not start in a minute:\n%s", out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
