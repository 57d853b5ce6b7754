package main

import (
	"crypto/rand"
	"fmt"
	"io"
	"time"

	"github.com/podpis/podpis/crypto/gost3410"
)

// By default speed measures the curves OpenSSL's GOST engine is compared on.
var speedDefaults = []*gost3410.Curve{gost3410.CurveTC26256A, gost3410.CurveTC26512A}

func listCurves(w io.Writer) int {
	for _, c := range gost3410.Curves() {
		fmt.Fprintf(w, "%s\t%s\t%d\n", c.Name(), c.OID(), c.Bits())
	}
	return 0
}

// speedSignatures prints "gost2012_256 sign/s X verify/s Y" (or _512) per
// curve, preceded by a line naming the curve.
func speedSignatures(name string, d time.Duration, stdout, stderr io.Writer) int {
	curves := speedDefaults
	if name != "" {
		c := gost3410.CurveByName(name)
		if c == nil {
			fmt.Fprintf(stderr, "podpis: unknown curve %q (podpis speed --list shows them)\n", name)
			return 2
		}
		curves = []*gost3410.Curve{c}
	}
	for _, c := range curves {
		key, err := gost3410.GenerateKey(c, nil)
		if err != nil {
			fmt.Fprintf(stderr, "podpis: %v\n", err)
			return 1
		}
		digest := make([]byte, c.Size())
		rand.Read(digest)
		sig, _ := key.Sign(nil, digest, nil)
		pub := key.PublicKey()
		n, signTime := repeat(d, func() { key.Sign(nil, digest, nil) })
		m, verifyTime := repeat(d, func() { pub.Verify(digest, sig) })
		fmt.Fprintf(stdout, "curve %s\n", c.Name())
		fmt.Fprintf(stdout, "gost2012_%d sign/s %.1f verify/s %.1f\n", c.Bits(),
			float64(n)/signTime.Seconds(), float64(m)/verifyTime.Seconds())
	}
	return 0
}
