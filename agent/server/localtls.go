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
// missing, unreadable or due to expire within 30 days: a per-user CA issues
// the certificate for 127.0.0.1 and ::1 and its private key is discarded at
// once, so nothing can ever issue another certificate under it. The
// installer puts the CA certificate into the user's trust stores.
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
		// The CA can only ever vouch for the loopback addresses.
		PermittedIPRanges: []*net.IPNet{
			{IP: net.IPv4(127, 0, 0, 1).To4(), Mask: net.CIDRMask(32, 32)},
			{IP: net.IPv6loopback, Mask: net.CIDRMask(128, 128)},
		},
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
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:    now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafT, ca, &key.PublicKey, caKey)
	if err != nil {
		return err
	}
	caKey = nil // never written anywhere: no further certificate can be issued
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	for _, f := range []struct {
		name, typ string
		der       []byte
	}{{CAFile, "CERTIFICATE", caDER}, {ServerCertFile, "CERTIFICATE", leafDER}, {ServerKeyFile, "PRIVATE KEY", keyDER}} {
		if err := writeFileAtomic(filepath.Join(dir, f.name), pem.EncodeToMemory(&pem.Block{Type: f.typ, Bytes: f.der})); err != nil {
			return err
		}
	}
	return nil
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
