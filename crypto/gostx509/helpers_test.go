package gostx509

import "math/big"

func newInt(be []byte) *big.Int { return new(big.Int).SetBytes(be) }
