//go:build !windows

package trust

import "os"

// UserStores are the current user's stores podpis installs its CA into.
func UserStores() []Store {
	home, err := os.UserHomeDir()
	if err != nil {
		return nil
	}
	return NSSStores(home)
}

// Open reaches a store by its manifest ID.
func Open(id string) (Store, bool) { return openNSS(id) }
