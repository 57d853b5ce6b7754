//go:build !amd64 || purego

package field

var useADX = false

func p256aMul(z, x, y *[4]uint64) { p256aMulGeneric(z, x, y) }
func p256aSquare(z, x *[4]uint64) { p256aSquareGeneric(z, x) }
func p512aMul(z, x, y *[8]uint64) { p512aMulGeneric(z, x, y) }
func p512aSquare(z, x *[8]uint64) { p512aSquareGeneric(z, x) }
