// Package testpg starts a throwaway PostgreSQL server for tests (Debian's
// postgresql: initdb and postgres), in a temporary folder on a loopback
// port, and makes a fresh database per test. PostgreSQL refuses to run as
// root, so as root the server runs as testdeps.OtherUser. When the
// programs are missing the test stops as internal/testdeps says: a skip,
// or a failure under make test.
package testpg

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver
	"github.com/podpis/podpis/internal/testdeps"
)

// Server is a running PostgreSQL.
type Server struct {
	// Addr is host:port on 127.0.0.1.
	Addr string
}

// bin finds a PostgreSQL program on PATH or in Debian's versioned folder.
func bin(name string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if m, _ := filepath.Glob("/usr/lib/postgresql/*/bin/" + name); len(m) > 0 {
		return m[len(m)-1]
	}
	return ""
}

// Start runs PostgreSQL for the duration of t.
func Start(t testing.TB) *Server {
	t.Helper()
	initdb, postgres := bin("initdb"), bin("postgres")
	if initdb == "" || postgres == "" {
		testdeps.Deps.Missing(t, "PostgreSQL (initdb, postgres) is not installed (scripts/test-deps.sh installs postgresql)")
	}
	dir, err := os.MkdirTemp("", "podpis-pg")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	attr := procAttr(t, dir)
	data := filepath.Join(dir, "data")
	run := func(name string, args ...string) *exec.Cmd {
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		cmd.Env = []string{"PATH=/usr/bin:/bin", "LANG=C.UTF-8", "LC_ALL=C.UTF-8"}
		cmd.SysProcAttr = attr
		return cmd
	}
	if out, err := run(initdb, "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8", "-N").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := run(postgres, "-D", data, "-h", "127.0.0.1", "-p", fmt.Sprint(port), "-k", dir,
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=300")
	logf, err := os.Create(filepath.Join(dir, "postgres.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGINT) // fast shutdown
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		logf.Close()
	})
	s := &Server{Addr: fmt.Sprintf("127.0.0.1:%d", port)}
	deadline := time.Now().Add(30 * time.Second)
	for {
		db, err := sql.Open("pgx", s.dsn("postgres"))
		if err == nil {
			err = db.Ping()
			db.Close()
		}
		if err == nil {
			return s
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "postgres.log"))
			t.Fatalf("postgres on %s did not start: %v\n%s", s.Addr, err, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *Server) dsn(db string) string {
	return fmt.Sprintf("postgres://postgres@%s/%s?sslmode=disable", s.Addr, db)
}

// NewDatabase creates an empty database for t and returns its DSN (for
// the pgx driver of database/sql); it is dropped when t ends.
func (s *Server) NewDatabase(t testing.TB) string {
	t.Helper()
	var r [6]byte
	rand.Read(r[:])
	name := "t_" + hex.EncodeToString(r[:])
	admin, err := sql.Open("pgx", s.dsn("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin, err := sql.Open("pgx", s.dsn("postgres"))
		if err != nil {
			return
		}
		defer admin.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	return s.dsn(name)
}
