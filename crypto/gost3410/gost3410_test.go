package gost3410

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"math/big"
	mrand "math/rand/v2"
	"testing"

	"github.com/podpis/podpis/crypto/gost3410/internal/field"
)

// forEachCurve runs f once per named parameter set.
func forEachCurve(t *testing.T, f func(t *testing.T, c *Curve)) {
	t.Helper()
	for _, c := range Curves() {
		t.Run(c.Name(), func(t *testing.T) { f(t, c) })
	}
}

// bothArithmetics runs f with the assembly routines of package field and
// with its portable code.
func bothArithmetics(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	for _, asm := range []bool{true, false} {
		name := map[bool]string{true: "asm", false: "go"}[asm]
		t.Run(name, func(t *testing.T) {
			was := field.SetAssembly(asm)
			defer field.SetAssembly(was)
			f(t)
		})
	}
}

// refMul is a textbook affine double-and-add on y² = x³ + ax + b with
// math/big, to check the generated arithmetic against.
func refMul(c *Curve, k *big.Int) (x, y *big.Int) {
	p, _, a, _, gx, gy := c.Params()
	var rx, ry *big.Int // nil is the point at infinity
	add := func(x1, y1, x2, y2 *big.Int) (*big.Int, *big.Int) {
		if x1 == nil {
			return x2, y2
		}
		if x2 == nil {
			return x1, y1
		}
		var l *big.Int
		if x1.Cmp(x2) == 0 {
			if new(big.Int).Add(y1, y2).Mod(new(big.Int).Add(y1, y2), p).Sign() == 0 {
				return nil, nil
			}
			num := new(big.Int).Mul(x1, x1)
			num.Mul(num, big.NewInt(3)).Add(num, a)
			den := new(big.Int).Lsh(y1, 1)
			l = num.Mul(num, den.ModInverse(den, p))
		} else {
			num := new(big.Int).Sub(y2, y1)
			den := new(big.Int).Sub(x2, x1)
			den.Mod(den, p)
			l = num.Mul(num, den.ModInverse(den, p))
		}
		l.Mod(l, p)
		x3 := new(big.Int).Mul(l, l)
		x3.Sub(x3, x1).Sub(x3, x2).Mod(x3, p)
		y3 := new(big.Int).Sub(x1, x3)
		y3.Mul(y3, l).Sub(y3, y1).Mod(y3, p)
		return x3, y3
	}
	for i := k.BitLen() - 1; i >= 0; i-- {
		rx, ry = add(rx, ry, rx, ry)
		if k.Bit(i) == 1 {
			rx, ry = add(rx, ry, gx, gy)
		}
	}
	return rx, ry
}

func TestParameters(t *testing.T) {
	forEachCurve(t, func(t *testing.T, c *Curve) {
		p, q, a, b, x, y := c.Params()
		if !p.ProbablyPrime(20) || !q.ProbablyPrime(20) {
			t.Fatal("p or q is not prime")
		}
		lhs := new(big.Int).Mul(y, y)
		rhs := new(big.Int).Exp(x, big.NewInt(3), p)
		rhs.Add(rhs, new(big.Int).Mul(a, x)).Add(rhs, b)
		if lhs.Sub(lhs, rhs).Mod(lhs, p).Sign() != 0 {
			t.Fatal("base point is not on the curve")
		}
		if !c.Twisted() && new(big.Int).Add(a, big.NewInt(3)).Cmp(p) != 0 {
			t.Fatal("a is not -3: the generated Weierstrass code assumes it")
		}
		// q·G is the point at infinity.
		if gx, _ := refMul(c, q); gx != nil {
			t.Fatal("q·G is not the point at infinity")
		}
		if c.Bits() != p.BitLen()+(8-p.BitLen()%8)%8 {
			t.Fatalf("size %d for a %d-bit prime", c.Bits(), p.BitLen())
		}
		// Hasse: the cofactor times q is close to p.
		n := new(big.Int).Mul(q, big.NewInt(int64(c.Cofactor())))
		d := new(big.Int).Sub(n, p)
		d.Abs(d)
		if d.Cmp(new(big.Int).Lsh(new(big.Int).Sqrt(p), 1)) > 0 {
			t.Fatal("cofactor·q is not within the Hasse bound")
		}
	})
}

func TestScalarBaseMult(t *testing.T) {
	rng := mrand.New(mrand.NewPCG(7, 8))
	forEachCurve(t, func(t *testing.T, c *Curve) {
		bothArithmetics(t, func(t *testing.T) {
			_, q, _, _, _, _ := c.Params()
			scalars := []*big.Int{big.NewInt(1), big.NewInt(2), big.NewInt(3), big.NewInt(8), big.NewInt(15),
				big.NewInt(16), big.NewInt(17), new(big.Int).Sub(q, big.NewInt(1)), new(big.Int).Sub(q, big.NewInt(2)),
				new(big.Int).Rsh(q, 1), new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), uint(q.BitLen()-1)), big.NewInt(1))}
			buf := make([]byte, c.Size())
			for i := 0; i < 6; i++ {
				for j := range buf {
					buf[j] = byte(rng.Uint32())
				}
				scalars = append(scalars, new(big.Int).Mod(new(big.Int).SetBytes(buf), q))
			}
			g := c.arith()
			for _, k := range scalars {
				x := make([]byte, c.Size())
				y := make([]byte, c.Size())
				if err := g.impl.ScalarBaseMult(x, y, k.FillBytes(make([]byte, c.Size()))); err != nil {
					t.Fatalf("k=%x: %v", k, err)
				}
				wx, wy := refMul(c, k)
				if new(big.Int).SetBytes(x).Cmp(wx) != 0 || new(big.Int).SetBytes(y).Cmp(wy) != 0 {
					t.Fatalf("k=%x: got (%x, %x), want (%x, %x)", k, x, y, wx, wy)
				}
			}
			zero := make([]byte, c.Size())
			if err := g.impl.ScalarBaseMult(make([]byte, c.Size()), make([]byte, c.Size()), zero); err == nil {
				t.Error("0·G did not fail")
			}
		})
	})
}

