package streebog

import (
	"bytes"
	"encoding"
	"encoding/hex"
	"fmt"
	"hash"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/podpis/podpis/crypto/internal/streebog"
	"github.com/podpis/podpis/internal/enginetest"
)

// reversed decodes hex printed as a big-endian number, the way RFC 6986
// prints messages and digests, into the byte order implementations use.
func reversed(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return b
}

// Examples of RFC 6986, section 10 (M1: 63 bytes; M2: 72 bytes of text in
// Windows-1251), digests as the RFC prints them.
var rfcVectors = []struct {
	name, msg, sum512, sum256 string
}{
	{
		name: "M1",
		msg: `32313039383736353433323130393837363534333231303938373635343332
		      31303938373635343332313039383736353433323130393837363534333231 30`,
		sum512: `486f64c1917879417fef082b3381a4e211c324f074654c38823a7b76f830ad00
		         fa1fbae42b1285c0352f227524bc9ab16254288dd6863dccd5b9f54a1ad0541b`,
		sum256: `00557be5e584fd52a449b16b0251d05d27f94ab76cbaa6da890b59d8ef1e159d`,
	},
	{
		name: "M2",
		msg: `fbe2e5f0eee3c820fbeafaebef20fffbf0e1e0f0f520e0ed20e8ece0ebe5f0f2
		      f120fff0eeec20f120faf2fee5e2202ce8f6f3ede220e8e6eee1e8f0f2d1202c
		      e8f0f2e5e220e5d1`,
		sum512: `28fbc9bada033b1460642bdcddb90c3fb3e56c497ccd0f62b8a2ad4935e85f03
		         7613966de4ee00531ae60f3b5a47f8dae06915d5f2f194996fcabf2622e6881e`,
		sum256: `508f7e553c06501d749a66fc28c6cac0b005746d97537fa85d9e40904efed29d`,
	},
}

func TestRFC6986(t *testing.T) {
	for _, v := range rfcVectors {
		msg := reversed(t, v.msg)
		if got, want := Sum512(msg), reversed(t, v.sum512); !bytes.Equal(got[:], want) {
			t.Errorf("%s: Streebog-512 = %x, want %x", v.name, got, want)
		}
		if got, want := Sum256(msg), reversed(t, v.sum256); !bytes.Equal(got[:], want) {
			t.Errorf("%s: Streebog-256 = %x, want %x", v.name, got, want)
		}
	}
	if got := string(reversed(t, rfcVectors[0].msg)); got != "012345678901234567890123456789012345678901234567890123456789012" {
		t.Errorf("M1 decodes to %q", got)
	}
}

// TestEmpty checks the digests of the empty message, published alongside the
// RFC examples by every implementation (e.g. gost12sum of /dev/null).
func TestEmpty(t *testing.T) {
	if got := Sum256(nil); hex.EncodeToString(got[:]) != "3f539a213e97c802cc229d474c6aa32a825a360b2a933a949fd925208d9ce1bb" {
		t.Errorf("Streebog-256('') = %x", got)
	}
	if got := Sum512(nil); hex.EncodeToString(got[:]) != "8e945da209aa869f0455928529bcae4679e9873ab707b55315f56ceb98bef0a7362f715528356ee83cda5f2aac4c6ad2ba3a715c1bcd81cb8e9f90bf4c1c1a8a" {
		t.Errorf("Streebog-512('') = %x", got)
	}
}

// TestStreaming feeds the same message in random pieces and checks that the
// result, and Sum called midway, do not depend on how it was cut.
func TestStreaming(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	msg := make([]byte, 1000)
	for i := range msg {
		msg[i] = byte(rng.Uint32())
	}
	for _, newHash := range []func() hash.Hash{New256, New512} {
		oneShot := newHash()
		oneShot.Write(msg)
		want := oneShot.Sum(nil)
		for trial := 0; trial < 50; trial++ {
			h := newHash()
			rest := msg
			for len(rest) > 0 {
				n := rng.IntN(min(len(rest), 150) + 1)
				h.Write(rest[:n])
				rest = rest[n:]
				h.Sum(nil) // must not disturb the state
			}
			if got := h.Sum(nil); !bytes.Equal(got, want) {
				t.Fatalf("size %d trial %d: %x, want %x", h.Size(), trial, got, want)
			}
		}
		h := newHash()
		h.Write([]byte("garbage"))
		h.Reset()
		h.Write(msg)
		if got := h.Sum(nil); !bytes.Equal(got, want) {
			t.Errorf("size %d: Reset does not restore the initial state", h.Size())
		}
	}
}

