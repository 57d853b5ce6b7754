package gost3410

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"hash"
	"io"
	"math/big"
	"math/rand/v2"
	"testing"
	"time"

	core "github.com/podpis/podpis/crypto/internal/streebog"
	"github.com/podpis/podpis/crypto/streebog"
)

// refHash is the hash hmacDRBG runs over to compute what nonceDRBG does for
// size-byte keys.
func refHash(size int) func() hash.Hash {
	if size == streebog.Size512 {
		return streebog.New512
	}
	return streebog.New256
}

// TestNonceDRBGMatches runs Sign's DRBG against the plain one over
// crypto/hmac (which TestHMACDRBGVectors ties to NIST's vectors) on random
// and extreme seeds, for both sizes, with the vector compression and with
// the tables, drawing three candidates each so that the update deferred to
// the next draw runs too. Any change in the layout of the seed, in the
// updates or in the HMAC shows as a different nonce.
func TestNonceDRBGMatches(t *testing.T) {
	vector := core.UseAVX512
	defer func() { core.UseAVX512 = vector }()
	rng := rand.New(rand.NewPCG(9, 10))
	for _, useVector := range []bool{vector, false} {
		core.UseAVX512 = useVector
		for _, size := range []int{streebog.Size256, streebog.Size512} {
			seeds := [][3][]byte{
				{make([]byte, size), make([]byte, size), make([]byte, size)},
				{bytes.Repeat([]byte{0xff}, size), bytes.Repeat([]byte{0xff}, size), bytes.Repeat([]byte{0xff}, size)},
			}
			for range 300 {
				var seed [3][]byte
				for i := range seed {
					seed[i] = make([]byte, size)
					for j := range seed[i] {
						seed[i][j] = byte(rng.Uint32())
					}
				}
				seeds = append(seeds, seed)
			}
			for _, seed := range seeds {
				z, key, digest := seed[0], seed[1], seed[2]
				ref := newHMACDRBG(refHash(size), z, nil, true, key, digest)
				var d nonceDRBG
				d.init(size, z, key, digest)
				for draw := range 3 {
					want := make([]byte, size)
					ref.generate(want)
					got := make([]byte, size)
					d.generate(got)
					if !bytes.Equal(got, want) {
						t.Fatalf("vector %v, %d-byte seed %x ‖ %x ‖ %x, draw %d:\n got %x\nwant %x", useVector, size, z, key, digest, draw, got, want)
					}
				}
				d.clear()
			}
		}
		if !vector {
			break // the tables are all there is
		}
	}
}

