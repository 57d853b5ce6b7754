// Command codesink is the far end of the account service's code delivery
// for the browser tests (webclient/test/account.test.mjs): a real SMTP
// server (github.com/emersion/go-smtp) and an SMS gateway that accepts the
// request of docs/account.md, both keeping what they received, so that a
// test reads a code from the mail or SMS the way a person would. It prints
//
//	smtp 127.0.0.1:PORT
//	sms http://127.0.0.1:PORT/sms
//	messages http://127.0.0.1:PORT/messages
//
// and serves GET /messages?to=ADDRESS: what came to ADDRESS, oldest first,
// as JSON [{"channel","to","subject","text"}]. It stops on SIGINT/SIGTERM.
package main

import (
	"encoding/json"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"

	"github.com/podpis/podpis/account/deliver/delivertest"
)

type inbox struct {
	mu   sync.Mutex
	msgs []delivertest.Received
}

func (in *inbox) add(m delivertest.Received) {
	in.mu.Lock()
	in.msgs = append(in.msgs, m)
	in.mu.Unlock()
}

func (in *inbox) to(addr string) []delivertest.Received {
	in.mu.Lock()
	defer in.mu.Unlock()
	out := []delivertest.Received{}
	for _, m := range in.msgs {
		if addr == "" || strings.EqualFold(m.To, addr) {
			out = append(out, m)
		}
	}
	return out
}

func main() {
	in := &inbox{}

	sl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	srv := delivertest.NewSMTPServer(in.add)
	go srv.Serve(sl)

	hl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	// The gateway: the request format the service documents, nothing looser.
	mux.Handle("POST /sms", delivertest.SMSHandler("", nil, in.add))
	mux.HandleFunc("GET /messages", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(in.to(r.URL.Query().Get("to")))
	})
	go http.Serve(hl, mux)

	fmt.Printf("smtp %s\nsms http://%s/sms\nmessages http://%s/messages\n", sl.Addr(), hl.Addr(), hl.Addr())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	srv.Close()
}
