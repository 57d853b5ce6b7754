package pkcs11

import (
	"context"
	"slices"
	"strings"

	"github.com/miekg/pkcs11"

	"github.com/podpis/podpis/agent/keystore"
)

var _ keystore.KeygenReporter = (*Store)(nil)

// KeygenTokens implements keystore.KeygenReporter: every initialised
// token whose mechanism list has a generation mechanism of ours, with the
// keys of those mechanisms. Nothing is logged in to and nothing is asked.
func (p *Store) KeygenTokens(ctx context.Context) []keystore.KeygenToken {
	var out []keystore.KeygenToken
	for _, m := range p.modules {
		m.call(ctx, p.opts.CallTimeout, func(a api) error {
			slots, err := a.GetSlotList(true)
			if err != nil {
				return err
			}
			for _, s := range slots {
				ti, err := a.GetTokenInfo(s)
				if err != nil || ti.Flags&pkcs11.CKF_TOKEN_INITIALIZED == 0 || ti.Flags&pkcs11.CKF_WRITE_PROTECTED != 0 {
					continue
				}
				mechs, err := a.GetMechanismList(s)
				if err != nil {
					continue
				}
				var algs []string
				for _, name := range keystore.KeyNames() {
					spec, _ := keystore.KeySpecByName(name)
					mech, _, _, err := keyTemplates(spec)
					if err == nil && slices.ContainsFunc(mechs, func(x *pkcs11.Mechanism) bool { return x.Mechanism == mech }) {
						algs = append(algs, name)
					}
				}
				if len(algs) > 0 {
					out = append(out, keystore.KeygenToken{Token: strings.TrimSpace(ti.Label), Algorithms: algs})
				}
			}
			return nil
		})
	}
	return out
}
