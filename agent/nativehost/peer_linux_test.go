package nativehost

import (
	"bytes"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/podpis/podpis/internal/testdeps"
)

// The test binary, re-run as another local account with helperEnv set,
// attacks the channel at $PODPIS_NATIVE_SOCKET the way any process of
// that account could: connect and ask for the certificates.
const helperEnv = "PODPIS_NATIVE_HELPER"

type attack struct {
	Dial  string `json:"dial,omitempty"`  // the error connecting, if any
	Reply string `json:"reply,omitempty"` // what the agent answered
	Read  string `json:"read,omitempty"`  // the error reading the answer
}

func otherHelper() int {
	if p := os.Getenv("PODPIS_NATIVE_LISTEN"); p != "" {
		return squatter(p)
	}
	var a attack
	defer func() { json.NewEncoder(os.Stdout).Encode(a) }()
	c, err := net.DialTimeout("unix", os.Getenv("PODPIS_NATIVE_SOCKET"), 5*time.Second)
	if err != nil {
		a.Dial = err.Error()
		return 0
	}
	defer c.Close()
	WriteFrame(c, []byte(`{"origin":"`+site+`","message":{"id":1,"method":"certificates"}}`), MaxEnvelope)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, err := ReadFrame(c, MaxFromBrowser)
	if err != nil {
		a.Read = err.Error()
	}
	a.Reply = string(b)
	return 0
}

func asOther(t *testing.T, socket string) attack {
	t.Helper()
	cmd := testdeps.AsOther(t, helperEnv+"=1", "PODPIS_NATIVE_SOCKET="+socket)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var a attack
	if err != nil || json.Unmarshal(out, &a) != nil {
		t.Fatalf("helper as %s: %v: %s %s", testdeps.OtherUser, err, out, stderr.Bytes())
	}
	return a
}

// TestOtherAccountCannotOpen: as the agent lays it out, the channel's
// folder (0700) and socket (0600) keep another account out at connect.
func TestOtherAccountCannotOpen(t *testing.T) {
	path, _ := startAgent(t, &prompter{})
	// The runtime folder's parent is open to all, as /run/user is.
	os.Chmod(filepath.Dir(filepath.Dir(path)), 0o755)
	a := asOther(t, path)
	if !strings.Contains(a.Dial, "permission denied") || a.Reply != "" {
		t.Fatalf("another account reached the channel: %+v", a)
	}
}

// TestOtherAccountRefusedByPeerCred: should the file system let another
// account through (a folder or socket made world-accessible by mistake),
// the agent still refuses it by SO_PEERCRED: the connection closes with
// no answer. Without the check in Accept, the helper gets the list of
// certificates.
func TestOtherAccountRefusedByPeerCred(t *testing.T) {
	path, _ := startAgent(t, &prompter{})
	for _, p := range []string{filepath.Dir(filepath.Dir(path)), filepath.Dir(path), path} {
		if err := os.Chmod(p, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	a := asOther(t, path)
	if a.Dial != "" {
		t.Fatalf("the weakened socket did not even accept the connection (%s): the test does not reach the check", a.Dial)
	}
	if a.Reply != "" || a.Read == "" {
		t.Fatalf("another account got an answer: %+v", a)
	}
}

// TestListenRefusesPlantedFolder: a runtime folder that is a symlink, open
// to others or another account's is refused, never used or repaired; so
// is it by Dial, so that a host never talks to a planted socket.
func TestListenRefusesPlantedFolder(t *testing.T) {
	uid, gid := testdeps.OtherAccount(t)
	for _, tc := range []struct {
		name  string
		plant func(dir string) error
	}{
		{"symlink", func(dir string) error { return os.Symlink(t.TempDir(), dir) }},
		{"open to others", func(dir string) error {
			if err := os.Mkdir(dir, 0o700); err != nil {
				return err
			}
			return os.Chmod(dir, 0o755)
		}},
		{"another account's", func(dir string) error {
			if err := os.Mkdir(dir, 0o700); err != nil {
				return err
			}
			return os.Chown(dir, int(uid), int(gid))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(runtimeDir(t), "podpis")
			if err := tc.plant(dir); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "agent.sock")
			if l, err := Listen(path); err == nil {
				l.Close()
				t.Fatal("Listen used a planted folder")
			}
			if c, err := Dial(path); err == nil {
				c.Close()
				t.Fatal("Dial used a planted folder")
			}
		})
	}
}

// squatter serves a socket at path as the other account, answering
// every connection "{}", until its stdin closes.
func squatter(path string) int {
	l, err := net.Listen("unix", path)
	if err != nil {
		os.Stdout.WriteString(err.Error() + "\n")
		return 1
	}
	os.Chmod(path, 0o777)
	os.Stdout.WriteString("ready\n")
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			WriteFrame(c, []byte("{}"), 10)
		}
	}()
	os.Stdin.Read(make([]byte, 1))
	return 0
}

// TestDialRefusesOtherAgent: a socket served by another account's process
// gets no page's message, even in a folder of ours (Dial checks the
// server's SO_PEERCRED): the host would otherwise hand the page's
// messages, and the PIN prompts' answers, to whoever serves it.
func TestDialRefusesOtherAgent(t *testing.T) {
	uid, gid := testdeps.OtherAccount(t)
	path := filepath.Join(runtimeDir(t), "podpis", "agent.sock")
	if err := os.Mkdir(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	// The other account listens in a folder of its own; the socket is
	// then moved (as root can) into ours: the listener stays its.
	theirs, err := os.MkdirTemp("", "podpis-squat")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(theirs)
	os.Chmod(theirs, 0o777)
	self, _ := os.Executable()
	bin := filepath.Join(theirs, "helper")
	b, _ := os.ReadFile(self)
	os.WriteFile(bin, b, 0o755)
	cmd := exec.Command(bin)
	cmd.Env = []string{helperEnv + "=1", "PODPIS_NATIVE_LISTEN=" + filepath.Join(theirs, "s"), "PATH=/usr/bin:/bin"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: gid}}
	stdin, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer stdin.Close()
	line := make([]byte, 6)
	if _, err := out.Read(line); err != nil || string(line) != "ready\n" {
		t.Fatalf("squatter: %q %v", line, err)
	}
	if err := os.Rename(filepath.Join(theirs, "s"), path); err != nil {
		t.Fatal(err)
	}
	if c, err := Dial(path); err == nil {
		c.Close()
		t.Fatal("Dial accepted another account's agent")
	}
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatalf("the socket itself does not answer, so the test proves nothing: %v", err)
	}
	defer c.Close()
	if got, err := ReadFrame(c, 10); err != nil || string(got) != "{}" {
		t.Fatalf("the squatter does not answer, so the test proves nothing: %q %v", got, err)
	}
}
