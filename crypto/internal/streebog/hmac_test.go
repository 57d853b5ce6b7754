package streebog

import (
	"bytes"
	"crypto/hmac"
	"encoding/hex"
	"fmt"
	"hash"
	"math/rand/v2"
	"testing"
)

func newDigest(size int) func() hash.Hash {
	return func() hash.Hash { d := new(Digest); d.Init(size); return d }
}

// bothCompressions runs f with the vector compression and with the tables.
func bothCompressions(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	vector := UseAVX512
	defer func() { UseAVX512 = vector }()
	for _, v := range []bool{vector, false} {
		UseAVX512 = v
		t.Run(map[bool]string{true: "avx512", false: "tables"}[v], f)
		if !vector {
			break // the tables are all there is
		}
	}
}

// TestHMACRFC7836 checks the examples of RFC 7836, appendix A.1.1 (key
// 00 01 … 1f, message 01 26 bd b8 78 00 af 21 43 41 45 65 63 78 01 00).
func TestHMACRFC7836(t *testing.T) {
	key, _ := hex.DecodeString("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
	msg, _ := hex.DecodeString("0126bdb87800af214341456563780100")
	for _, v := range []struct {
		size int
		want string
	}{
		{Size256, "a1aa5f7de402d7b3d323f2991c8d4534013137010a83754fd0af6d7cd4922ed9"},
		{Size512, "a59bab22ecae19c65fbde6e5f4e9f5d8549d31f037f9df9b905500e171923a773d5f1530f2ed7e964cb2eedc29e9ad2f3afe93b2814f79f5000ffc0366c251e6"},
	} {
		bothCompressions(t, func(t *testing.T) {
			var m HMAC
			m.SetKey(v.size, key)
			var d Digest
			m.Start(&d)
			d.Write(msg)
			out := make([]byte, v.size)
			m.Finish(out, &d)
			if got := hex.EncodeToString(out); got != v.want {
				t.Errorf("HMAC-Streebog-%d = %s, want %s", 8*v.size, got, v.want)
			}
		})
	}
}

// TestHMACMatches compares with crypto/hmac over the same hash on random
// keys up to a block and messages around the block boundaries, each key
// used for several MACs (the states must survive being copied from), and
// checks that Finish leaves no state behind.
func TestHMACMatches(t *testing.T) {
	bothCompressions(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(5, 6))
		bytesOf := func(n int) []byte {
			b := make([]byte, n)
			for i := range b {
				b[i] = byte(rng.Uint32())
			}
			return b
		}
		for _, size := range []int{Size256, Size512} {
			for keyLen := 0; keyLen <= BlockSize; keyLen++ {
				key := bytesOf(keyLen)
				var m HMAC
				m.SetKey(size, key)
				ref := hmac.New(newDigest(size), key)
				for _, n := range []int{0, 1, 31, 32, 63, 64, 65, 128, 129, 200} {
					msg := bytesOf(n)
					var d Digest
					m.Start(&d)
					d.Write(msg)
					got := make([]byte, size)
					m.Finish(got, &d)
					ref.Reset()
					ref.Write(msg)
					if want := ref.Sum(nil); !bytes.Equal(got, want) {
						t.Fatalf("size %d, %d-byte key, %d-byte message: %x, crypto/hmac %x", size, keyLen, n, got, want)
					}
					if d != (Digest{}) {
						t.Fatal("Finish left the state in the digest")
					}
				}
				m.Clear()
				if m != (HMAC{}) {
					t.Fatal("Clear left a keyed state")
				}
			}
		}
	})
}

func TestHMACLongKey(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("a key longer than a block was used as it is")
		}
	}()
	var m HMAC
	m.SetKey(Size256, make([]byte, BlockSize+1))
}

// BenchmarkHMAC is one MAC of a digest-sized message under a fixed key:
// the inner hash's block and finalisation, and the outer hash's.
func BenchmarkHMAC(b *testing.B) {
	for _, size := range []int{Size256, Size512} {
		b.Run(fmt.Sprint(8*size), func(b *testing.B) {
			var m HMAC
			m.SetKey(size, make([]byte, size))
			msg := make([]byte, size)
			b.ReportAllocs()
			for b.Loop() {
				var d Digest
				m.Start(&d)
				d.Write(msg)
				m.Finish(msg, &d)
			}
		})
	}
}

// BenchmarkCompress is one compression g_N(h, m).
func BenchmarkCompress(b *testing.B) {
	var d Digest
	d.Init(Size512)
	var n, m [8]uint64
	for b.Loop() {
		d.compress(&n, &m)
	}
}

// TestFirstBlocks checks the states of HMAC's key blocks, computed with the
// initial vector's precomputed round keys, against hashing the same blocks.
func TestFirstBlocks(t *testing.T) {
	bothCompressions(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(11, 12))
		for _, size := range []int{Size256, Size512} {
			for range 200 {
				var ma, mb [BlockSize]byte
				for i := range ma {
					ma[i], mb[i] = byte(rng.Uint32()), byte(rng.Uint32())
				}
				var a, b, wa, wb Digest
				firstBlocks(size, &a, &b, &ma, &mb)
				wa.Init(size)
				wa.Write(ma[:])
				wb.Init(size)
				wb.Write(mb[:])
				if a != wa || b != wb {
					t.Fatalf("size %d: states after %x, %x differ from hashing", size, ma, mb)
				}
			}
		}
	})
}

// BenchmarkHMACSetKey is keying: the states after K ^ ipad and K ^ opad.
func BenchmarkHMACSetKey(b *testing.B) {
	for _, size := range []int{Size256, Size512} {
		b.Run(fmt.Sprint(8*size), func(b *testing.B) {
			var m HMAC
			key := make([]byte, size)
			b.ReportAllocs()
			for b.Loop() {
				m.SetKey(size, key)
			}
		})
	}
}
