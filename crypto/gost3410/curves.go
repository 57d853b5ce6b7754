package gost3410

import (
	"encoding/asn1"
	"math/big"
	"sync"

	"github.com/podpis/podpis/crypto/gost3410/internal/ec"
)

// Curve is a named parameter set of GOST R 34.10-2012. Parameter sets that
// RFC 4357 and RFC 7836 define twice under different OIDs (TC26 256 B is
// CryptoPro A, and so on) are distinct Curve values, so that keys keep the
// OID they came with, but share one group: their keys and signatures are
// interchangeable.
type Curve struct {
	name     string
	oid      asn1.ObjectIdentifier
	size     int // bytes of a coordinate, scalar and digest
	group    *group
	edwards  bool
	withHash bool // whether OpenSSL's GOST engine writes the digest OID in the key parameters
}

// group is the arithmetic of one curve, shared by its names.
type group struct {
	p, q, a, b, x, y string // hex, as in RFC 4357 / RFC 7836
	d                string // twisted Edwards d (e = 1), or "" for a = -3 curves
	field            string // which generated field and model
	cofactor         int

	once    sync.Once
	impl    ec.Curve
	order   []byte // q, big-endian, size bytes
	qBig    *big.Int
	modulus *modulus
	// nonceBits is how many bits a nonce candidate has (see Sign).
	nonceBits int
}

func (g *group) mod() *modulus { return g.modulus }

var (
	groupCryptoProA = &group{
		p:     "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFD97",
		q:     "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF6C611070995AD10045841B09B761B893",
		a:     "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFD94",
		b:     "00000000000000000000000000000000000000000000000000000000000000A6",
		x:     "0000000000000000000000000000000000000000000000000000000000000001",
		y:     "8D91E471E0989CDA27DF505A453F2B7635294F2DDF23E3B122ACC99C9E9F1E14",
		field: "P256A", cofactor: 1,
	}
	groupCryptoProB = &group{
		p:     "8000000000000000000000000000000000000000000000000000000000000C99",
		q:     "800000000000000000000000000000015F700CFFF1A624E5E497161BCC8A198F",
		a:     "8000000000000000000000000000000000000000000000000000000000000C96",
		b:     "3E1AF419A269A5F866A7D3C25C3DF80AE979259373FF2B182F49D4CE7E1BBC8B",
		x:     "0000000000000000000000000000000000000000000000000000000000000001",
		y:     "3FA8124359F96680B83D1C3EB2C070E5C545C9858D03ECFB744BF8D717717EFC",
		field: "P256B", cofactor: 1,
	}
	groupCryptoProC = &group{
		p:     "9B9F605F5A858107AB1EC85E6B41C8AACF846E86789051D37998F7B9022D759B",
		q:     "9B9F605F5A858107AB1EC85E6B41C8AA582CA3511EDDFB74F02F3A6598980BB9",
		a:     "9B9F605F5A858107AB1EC85E6B41C8AACF846E86789051D37998F7B9022D7598",
		b:     "000000000000000000000000000000000000000000000000000000000000805A",
		x:     "0000000000000000000000000000000000000000000000000000000000000000",
		y:     "41ECE55743711A8C3CBF3783CD08C0EE4D4DC440D4641A8F366E550DFDB3BB67",
		field: "P256C", cofactor: 1,
	}
	groupTC26256A = &group{
		p:     "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFD97",
		q:     "400000000000000000000000000000000FD8CDDFC87B6635C115AF556C360C67",
		a:     "C2173F1513981673AF4892C23035A27CE25E2013BF95AA33B22C656F277E7335",
		b:     "295F9BAE7428ED9CCC20E7C359A9D41A22FCCD9108E17BF7BA9337A6F8AE9513",
		x:     "91E38443A5E82C0D880923425712B2BB658B9196932E02C78B2582FE742DAA28",
		y:     "32879423AB1A0375895786C4BB46E9565FDE0B5344766740AF268ADB32322E5C",
		d:     "0605F6B7C183FA81578BC39CFAD518132B9DF62897009AF7E522C32D6DC7BFFB",
		field: "P256A", cofactor: 4,
	}
	groupTC26512A = &group{
		p:     "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFDC7",
		q:     "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF27E69532F48D89116FF22B8D4E0560609B4B38ABFAD2B85DCACDB1411F10B275",
		a:     "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFDC4",
		b:     "E8C2505DEDFC86DDC1BD0B2B6667F1DA34B82574761CB0E879BD081CFD0B6265EE3CB090F30D27614CB4574010DA90DD862EF9D4EBEE4761503190785A71C760",
		x:     "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000003",
		y:     "7503CFE87A836AE3A61B8816E25450E6CE5E1C93ACF1ABC1778064FDCBEFA921DF1626BE4FD036E93D75E6A50E3A41E98028FE5FC235F5B889A589CB5215F2A4",
		field: "P512A", cofactor: 1,
	}
	groupTC26512B = &group{
		p:     "8000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000006F",
		q:     "800000000000000000000000000000000000000000000000000000000000000149A1EC142565A545ACFDB77BD9D40CFA8B996712101BEA0EC6346C54374F25BD",
		a:     "8000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000006C",
		b:     "687D1B459DC841457E3E06CF6F5E2517B97C7D614AF138BCBF85DC806C4B289F3E965D2DB1416D217F8B276FAD1AB69C50F78BEE1FA3106EFB8CCBC7C5140116",
		x:     "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000002",
		y:     "1A8F7EDA389B094C2C071E3647A8940F3C123B697578C213BE6DD9E6C8EC7335DCB228FD1EDF4A39152CBCAAF8C0398828041055F94CEEEC7E21340780FE41BD",
		field: "P512B", cofactor: 1,
	}
	groupTC26512C = &group{
		p:     "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFDC7",
		q:     "3FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC98CDBA46506AB004C33A9FF5147502CC8EDA9E7A769A12694623CEF47F023ED",
		a:     "DC9203E514A721875485A529D2C722FB187BC8980EB866644DE41C68E143064546E861C0E2C9EDD92ADE71F46FCF50FF2AD97F951FDA9F2A2EB6546F39689BD3",
		b:     "B4C4EE28CEBC6C2C8AC12952CF37F16AC7EFB6A9F69F4B57FFDA2E4F0DE5ADE038CBC2FFF719D2C18DE0284B8BFEF3B52B8CC7A5F5BF0A3C8D2319A5312557E1",
		x:     "E2E31EDFC23DE7BDEBE241CE593EF5DE2295B7A9CBAEF021D385F7074CEA043AA27272A7AE602BF2A7B9033DB9ED3610C6FB85487EAE97AAC5BC7928C1950148",
		y:     "F5CE40D95B5EB899ABBCCFF5911CB8577939804D6527378B8C108C3D2090FF9BE18E2D33E3021ED2EF32D85822423B6304F726AA854BAE07D0396E9A9ADDC40F",
		d:     "9E4F5D8C017D8D9F13A5CF3CDF5BFE4DAB402D54198E31EBDE28A0621050439CA6B39E0A515C06B304E2CE43E79E369E91A0CFC2BC2A22B4CA302DBB33EE7550",
		field: "P512A", cofactor: 4,
	}
)

