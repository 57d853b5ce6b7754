//go:build !windows

package main

import "github.com/podpis/podpis/agent/keystore"

// platformStores: elsewhere every key is reached through PKCS#11.
func platformStores() []keystore.Provider { return nil }
