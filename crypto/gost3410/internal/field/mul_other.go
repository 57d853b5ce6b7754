//go:build !amd64 || purego

package field

var useADX = false

const hasADX = false

func p256aMul(z, x, y *[4]uint64) { p256aMulGeneric(z, x, y) }
func p256aSquare(z, x *[4]uint64) { p256aSquareGeneric(z, x) }
func p512aMul(z, x, y *[8]uint64) { p512aMulGeneric(z, x, y) }
func p512aSquare(z, x *[8]uint64) { p512aSquareGeneric(z, x) }
func p256aAdd(z, x, y *[4]uint64) { p256aAddGeneric(z, x, y) }
func p256aSub(z, x, y *[4]uint64) { p256aSubGeneric(z, x, y) }
func p512aAdd(z, x, y *[8]uint64) { p512aAddGeneric(z, x, y) }
func p512aSub(z, x, y *[8]uint64) { p512aSubGeneric(z, x, y) }