func oid(s ...int) asn1.ObjectIdentifier { return asn1.ObjectIdentifier(s) }

// The parameter sets of RFC 4357 (section 11.4) and RFC 7836 (appendix A),
// in the order the standards list them.
var curves = []*Curve{
	{name: "cryptopro-a", oid: oid(1, 2, 643, 2, 2, 35, 1), size: 32, group: groupCryptoProA, withHash: true},
	{name: "cryptopro-b", oid: oid(1, 2, 643, 2, 2, 35, 2), size: 32, group: groupCryptoProB, withHash: true},
	{name: "cryptopro-c", oid: oid(1, 2, 643, 2, 2, 35, 3), size: 32, group: groupCryptoProC, withHash: true},
	{name: "cryptopro-xcha", oid: oid(1, 2, 643, 2, 2, 36, 0), size: 32, group: groupCryptoProA, withHash: true},
	{name: "cryptopro-xchb", oid: oid(1, 2, 643, 2, 2, 36, 1), size: 32, group: groupCryptoProC, withHash: true},
	{name: "tc26-256-a", oid: oid(1, 2, 643, 7, 1, 2, 1, 1, 1), size: 32, group: groupTC26256A, edwards: true},
	{name: "tc26-256-b", oid: oid(1, 2, 643, 7, 1, 2, 1, 1, 2), size: 32, group: groupCryptoProA},
	{name: "tc26-256-c", oid: oid(1, 2, 643, 7, 1, 2, 1, 1, 3), size: 32, group: groupCryptoProB},
	{name: "tc26-256-d", oid: oid(1, 2, 643, 7, 1, 2, 1, 1, 4), size: 32, group: groupCryptoProC},
	{name: "tc26-512-a", oid: oid(1, 2, 643, 7, 1, 2, 1, 2, 1), size: 64, group: groupTC26512A, withHash: true},
	{name: "tc26-512-b", oid: oid(1, 2, 643, 7, 1, 2, 1, 2, 2), size: 64, group: groupTC26512B, withHash: true},
	{name: "tc26-512-c", oid: oid(1, 2, 643, 7, 1, 2, 1, 2, 3), size: 64, group: groupTC26512C, edwards: true},
}

// Curves returns every named parameter set.
func Curves() []*Curve { return append([]*Curve(nil), curves...) }

// CurveByName returns the parameter set with the given name (see Name).
func CurveByName(name string) *Curve {
	for _, c := range curves {
		if c.name == name {
			return c
		}
	}
	return nil
}

