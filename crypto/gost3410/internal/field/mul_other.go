//go:build !amd64 || purego

package field

var useADX = false

func mulPM4(z, x, y *[4]uint64, c uint64) { panic("field: no assembly on this platform") }
func mulPM8(z, x, y *[8]uint64, c uint64) { panic("field: no assembly on this platform") }
