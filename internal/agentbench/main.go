// Command agentbench measures a running podpis agent as pages use it
// (make bench): idle memory, the probe round trip (connect + info, the
// peer-account lookup included), 100 concurrent clients (within the
// agent's 128 connections per account) each logging in fifty times
// (certificates, then a GOST signature through the soft token): 10,000
// requests, none lost, with latency percentiles and the agent's open files
// before and after; and a flood of 10,000 connections (silent, half-open
// requests, WebSockets), during which a site keeps asking. The flood comes
// from the agent's own account — the hardest case for the connection
// limits, as it competes with the site's connections — or, with
// -flood-as and root, from another account.
//
//	go run ./internal/agentbench -podpis bin/podpis -softtoken bin/libpodpis-softtoken.so
package main

import (
	"bufio"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/crypto/gostx509"
)

const site = "https://lk.example.ru"

func main() {
	if os.Getenv(floodChildEnv) != "" {
		floodChildMain()
		return
	}
	bin := flag.String("podpis", "bin/podpis", "the podpis binary")
	soft := flag.String("softtoken", "bin/libpodpis-softtoken.so", "the soft token module")
	clients := flag.Int("clients", 100, "concurrent clients")
	rounds := flag.Int("rounds", 50, "logins (certificates + authenticate) per client")
	probes := flag.Int("probes", 1000, "sequential probes")
	floodN := flag.Int("flood", 10000, "connections in the flood (0: none)")
	floodAs := flag.String("flood-as", "", "another local account to flood from (needs root); default: this one")
	docMB := flag.Int("document", 100, "MB of the document a page streams and signs (0: none)")
	batch := flag.Int("batch", 100, "documents in the batch signed with one PIN (0: none)")
	onlyDocs := flag.Bool("only-documents", false, "measure only the documents (stream, batch)")
	flag.Parse()

	dir, err := os.MkdirTemp("", "agentbench")
	check(err)
	defer os.RemoveAll(dir)
	tokenDir := filepath.Join(dir, "token")
	check(os.Mkdir(tokenDir, 0o700))
	check(oneKey(tokenDir))

	fmt.Printf("%-44s %12s %10s\n", "figure", "value", "target")
	if *onlyDocs {
		documentsBench(*bin, *soft, dir, tokenDir, *docMB, *batch)
		return
	}
	rssBare := idleRSS(*bin, dir, []string{"--no-known-modules"})
	fmt.Printf("%-44s %9.1f MB %10s%s\n", "idle RSS, agent alone", rssBare, "≤20 MB", mark(rssBare <= 20))
	rssKnown := idleRSS(*bin, dir, nil)
	fmt.Printf("%-44s %9.1f MB %10s\n", "idle RSS, this machine's CSP modules", rssKnown, "")

	defer stopAll()
	if *docMB > 0 || *batch > 0 {
		documentsBench(*bin, *soft, dir, tokenDir, *docMB, *batch)
	}
	cmd, addr := startAgent(*bin, dir, []string{"--module", *soft}, tokenDir)
	time.Sleep(2 * time.Second)
	rss := rssOf(cmd.Process.Pid)
	fmt.Printf("%-44s %9.1f MB %10s\n", "idle RSS, soft token loaded", rss, "")

	lat := make([]time.Duration, 0, *probes)
	for i := 0; i < *probes; i++ {
		start := time.Now()
		ws, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/", http.Header{"Origin": {site}})
		if err != nil {
			fail(err)
		}
		ws.WriteJSON(map[string]any{"id": 1, "method": "info"})
		var r map[string]any
		if err := ws.ReadJSON(&r); err != nil || r["result"] == nil {
			fail(fmt.Errorf("probe: %v %v", err, r))
		}
		lat = append(lat, time.Since(start))
		ws.Close()
	}
	slices.Sort(lat)
	p := func(q float64) time.Duration { return lat[int(q*float64(len(lat)-1))] }
	fmt.Printf("%-44s %9.2f ms %10s\n", "probe (connect + info) p50", ms(p(0.5)), "")
	fmt.Printf("%-44s %9.2f ms %10s%s\n", "probe (connect + info) p99", ms(p(0.99)), "≤2 ms", mark(p(0.99) <= 2*time.Millisecond))

	fdsBefore := fdsOf(cmd.Process.Pid)
	var ok, failed atomic.Int64
	var latMu sync.Mutex
	var reqLat []time.Duration
	var wg sync.WaitGroup
	start := time.Now()
	for c := 0; c < *clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			d := websocket.Dialer{HandshakeTimeout: 30 * time.Second}
			ws, _, err := d.Dial("ws://"+addr+"/", http.Header{"Origin": {site}})
			if err != nil {
				failed.Add(int64(2 * *rounds))
				return
			}
			defer ws.Close()
			var certID string
			mine := make([]time.Duration, 0, 2**rounds)
			for r := 0; r < *rounds; r++ {
				// Each round is a login: list the certificates, then
				// sign the challenge with the soft token's GOST key.
				for i, m := range []string{"certificates", "authenticate"} {
					msg := map[string]any{"id": 2*r + i, "method": m}
					if m == "authenticate" {
						msg["params"] = map[string]any{"certificate": certID, "challenge": fmt.Sprintf("bench-%d-%d", c, r)}
					}
					t0 := time.Now()
					ws.WriteJSON(msg)
					var resp struct {
						Result struct {
							Certificates []struct{ ID string }
							CMS          string
						}
						Error any
					}
					ws.SetReadDeadline(time.Now().Add(60 * time.Second))
					if err := ws.ReadJSON(&resp); err != nil || resp.Error != nil {
						failed.Add(1)
						continue
					}
					mine = append(mine, time.Since(t0))
					if m == "certificates" && len(resp.Result.Certificates) > 0 {
						certID = resp.Result.Certificates[0].ID
					}
					if m == "authenticate" && resp.Result.CMS == "" {
						failed.Add(1)
						continue
					}
					ok.Add(1)
				}
			}
			latMu.Lock()
			reqLat = append(reqLat, mine...)
			latMu.Unlock()
		}(c)
	}
	wg.Wait()
	el := time.Since(start)
	slices.Sort(reqLat)
	q := func(f float64) time.Duration {
		if len(reqLat) == 0 {
			return 0
		}
		return reqLat[int(f*float64(len(reqLat)-1))]
	}
	total := int64(*clients * 2 * *rounds)
	fmt.Printf("%-44s %12d %10s%s\n", fmt.Sprintf("%d clients × %d (half GOST logins): answered", *clients, 2**rounds), ok.Load(), fmt.Sprint(total), mark(ok.Load() == total))
	fmt.Printf("%-44s %12d %10s%s\n", "requests dropped or failed", failed.Load(), "0", mark(failed.Load() == 0))
	fmt.Printf("%-44s %9.0f /s %10s\n", "throughput", float64(ok.Load())/el.Seconds(), "")
	fmt.Printf("%-44s %9.2f ms %10s\n", "request latency under load p50", ms(q(0.5)), "")
	fmt.Printf("%-44s %9.2f ms %10s\n", "request latency under load p99", ms(q(0.99)), "")
	fmt.Printf("%-44s %9.1f MB %10s\n", "RSS after the load", rssOf(cmd.Process.Pid), "")
	// The clients are gone: every connection's descriptor must be too.
	time.Sleep(2 * time.Second)
	fdsAfter := fdsOf(cmd.Process.Pid)
	fmt.Printf("%-44s %5d → %4d %10s%s\n", "agent's open files before → after", fdsBefore, fdsAfter, "no leak", mark(fdsAfter <= fdsBefore+2))
	if *floodN > 0 {
		flood(cmd.Process.Pid, addr, *floodN, *floodAs)
	}
}

