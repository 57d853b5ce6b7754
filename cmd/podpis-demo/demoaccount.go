package main

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// demoAccountFile, beside roots.pem, holds the account make run seeds: its
// phone, e-mail and password, and the soft token's certificates linked to
// it. The password is made at random by init, not written in the source:
// a demo site reachable by others would otherwise open to everyone who
// has read it.
const demoAccountFile = "demo-account.json"

// The demo account's phone and e-mail (docs/account.md).
const (
	demoPhone = "+7 (900) 000-00-01"
	demoEmail = "demo@podpis.local"
)

type demoAccount struct {
	Phone    string `json:"phone"`
	Email    string `json:"email"`
	Password string `json:"password"`
	// Certificates are files under softtoken/ linked to the account: the
	// soft token's valid certificates, so that «Сертификат» logs in.
	Certificates []string `json:"certificates"`
}

// passwordAlphabet has no look-alikes (0/O, 1/l/I): the password is read
// off a terminal and typed.
const passwordAlphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// newDemoPassword is three groups of four characters (about 70 bits).
func newDemoPassword() string {
	b := make([]byte, 0, 14)
	for i := range 12 {
		if i > 0 && i%4 == 0 {
			b = append(b, '-')
		}
		b = append(b, passwordAlphabet[randIntn(len(passwordAlphabet))])
	}
	return string(b)
}

// randIntn is uniform in [0, n) by rejection (n < 256).
func randIntn(n int) int {
	limit := 256 - 256%n
	var c [1]byte
	for {
		if _, err := rand.Read(c[:]); err != nil {
			panic(err) // crypto/rand does not fail on supported systems
		}
		if int(c[0]) < limit {
			return int(c[0]) % n
		}
	}
}

// ensureDemoAccount makes DIR/demo-account.json once (also in a folder an
// older init made) and returns what it holds.
func ensureDemoAccount(dir string) (*demoAccount, error) {
	path := filepath.Join(dir, demoAccountFile)
	if a, err := readDemoAccount(path); err == nil || !errors.Is(err, fs.ErrNotExist) {
		return a, err
	}
	a := &demoAccount{Phone: demoPhone, Email: demoEmail, Password: newDemoPassword()}
	for _, p := range people {
		if !p.expired {
			a.Certificates = append(a.Certificates, p.file+".pem")
		}
	}
	b, _ := json.MarshalIndent(a, "", "  ")
	if err := os.WriteFile(path, append(b, '\n'), 0o600); err != nil {
		return nil, fmt.Errorf("writing %s: %w", path, err)
	}
	return a, nil
}

func readDemoAccount(path string) (*demoAccount, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var a demoAccount
	if err := json.Unmarshal(b, &a); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if a.Password == "" || (a.Phone == "" && a.Email == "") {
		return nil, fmt.Errorf("%s: no phone or e-mail and password", path)
	}
	return &a, nil
}
