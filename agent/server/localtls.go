package server

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"time"
)

// Files of the per-user TLS set-up in the agent's data folder.
const (
	CAFile         = "localca.pem"
	ServerCertFile = "server.pem"
	ServerKeyFile  = "server.key"
)

// LoadOrCreateTLS returns the wss configuration from dir, creating it when
// missing, unreadable, due to expire within 30 days or made by a version
// whose CA lacks today's name constraints: a per-user CA issues the
// certificate for 127.0.0.1 and ::1 and its private key is zeroed at once,
// so nothing can ever issue another certificate under it. The installer puts
// the CA certificate into the user's trust stores.
func LoadOrCreateTLS(dir string, now time.Time) (*tls.Config, *x509.Certificate, error) {
	cfg, ca, err := loadTLS(dir, now)
	if err == nil {
		return cfg, ca, nil
	}
	if err := CreateTLS(dir, now); err != nil {
		return nil, nil, err
	}
	return loadTLS(dir, now)
}

func loadTLS(dir string, now time.Time) (*tls.Config, *x509.Certificate, error) {
	pair, err := tls.LoadX509KeyPair(filepath.Join(dir, ServerCertFile), filepath.Join(dir, ServerKeyFile))
	if err != nil {
		return nil, nil, err
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return nil, nil, err
	}
	ca, err := LoadCA(dir)
	if err != nil {
		return nil, nil, err
	}
	if now.Add(30*24*time.Hour).After(leaf.NotAfter) || leaf.CheckSignatureFrom(ca) != nil {
		return nil, nil, errors.New("server: local certificate expiring or not from the local CA")
	}
	if !nameLocked(ca) {
		return nil, nil, errors.New("server: local CA without the name constraints of this version")
	}
	return &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}, ca, nil
}

// LoadCA reads the per-user CA certificate from dir.
func LoadCA(dir string) (*x509.Certificate, error) {
	caPEM, err := os.ReadFile(filepath.Join(dir, CAFile))
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(caPEM)
	if blk == nil {
		return nil, errors.New("server: bad CA file")
	}
	return x509.ParseCertificate(blk.Bytes)
}

// CreateTLS makes a new per-user CA and server certificate in dir
// («Перевыпустить сертификат»).
func CreateTLS(dir string, now time.Time) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	who := "user"
	if u, err := user.Current(); err == nil {
		who = u.Username
	}
	host, _ := os.Hostname()
	serial := func() *big.Int { n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 126)); return n }
	caT := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: fmt.Sprintf("podpis local CA (%s@%s)", who, host), Organization: []string{"podpis"}},
		NotBefore:    now.Add(-time.Hour), NotAfter: now.AddDate(10, 0, 0),
		IsCA: true, BasicConstraintsValid: true, MaxPathLenZero: true,
		KeyUsage: x509.KeyUsageCertSign,
		// The CA can only ever vouch for the loopback addresses; see
		// loopbackOnly for the other name forms.
		PermittedIPRanges:           loopbackRanges(),
		PermittedDNSDomains:         []string{unmatchable},
		PermittedEmailAddresses:     []string{unmatchable},
		PermittedURIDomains:         []string{unmatchable},
		PermittedDNSDomainsCritical: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caT, caT, &caKey.PublicKey, caKey)
	if err != nil {
		return err
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	leafT := &x509.Certificate{
		SerialNumber: serial(),
		// Not a host name: OpenSSL checks a common name that looks like one
		// against the CA's DNS constraints, which permit nothing real.
		Subject:   pkix.Name{CommonName: "podpis local server", Organization: []string{"podpis"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafT, ca, &key.PublicKey, caKey)
	if testHookCAKey != nil {
		testHookCAKey(caKey)
	}
	// Never written anywhere: no further certificate can be issued. The
	// words of D are overwritten rather than left to the collector; the
	// copy crypto/ecdsa derived for signing goes with caKey (see zeroECDSA).
	zeroECDSA(caKey)
	caKey = nil
	if err != nil {
		return err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	zeroECDSA(key)
	if err != nil {
		return err
	}
	defer clear(keyDER)
	for _, f := range []struct {
		name, typ string
		der       []byte
	}{{CAFile, "CERTIFICATE", caDER}, {ServerCertFile, "CERTIFICATE", leafDER}, {ServerKeyFile, "PRIVATE KEY", keyDER}} {
		data := pem.EncodeToMemory(&pem.Block{Type: f.typ, Bytes: f.der})
		err := writeFileAtomic(filepath.Join(dir, f.name), data)
		clear(data)
		if err != nil {
			return err
		}
	}
	return nil
}

// unmatchable is the one name the CA permits for DNS names, e-mail domains
// and URI hosts: the TLD that RFC 6761, section 6.4, reserves as never
// existing. A permitted subtree (rather than an excluded ""), because
// OpenSSL 3.0 honours an empty excluded e-mail or URI subtree as matching
// nothing (TestLocalCAConstraints checks Go and OpenSSL alike). With any
// permitted subtree of a form present, a certificate naming something else
// of that form does not chain to the CA.
const unmatchable = "invalid"

func loopbackRanges() []*net.IPNet {
	return []*net.IPNet{
		{IP: net.IPv4(127, 0, 0, 1).To4(), Mask: net.CIDRMask(32, 32)},
		{IP: net.IPv6loopback, Mask: net.CIDRMask(128, 128)},
	}
}

// nameLocked reports whether ca carries the constraints CreateTLS writes
// today; a CA from an older version is replaced on the next start.
func nameLocked(ca *x509.Certificate) bool {
	one := func(s []string) bool { return len(s) == 1 && s[0] == unmatchable }
	want := loopbackRanges()
	if !ca.PermittedDNSDomainsCritical || !one(ca.PermittedDNSDomains) || !one(ca.PermittedEmailAddresses) ||
		!one(ca.PermittedURIDomains) || len(ca.PermittedIPRanges) != len(want) ||
		len(ca.ExcludedIPRanges)+len(ca.ExcludedDNSDomains)+len(ca.ExcludedEmailAddresses)+len(ca.ExcludedURIDomains) != 0 {
		return false
	}
	for i, r := range ca.PermittedIPRanges {
		if !r.IP.Equal(want[i].IP) || r.Mask.String() != want[i].Mask.String() {
			return false
		}
	}
	return true
}

// testHookCAKey, when set by a test, sees the CA key before it is zeroed:
// the tests play the attacker who copied it.
var testHookCAKey func(*ecdsa.PrivateKey)

// zeroECDSA overwrites the private scalar in place. crypto/ecdsa keeps a
// derived copy for signing in a cache keyed weakly by k, which it drops when
// k is collected; nothing outside crypto/ecdsa can reach or clear it.
func zeroECDSA(k *ecdsa.PrivateKey) {
	if k == nil || k.D == nil {
		return
	}
	clear(k.D.Bits())
	k.D.SetInt64(0)
}

// writeFileAtomic writes through a temporary file, so a full disk or a
// crash never leaves half a key behind; files are readable by their owner
// only.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
