// Command nullagent is the peer of the 100 MB page-signing figure (issue
// 24, webclient/test/docs.test.mjs): a server that takes a document's
// bytes the two ways the agent takes them and does nothing with them — a
// WebSocket whose binary chunks it answers with the id in their header,
// and an upload POSTed to /upload, answered with the byte count
// (CORS for any origin). The time Chromium takes to send a document to it
// is what the browser alone allows; the agent's figure is printed against
// it.
//
//	nullagent   (prints its address, then serves until killed)
package main

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"

	"github.com/gorilla/websocket"
)

// header is a binary chunk's header (docs/protocol.md «Binary chunks»);
// the request id is its last 4 bytes.
const header = 25

func main() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "nullagent:", err)
		os.Exit(1)
	}
	fmt.Println(ln.Addr())
	mux := http.NewServeMux()
	mux.HandleFunc("/", chunks)
	mux.HandleFunc("/upload", upload)
	err = http.Serve(ln, mux)
	fmt.Fprintln(os.Stderr, "nullagent:", err)
	os.Exit(1)
}

func chunks(w http.ResponseWriter, r *http.Request) {
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	c, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer c.Close()
	c.SetReadLimit(1 << 20)
	for {
		_, data, err := c.ReadMessage()
		if err != nil || len(data) < header {
			return
		}
		id := binary.BigEndian.Uint32(data[header-4 : header])
		if err := c.WriteMessage(websocket.TextMessage, fmt.Appendf(nil, `{"id":%d,"result":{}}`, id)); err != nil {
			return
		}
	}
}

func upload(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", r.Header.Get("Origin"))
	if r.Method == http.MethodOptions {
		w.Header().Set("Access-Control-Allow-Methods", "POST")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	n, _ := io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"received":%d}`, n)
}
