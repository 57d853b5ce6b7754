package main

import (
	"github.com/podpis/podpis/agent/keystore"
	"github.com/podpis/podpis/agent/keystore/capi"
)

// platformStores: on Windows the user's MY store through CryptoAPI, where
// CryptoPro's and ViPNet's certificates live without PKCS#11.
func platformStores() []keystore.Store { return []keystore.Store{capi.New()} }

// platformCSPs reads CryptoAPI's registered CSPs for doctor.
func platformCSPs() func() ([]capi.InstalledCSP, error) { return capi.InstalledCSPs }
