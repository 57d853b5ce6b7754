package revocation

import (
	"bufio"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/podpis/podpis/internal/enginetest"
)

// responder runs `openssl ocsp` as a real OCSP responder over the CA's
// database, signing with the GOST engine as rsigner/rkey.
func (c *ca) responder(t *testing.T, port int, rsigner, rkey string) *exec.Cmd {
	conf := c.path("engine.cnf")
	os.WriteFile(conf, []byte("openssl_conf = od\n[od]\nengines = es\n[es]\ngost = gs\n[gs]\nengine_id = gost\ndefault_algorithms = ALL\n"), 0o600)
	cmd := exec.Command("openssl", "ocsp", "-index", c.path("index.txt"), "-port", fmt.Sprint(port),
		"-rsigner", rsigner, "-rkey", rkey, "-CA", c.path("ca.pem"), "-nmin", "5")
	cmd.Env = append(os.Environ(), "OPENSSL_CONF="+conf)
	out, _ := cmd.StderrPipe()
	cmd.Stdout = cmd.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if strings.Contains(sc.Text(), "waiting for OCSP client connections") {
			go func() {
				for sc.Scan() {
				}
			}()
			return cmd
		}
	}
	t.Fatal("openssl ocsp did not start")
	return nil
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestOCSP: answers from OpenSSL's responder, GOST-signed by the CA or by
// a delegated responder: good, revoked, unknown, responder down, signed by
// an impostor, delegated without id-kp-OCSPSigning.
func TestOCSP(t *testing.T) {
	enginetest.Require(t)
	port := freePort(t)
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	c := newCA(t, "GOST OCSP CA", "http://127.0.0.1:1/none.crl")
	// Certificates name the responder (AIA) and, for the CRL fallback, an
	// unreachable distribution point.
	cnf, _ := os.ReadFile(c.path("ca.cnf"))
	cnf = append(cnf, []byte("authorityInfoAccess = OCSP;URI:"+url+"\n[ocspsign]\nbasicConstraints = CA:false\nkeyUsage = critical,digitalSignature\nextendedKeyUsage = OCSPSigning\n")...)
	os.WriteFile(c.path("ca.cnf"), cnf, 0o600)
	good, bad := c.person("Good Person"), c.person("Revoked Person")
	c.revoke("Revoked Person")
	root := c.cert()
	now := time.Now()
	check := func(p Policy, cert *x509.Certificate) error {
		chk, _ := New(Config{Policy: p})
		_, err := chk.CheckRevocation(context.Background(), []*x509.Certificate{cert, root}, now)
		return err
	}

	resp := c.responder(t, port, c.path("ca.pem"), c.path("ca.key"))
	if err := check(Require, good); err != nil {
		t.Errorf("good: %v", err)
	}
	var rev *RevokedError
	if err := check(Require, bad); !errors.As(err, &rev) || rev.Reason != 1 {
		t.Errorf("revoked: %v", err)
	}
	// The responder's answers are good for 5 minutes (-nmin 5): asked
	// about a moment 10 minutes on, its answer is stale.
	stale, _ := New(Config{Policy: Require})
	if _, err := stale.CheckRevocation(context.Background(), []*x509.Certificate{good, root}, now.Add(10*time.Minute)); !errors.Is(err, ErrUnknown) || !strings.Contains(err.Error(), "not current") {
		t.Errorf("stale OCSP answer: %v", err)
	}
	// Not in the CA's database: the responder says unknown, the CRL is
	// unreachable.
	stray := c.strayPerson("Stray Person")
	if err := check(Require, stray); !errors.Is(err, ErrUnknown) {
		t.Errorf("unknown, require: %v", err)
	}
	if err := check(Prefer, stray); err != nil {
		t.Errorf("unknown, prefer: %v", err)
	}
	resp.Process.Kill()
	resp.Wait()
	if err := check(Require, good); !errors.Is(err, ErrUnknown) {
		t.Errorf("responder down: %v", err)
	}

	// A delegated responder certificate with id-kp-OCSPSigning.
	enginetest.Run(t, nil, "genpkey", "-engine", "gost", "-algorithm", "gost2012_256", "-pkeyopt", "paramset:A", "-out", c.path("rs.key"))
	enginetest.Run(t, nil, "req", "-engine", "gost", "-new", "-key", c.path("rs.key"), "-subj", "/CN=OCSP Responder", "-config", c.path("ca.cnf"), "-out", c.path("rs.csr"))
	c.openssl("ca", "-batch", "-extensions", "ocspsign", "-in", c.path("rs.csr"), "-out", c.path("rs.pem"))
	port2 := freePort(t)
	c.responder(t, port2, c.path("rs.pem"), c.path("rs.key"))
	chk, _ := New(Config{Policy: Require, OCSPResponder: fmt.Sprintf("http://127.0.0.1:%d", port2)})
	if _, err := chk.CheckRevocation(context.Background(), []*x509.Certificate{bad, root}, now); !errors.Is(err, ErrRevoked) {
		t.Errorf("delegated responder, revoked: %v", err)
	}
	if _, err := chk.CheckRevocation(context.Background(), []*x509.Certificate{good, root}, now); err != nil {
		t.Errorf("delegated responder, good: %v", err)
	}

	// A certificate of the CA without id-kp-OCSPSigning may not answer.
	port4 := freePort(t)
	c.responder(t, port4, c.path("Good Person.pem"), c.path("Good Person.key"))
	chk, _ = New(Config{Policy: Require, OCSPResponder: fmt.Sprintf("http://127.0.0.1:%d", port4)})
	if _, err := chk.CheckRevocation(context.Background(), []*x509.Certificate{bad, root}, now); !errors.Is(err, ErrUnknown) || !strings.Contains(err.Error(), "OCSPSigning") {
		t.Errorf("responder without id-kp-OCSPSigning: %v", err)
	}

	// A responder signing with a key the CA never certified.
	imp := newCA(t, "GOST OCSP CA", "http://127.0.0.1:1/none.crl")
	port3 := freePort(t)
	c.responder(t, port3, imp.path("ca.pem"), imp.path("ca.key"))
	chk, _ = New(Config{Policy: Require, OCSPResponder: fmt.Sprintf("http://127.0.0.1:%d", port3)})
	if _, err := chk.CheckRevocation(context.Background(), []*x509.Certificate{bad, root}, now); !errors.Is(err, ErrUnknown) || errors.Is(err, ErrRevoked) {
		t.Errorf("impostor responder: %v", err)
	}
}

// strayPerson issues a certificate with openssl x509 -req: signed by the
// CA, absent from its database.
func (c *ca) strayPerson(name string) *x509.Certificate {
	key, csr, out := c.path("stray.key"), c.path("stray.csr"), c.path("stray.pem")
	enginetest.Run(c.t, nil, "genpkey", "-engine", "gost", "-algorithm", "gost2012_256", "-pkeyopt", "paramset:A", "-out", key)
	enginetest.Run(c.t, nil, "req", "-engine", "gost", "-new", "-key", key, "-subj", "/CN="+name, "-config", c.path("ca.cnf"), "-out", csr)
	enginetest.Run(c.t, nil, "x509", "-engine", "gost", "-req", "-in", csr, "-CA", c.path("ca.pem"), "-CAkey", c.path("ca.key"),
		"-set_serial", "777", "-days", "5", "-extfile", c.path("ca.cnf"), "-extensions", "leaf", "-out", out)
	return readCert(c.t, out)
}
