//go:build amd64 && !purego

package field

import "golang.org/x/sys/cpu"

// useADX selects the assembly multiplication for the pseudo-Mersenne
// primes; the entry points in mul_amd64.s read it on every call and jump to
// the generated Go code when the CPU lacks BMI2 or ADX.
var useADX = hasADX

var hasADX = cpu.X86.HasBMI2 && cpu.X86.HasADX

//go:noescape
func p256aMul(z, x, y *[4]uint64)

//go:noescape
func p256aSquare(z, x *[4]uint64)

//go:noescape
func p512aMul(z, x, y *[8]uint64)

//go:noescape
func p512aSquare(z, x *[8]uint64)

//go:noescape
func p256aAdd(z, x, y *[4]uint64)

//go:noescape
func p256aSub(z, x, y *[4]uint64)

//go:noescape
func p512aAdd(z, x, y *[8]uint64)

//go:noescape
func p512aSub(z, x, y *[8]uint64)

// The BMI2/ADX routines behind the entry points above.

//go:noescape
func p256aMulADX(z, x, y *[4]uint64)

//go:noescape
func p256aSquareADX(z, x *[4]uint64)

//go:noescape
func p512aMulADX(z, x, y *[8]uint64)

//go:noescape
func p512aSquareADX(z, x *[8]uint64)
