package server

import (
	"crypto/tls"
	"crypto/x509"
	"sync/atomic"
	"time"
)

// LocalTLS is the wss certificate of the agent's data folder, looked up at
// every handshake, so that Reload — after «Перевыпустить сертификат» —
// takes effect without a restart and without dropping connections.
type LocalTLS struct {
	dir  string
	cert atomic.Pointer[tls.Certificate]
}

// OpenLocalTLS loads the files in dir, creating them when they are
// missing or due (LoadOrCreateTLS), and returns them with the CA that
// issued them.
func OpenLocalTLS(dir string) (*LocalTLS, *x509.Certificate, error) {
	l := &LocalTLS{dir: dir}
	ca, err := l.load()
	if err != nil {
		return nil, nil, err
	}
	return l, ca, nil
}

func (l *LocalTLS) load() (*x509.Certificate, error) {
	cfg, ca, err := LoadOrCreateTLS(l.dir, time.Now())
	if err != nil {
		return nil, err
	}
	l.cert.Store(&cfg.Certificates[0])
	return ca, nil
}

// Reload reads the files again (renewing them when due); on failure the
// certificate in use stays.
func (l *LocalTLS) Reload() error {
	_, err := l.load()
	return err
}

// Config is the configuration for Server.TLS.
func (l *LocalTLS) Config() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
		return l.cert.Load(), nil
	}}
}
