// Command wscall is a page's side of the agent's protocol as a Windows
// program: the agent under Wine serves only connections its own Windows
// account owns (internal/peercred), and a Linux process owns none, so the
// tests speak to podpis.exe through this, run under Wine too.
//
//	wscall ADDR ORIGIN REQUESTS
//
// prints GET /v1/info's body on one line, then sends each line of the
// file REQUESTS over the WebSocket and prints each answer on one line.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/gorilla/websocket"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "wscall:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) != 3 {
		return fmt.Errorf("usage: wscall ADDR ORIGIN REQUESTS")
	}
	addr, origin := args[0], args[1]
	reqs, err := os.ReadFile(args[2])
	if err != nil {
		return err
	}
	resp, err := http.Get("http://" + addr + "/v1/info")
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(string(bytes.TrimSpace(body)))
	ws, resp, err := websocket.DefaultDialer.Dial("ws://"+addr+"/", http.Header{"Origin": {origin}})
	if err != nil {
		if resp != nil {
			return fmt.Errorf("%w: HTTP %d", err, resp.StatusCode)
		}
		return err
	}
	defer ws.Close()
	sc := bufio.NewScanner(bytes.NewReader(reqs))
	for sc.Scan() {
		if err := ws.WriteMessage(websocket.TextMessage, sc.Bytes()); err != nil {
			return err
		}
		ws.SetReadDeadline(time.Now().Add(60 * time.Second))
		var answer json.RawMessage
		if err := ws.ReadJSON(&answer); err != nil {
			return err
		}
		fmt.Println(string(answer))
	}
	return nil
}
