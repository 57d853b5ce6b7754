package gost341194

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/podpis/podpis/internal/enginetest"
)

// Vectors with the CryptoPro parameter set, as published with the
// standard's examples (the test-parameter ones are RFC 5831, 10.2; these
// are their CryptoPro counterparts, listed in the English Wikipedia's
// "GOST (hash function)") and as OpenSSL's GOST engine computes them
// (md_gost94), save the empty message: the engine hashes no data as if it
// had no length block, and gives 3f25bc1f…; the standard's value is
// 981e5f3c…, ours.
var vectors = []struct{ msg, sum string }{
	{"", "981e5f3ca30c841487830f84fb433e13ac1101569b9c13584ac483234cd656c0"},
	{"abc", "b285056dbf18d7392d7677369524dd14747459ed8143997e163b2986f92fd42c"},
	{"message digest", "bc6041dd2aa401ebfa6e9886734174febdb4729aa972d60f549ac39b29721ba0"},
	{"The quick brown fox jumps over the lazy dog", "9004294a361a508c586fe53d1f1b02746765e71b765472786e4770d565830a76"},
	{"This is message, length=32 bytes", "2cefc2f7b7bdc514e18ea57fa74ff357e7fa17d652c75f69cb1be7893ede48eb"},
	{"Suppose the original message has length = 50 bytes", "c3730c5cbccacf915ac292676f21e8bd4ef75331d9405e5f1a61dc3130a65011"},
}

func TestVectors(t *testing.T) {
	for _, v := range vectors {
		got := Sum([]byte(v.msg))
		if hex.EncodeToString(got[:]) != v.sum {
			t.Errorf("%q: %x, want %s", v.msg, got, v.sum)
		}
		// Written a byte at a time: the buffering gives the same.
		h := New()
		for i := range len(v.msg) {
			h.Write([]byte{v.msg[i]})
		}
		if s := hex.EncodeToString(h.Sum(nil)); s != v.sum {
			t.Errorf("%q bytewise: %s", v.msg, s)
		}
	}
}

// TestEngine: OpenSSL's GOST engine (md_gost94) is the oracle for every
// length around the block size and for a megabyte.
func TestEngine(t *testing.T) {
	enginetest.Require(t)
	dir := t.TempDir()
	var sizes []int
	for n := 1; n <= 100; n++ {
		sizes = append(sizes, n)
	}
	sizes = append(sizes, 255, 256, 257, 1<<20+3)
	var args []string
	msgs := map[string][]byte{}
	for _, n := range sizes {
		m := make([]byte, n)
		for i := range m {
			m[i] = byte(i*37 + n)
		}
		p := filepath.Join(dir, fmt.Sprint(n))
		os.WriteFile(p, m, 0o600)
		args = append(args, p)
		msgs[p] = m
	}
	out := enginetest.Run(t, nil, append([]string{"dgst", "-engine", "gost", "-md_gost94", "-r"}, args...)...)
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		sum, file, ok := strings.Cut(line, " *")
		m, known := msgs[file]
		if !ok || !known {
			continue
		}
		got := Sum(m)
		if hex.EncodeToString(got[:]) != sum {
			t.Errorf("%d bytes: %x, engine %s", len(m), got, sum)
		}
		checked++
	}
	if checked != len(sizes) {
		t.Fatalf("checked %d of %d against the engine:\n%s", checked, len(sizes), out)
	}
}

func BenchmarkHash(b *testing.B) {
	buf := bytes.Repeat([]byte{1}, 1<<16)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	h := New()
	for b.Loop() {
		h.Write(buf)
	}
}
