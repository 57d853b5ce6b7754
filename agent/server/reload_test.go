package server

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"testing"
	"time"
)

// handshake returns the certificate a wss client is shown.
func handshake(t *testing.T, cfg *tls.Config, roots *x509.CertPool) (*x509.Certificate, error) {
	t.Helper()
	server, client := net.Pipe()
	defer server.Close()
	defer client.Close()
	go tls.Server(server, cfg).Handshake()
	c := tls.Client(client, &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"})
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if err := c.Handshake(); err != nil {
		return nil, err
	}
	return c.ConnectionState().PeerCertificates[0], nil
}

// TestLocalTLSReload: after «Перевыпустить сертификат» made new files, a
// reload serves the new certificate to the next handshake, with no
// restart; a reload that fails (the files damaged) keeps serving the one
// in use rather than breaking wss.
func TestLocalTLSReload(t *testing.T) {
	dir := t.TempDir()
	l, ca, err := OpenLocalTLS(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg := l.Config()
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	before, err := handshake(t, cfg, pool)
	if err != nil {
		t.Fatal(err)
	}
	if err := CreateTLS(dir, time.Now()); err != nil { // what podpis install --renew does
		t.Fatal(err)
	}
	if got, _ := handshake(t, cfg, pool); got == nil || !bytes.Equal(got.Raw, before.Raw) {
		t.Fatal("the certificate changed before the reload")
	}
	if err := l.Reload(); err != nil {
		t.Fatal(err)
	}
	renewed, err := LoadCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(renewed)
	after, err := handshake(t, cfg, pool)
	if err != nil || bytes.Equal(after.Raw, before.Raw) {
		t.Fatalf("after the reload: %v, same certificate %v", err, after != nil && bytes.Equal(after.Raw, before.Raw))
	}

	// A reload that fails — the folder gone, a file in its place, so
	// nothing can be read or made — keeps the certificate in use.
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir, []byte("not a folder"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := l.Reload(); err == nil {
		t.Error("reload without its folder succeeded")
	}
	if got, err := handshake(t, cfg, pool); err != nil || !bytes.Equal(got.Raw, after.Raw) {
		t.Errorf("after a failed reload: %v", err)
	}
}
