//go:build linux

// Command docbench measures podpis sign, cosign and verify on a large
// document against podpis hash in the same run (make bench): wall time,
// throughput and the child's peak RSS (getrusage of each podpis process),
// with the targets of issue 24: detached signing of 1 GiB in at most
// 64 MB at 0.8× the hash's speed or better, attached signing and
// verifying in at most 64 MB.
//
//	go run ./internal/docbench -podpis bin/podpis -softtoken bin/libpodpis-softtoken.so [-size 1024]
package main

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"flag"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/crypto/gostx509"
	"github.com/podpis/podpis/login"
)

type run struct {
	wall time.Duration
	rss  float64 // MB
}

func main() {
	bin := flag.String("podpis", "bin/podpis", "the podpis binary")
	soft := flag.String("softtoken", "bin/libpodpis-softtoken.so", "the soft token module")
	sizeMiB := flag.Int("size", 1024, "document size in MiB")
	flag.Parse()
	dir, err := os.MkdirTemp("", "docbench")
	check(err)
	defer os.RemoveAll(dir)
	tokenDir := filepath.Join(dir, "token")
	check(os.Mkdir(tokenDir, 0o700))
	thumb, rootsPath := oneKey(tokenDir, dir)

	doc := filepath.Join(dir, "doc.bin")
	writeDocument(doc, *sizeMiB)
	size := float64(*sizeMiB)
	env := append(os.Environ(), "PODPIS_SOFTTOKEN_DIR="+tokenDir, "PODPIS_PIN=1234", "PODPIS_DATA_DIR="+filepath.Join(dir, "data"))
	podpis := func(args ...string) run {
		cmd := exec.Command(*bin, args...)
		cmd.Env = env
		start := time.Now()
		out, err := cmd.CombinedOutput()
		if err != nil {
			fail(fmt.Errorf("podpis %v: %v\n%s", args, err, out))
		}
		ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		return run{wall: time.Since(start), rss: float64(ru.Maxrss) / 1024} // Linux: KiB
	}
	key := []string{"--cert", thumb, "--module", *soft, "--no-known-modules"}
	att, det, co := filepath.Join(dir, "att.p7s"), filepath.Join(dir, "det.p7s"), filepath.Join(dir, "co.p7s")

	// The page cache holds the document after the first read: read it
	// once so every figure starts alike.
	podpis("hash", doc)
	hash := podpis("hash", doc)
	signDet := podpis(append([]string{"sign", "--detached", "--in", doc, "--out", det}, key...)...)
	hash2 := podpis("hash", doc) // again, so that a busy machine shows in both
	if hash2.wall < hash.wall {
		hash = hash2
	}
	signAtt := podpis(append([]string{"sign", "--in", doc, "--out", att}, key...)...)
	verifyAtt := podpis("verify", "--roots", rootsPath, "--revocation", "off", att)
	verifyDet := podpis("verify", "--roots", rootsPath, "--revocation", "off", "--content", doc, det)
	cosign := podpis(append([]string{"cosign", "--in", att, "--out", co}, key...)...)
	verifyCo := podpis("verify", "--roots", rootsPath, "--revocation", "off", co)

	mbps := func(r run) float64 { return size / r.wall.Seconds() }
	fmt.Printf("document: %d MiB\n", *sizeMiB)
	fmt.Printf("%-34s %9s %10s %9s %s\n", "figure", "MiB/s", "× hash", "RSS MB", "target")
	line := func(name string, r run, ratioTarget float64, rssTarget float64) {
		ratio := mbps(r) / mbps(hash)
		target, ok := "", true
		if rssTarget > 0 {
			target += fmt.Sprintf("RSS ≤ %.0f MB", rssTarget)
			ok = r.rss <= rssTarget
		}
		if ratioTarget > 0 {
			target += fmt.Sprintf(", ≥ %.1f× hash", ratioTarget)
			ok = ok && ratio >= ratioTarget
		}
		mark := ""
		if target != "" {
			mark = map[bool]string{true: "  ok", false: "  MISSED"}[ok]
		}
		fmt.Printf("%-34s %9.1f %10.2f %9.1f %s%s\n", name, mbps(r), ratio, r.rss, target, mark)
	}
	line("podpis hash (streebog256)", hash, 0, 0)
	line("podpis sign --detached", signDet, 0.8, 64)
	line("podpis sign (attached)", signAtt, 0, 64)
	line("podpis verify (attached)", verifyAtt, 0, 64)
	line("podpis verify --content (detached)", verifyDet, 0, 64)
	line("podpis cosign (attached)", cosign, 0, 64)
	line("podpis verify (attached, 2 signers)", verifyCo, 0, 64)
}

// writeDocument writes n MiB of varied bytes (not zeros, which a file
// system may keep sparse).
func writeDocument(path string, n int) {
	f, err := os.Create(path)
	check(err)
	block := make([]byte, 1<<20)
	for i := range block {
		block[i] = byte(i*131 + i>>8)
	}
	for i := range n {
		block[0], block[1] = byte(i), byte(i>>8)
		_, err := f.Write(block)
		check(err)
	}
	check(f.Close())
}

// oneKey puts a GOST key and its certificate, under a CA, in the soft
// token; it returns the certificate's thumbprint and the CA's path.
func oneKey(tokenDir, dir string) (string, string) {
	caKey, err := gost3410.GenerateKey(gost3410.CurveTC26256A, nil)
	check(err)
	now := time.Now()
	caT := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "docbench CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := gostx509.CreateCertificate(nil, caT, caT, caKey.Public(), caKey)
	check(err)
	ca, err := x509.ParseCertificate(caDER)
	check(err)
	key, err := gost3410.GenerateKey(gost3410.CurveTC26256A, nil)
	check(err)
	t := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "docbench"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := gostx509.CreateCertificate(nil, t, ca, key.Public(), caKey)
	check(err)
	cert, err := x509.ParseCertificate(der)
	check(err)
	kd, err := gostx509.MarshalPKCS8PrivateKey(key)
	check(err)
	check(os.WriteFile(filepath.Join(tokenDir, "bench.key"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd}), 0o600))
	check(os.WriteFile(filepath.Join(tokenDir, "bench.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	roots := filepath.Join(dir, "roots.pem")
	check(os.WriteFile(roots, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600))
	return login.IdentityOf(cert).Thumbprint, roots
}

func check(err error) {
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "docbench:", err)
	os.Exit(1)
}