func TestSignVerify(t *testing.T) {
	forEachCurve(t, func(t *testing.T, c *Curve) {
		key, err := GenerateKey(c, nil)
		if err != nil {
			t.Fatal(err)
		}
		digest := make([]byte, c.Size())
		rand.Read(digest)
		sig, err := key.Sign(nil, digest, nil)
		if err != nil {
			t.Fatal(err)
		}
		pub := key.PublicKey()
		if !pub.Verify(digest, sig) {
			t.Fatal("valid signature rejected")
		}
		// Two signatures of one digest differ: the nonce is fresh.
		sig2, _ := key.Sign(nil, digest, nil)
		if bytes.Equal(sig, sig2) {
			t.Fatal("two signatures are equal: nonce reused")
		}
		for i := 0; i < len(sig); i += 7 {
			bad := bytes.Clone(sig)
			bad[i] ^= 1
			if pub.Verify(digest, bad) {
				t.Fatalf("signature with bit flipped at byte %d accepted", i)
			}
		}
		badDigest := bytes.Clone(digest)
		badDigest[0] ^= 0x80
		if pub.Verify(badDigest, sig) {
			t.Fatal("signature accepted for another digest")
		}
		other, _ := GenerateKey(c, nil)
		if other.PublicKey().Verify(digest, sig) {
			t.Fatal("signature accepted under another key")
		}
		_, q, _, _, _, _ := c.Params()
		n := c.Size()
		for _, bad := range [][]byte{nil, sig[:n], append(bytes.Clone(sig), 0), make([]byte, 2*n),
			append(q.FillBytes(make([]byte, n)), sig[n:]...), append(bytes.Clone(sig[:n]), q.FillBytes(make([]byte, n))...)} {
			if pub.Verify(digest, bad) {
				t.Fatalf("malformed signature %x accepted", bad)
			}
		}
		if _, err := key.Sign(nil, digest[1:], nil); err == nil {
			t.Fatal("short digest accepted")
		}
		// Round trips of the encodings.
		k2, err := NewPrivateKey(c, key.Bytes())
		if err != nil || !k2.Equal(key) {
			t.Fatalf("private key round trip: %v", err)
		}
		p2, err := NewPublicKey(c, pub.Bytes())
		if err != nil || !p2.Equal(pub) {
			t.Fatalf("public key round trip: %v", err)
		}
	})
}

// TestZeroDigest: a digest that is 0 mod q is replaced by 1 (section 6.1).
func TestZeroDigest(t *testing.T) {
	forEachCurve(t, func(t *testing.T, c *Curve) {
		key, _ := GenerateKey(c, nil)
		zero := make([]byte, c.Size())
		_, q, _, _, _, _ := c.Params()
		qLE := q.FillBytes(make([]byte, c.Size()))
		for i, j := 0, len(qLE)-1; i < j; i, j = i+1, j-1 {
			qLE[i], qLE[j] = qLE[j], qLE[i]
		}
		one := make([]byte, c.Size())
		one[0] = 1
		sig, _ := key.Sign(nil, zero, nil)
		for _, d := range [][]byte{zero, qLE, one} {
			if !key.PublicKey().Verify(d, sig) {
				t.Errorf("digest %x: signature of the zero digest rejected", d)
			}
		}
	})
}

func TestInvalidKeys(t *testing.T) {
	forEachCurve(t, func(t *testing.T, c *Curve) {
		n := c.Size()
		_, q, _, _, _, _ := c.Params()
		le := func(v *big.Int) []byte {
			b := v.FillBytes(make([]byte, n))
			for i, j := 0, n-1; i < j; i, j = i+1, j-1 {
				b[i], b[j] = b[j], b[i]
			}
			return b
		}
		for _, d := range [][]byte{make([]byte, n), le(q), le(new(big.Int).Add(q, big.NewInt(1))), make([]byte, n-1)} {
			if _, err := NewPrivateKey(c, d); err == nil {
				t.Errorf("private key %x accepted", d)
			}
		}
		key, _ := GenerateKey(c, nil)
		raw := key.PublicKey().Bytes()
		raw[0] ^= 1
		if _, err := NewPublicKey(c, raw); err == nil {
			t.Error("point off the curve accepted")
		}
		if _, err := NewPublicKey(c, raw[1:]); err == nil {
			t.Error("short public key accepted")
		}
	})
}

func TestCurveLookup(t *testing.T) {
	for _, c := range Curves() {
		if CurveByName(c.Name()) != c || CurveByOID(c.OID()) != c {
			t.Errorf("%s: lookup by name or OID fails", c.Name())
		}
	}
	same := [][2]*Curve{{CurveCryptoProA, CurveTC26256B}, {CurveCryptoProB, CurveTC26256C}, {CurveCryptoProC, CurveTC26256D}}
	for _, s := range same {
		if !s[0].SameGroup(s[1]) {
			t.Errorf("%s and %s must be one curve", s[0].Name(), s[1].Name())
		}
		key, _ := GenerateKey(s[0], nil)
		k2, err := NewPrivateKey(s[1], key.Bytes())
		if err != nil || !k2.PublicKey().Equal(key.PublicKey()) {
			t.Errorf("%s key is not the same key on %s", s[0].Name(), s[1].Name())
		}
	}
	if CurveByName("nope") != nil {
		t.Error("unknown name found")
	}
}

func unhex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}
