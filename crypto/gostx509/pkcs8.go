package gostx509

import (
	"fmt"
	"math/big"

	"github.com/podpis/podpis/crypto/gost3410"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// MarshalPKCS8PrivateKey returns the DER PKCS#8 PrivateKeyInfo of k exactly
// as OpenSSL's GOST engine writes it: version 0, the key's algorithm
// identifier, and the little-endian key as the PrivateKey OCTET STRING.
func MarshalPKCS8PrivateKey(k *gost3410.PrivateKey) ([]byte, error) {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(0)
		addAlgorithm(b, k.Curve())
		b.AddASN1OctetString(k.Bytes())
	})
	return b.Bytes()
}

// ParsePKCS8PrivateKey parses a DER PKCS#8 PrivateKeyInfo (v1 or v2; any
// attributes and public key are ignored) holding a GOST private key, in any
// of the forms OpenSSL's GOST engine reads:
//   - the raw little-endian key, optionally followed by CryptoPro masks
//     (key ‖ mask1 ‖ … : the key is their product modulo q);
//   - an OCTET STRING holding the little-endian key;
//   - an INTEGER (big-endian);
//   - a SEQUENCE whose first element is the masked key as above.
func ParsePKCS8PrivateKey(der []byte) (*gost3410.PrivateKey, error) {
	input := cryptobyte.String(der)
	var info, alg, priv cryptobyte.String
	var version int64
	if !input.ReadASN1(&info, cbasn1.SEQUENCE) || !input.Empty() ||
		!info.ReadASN1Int64WithTag(&version, cbasn1.INTEGER) || (version != 0 && version != 1) ||
		!info.ReadASN1(&alg, cbasn1.SEQUENCE) || !info.ReadASN1(&priv, cbasn1.OCTET_STRING) {
		return nil, ErrMalformed
	}
	c, err := parseAlgorithm(alg)
	if err != nil {
		return nil, err
	}
	n := c.Size()
	var key []byte // little-endian
	switch {
	case len(priv) > 0 && len(priv)%n == 0:
		key, err = unmask(c, priv)
	case len(priv) > 0 && priv[0] == byte(cbasn1.OCTET_STRING):
		var s cryptobyte.String
		if !priv.ReadASN1(&s, cbasn1.OCTET_STRING) || !priv.Empty() || len(s) != n {
			return nil, ErrMalformed
		}
		key = s
	case len(priv) > 0 && priv[0] == byte(cbasn1.INTEGER):
		v := new(big.Int)
		if !priv.ReadASN1Integer(v) || !priv.Empty() || v.Sign() <= 0 || v.BitLen() > 8*n {
			return nil, ErrMalformed
		}
		be := v.FillBytes(make([]byte, n))
		key = reverse(be)
	case len(priv) > 0 && priv[0] == byte(cbasn1.SEQUENCE):
		var seq, masked cryptobyte.String
		if !priv.ReadASN1(&seq, cbasn1.SEQUENCE) || !priv.Empty() ||
			!seq.ReadASN1(&masked, cbasn1.OCTET_STRING) || len(masked) == 0 || len(masked)%n != 0 {
			return nil, ErrMalformed
		}
		key, err = unmask(c, masked)
	default:
		return nil, ErrMalformed
	}
	if err != nil {
		return nil, err
	}
	k, err := gost3410.NewPrivateKey(c, key)
	if err != nil {
		return nil, fmt.Errorf("gostx509: %w", err)
	}
	return k, nil
}

// unmask returns key·mask1·…·maskN mod q for buf = key ‖ mask1 ‖ … ‖ maskN,
// each little-endian; with no masks it returns the key as is.
func unmask(c *gost3410.Curve, buf []byte) ([]byte, error) {
	n := c.Size()
	if len(buf) == n {
		return buf, nil
	}
	if len(buf)/n > 16 {
		return nil, ErrMalformed
	}
	_, q, _, _, _, _ := c.Params()
	v := new(big.Int).SetBytes(reverse(buf[:n]))
	for off := n; off < len(buf); off += n {
		m := new(big.Int).SetBytes(reverse(buf[off : off+n]))
		v.Mul(v, m).Mod(v, q)
	}
	return reverse(v.FillBytes(make([]byte, n))), nil
}

func reverse(b []byte) []byte {
	out := make([]byte, len(b))
	for i := range b {
		out[len(b)-1-i] = b[i]
	}
	return out
}
