package keystore

import "crypto"

// BatchSigner is a key that signs several digests after one PIN, in one
// session of its token: a batch of documents is one question, not one
// per document. On a failure at the k-th digest (the token pulled out)
// it returns the k signatures made before it, with the error.
type BatchSigner interface {
	crypto.Signer
	SignDigests(digests [][]byte, opts crypto.SignerOpts) ([][]byte, error)
}
