package field

import (
	"bytes"
	"math/big"
	"math/rand/v2"
	"testing"
)

// element is the method set every generated type has, so that one test runs
// over all of them.
type element[T any] interface {
	*T
	Set(*T) *T
	Zero() *T
	One() *T
	SetBytes([]byte) (*T, error)
	FillBytes([]byte)
	Equal(*T) int
	IsZero() int
	IsZeroVar() bool
	Select(a, b *T, cond int) *T
	Add(x, y *T) *T
	Sub(x, y *T) *T
	Neg(x *T) *T
	Half(x *T) *T
	Mul(x, y *T) *T
	Square(x *T) *T
	Invert(x *T) *T
	InvertVar(x *T) *T
}

func hexInt(s string) *big.Int {
	v, ok := new(big.Int).SetString(s, 16)
	if !ok {
		panic(s)
	}
	return v
}

func forEachField(t *testing.T, f func(t *testing.T, p *big.Int, size int, check func(t *testing.T, vals []*big.Int))) {
	t.Run("P256A", func(t *testing.T) { f(t, hexInt(p256aHex), P256ABytes, checkAll[P256A]) })
	t.Run("P256B", func(t *testing.T) { f(t, hexInt(p256bHex), P256BBytes, checkAll[P256B]) })
	t.Run("P256C", func(t *testing.T) { f(t, hexInt(p256cHex), P256CBytes, checkAll[P256C]) })
	t.Run("P512A", func(t *testing.T) { f(t, hexInt(p512aHex), P512ABytes, checkAll[P512A]) })
	t.Run("P512B", func(t *testing.T) { f(t, hexInt(p512bHex), P512BBytes, checkAll[P512B]) })
}

const (
	p256aHex = "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFD97"
	p256bHex = "8000000000000000000000000000000000000000000000000000000000000C99"
	p256cHex = "9B9F605F5A858107AB1EC85E6B41C8AACF846E86789051D37998F7B9022D759B"
	p512aHex = "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFDC7"
	p512bHex = "8000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000006F"
)

// interesting returns values that stress carries and reductions: small
// numbers, p minus small numbers, powers of two and their neighbours, and
// random ones.
func interesting(p *big.Int, size int, rng *rand.Rand) []*big.Int {
	var out []*big.Int
	for i := int64(0); i < 4; i++ {
		out = append(out, big.NewInt(i), new(big.Int).Sub(p, big.NewInt(i+1)))
	}
	for k := 1; k < 8*size; k += 37 {
		pw := new(big.Int).Lsh(big.NewInt(1), uint(k))
		for _, v := range []*big.Int{pw, new(big.Int).Sub(pw, big.NewInt(1))} {
			if v.Cmp(p) < 0 {
				out = append(out, v)
			}
		}
	}
	// All-ones limbs are the worst case for carry chains.
	ones := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), uint(8*size)), big.NewInt(1))
	out = append(out, new(big.Int).Mod(ones, p), new(big.Int).Rsh(p, 1))
	buf := make([]byte, size)
	for len(out) < 60 {
		for i := range buf {
			buf[i] = byte(rng.Uint32())
		}
		out = append(out, new(big.Int).Mod(new(big.Int).SetBytes(buf), p))
	}
	return out
}

func TestArithmetic(t *testing.T) {
	forEachField(t, func(t *testing.T, p *big.Int, size int, check func(*testing.T, []*big.Int)) {
		check(t, interesting(p, size, rand.New(rand.NewPCG(5, 6))))
	})
}

// TestArithmeticGeneric runs the same checks on the generated Go code where
// the assembly would otherwise be used.
func TestArithmeticGeneric(t *testing.T) {
	if !useADX {
		t.Skip("the generic code is already what runs")
	}
	useADX = false
	defer func() { useADX = true }()
	TestArithmetic(t)
}

