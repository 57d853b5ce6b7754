//go:build !windows

package main

import (
	"github.com/podpis/podpis/agent/keystore"
	"github.com/podpis/podpis/agent/keystore/capi"
)

// platformStores: elsewhere every key is reached through PKCS#11.
func platformStores() []keystore.Store { return nil }

// platformCSPs: no CryptoAPI registry here.
func platformCSPs() func() ([]capi.InstalledCSP, error) { return nil }
