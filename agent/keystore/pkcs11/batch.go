package pkcs11

import (
	"crypto"
	"errors"

	"github.com/podpis/podpis/crypto/gost3410"
)

// SignDigests signs GOST digests in one session after one login
// (keystore.BatchSigner). Only GOST keys, whose mechanism takes the
// digest as it is, are batched; the agent signs with other keys one
// digest at a time.
func (s *signer) SignDigests(digests [][]byte, _ crypto.SignerOpts) ([][]byte, error) {
	pub, ok := s.pub.(*gost3410.PublicKey)
	if !ok {
		return nil, errors.New("pkcs11: only GOST keys sign a batch")
	}
	mech := uint(ckmGOSTR3410)
	if pub.Curve().Size() == 64 {
		mech = ckmGOSTR3410_512
	}
	return s.signAll(mech, digests)
}