// TestNonceDRBGAllocs: deriving a nonce allocates nothing (crypto/hmac
// allocated some 4.7 KB per signature), and clear leaves no K, V or keyed
// state behind.
func TestNonceDRBGAllocs(t *testing.T) {
	for _, c := range []*Curve{CurveTC26256A, CurveTC26512A} {
		n := c.Size()
		z, key, digest, k := make([]byte, n), make([]byte, n), make([]byte, n), make([]byte, n)
		var d nonceDRBG
		allocs := testing.AllocsPerRun(20, func() {
			d.init(n, z, key, digest)
			d.generate(k)
			d.generate(k)
			d.clear()
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per nonce", c.Name(), allocs)
		}
		d.init(n, z, key, digest)
		d.generate(k)
		d.clear()
		if d.k != [64]byte{} || d.v != [64]byte{} || d.mac != (core.HMAC{}) {
			t.Errorf("%s: clear left state behind", c.Name())
		}
	}
}

// TestHMACDRBGVectors runs the DRBG over SHA-256 against NIST CAVP's
// HMAC_DRBG.rsp (DRBG test vectors of SP 800-90A, "no reseed" file,
// [SHA-256], PredictionResistance = False, EntropyInputLen = 256,
// NonceLen = 128, AdditionalInputLen = 0, ReturnedBitsLen = 1024): the
// harness instantiates, generates 1024 bits twice and compares the second
// output. Signing runs the same code over Streebog.
func TestHMACDRBGVectors(t *testing.T) {
	vectors := []struct{ entropy, nonce, personalization, returned string }{
		{ // [PersonalizationStringLen = 0] COUNT = 0
			"ca851911349384bffe89de1cbdc46e6831e44d34a4fb935ee285dd14b71a7488", "659ba96c601dc69fc902940805ec0ca8", "",
			"e528e9abf2dece54d47c7e75e5fe302149f817ea9fb4bee6f4199697d04d5b89d54fbb978a15b5c443c9ec21036d2460b6f73ebad0dc2aba6e624abf07745bc107694bb7547bb0995f70de25d6b29e2d3011bb19d27676c07162c8b5ccde0668961df86803482cb37ed6d5c0bb8d50cf1f50d476aa0458bdaba806f48be9dcb8",
		},
		{ // [PersonalizationStringLen = 0] COUNT = 1
			"79737479ba4e7642a221fcfd1b820b134e9e3540a35bb48ffae29c20f5418ea3", "3593259c092bef4129bc2c6c9e19f343", "",
			"cf5ad5984f9e43917aa9087380dac46e410ddc8a7731859c84e9d0f31bd43655b924159413e2293b17610f211e09f770f172b8fb693a35b85d3b9e5e63b1dc252ac0e115002e9bedfb4b5b6fd43f33b8e0eafb2d072e1a6fee1f159df9b51e6c8da737e60d5032dd30544ec51558c6f080bdbdab1de8a939e961e06b5f1aca37",
		},
		{ // [PersonalizationStringLen = 256] COUNT = 0
			"5cacc68165a2e2ee20812f35ec73a79dbf30fd475476ac0c44fc6174cdac2b55", "6f885496c1e63af620becd9e71ecb824", "e72dd8590d4ed5295515c35ed6199e9d211b8f069b3058caa6670b96ef1208d0",
			"f1012cf543f94533df27fedfbf58e5b79a3dc517a9c402bdbfc9a0c0f721f9d53faf4aafdc4b8f7a1b580fcaa52338d4bd95f58966a243cdcd3f446ed4bc546d9f607b190dd69954450d16cd0e2d6437067d8b44d19a6af7a7cfa8794e5fbd728e8fb2f2e8db5dd4ff1aa275f35886098e80ff844886060da8b1e7137846b23b",
		},
		{ // [PersonalizationStringLen = 256] COUNT = 1
			"8df013b4d103523073917ddf6a869793059e9943fc8654549e7ab22f7c29f122", "da2625af2ddd4abcce3cf4fa4659d84e", "b571e66d7c338bc07b76ad3757bb2f9452bf7e07437ae8581ce7bc7c3ac651a9",
			"b91cba4cc84fa25df8610b81b641402768a2097234932e37d590b1154cbd23f97452e310e291c45146147f0da2d81761fe90fba64f94419c0f662b28c1ed94da487bb7e73eec798fbcf981b791d1be4f177a8907aa3c401643a5b62b87b89d66b3a60e40d4a8e4e9d82af6d2700e6f535cdb51f75c321729103741030ccc3a56",
		},
	}
	if len(vectors) == 0 {
		t.Fatal("no vectors")
	}
	for i, v := range vectors {
		d := newHMACDRBG(sha256.New, unhex(v.entropy), unhex(v.nonce), false, unhex(v.personalization))
		out := make([]byte, 1024/8)
		d.generate(out)
		d.generate(out)
		if want := unhex(v.returned); !bytes.Equal(out, want) {
			t.Errorf("vector %d:\n got %x\nwant %x", i, out, want)
		}
	}
}

// TestDRBGAlignment: the hedged layout puts each personalization element on
// a block boundary, so moving a byte from one element to the next (which
// plain concatenation cannot tell apart) changes the output.
func TestDRBGAlignment(t *testing.T) {
	for _, h := range []func() hash.Hash{sha256.New, streebog.New256, streebog.New512} {
		a := newHMACDRBG(h, []byte("z"), nil, true, []byte("ab"), []byte("c"))
		b := newHMACDRBG(h, []byte("z"), nil, true, []byte("a"), []byte("bc"))
		p := newHMACDRBG(h, []byte("z"), nil, false, []byte("ab"), []byte("c"))
		q := newHMACDRBG(h, []byte("z"), nil, false, []byte("a"), []byte("bc"))
		outs := make([][]byte, 4)
		for i, d := range []*hmacDRBG{a, b, p, q} {
			outs[i] = make([]byte, 32)
			d.generate(outs[i])
		}
		if bytes.Equal(outs[0], outs[1]) {
			t.Error("aligned personalization is ambiguous")
		}
		if !bytes.Equal(outs[2], outs[3]) {
			t.Error("plain personalization is not a concatenation")
		}
	}
}

// constReader is a broken random source that repeats one byte forever.
type constReader byte

func (c constReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(c)
	}
	return len(p), nil
}

