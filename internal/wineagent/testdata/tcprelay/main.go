// Command tcprelay passes TCP connections from LISTEN on to TARGET, as a
// Windows program: under Wine it stands for the network side of a browser
// of the agent's own Windows account, which is what the agent's peer check
// (internal/peercred) serves. Linux Chromium's connection, which Wine's TCP
// table gives no owner, arrives at the agent as tcprelay's.
//
//	tcprelay LISTEN TARGET
package main

import (
	"fmt"
	"io"
	"net"
	"os"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: tcprelay LISTEN TARGET")
		os.Exit(2)
	}
	l, err := net.Listen("tcp4", os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "tcprelay:", err)
		os.Exit(1)
	}
	fmt.Println("relaying on", l.Addr())
	for {
		c, err := l.Accept()
		if err != nil {
			fmt.Fprintln(os.Stderr, "tcprelay:", err)
			os.Exit(1)
		}
		go relay(c, os.Args[2])
	}
}

func relay(c net.Conn, target string) {
	defer c.Close()
	t, err := net.Dial("tcp4", target)
	if err != nil {
		return
	}
	defer t.Close()
	done := make(chan struct{}, 2)
	go func() { io.Copy(t, c); t.(*net.TCPConn).CloseWrite(); done <- struct{}{} }()
	go func() { io.Copy(c, t); c.(*net.TCPConn).CloseWrite(); done <- struct{}{} }()
	<-done
	<-done
}
