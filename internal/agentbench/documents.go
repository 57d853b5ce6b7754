package main

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/websocket"
	"github.com/podpis/podpis/crypto/cms"
)

// Documents as a page sends them (issue 24): a 100 MB document streamed
// in 512 KiB chunks (base64 in JSON, sixteen chunks awaiting their
// acknowledgement, as podpis.js sends them) and signed detached, with the
// fresh agent's peak RSS (VmHWM) and the throughput against `podpis hash`
// of the same bytes from a file; then a batch of 100 streamed documents
// signed with one PIN, time per document.

const chunk = 512 << 10

type wsClient struct {
	ws   *websocket.Conn
	next int
	// acks: responses, in order (the agent answers a connection's stream
	// messages in order; sign is the only request that waits).
	resp chan response
}

type response struct {
	ID     json.RawMessage `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  *struct{ Code, Message string }
}

func dialAgent(addr string) *wsClient {
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second, WriteBufferSize: 1 << 20, ReadBufferSize: 64 << 10}
	ws, _, err := d.Dial("ws://"+addr+"/", http.Header{"Origin": {site}})
	check(err)
	c := &wsClient{ws: ws, resp: make(chan response, 64)}
	go func() {
		for {
			var r response
			if err := ws.ReadJSON(&r); err != nil {
				close(c.resp)
				return
			}
			if len(r.ID) == 0 {
				continue // a notice
			}
			c.resp <- r
		}
	}()
	return c
}

func (c *wsClient) send(method string, params any) {
	c.next++
	raw, _ := json.Marshal(params)
	check(c.ws.WriteJSON(map[string]any{"id": c.next, "method": method, "params": json.RawMessage(raw)}))
}

func (c *wsClient) wait() json.RawMessage {
	r, ok := <-c.resp
	if !ok {
		fail(fmt.Errorf("agent closed the connection"))
	}
	if r.Error != nil {
		fail(fmt.Errorf("agent: %s %s", r.Error.Code, r.Error.Message))
	}
	return r.Result
}

// stream sends size bytes from gen in chunks, window chunks awaiting
// acknowledgement, and returns the stream's id.
func (c *wsClient) stream(name string, size int64, gen func([]byte)) string {
	c.send("streamBegin", map[string]any{"name": name, "size": size})
	var b struct{ Stream string }
	check(json.Unmarshal(c.wait(), &b))
	buf := make([]byte, chunk)
	const window = 4
	pending := 0
	for off := int64(0); off < size; off += chunk {
		n := min(chunk, size-off)
		gen(buf[:n])
		// Written as podpis.js writes it (JSON.stringify of a base64 string
		// needs no escaping).
		c.next++
		check(c.ws.WriteMessage(websocket.TextMessage, []byte(`{"id":`+strconv.Itoa(c.next)+`,"method":"streamChunk","params":{"stream":"`+
			b.Stream+`","offset":`+strconv.FormatInt(off, 10)+`,"data":"`+base64.StdEncoding.EncodeToString(buf[:n])+`"}}`)))
		if pending++; pending >= window {
			c.wait()
			pending--
		}
	}
	for ; pending > 0; pending-- {
		c.wait()
	}
	return b.Stream
}

// vmHWM is a process's peak resident set, in megabytes.
func vmHWM(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	check(err)
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			var kb float64
			fmt.Sscanf(strings.TrimPrefix(line, "VmHWM:"), "%f", &kb)
			return kb / 1024
		}
	}
	return 0
}

func documentsBench(bin, soft, dir, tokenDir string, sizeMB int, batch int) {
	cmd, addr := startAgent(bin, dir, []string{"--module", soft}, tokenDir)
	defer cmd.Process.Kill()
	time.Sleep(time.Second)
	c := dialAgent(addr)
	defer c.ws.Close()
	c.send("certificates", map[string]any{})
	var certs struct{ Certificates []struct{ ID string } }
	check(json.Unmarshal(c.wait(), &certs))
	id := certs.Certificates[0].ID

	size := int64(sizeMB) << 20
	var seed [32]byte
	rand.Read(seed[:])
	gen := mrand.NewChaCha8(seed)
	fill := func(b []byte) { gen.Read(b) }

	if size > 0 {
		streamBench(c, cmd.Process.Pid, bin, dir, id, size, sizeMB, seed, fill)
	}
	if batch > 0 {
		batchBench(c, id, batch, fill)
	}
}