// flood opens n connections to the agent as fast as 32 workers can — a
// fifth silent, two fifths sending headers that never end, two fifths
// WebSockets left open — and holds them; meanwhile, and then while they
// are held, a site connects and lists certificates, one request after the
// other. The agent's RSS is sampled throughout.
func flood(pid int, addr string, n int, floodAs string) {
	raiseFDLimit(uint64(n) + 1024)
	var peak atomic.Int64 // KB
	sample := func() {
		if kb := int64(rssOf(pid) * 1024); kb > peak.Load() {
			peak.Store(kb)
		}
	}
	stopSampling := make(chan struct{})
	go func() {
		for {
			select {
			case <-stopSampling:
				return
			case <-time.After(50 * time.Millisecond):
				sample()
			}
		}
	}()

	arriving := make(chan struct{})
	start := time.Now()
	var held []net.Conn
	opened := 0
	if floodAs != "" {
		_, hold, count := floodChild(floodAs, addr, n)
		defer hold.Close()
		go func() {
			fmt.Fscan(count, &opened)
			close(arriving)
		}()
	} else {
		go func() {
			held = openFlood(addr, n)
			opened = len(held)
			close(arriving)
		}()
	}

	// The site, while the flood arrives, then while it is held.
	var during, after []time.Duration
	var lost int
	ask := func() {
		t0 := time.Now()
		d := websocket.Dialer{HandshakeTimeout: 10 * time.Second}
		ws, _, err := d.Dial("ws://"+addr+"/", http.Header{"Origin": {site}})
		if err != nil {
			lost++
			return
		}
		defer ws.Close()
		ws.WriteJSON(map[string]any{"id": 1, "method": "certificates"})
		ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		var r map[string]any
		if err := ws.ReadJSON(&r); err != nil || r["result"] == nil {
			lost++
			return
		}
		select {
		case <-arriving:
			after = append(after, time.Since(t0))
		default:
			during = append(during, time.Since(t0))
		}
	}
	for {
		select {
		case <-arriving:
		default:
			ask()
			time.Sleep(5 * time.Millisecond)
			continue
		}
		break
	}
	el := time.Since(start)
	for len(after) < 200 {
		ask()
		if lost > 200 {
			break
		}
	}
	sample()
	close(stopSampling)
	rssHeld := rssOf(pid)
	for _, c := range held {
		c.Close()
	}

	pct := func(l []time.Duration, q float64) time.Duration {
		if len(l) == 0 {
			return 0
		}
		slices.Sort(l)
		return l[int(q*float64(len(l)-1))]
	}
	who := "own account"
	if floodAs != "" {
		who = floodAs
	}
	fmt.Printf("%-44s %12s %10s\n", fmt.Sprintf("flood (%s): %d connections in %.1f s", who, opened, el.Seconds()), "", "")
	fmt.Printf("%-44s %9.2f ms %10s\n", fmt.Sprintf("site's request as the flood arrives p50 (%d)", len(during)), ms(pct(during, 0.5)), "")
	fmt.Printf("%-44s %9.2f ms %10s%s\n", "site's request as the flood arrives p99", ms(pct(during, 0.99)), "≤50 ms", mark(pct(during, 0.99) <= 50*time.Millisecond))
	fmt.Printf("%-44s %9.2f ms %10s\n", fmt.Sprintf("site's request, flood held p50 (%d)", len(after)), ms(pct(after, 0.5)), "")
	fmt.Printf("%-44s %9.2f ms %10s%s\n", "site's request, flood held p99", ms(pct(after, 0.99)), "≤50 ms", mark(pct(after, 0.99) <= 50*time.Millisecond))
	fmt.Printf("%-44s %12d %10s%s\n", "site's requests lost during the flood", lost, "0", mark(lost == 0))
	fmt.Printf("%-44s %9.1f MB %10s%s\n", "agent's peak RSS during the flood", float64(peak.Load())/1024, "<64 MB", mark(peak.Load() < 64<<10))
	fmt.Printf("%-44s %9.1f MB %10s\n", "agent's RSS with the flood held", rssHeld, "")
}

