package doctor

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/user"
	"strconv"
	"strings"
	"time"
)

// AgentStatus says whether an agent answers on this machine.
type AgentStatus struct {
	Running bool   `json:"running"`
	Port    int    `json:"port,omitempty"`
	Version string `json:"version,omitempty"`
	Owner   string `json:"owner,omitempty"` // the user whose agent holds the port (Linux)
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
