//go:build amd64 && !purego

package field

import "golang.org/x/sys/cpu"

// useADX selects the assembly multiplication for pseudo-Mersenne primes;
// without BMI2 and ADX the generated Go code runs instead.
var useADX = cpu.X86.HasBMI2 && cpu.X86.HasADX

// mulPM4 sets z = x·y mod 2^256 - c (mul_amd64.s).
//
//go:noescape
func mulPM4(z, x, y *[4]uint64, c uint64)

// mulPM8 sets z = x·y mod 2^512 - c (mul_amd64.s).
//
//go:noescape
func mulPM8(z, x, y *[8]uint64, c uint64)
