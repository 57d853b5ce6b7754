package gost3410

import (
	"crypto/rand"
	"testing"
)

func BenchmarkSign(b *testing.B) {
	for _, c := range Curves() {
		b.Run(c.Name(), func(b *testing.B) {
			key, _ := GenerateKey(c, nil)
			digest := make([]byte, c.Size())
			rand.Read(digest)
			key.Sign(nil, digest, nil) // build the tables outside the timing
			b.ReportAllocs()
			for b.Loop() {
				if _, err := key.Sign(nil, digest, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkVerify(b *testing.B) {
	for _, c := range Curves() {
		b.Run(c.Name(), func(b *testing.B) {
			key, _ := GenerateKey(c, nil)
			digest := make([]byte, c.Size())
			rand.Read(digest)
			sig, _ := key.Sign(nil, digest, nil)
			pub := key.PublicKey()
			b.ReportAllocs()
			for b.Loop() {
				if !pub.Verify(digest, sig) {
					b.Fatal("rejected")
				}
			}
		})
	}
}

// BenchmarkNonceDRBG is the part of Sign that derives the nonce: seeding
// the HMAC_DRBG with randomness, key and digest, and drawing one candidate.
// The crypto-hmac sub-benchmarks run the plain rendering (hmacDRBG) that it
// replaced, for comparison.
func BenchmarkNonceDRBG(b *testing.B) {
	for _, c := range []*Curve{CurveTC26256A, CurveTC26512A} {
		n := c.Size()
		key, _ := GenerateKey(c, nil)
		digest := make([]byte, n)
		z := make([]byte, n)
		k := make([]byte, n)
		b.Run(c.Name(), func(b *testing.B) {
			b.ReportAllocs()
			var d nonceDRBG
			for b.Loop() {
				d.init(n, z, key.d, digest)
				d.generate(k)
				d.clear()
			}
		})
		b.Run(c.Name()+"/crypto-hmac", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				d := newHMACDRBG(refHash(n), z, nil, true, key.d, digest)
				d.generate(k)
				d.clear()
			}
		})
	}
}
