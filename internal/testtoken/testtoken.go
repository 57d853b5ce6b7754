// Package testtoken prepares real PKCS#11 modules for tests: podpis's GOST
// soft token (built once per test binary) and a SoftHSM2 token. Modules
// read their configuration from the environment when first loaded, so a
// test package calls Setup from TestMain, before anything loads them.
package testtoken

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/podpis/podpis/agent/keystore/pkcs11/known"
	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/crypto/gostx509"
)

// PIN is the user PIN of both test tokens.
const PIN = "1234"

// Env is what Setup prepared.
type Env struct {
	Dir          string // scratch space, removed by Cleanup
	SoftToken    string // path of libpodpis-softtoken.so
	SoftTokenDir string // the soft token's key folder (PODPIS_SOFTTOKEN_DIR)
	SoftHSM      string // path of libsofthsm2.so, "" when not installed
	softhsmConf  string
}

// Setup builds the soft token, points PODPIS_SOFTTOKEN_DIR at an empty
// folder and, when SoftHSM2 is installed, initialises a token labelled
// "podpis-test" with PIN and points SOFTHSM2_CONF at it.
func Setup() (*Env, error) {
	dir, err := os.MkdirTemp("", "podpis-testtoken")
	if err != nil {
		return nil, err
	}
	env := &Env{Dir: dir, SoftTokenDir: filepath.Join(dir, "softtoken")}
	os.Mkdir(env.SoftTokenDir, 0o700)
	os.Setenv("PODPIS_SOFTTOKEN_DIR", env.SoftTokenDir)
	os.Setenv("PODPIS_SOFTTOKEN_PIN", PIN)
	env.SoftToken = filepath.Join(dir, "libpodpis-softtoken.so")
	build := exec.Command("go", "build", "-buildmode=c-shared", "-o", env.SoftToken, "github.com/podpis/podpis/cmd/podpis-softtoken")
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("building the soft token: %v\n%s", err, out)
	}
	// Where the agent looks for SoftHSM2 is where the tests find it.
	for _, p := range known.Paths(known.SoftHSM2, runtime.GOOS) {
		if _, err := os.Stat(p); err == nil {
			env.SoftHSM = p
			break
		}
	}
	if env.SoftHSM != "" {
		tokens := filepath.Join(dir, "softhsm-tokens")
		os.Mkdir(tokens, 0o700)
		env.softhsmConf = filepath.Join(dir, "softhsm2.conf")
		conf := fmt.Sprintf("directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n", tokens)
		if err := os.WriteFile(env.softhsmConf, []byte(conf), 0o600); err != nil {
			return nil, err
		}
		os.Setenv("SOFTHSM2_CONF", env.softhsmConf)
		out, err := exec.Command("softhsm2-util", "--init-token", "--free", "--label", "podpis-test", "--pin", PIN, "--so-pin", "87654321").CombinedOutput()
		if err != nil {
			return nil, fmt.Errorf("softhsm2-util: %v\n%s", err, out)
		}
	}
	return env, nil
}

// Cleanup removes the scratch space.
func (e *Env) Cleanup() { os.RemoveAll(e.Dir) }

func writePEM(path, typ string, der []byte) error {
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600)
}

// AddToSoftToken writes NAME.key and NAME.pem into the soft token's folder.
// The module reads the folder when initialised, so add keys before the
// first load.
func (e *Env) AddToSoftToken(name string, key crypto.Signer, cert *x509.Certificate) error {
	var der []byte
	var err error
	if g, ok := key.(*gost3410.PrivateKey); ok {
		der, err = gostx509.MarshalPKCS8PrivateKey(g)
	} else {
		der, err = x509.MarshalPKCS8PrivateKey(key)
	}
	if err != nil {
		return err
	}
	if err := writePEM(filepath.Join(e.SoftTokenDir, name+".key"), "PRIVATE KEY", der); err != nil {
		return err
	}
	return writePEM(filepath.Join(e.SoftTokenDir, name+".pem"), "CERTIFICATE", cert.Raw)
}

// AddToSoftHSM imports an RSA or ECDSA key with its public key and
// certificate into the SoftHSM2 token under CKA_ID id, with pkcs11-tool.
func (e *Env) AddToSoftHSM(id, label string, key crypto.Signer, cert *x509.Certificate) error {
	priv, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	pub, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return err
	}
	for _, obj := range []struct {
		typ string
		der []byte
	}{{"privkey", priv}, {"pubkey", pub}, {"cert", cert.Raw}} {
		f := filepath.Join(e.Dir, label+"."+obj.typ+".der")
		if err := os.WriteFile(f, obj.der, 0o600); err != nil {
			return err
		}
		out, err := exec.Command("pkcs11-tool", "--module", e.SoftHSM, "--token-label", "podpis-test", "--login", "--pin", PIN,
			"--write-object", f, "--type", obj.typ, "--id", id, "--label", label).CombinedOutput()
		if err != nil {
			return fmt.Errorf("pkcs11-tool --write-object %s: %v\n%s", obj.typ, err, strings.TrimSpace(string(out)))
		}
	}
	return nil
}

// Marker creates or removes one of the soft token's simulation markers
// (".removed", ".hang", ".fail-init").
func (e *Env) Marker(name string, on bool) {
	p := filepath.Join(e.SoftTokenDir, name)
	if on {
		os.WriteFile(p, nil, 0o600)
	} else {
		os.Remove(p)
	}
}

// ResetPIN clears the soft token's wrong-PIN counter.
func (e *Env) ResetPIN() { os.Remove(filepath.Join(e.SoftTokenDir, ".pin-state")) }

// PINFailures reads the soft token's wrong-PIN counter.
func (e *Env) PINFailures() int {
	b, err := os.ReadFile(filepath.Join(e.SoftTokenDir, ".pin-state"))
	if err != nil {
		return 0
	}
	var n int
	fmt.Sscanf(strings.TrimPrefix(string(b), `{"failures":`), "%d", &n)
	return n
}
