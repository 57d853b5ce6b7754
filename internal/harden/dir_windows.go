package harden

import (
	"fmt"
	"os"
)

// Dir makes sure dir exists. On Windows the folder lives in the person's
// profile, whose inherited ACL already shuts out other accounts; mode bits
// mean nothing there.
func Dir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("harden: %w", err)
	}
	return nil
}
