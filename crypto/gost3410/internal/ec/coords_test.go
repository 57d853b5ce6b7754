package ec

import "testing"

// TestCoords checks that the point structs and the arrays the assembly
// formulas take lay their coordinates out alike.
func TestCoords(t *testing.T) {
	var j1 jacWeierstrassP256A
	var a1 affineWeierstrassP256A
	var j2 jacWeierstrassP512A
	var a2 affineWeierstrassP512A
	ok := &j1.coords()[0] == &j1.x && &j1.coords()[1] == &j1.y && &j1.coords()[2] == &j1.z &&
		&a1.coords()[0] == &a1.x && &a1.coords()[1] == &a1.y &&
		&j2.coords()[0] == &j2.x && &j2.coords()[1] == &j2.y && &j2.coords()[2] == &j2.z &&
		&a2.coords()[0] == &a2.x && &a2.coords()[1] == &a2.y
	var e1 extEdwardsP256A
	var c1 precompEdwardsP256A
	var e2 extEdwardsP512A
	var c2 precompEdwardsP512A
	ok = ok && &e1.coords()[0] == &e1.x && &e1.coords()[1] == &e1.y && &e1.coords()[2] == &e1.z && &e1.coords()[3] == &e1.t &&
		&c1.coords()[0] == &c1.x && &c1.coords()[1] == &c1.y && &c1.coords()[2] == &c1.dt &&
		&e2.coords()[0] == &e2.x && &e2.coords()[1] == &e2.y && &e2.coords()[2] == &e2.z && &e2.coords()[3] == &e2.t &&
		&c2.coords()[0] == &c2.x && &c2.coords()[1] == &c2.y && &c2.coords()[2] == &c2.dt
	if !ok {
		t.Fatal("point coordinates are not laid out as arrays")
	}
}