// TestSignBrokenRandom attacks the nonce with broken random sources. With a
// source that repeats itself, an unhedged signer uses the same k for two
// digests, and then d = (s1·e2 − s2·e1) / (r·(e2 − e1)) mod q: the test runs
// that recovery and fails if it finds the key. An all-zero source must still
// give valid signatures (the unhedged rejection sampling never ends on it).
func TestSignBrokenRandom(t *testing.T) {
	forEachCurve(t, func(t *testing.T, c *Curve) {
		key, err := GenerateKey(c, nil)
		if err != nil {
			t.Fatal(err)
		}
		other, _ := GenerateKey(c, nil)
		n := c.Size()
		d1 := bytes.Repeat([]byte{0x11}, n)
		d2 := bytes.Repeat([]byte{0x22}, n)
		for _, random := range []io.Reader{constReader(0x5a), constReader(0xff), constReader(0)} {
			type result struct {
				sig []byte
				err error
			}
			sign := func(k *PrivateKey, digest []byte) []byte {
				t.Helper()
				done := make(chan result, 1)
				go func() {
					sig, err := k.Sign(random, digest, nil)
					done <- result{sig, err}
				}()
				select {
				case r := <-done:
					if r.err != nil {
						t.Fatalf("random %v: %v", random, r.err)
					}
					if !k.PublicKey().Verify(digest, r.sig) {
						t.Fatalf("random %v: signature does not verify", random)
					}
					return r.sig
				case <-time.After(30 * time.Second):
					t.Fatalf("random %v: Sign never returned", random)
					return nil
				}
			}
			s1, s2 := sign(key, d1), sign(key, d2)
			if bytes.Equal(s1[n:], s2[n:]) {
				t.Errorf("random %v: two digests signed with one r: the nonce repeats", random)
			}
			if d := recoverKey(c, d1, d2, s1, s2); d.Cmp(new(big.Int).SetBytes(key.d)) == 0 {
				t.Fatalf("random %v: private key recovered from two signatures", random)
			}
			// With no entropy the nonce is a function of key and digest
			// only: the same pair signs alike, another key does not.
			if again := sign(key, d1); random == constReader(0) && !bytes.Equal(again, s1) {
				t.Errorf("zero random: same key and digest gave another nonce")
			}
			if so := sign(other, d1); bytes.Equal(so[n:], s1[n:]) {
				t.Errorf("random %v: two keys signed one digest with one r", random)
			}
		}
	})
}

// recoverKey solves the two signature equations s_i = r·d + k·e_i for d,
// assuming both used one k (and r).
func recoverKey(c *Curve, d1, d2, s1, s2 []byte) *big.Int {
	_, q, _, _, _, _ := c.Params()
	n := c.Size()
	e := func(digest []byte) *big.Int {
		le := bytes.Clone(digest)
		for i, j := 0, len(le)-1; i < j; i, j = i+1, j-1 {
			le[i], le[j] = le[j], le[i]
		}
		v := new(big.Int).Mod(new(big.Int).SetBytes(le), q)
		if v.Sign() == 0 {
			v.SetInt64(1)
		}
		return v
	}
	e1, e2 := e(d1), e(d2)
	sv1, sv2 := new(big.Int).SetBytes(s1[:n]), new(big.Int).SetBytes(s2[:n])
	r := new(big.Int).SetBytes(s1[n:])
	num := new(big.Int).Sub(new(big.Int).Mul(sv1, e2), new(big.Int).Mul(sv2, e1))
	den := new(big.Int).Mul(r, new(big.Int).Sub(e2, e1))
	den.Mod(den, q)
	if den.Sign() == 0 {
		return new(big.Int)
	}
	num.Mul(num, new(big.Int).ModInverse(den, q))
	return num.Mod(num, q)
}

// failingReader is a random source that is out of order.
type failingReader struct{ err error }

func (f failingReader) Read([]byte) (int, error) { return 0, f.err }

func TestSignRandomFails(t *testing.T) {
	forEachCurve(t, func(t *testing.T, c *Curve) {
		key, _ := GenerateKey(c, nil)
		broken := errors.New("entropy source gone")
		for _, random := range []io.Reader{failingReader{broken}, bytes.NewReader(make([]byte, c.Size()-1))} {
			sig, err := key.Sign(random, make([]byte, c.Size()), nil)
			if err == nil || sig != nil {
				t.Fatalf("%T: signed with a failing random: %x", random, sig)
			}
			if f, ok := random.(failingReader); ok && !errors.Is(err, f.err) {
				t.Errorf("error %v does not wrap the reader's", err)
			}
		}
	})
}
