// Command wssink is the peer of the 100 MB page-signing figure (issue 24,
// webclient/test/docs.test.mjs): a WebSocket server that does nothing
// with the binary messages it receives but answer each with the id in its
// header, as the agent answers a chunk. The time Chromium takes to send a
// document to it is what the browser alone allows; the agent's figure is
// printed against it.
//
//	wssink   (prints its address, then serves until killed)
package main

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/http"
	"os"

	"github.com/gorilla/websocket"
)

// header is a binary chunk's header (docs/protocol.md «Binary chunks»);
// the request id is its last 4 bytes.
const header = 25

func main() {
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "wssink:", err)
		os.Exit(1)
	}
	fmt.Println(ln.Addr())
	err = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
	}))
	fmt.Fprintln(os.Stderr, "wssink:", err)
	os.Exit(1)
}
