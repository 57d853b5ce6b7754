package capi

import (
	"golang.org/x/sys/windows/registry"
)

const providersKey = `SOFTWARE\Microsoft\Cryptography\Defaults\Provider`

// InstalledCSPs reads the providers registered with CryptoAPI.
func InstalledCSPs() ([]InstalledCSP, error) {
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, providersKey, registry.ENUMERATE_SUB_KEYS)
	if err != nil {
		return nil, err
	}
	defer k.Close()
	names, err := k.ReadSubKeyNames(-1)
	if err != nil {
		return nil, err
	}
	var out []InstalledCSP
	for _, n := range names {
		sk, err := registry.OpenKey(k, n, registry.QUERY_VALUE)
		if err != nil {
			continue
		}
		t, _, err := sk.GetIntegerValue("Type")
		sk.Close()
		if err == nil {
			out = append(out, InstalledCSP{Name: n, Type: ProviderType(t)})
		}
	}
	return out, nil
}
