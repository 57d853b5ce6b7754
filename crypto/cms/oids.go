package cms

import (
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"hash"

	"github.com/podpis/podpis/crypto/gost341194"
	"github.com/podpis/podpis/crypto/gostx509"
	"github.com/podpis/podpis/crypto/streebog"
)

// OIDData is id-data (RFC 5652, 4), the content type of plain data and
// Sign's default.
var OIDData = mustOID(1, 2, 840, 113549, 1, 7, 1)

func mustOID(arcs ...uint64) x509.OID {
	oid, err := x509.OIDFromInts(arcs)
	if err != nil {
		panic(err)
	}
	return oid
}

var (
	oidSignedData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}

	oidAttrContentType   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	oidAttrMessageDigest = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	oidAttrSigningTime   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 5}
	oidAttrSigningCertV2 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 47}

	oidSHA256 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}

	oidRSAEncryption = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidSHA256WithRSA = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	oidSHA384WithRSA = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 12}
	oidSHA512WithRSA = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 13}
	oidECPublicKey   = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidECDSAWithSHA2 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidECDSAWithSHA3 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}
	oidECDSAWithSHA5 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 4}
)

// digestAlg is a digest a SignerInfo may name: Streebog for GOST keys,
// SHA-2 for RSA and ECDSA. SHA-1 and MD5 are not accepted.
type digestAlg struct {
	oid    asn1.ObjectIdentifier
	hash   crypto.Hash // 0 for Streebog
	new    func() hash.Hash
	gost   bool
	gostSz int
	// v2001 marks GOST R 34.11-94, the digest of GOST R 34.10-2001
	// signatures: verified on archives, never signed with, and never
	// taken with a 2012 key.
	v2001 bool
}

var digestAlgs = []digestAlg{
	{oid: gostx509.OIDStreebog256, new: streebog.New256, gost: true, gostSz: 32},
	{oid: gostx509.OIDStreebog512, new: streebog.New512, gost: true, gostSz: 64},
	{oid: oidSHA256, hash: crypto.SHA256, new: crypto.SHA256.New},
	{oid: oidSHA384, hash: crypto.SHA384, new: crypto.SHA384.New},
	{oid: oidSHA512, hash: crypto.SHA512, new: crypto.SHA512.New},
	{oid: gostx509.OIDGost94, new: gost341194.New, gost: true, gostSz: 32, v2001: true},
}

func digestByOID(oid asn1.ObjectIdentifier) *digestAlg {
	for i := range digestAlgs {
		if digestAlgs[i].oid.Equal(oid) {
			return &digestAlgs[i]
		}
	}
	return nil
}

func digestByHash(h crypto.Hash) *digestAlg {
	for i := range digestAlgs {
		if digestAlgs[i].hash == h && !digestAlgs[i].gost {
			return &digestAlgs[i]
		}
	}
	return nil
}

func gostDigest(size int) *digestAlg {
	if size == 64 {
		return &digestAlgs[1]
	}
	return &digestAlgs[0]
}