// CurveByOID returns the parameter set with the given OID.
func CurveByOID(id asn1.ObjectIdentifier) *Curve {
	for _, c := range curves {
		if c.oid.Equal(id) {
			return c
		}
	}
	return nil
}

// The parameter sets by name, for callers that want one in particular.
var (
	CurveCryptoProA = curves[0]
	CurveCryptoProB = curves[1]
	CurveCryptoProC = curves[2]
	CurveTC26256A   = curves[5]
	CurveTC26256B   = curves[6]
	CurveTC26256C   = curves[7]
	CurveTC26256D   = curves[8]
	CurveTC26512A   = curves[9]
	CurveTC26512B   = curves[10]
	CurveTC26512C   = curves[11]
)

// Name is the parameter set's short name, such as "tc26-256-a".
func (c *Curve) Name() string { return c.name }

// OID is the parameter set's object identifier.
func (c *Curve) OID() asn1.ObjectIdentifier { return append(asn1.ObjectIdentifier(nil), c.oid...) }

// Size is the length in bytes of a coordinate, a private key and a digest:
// 32 for GOST R 34.10-2012 with 256-bit keys, 64 for 512-bit keys.
func (c *Curve) Size() int { return c.size }

// Bits is 256 or 512.
func (c *Curve) Bits() int { return 8 * c.size }

// Twisted reports whether the curve is one of the twisted Edwards sets of
// RFC 7836 (keys and signatures still use their Weierstrass form).
func (c *Curve) Twisted() bool { return c.edwards }

// SameGroup reports whether c and d are names of one curve.
func (c *Curve) SameGroup(d *Curve) bool { return c.group == d.group }

// Params returns the Weierstrass parameters p, q, a, b and the base point,
// freshly allocated.
func (c *Curve) Params() (p, q, a, b, x, y *big.Int) {
	g := c.group
	h := func(s string) *big.Int { v, _ := new(big.Int).SetString(s, 16); return v }
	return h(g.p), h(g.q), h(g.a), h(g.b), h(g.x), h(g.y)
}

// Cofactor is the number of points divided by the order q: 1 or 4.
func (c *Curve) Cofactor() int { return c.group.cofactor }

func (c *Curve) arith() *group {
	g := c.group
	g.once.Do(func() { g.init(c.size) })
	return g
}

func mustHex(s string) []byte {
	v, ok := new(big.Int).SetString(s, 16)
	if !ok {
		panic("gost3410: bad constant " + s)
	}
	return v.Bytes()
}

func (g *group) init(size int) {
	fixed := func(s string) []byte { return new(big.Int).SetBytes(mustHex(s)).FillBytes(make([]byte, size)) }
	b, x, y, q := fixed(g.b), fixed(g.x), fixed(g.y), fixed(g.q)
	var err error
	switch {
	case g.d == "" && g.field == "P256A":
		g.impl, err = ec.NewWeierstrassP256A(b, x, y, q)
	case g.d == "" && g.field == "P256B":
		g.impl, err = ec.NewWeierstrassP256B(b, x, y, q)
	case g.d == "" && g.field == "P256C":
		g.impl, err = ec.NewWeierstrassP256C(b, x, y, q)
	case g.d == "" && g.field == "P512A":
		g.impl, err = ec.NewWeierstrassP512A(b, x, y, q)
	case g.d == "" && g.field == "P512B":
		g.impl, err = ec.NewWeierstrassP512B(b, x, y, q)
	case g.field == "P256A":
		g.impl, err = ec.NewEdwardsP256A(fixed(g.d), fixed(g.a), b, x, y, q)
	case g.field == "P512A":
		g.impl, err = ec.NewEdwardsP512A(fixed(g.d), fixed(g.a), b, x, y, q)
	}
	if err != nil || g.impl == nil {
		panic("gost3410: bad curve constants: " + g.field + ": " + errString(err))
	}
	g.order = q
	g.qBig = new(big.Int).SetBytes(q)
	g.nonceBits = nonceBits(g.qBig)
	g.modulus = newModulus(q)
}

func errString(err error) string {
	if err == nil {
		return "no implementation"
	}
	return err.Error()
}

// nonceBits is the size of a nonce candidate for the group order q: its
// bit length, unless q exceeds the power of two below it by less than
// 2^-64 of itself (TC26 256 A: q = 2^254 + about 2^125). Then a candidate
// one bit shorter is always below q, and uniform below 2^(bitlen-1) is
// within statistical distance (q - 2^(bitlen-1))/q < 2^-64 of uniform
// below q — the bound FIPS 186-5, A.3.1 accepts — where rejection
// sampling at the full bit length would drop half the candidates, each
// costing another round of the nonce DRBG.
func nonceBits(q *big.Int) int {
	bl := q.BitLen()
	low := new(big.Int).Lsh(big.NewInt(1), uint(bl-1))
	gap := new(big.Int).Sub(q, low)
	if gap.Lsh(gap, 64).Cmp(q) < 0 {
		return bl - 1
	}
	return bl
}
