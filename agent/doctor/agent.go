package doctor

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/user"
	"strconv"
	"strings"
	"time"

	"github.com/podpis/podpis/agent/control"
	"github.com/podpis/podpis/agent/keystore"
	"github.com/podpis/podpis/agent/keystore/pkcs11"
)

// AgentStatus says whether an agent answers on this machine.
type AgentStatus struct {
	Running bool   `json:"running"`
	Port    int    `json:"port,omitempty"`
	Version string `json:"version,omitempty"`
	Owner   string `json:"owner,omitempty"` // the user whose agent holds the port (Linux)
	// Control: the agent answered on its control channel (so it is this
	// account's), and the report's facts are its own.
	Control  bool   `json:"control"`
	Listen   string `json:"listen,omitempty"`
	PID      int    `json:"pid,omitempty"`
	Headless bool   `json:"headless,omitempty"`
}

// StatusOf is what the agent's control answer says of the agent itself;
// owner is this account's name (the channel admits no other).
func StatusOf(st *control.Status, owner string) AgentStatus {
	a := AgentStatus{Running: true, Version: st.Version, Owner: owner, Control: true, Listen: st.Listen, PID: st.PID, Headless: st.Headless}
	if _, p, err := net.SplitHostPort(st.Listen); err == nil {
		a.Port, _ = strconv.Atoi(p)
	}
	return a
}

// ProbeAgent asks GET /v1/info on the given loopback ports.
func ProbeAgent(ports []int) AgentStatus {
	for _, port := range ports {
		if st := ProbeAgentAt(fmt.Sprintf("127.0.0.1:%d", port)); st.Running {
			return st
		}
	}
	return AgentStatus{}
}

// ProbeAgentAt asks the agent at one address (one started with --listen).
func ProbeAgentAt(addr string) AgentStatus {
	c := &http.Client{Timeout: 700 * time.Millisecond}
	resp, err := c.Get("http://" + addr + "/v1/info")
	if err != nil {
		return AgentStatus{}
	}
	var info struct{ Product, Version string }
	json.NewDecoder(resp.Body).Decode(&info)
	resp.Body.Close()
	if info.Product != "podpis" {
		return AgentStatus{}
	}
	_, p, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(p)
	return AgentStatus{Running: true, Port: port, Version: info.Version, Owner: portOwner(port)}
}

// portOwner finds the user listening on a loopback port in /proc/net/tcp:
// on a shared machine another user's agent may hold the port.
func portOwner(port int) string {
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(table)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			// sl local_address rem_address st tx:rx tr:when retrnsmt uid
			if len(fields) < 8 || fields[3] != "0A" { // 0A: LISTEN
				continue
			}
			_, hexPort, ok := strings.Cut(fields[1], ":")
			p, err := strconv.ParseUint(hexPort, 16, 16)
			if !ok || err != nil || int(p) != port {
				continue
			}
			f.Close()
			if u, err := user.LookupId(fields[7]); err == nil {
				return u.Username
			}
			return "uid " + fields[7]
		}
		f.Close()
	}
	return ""
}

// RecentErrors returns the last warnings and errors of the agent's log.
func RecentErrors(logPath string, max int) []string {
	f, err := os.Open(logPath)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.Contains(line, "level=ERROR") || strings.Contains(line, "level=WARN") {
			out = append(out, line)
			if len(out) > max {
				out = out[1:]
			}
		}
	}
	return out
}

// FromStatus makes the report from what the running agent serves (its
// status over the control channel), judged as Examine judges its own
// scan: when the agent serves certificates, doctor says so.
func FromStatus(ctx context.Context, st *control.Status, opts Options) *Report {
	r := &Report{OS: osName(), Source: FromAgent, Certificates: []*keystore.Certificate{}}
	platform := false
	for _, m := range st.Modules {
		if m.Path == "" {
			// A store besides PKCS#11 (CryptoAPI): no module file.
			platform = platform || m.Loaded
			continue
		}
		ms := pkcs11.ModuleStatus{Vendor: m.Vendor, Name: m.Name, Path: m.Path, Software: m.Software, CSP: m.CSP,
			Found: m.Found, Loaded: m.Loaded, Error: m.Error, Library: m.Library, Version: m.Version}
		for _, t := range m.Tokens {
			ms.Slots = append(ms.Slots, pkcs11.SlotStatus{ID: t.Slot, Description: t.Description, TokenPresent: t.Present,
				Label: t.Label, Serial: t.Serial, Model: t.Model, PINLocked: t.PINLocked, PINCountLow: t.PINCountLow,
				PINFinalTry: t.PINFinalTry, PINSaved: t.PINSaved, GOSTMechanisms: t.GOSTMechanisms, Error: t.Error})
		}
		r.Modules = append(r.Modules, ms)
	}
	var providerErr error
	if st.CertificatesError != "" && len(st.Certificates) == 0 {
		providerErr = errors.New(st.CertificatesError)
	}
	r.judge(opts, st.Certificates, platform, providerErr)
	return r
}

// AskAgent asks the running agent of this account for its status over
// the control channel; control.ErrNotRunning when none answers there.
func AskAgent(ctx context.Context, c *control.Client) (*control.Status, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return c.Status(ctx)
}