func TestMarshal(t *testing.T) {
	msg := bytes.Repeat([]byte("podpis"), 40)
	for _, newHash := range []func() hash.Hash{New256, New512} {
		for cut := 0; cut <= len(msg); cut += 37 {
			h := newHash()
			h.Write(msg[:cut])
			state, err := h.(encoding.BinaryMarshaler).MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			h2 := newHash()
			if err := h2.(encoding.BinaryUnmarshaler).UnmarshalBinary(state); err != nil {
				t.Fatal(err)
			}
			h.Write(msg[cut:])
			h2.Write(msg[cut:])
			if !bytes.Equal(h.Sum(nil), h2.Sum(nil)) {
				t.Fatalf("size %d cut %d: restored state differs", h.Size(), cut)
			}
		}
	}
	s256, _ := New256().(encoding.BinaryMarshaler).MarshalBinary()
	bad := [][]byte{nil, []byte("stb256\x01"), make([]byte, len(s256))}
	for _, b := range bad {
		if err := New256().(encoding.BinaryUnmarshaler).UnmarshalBinary(b); err == nil {
			t.Errorf("UnmarshalBinary(%d bytes) accepted garbage", len(b))
		}
	}
	s512, _ := New512().(encoding.BinaryMarshaler).MarshalBinary()
	if err := New256().(encoding.BinaryUnmarshaler).UnmarshalBinary(s512); err == nil {
		t.Error("a Streebog-512 state was accepted by Streebog-256")
	}
}

// TestEngine compares with OpenSSL's GOST engine on lengths around the block
// boundary and on a large input that is not a whole number of blocks.
func TestEngine(t *testing.T) {
	enginetest.Require(t)
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 63, 64, 65, 127, 128, 129, 1<<20 + 3} {
		msg := make([]byte, n)
		for i := range msg {
			msg[i] = byte(rng.Uint32())
		}
		path := filepath.Join(dir, fmt.Sprint(n))
		if err := os.WriteFile(path, msg, 0o600); err != nil {
			t.Fatal(err)
		}
		for _, alg := range []struct {
			md  string
			sum func([]byte) []byte
		}{
			{"md_gost12_256", func(b []byte) []byte { s := Sum256(b); return s[:] }},
			{"md_gost12_512", func(b []byte) []byte { s := Sum512(b); return s[:] }},
		} {
			out := enginetest.Run(t, nil, "dgst", "-engine", "gost", "-"+alg.md, "-r", path)
			want := strings.Fields(string(out))[0]
			if got := hex.EncodeToString(alg.sum(msg)); got != want {
				t.Errorf("%s of %d bytes: %s, engine says %s", alg.md, n, got, want)
			}
		}
	}
}

// TestGeneric runs the vector tests on the table code where the AVX-512
// code would otherwise be used, and checks the two agree on random messages
// of every length up to a few blocks, on blocks handed over one at a time and
// many at once, and on the all-0xff message that drives every carry of N and
// sigma.
func TestGeneric(t *testing.T) {
	if !streebog.UseAVX512 {
		t.Skip("the table code is already what runs")
	}
	sum := func(generic bool, newHash func() hash.Hash, msg []byte, piece int) []byte {
		streebog.UseAVX512 = !generic
		defer func() { streebog.UseAVX512 = true }()
		h := newHash()
		for rest := msg; len(rest) > 0; {
			n := min(piece, len(rest))
			h.Write(rest[:n])
			rest = rest[n:]
		}
		return h.Sum(nil)
	}
	rng := rand.New(rand.NewPCG(7, 8))
	msgs := [][]byte{bytes.Repeat([]byte{0xff}, 4096)}
	for n := 0; n <= 300; n++ {
		msg := make([]byte, n)
		for i := range msg {
			msg[i] = byte(rng.Uint32())
		}
		msgs = append(msgs, msg)
	}
	for _, msg := range msgs {
		for _, newHash := range []func() hash.Hash{New256, New512} {
			want := sum(true, newHash, msg, len(msg)+1)
			for _, piece := range []int{BlockSize, len(msg) + 1} {
				if got := sum(false, newHash, msg, piece); !bytes.Equal(got, want) {
					t.Fatalf("%d-byte message in %d-byte pieces: vector %x, tables %x", len(msg), piece, got, want)
				}
			}
		}
	}
	streebog.UseAVX512 = false
	defer func() { streebog.UseAVX512 = true }()
	TestRFC6986(t)
	TestEmpty(t)
	TestStreaming(t)
}

func benchmarkSize(b *testing.B, newHash func() hash.Hash, size int) {
	buf := make([]byte, size)
	h := newHash()
	sum := make([]byte, 0, Size512)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		h.Reset()
		h.Write(buf)
		sum = h.Sum(sum[:0])
	}
}

func BenchmarkHash256(b *testing.B) {
	for _, size := range []int{64, 1024, 1 << 20} {
		b.Run(fmt.Sprint(size), func(b *testing.B) { benchmarkSize(b, New256, size) })
	}
}

func BenchmarkHash512(b *testing.B) {
	for _, size := range []int{64, 1024, 1 << 20} {
		b.Run(fmt.Sprint(size), func(b *testing.B) { benchmarkSize(b, New512, size) })
	}
}