func streamBench(c *wsClient, pid int, bin, dir, id string, size int64, sizeMB int, seed [32]byte, fill func([]byte)) {
	idle := rssOf(pid)
	cpu0 := cpuOf(pid)
	start := time.Now()
	s := c.stream("big.bin", size, fill)
	c.send("sign", map[string]any{"certificate": id, "stream": s, "description": "agentbench"})
	var res struct{ CMS string }
	check(json.Unmarshal(c.wait(), &res))
	took := time.Since(start)
	der, err := base64.StdEncoding.DecodeString(res.CMS)
	check(err)
	if _, err := cms.Parse(der); err != nil {
		fail(err)
	}
	peak := vmHWM(pid)
	cpu := cpuOf(pid) - cpu0
	pageMBs := float64(size) / (1 << 20) / took.Seconds()

	// podpis hash of the same bytes, from a file.
	file := filepath.Join(dir, "big.bin")
	f, err := os.Create(file)
	check(err)
	gen := mrand.NewChaCha8(seed)
	buf := make([]byte, chunk)
	for off := int64(0); off < size; off += chunk {
		gen.Read(buf)
		f.Write(buf[:min(chunk, size-off)])
	}
	f.Close()
	defer os.Remove(file)
	start = time.Now()
	out, err := exec.Command(bin, "hash", file).CombinedOutput()
	if err != nil {
		fail(fmt.Errorf("podpis hash: %v: %s", err, out))
	}
	hashMBs := float64(size) / (1 << 20) / time.Since(start).Seconds()

	fmt.Printf("%-44s %9.1f MB %10s\n", "agent RSS idle, before the document", idle, "")
	fmt.Printf("%-44s %9.1f MB %10s%s\n", fmt.Sprintf("agent peak RSS, page signs %d MB", sizeMB), peak, "≤64 MB", mark(peak <= 64))
	fmt.Printf("%-44s %7.1f MB/s %10s\n", fmt.Sprintf("page → agent → detached CMS, %d MB", sizeMB), pageMBs, "")
	fmt.Printf("%-44s %7.1f MB/s %10s\n", "  agent: MB hashed per CPU second", float64(size)/(1<<20)/cpu.Seconds(), "")
	fmt.Printf("%-44s %7.1f MB/s %10s\n", "podpis hash, same bytes from a file", hashMBs, "")
	fmt.Printf("%-44s %12.2f %10s%s\n", "ratio page signing / podpis hash", pageMBs/hashMBs, "≥0.5", mark(pageMBs/hashMBs >= 0.5))

}

// batchBench streams batch documents of 64 KiB and signs them with one PIN.
func batchBench(c *wsClient, id string, batch int, fill func([]byte)) {
	streams := make([]map[string]any, batch)
	start := time.Now()
	for i := range streams {
		streams[i] = map[string]any{"stream": c.stream(fmt.Sprintf("doc%03d.bin", i), 64<<10, fill)}
	}
	uploaded := time.Since(start)
	c.send("signBatch", map[string]any{"certificate": id, "description": "agentbench", "documents": streams})
	var br struct {
		Results []struct {
			CMS   string
			Error *struct{ Code string }
		}
	}
	check(json.Unmarshal(c.wait(), &br))
	signed := time.Since(start) - uploaded
	for i, r := range br.Results {
		if r.Error != nil {
			fail(fmt.Errorf("batch document %d: %s", i, r.Error.Code))
		}
	}
	per := (uploaded + signed) / time.Duration(batch)
	fmt.Printf("%-44s %9.1f ms %10s\n", fmt.Sprintf("batch of %d × 64 KiB: upload, per document", batch), ms(uploaded/time.Duration(batch)), "")
	fmt.Printf("%-44s %9.1f ms %10s\n", "batch: signing (one PIN), per document", ms(signed/time.Duration(batch)), "")
	fmt.Printf("%-44s %9.1f ms %10s\n", "batch: in all, per document", ms(per), "")
}

// cpuOf is the CPU time (user and system) a process has used.
func cpuOf(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	check(err)
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+s) * 10 * time.Millisecond // USER_HZ = 100
}
