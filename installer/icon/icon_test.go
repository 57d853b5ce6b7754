package icon

import (
	"bytes"
	"encoding/binary"
	"image/png"
	"testing"
)

func TestIcon(t *testing.T) {
	img, err := png.Decode(bytes.NewReader(PNG(32, false)))
	if err != nil || img.Bounds().Dx() != 32 {
		t.Fatalf("png: %v", err)
	}
	if _, _, _, a := img.At(0, 0).RGBA(); a != 0 {
		t.Error("the corner of the rounded tile is not transparent")
	}
	if r, g, b, _ := img.At(16, 8).RGBA(); b>>8 != 0xd6 || r>>8 != 0x0b || g>>8 != 0x4d {
		t.Errorf("tile colour at (16,8): %x %x %x", r>>8, g>>8, b>>8)
	}
	ico := ICO(false, 16, 32, 256)
	var h [3]uint16
	binary.Read(bytes.NewReader(ico), binary.LittleEndian, &h)
	if h != [3]uint16{0, 1, 3} {
		t.Fatalf("ico header %v", h)
	}
	// The third entry: 256 is written as 0, and its PNG is where it says.
	e := ico[6+32:]
	size, off := binary.LittleEndian.Uint32(e[8:]), binary.LittleEndian.Uint32(e[12:])
	if e[0] != 0 || int(off+size) != len(ico) {
		t.Fatalf("entry 3: width %d, %d+%d of %d", e[0], off, size, len(ico))
	}
	if img, err := png.Decode(bytes.NewReader(ico[off:])); err != nil || img.Bounds().Dx() != 256 {
		t.Fatalf("256 px entry: %v", err)
	}
}
