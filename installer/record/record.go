// Package record keeps what an install step changed, as JSON in the
// agent's data folder, so that uninstall undoes exactly that and nothing
// a person or another program did.
package record

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
)

// Load reads the record at path into v. A missing record leaves v as it
// is: nothing was installed.
func Load(path string, v any) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// Save writes v to path (0600, through a temporary file, so that a crash
// leaves the old record or the new one); an empty record removes the
// file.
func Save(path string, v any, empty bool) error {
	if empty {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return nil
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
