package main

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"

	"github.com/podpis/podpis/agent/nativehost"
	"github.com/podpis/podpis/agent/wsapi"
)

// runNativeHost: podpis native-host — started by the browser for the
// podpis extension, with Chrome's argv (chrome-extension://ID/ [--parent-window=N])
// or Firefox's (MANIFEST_PATH EXTENSION_ID). The arguments name the
// extension, never the page: the page's origin comes in each envelope,
// from the browser's sender.origin. stdin/stdout carry native messaging
// only, so nothing else may be written to stdout.
func runNativeHost(args []string, stdout, stderr io.Writer) int {
	if len(args) == 1 && isHelp(args[0]) {
		c, _ := lookup("native-host")
		printHelp(stdout, c, nil)
		return 0
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if len(args) > 0 && !strings.HasPrefix(args[0], "chrome-extension://") && len(args) != 2 {
		log.Warn("native host: unexpected arguments", "args", args)
	}
	path, err := nativehost.SocketPath()
	if err != nil {
		fmt.Fprintf(stderr, "podpis: %v\n", err)
	}
	h := &nativehost.Host{
		Dial: func() (net.Conn, error) {
			if path == "" {
				return nil, err
			}
			return nativehost.Dial(path)
		},
		Start: startAgent,
		Log:   log,
	}
	if os.Getenv("PODPIS_NATIVE_NO_START") != "" {
		h.Start = nil
	}
	if err := h.Run(os.Stdin, stdout); err != nil {
		fmt.Fprintf(stderr, "podpis: %v\n", err)
		return 1
	}
	return 0
}

// startAgent starts `podpis run` for the person, detached from the
// browser's host process so that it outlives it.
func startAgent() error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	return startDetached(exe)
}

// serveNative opens the agent's per-user native messaging channel; the
// agent works without it (WebSocket only), with a warning.
func serveNative(api *wsapi.API, log *slog.Logger, stderr io.Writer) *nativehost.Channel {
	path, err := nativehost.SocketPath()
	var l net.Listener
	if err == nil {
		l, err = nativehost.Listen(path)
	}
	if err != nil {
		fmt.Fprintf(stderr, "podpis: native messaging channel: %v (the browser extension cannot reach this agent)\n", err)
		return nil
	}
	ch := &nativehost.Channel{API: api, Log: log}
	go func() {
		if err := ch.Serve(l); err != nil {
			log.Error("native messaging channel", "err", err)
		}
	}()
	return ch
}
