package main

import (
	"fmt"
	"io"
	"time"

	"github.com/podpis/podpis/crypto/streebog"
)

// runSpeed measures like "openssl speed": each figure runs for about
// --seconds and is printed as soon as it is known.
func runSpeed(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("speed")
	seconds := fs.Float64("seconds", 2, "`N` секунд на каждое измерение")
	curveName := fs.String("curve", "", "`КРИВАЯ`: измерить только её (список: --list)")
	list := fs.Bool("list", false, "перечислить кривые и выйти")
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	if fs.NArg() != 0 || *seconds <= 0 {
		return usageError("speed", stderr)
	}
	if *list {
		return listCurves(stdout)
	}
	d := time.Duration(*seconds * float64(time.Second))
	if *curveName == "" {
		buf := make([]byte, 1<<20)
		for _, alg := range []struct {
			name string
			sum  func([]byte)
		}{
			{"streebog256", func(b []byte) { streebog.Sum256(b) }},
			{"streebog512", func(b []byte) { streebog.Sum512(b) }},
		} {
			n, elapsed := repeat(d, func() { alg.sum(buf) })
			fmt.Fprintf(stdout, "%s MB/s %.1f\n", alg.name, float64(n)*float64(len(buf))/elapsed.Seconds()/1e6)
		}
	}
	return speedSignatures(*curveName, d, stdout, stderr)
}

// repeat runs f until d has passed and reports how often it ran and for how
// long in all.
func repeat(d time.Duration, f func()) (int, time.Duration) {
	start := time.Now()
	n := 0
	for batch := 1; ; batch *= 2 {
		for i := 0; i < batch; i++ {
			f()
		}
		n += batch
		if elapsed := time.Since(start); elapsed >= d {
			return n, elapsed
		}
	}
}