// openFlood opens n connections to the agent as fast as 32 workers can —
// a fifth silent, two fifths sending headers that never end, two fifths
// WebSockets — and returns those still open.
func openFlood(addr string, n int) []net.Conn {
	var mu sync.Mutex
	var held []net.Conn
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < 32; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := websocket.Dialer{HandshakeTimeout: 10 * time.Second}
			for i := next.Add(1) - 1; i < int64(n); i = next.Add(1) - 1 {
				var c net.Conn
				switch i % 5 {
				case 0:
					c, _ = net.DialTimeout("tcp", addr, 10*time.Second)
				case 1, 2:
					if c, _ = net.DialTimeout("tcp", addr, 10*time.Second); c != nil {
						c.Write([]byte("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n"))
					}
				default:
					if ws, _, err := d.Dial("ws://"+addr+"/", http.Header{"Origin": {site}}); err == nil {
						c = ws.NetConn()
					}
				}
				if c != nil {
					mu.Lock()
					held = append(held, c)
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	return held
}

// floodChildEnv makes agentbench the flood's process of another account:
// it opens the flood, prints how many connections it holds, and holds
// them until its stdin closes.
const floodChildEnv = "AGENTBENCH_FLOOD"

func floodChildMain() {
	var addr string
	var n int
	fmt.Sscan(os.Getenv(floodChildEnv), &addr, &n)
	raiseFDLimit(uint64(n) + 1024)
	held := openFlood(addr, n)
	fmt.Println(len(held))
	io.Copy(io.Discard, os.Stdin)
}

// floodChild starts this program as account name, flooding addr: it needs
// root, and a copy of the binary the account may run.
func floodChild(name, addr string, n int) (cmd *exec.Cmd, hold io.WriteCloser, count io.Reader) {
	u, err := user.Lookup(name)
	check(err)
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	self, err := os.Executable()
	check(err)
	b, err := os.ReadFile(self)
	check(err)
	dir, err := os.MkdirTemp("", "agentbench-flood")
	check(err)
	check(os.Chmod(dir, 0o755))
	bin := filepath.Join(dir, "agentbench")
	check(os.WriteFile(bin, b, 0o755))
	cmd = exec.Command(bin)
	cmd.Dir = dir
	cmd.Env = []string{floodChildEnv + "=" + addr + " " + strconv.Itoa(n)}
	setCredential(cmd, uint32(uid), uint32(gid))
	cmd.Stderr = os.Stderr
	hold, err = cmd.StdinPipe()
	check(err)
	count, err = cmd.StdoutPipe()
	check(err)
	check(cmd.Start())
	started = append(started, cmd)
	os.RemoveAll(dir) // the running program needs no name
	return cmd, hold, count
}

// fdsOf counts a process's open file descriptors.
func fdsOf(pid int) int {
	fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	return len(fds)
}

func mark(ok bool) string {
	if ok {
		return ""
	}
	return "  MISSED"
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func startAgent(bin, dir string, args []string, tokenDir string) (*exec.Cmd, string) {
	l, _ := net.Listen("tcp4", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(bin, append([]string{"run", "--headless", "--trust-origin", site, "--listen", addr}, args...)...)
	cmd.Env = append(os.Environ(), "PODPIS_DATA_DIR="+filepath.Join(dir, "data"), "PODPIS_SOFTTOKEN_DIR="+tokenDir, "PODPIS_PIN=1234")
	out, err := cmd.StdoutPipe()
	check(err)
	check(cmd.Start())
	started = append(started, cmd)
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.Contains(line, "listening") {
		fail(fmt.Errorf("agent did not start: %q %v", line, err))
	}
	return cmd, addr
}

func idleRSS(bin, dir string, args []string) float64 {
	cmd, _ := startAgent(bin, dir, args, "")
	defer cmd.Process.Kill()
	time.Sleep(2 * time.Second)
	return rssOf(cmd.Process.Pid)
}

// rssOf reads VmRSS of a process, in megabytes.
func rssOf(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	check(err)
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			var kb float64
			fmt.Sscanf(strings.TrimPrefix(line, "VmRSS:"), "%f", &kb)
			return kb / 1024
		}
	}
	return 0
}

// oneKey puts a GOST key with a self-signed certificate in the token.
func oneKey(dir string) error {
	key, err := gost3410.GenerateKey(gost3410.CurveTC26256A, nil)
	if err != nil {
		return err
	}
	t := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "bench"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := gostx509.CreateCertificate(nil, t, t, key.Public(), key)
	if err != nil {
		return err
	}
	kd, _ := gostx509.MarshalPKCS8PrivateKey(key)
	os.WriteFile(filepath.Join(dir, "bench.key"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd}), 0o600)
	return os.WriteFile(filepath.Join(dir, "bench.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
}

func check(err error) {
	if err != nil {
		fail(err)
	}
}

// started lists the agents to stop on every way out, os.Exit included.
var started []*exec.Cmd

func fail(err error) {
	fmt.Fprintln(os.Stderr, "agentbench:", err)
	stopAll()
	os.Exit(1)
}

func stopAll() {
	for _, c := range started {
		c.Process.Kill()
		c.Wait()
	}
}
