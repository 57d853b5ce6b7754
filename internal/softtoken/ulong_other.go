//go:build !windows

package softtoken

import "strconv"

// ulongSize is the size of C's unsigned long: a pointer's on Unix.
const ulongSize = strconv.IntSize / 8