func checkAll[T any, E element[T]](t *testing.T, vals []*big.Int) {
	p := modulusOf[T, E]()
	size := (p.BitLen() + 63) / 64 * 8
	enc := func(v *big.Int) E {
		b := v.FillBytes(make([]byte, size))
		e, err := E(new(T)).SetBytes(b)
		if err != nil {
			t.Fatalf("SetBytes(%x): %v", b, err)
		}
		return e
	}
	dec := func(e E) *big.Int {
		b := make([]byte, size)
		e.FillBytes(b)
		return new(big.Int).SetBytes(b)
	}
	for _, a := range vals {
		ea := enc(a)
		if got := dec(ea); got.Cmp(a) != 0 {
			t.Fatalf("round trip of %x gives %x", a, got)
		}
		want := new(big.Int).Mul(a, a)
		want.Mod(want, p)
		if got := dec(E(E(new(T)).Square(ea))); got.Cmp(want) != 0 {
			t.Errorf("%x^2 = %x, want %x", a, got, want)
		}
		if got := dec(E(E(new(T)).Neg(ea))); got.Cmp(new(big.Int).Mod(new(big.Int).Neg(a), p)) != 0 {
			t.Errorf("-%x = %x", a, got)
		}
		half := new(big.Int).Mul(a, new(big.Int).ModInverse(big.NewInt(2), p))
		if got := dec(E(E(new(T)).Half(ea))); got.Cmp(half.Mod(half, p)) != 0 {
			t.Errorf("%x/2 = %x, want %x", a, got, half)
		}
		inv := dec(E(E(new(T)).Invert(ea)))
		wantInv := new(big.Int).ModInverse(a, p)
		if wantInv == nil {
			wantInv = new(big.Int)
		}
		if inv.Cmp(wantInv) != 0 {
			t.Errorf("1/%x = %x, want %x", a, inv, wantInv)
		}
		if got := dec(E(E(new(T)).InvertVar(ea))); got.Cmp(wantInv) != 0 {
			t.Errorf("InvertVar(%x) = %x, want %x", a, got, wantInv)
		}
		if ea.IsZero() != boolInt(a.Sign() == 0) {
			t.Errorf("IsZero(%x) wrong", a)
		}
		for _, b := range vals {
			eb := enc(b)
			checkBinary(t, p, a, b, ea, eb, dec)
			if ea.Equal(eb) != boolInt(a.Cmp(b) == 0) {
				t.Errorf("Equal(%x, %x) wrong", a, b)
			}
			if dec(E(E(new(T)).Select(ea, eb, 1))).Cmp(a) != 0 || dec(E(E(new(T)).Select(ea, eb, 0))).Cmp(b) != 0 {
				t.Errorf("Select wrong")
			}
		}
	}
	// Aliasing: the receiver may be an argument.
	x := enc(vals[len(vals)-1])
	y := E(E(new(T)).Set(x))
	want := dec(E(E(new(T)).Mul(x, x)))
	if got := dec(E(y.Mul(y, y))); got.Cmp(want) != 0 {
		t.Errorf("aliased Mul differs")
	}
	// Out-of-range and wrong-size encodings are rejected and leave e unchanged.
	e := E(E(new(T)).Set(x))
	before := dec(e)
	for _, bad := range [][]byte{p.FillBytes(make([]byte, size)), bytes.Repeat([]byte{0xff}, size), make([]byte, size-1), make([]byte, size+1)} {
		if _, err := e.SetBytes(bad); err == nil {
			t.Errorf("SetBytes(%x) accepted", bad)
		}
	}
	if dec(e).Cmp(before) != 0 {
		t.Errorf("failed SetBytes changed the receiver")
	}
	if one := dec(E(E(new(T)).One())); one.Cmp(big.NewInt(1)) != 0 {
		t.Errorf("One() = %x", one)
	}
}

// checkBinary compares x+y, x-y and x·y with math/big modulo p.
func checkBinary[T any, E element[T]](t *testing.T, p, a, b *big.Int, ea, eb E, dec func(E) *big.Int) {
	t.Helper()
	for _, op := range []struct {
		name string
		got  E
		want *big.Int
	}{
		{"+", E(new(T)).Add(ea, eb), new(big.Int).Add(a, b)},
		{"-", E(new(T)).Sub(ea, eb), new(big.Int).Sub(a, b)},
		{"*", E(new(T)).Mul(ea, eb), new(big.Int).Mul(a, b)},
	} {
		op.want.Mod(op.want, p)
		if got := dec(op.got); got.Cmp(op.want) != 0 {
			t.Fatalf("%x %s %x = %x, want %x", a, op.name, b, got, op.want)
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func modulusOf[T any, E element[T]]() *big.Int {
	switch any(new(T)).(type) {
	case *P256A:
		return hexInt(p256aHex)
	case *P256B:
		return hexInt(p256bHex)
	case *P256C:
		return hexInt(p256cHex)
	case *P512A:
		return hexInt(p512aHex)
	case *P512B:
		return hexInt(p512bHex)
	}
	panic("unknown field")
}

func benchField[T any, E element[T]](b *testing.B) {
	x := E(E(new(T)).One())
	y := E(E(new(T)).Add(x, x))
	for i := 0; i < 10; i++ {
		y.Square(y)
		y.Add(y, x)
	}
	b.Run("Mul", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			x.Mul(x, y)
		}
	})
	b.Run("Square", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			x.Square(x)
		}
	})
	b.Run("Invert", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			x.Invert(y)
		}
	})
}

func BenchmarkP256A(b *testing.B) { benchField[P256A](b) }
func BenchmarkP256B(b *testing.B) { benchField[P256B](b) }
func BenchmarkP512A(b *testing.B) { benchField[P512A](b) }
func BenchmarkP512B(b *testing.B) { benchField[P512B](b) }
