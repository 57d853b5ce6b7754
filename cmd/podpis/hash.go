package main

import (
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"

	"github.com/podpis/podpis/crypto/streebog"
)

var hashes = map[string]func() hash.Hash{
	"streebog256": streebog.New256,
	"streebog512": streebog.New512,
}

// runHash prints "HEX  NAME" per input like sha256sum; "-" or no file is
// standard input. A file that cannot be read is reported and the others are
// still hashed; the exit code is then 1.
func runHash(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("hash")
	alg := fs.String("alg", "streebog256", "`АЛГОРИТМ` хэша: streebog256 или streebog512")
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	newHash, ok := hashes[*alg]
	if !ok {
		fmt.Fprintf(stderr, "podpis: unknown digest %q (streebog256 or streebog512)\n", *alg)
		return 2
	}
	files := fs.Args()
	if len(files) == 0 {
		files = []string{"-"}
	}
	status := 0
	for _, name := range files {
		sum, err := hashFile(newHash(), name)
		if err != nil {
			fmt.Fprintf(stderr, "podpis: %v\n", err)
			status = 1
			continue
		}
		fmt.Fprintf(stdout, "%s  %s\n", hex.EncodeToString(sum), name)
	}
	return status
}

func hashFile(h hash.Hash, name string) ([]byte, error) {
	var r io.Reader = os.Stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	if _, err := io.Copy(h, r); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return h.Sum(nil), nil
}
