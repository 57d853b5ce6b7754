// Package icon draws podpis's icon — a signature stroke on a blue tile —
// for the tray, the Windows installer and the Linux menu, so that every
// size comes from one drawing and no binary image needs keeping in step.
package icon

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/png"
	"math"
)

var (
	tile   = color.NRGBA{0x0b, 0x4d, 0xd6, 0xff}
	stroke = color.NRGBA{0xff, 0xff, 0xff, 0xff}
	// Grey tile: the tray's «нет криптопровайдера / ошибка» state.
	tileOff = color.NRGBA{0x8a, 0x93, 0xa3, 0xff}
)

// signature is the stroke, in a 64×64 box.
var signature = [][2]float64{{16, 42}, {22, 38}, {26, 28}, {30, 26}, {32, 32}, {34, 38}, {38, 38}, {42, 32}, {46, 32}, {49, 36}}

// Image draws the icon at size×size; off draws the grey variant. Each
// pixel is the average of 4×4 samples: smooth edges without a rasteriser.
func Image(size int, off bool) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	bg := tile
	if off {
		bg = tileOff
	}
	const n = 4
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			var r, g, b, a float64
			for sy := 0; sy < n; sy++ {
				for sx := 0; sx < n; sx++ {
					px := (float64(x) + (float64(sx)+0.5)/n) * 64 / float64(size)
					py := (float64(y) + (float64(sy)+0.5)/n) * 64 / float64(size)
					c, ok := sample(px, py, bg)
					if !ok {
						continue
					}
					r, g, b, a = r+float64(c.R), g+float64(c.G), b+float64(c.B), a+1
				}
			}
			if a == 0 {
				continue
			}
			img.SetNRGBA(x, y, color.NRGBA{uint8(r / a), uint8(g / a), uint8(b / a), uint8(255 * a / (n * n))})
		}
	}
	return img
}

func sample(x, y float64, bg color.NRGBA) (color.NRGBA, bool) {
	if !inRoundedSquare(x, y, 4, 60, 12) {
		return color.NRGBA{}, false
	}
	for i := 1; i < len(signature); i++ {
		if distToSegment(x, y, signature[i-1], signature[i]) < 2.6 {
			return stroke, true
		}
	}
	if y > 47 && y < 51 && x > 16 && x < 48 {
		return color.NRGBA{0x9f, 0xc0, 0xff, 0xff}, true
	}
	return bg, true
}

func inRoundedSquare(x, y, lo, hi, r float64) bool {
	if x < lo || x > hi || y < lo || y > hi {
		return false
	}
	cx := math.Max(lo+r, math.Min(x, hi-r))
	cy := math.Max(lo+r, math.Min(y, hi-r))
	return math.Hypot(x-cx, y-cy) <= r
}

func distToSegment(x, y float64, a, b [2]float64) float64 {
	dx, dy := b[0]-a[0], b[1]-a[1]
	t := ((x-a[0])*dx + (y-a[1])*dy) / (dx*dx + dy*dy)
	t = math.Max(0, math.Min(1, t))
	return math.Hypot(x-a[0]-t*dx, y-a[1]-t*dy)
}

// PNG encodes Image.
func PNG(size int, off bool) []byte {
	var b bytes.Buffer
	png.Encode(&b, Image(size, off))
	return b.Bytes()
}

// ICO packs PNG images of the given sizes into a Windows icon file (Vista
// and later read PNG entries).
func ICO(off bool, sizes ...int) []byte {
	var head, body bytes.Buffer
	binary.Write(&head, binary.LittleEndian, [3]uint16{0, 1, uint16(len(sizes))})
	offset := 6 + 16*len(sizes)
	for _, s := range sizes {
		p := PNG(s, off)
		dim := uint8(s) // 0 means 256
		if s >= 256 {
			dim = 0
		}
		binary.Write(&head, binary.LittleEndian, struct {
			W, H, Colors, Reserved uint8
			Planes, Bits           uint16
			Size, Offset           uint32
		}{dim, dim, 0, 0, 1, 32, uint32(len(p)), uint32(offset)})
		body.Write(p)
		offset += len(p)
	}
	return append(head.Bytes(), body.Bytes()...)
}
