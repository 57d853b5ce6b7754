//go:build !windows

package capi

// InstalledCSPs: CryptoAPI exists only on Windows.
func InstalledCSPs() ([]InstalledCSP, error) { return nil, nil }
