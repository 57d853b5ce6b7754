// Package argon2id hashes passwords with Argon2id (RFC 9106) into PHC
// strings, $argon2id$v=19$m=…,t=…,p=…$salt$hash, so that every hash
// carries the parameters it was made with: they can be raised later and
// old hashes still verify (and NeedsRehash says which to redo).
package argon2id

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are Argon2id's cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8  // lanes
	SaltLen uint32
	KeyLen  uint32
}

// Default is OWASP's 2024 minimum for Argon2id (19 MiB, 2 passes, one
// lane): about 30 ms on one core, and only one core per login, so a
// server's logins per second scale with its cores.
var Default = Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// String is the parameters as the PHC string writes them.
func (p Params) String() string {
	return fmt.Sprintf("m=%d,t=%d,p=%d", p.Memory, p.Time, p.Threads)
}

var (
	// ErrMismatch: the password is not the one hashed.
	ErrMismatch = errors.New("argon2id: wrong password")
	// ErrFormat: the hash is not an Argon2id PHC string this package reads.
	ErrFormat = errors.New("argon2id: not an argon2id hash")
)

// limits on what Verify accepts from a stored hash, so that a corrupted or
// planted row cannot make one login take gigabytes or minutes.
const (
	maxMemory  = 1 << 20 // 1 GiB
	maxTime    = 64
	maxKeyLen  = 128
	maxSaltLen = 64
)

var b64 = base64.RawStdEncoding

// Hash returns the PHC string of password under p with a fresh salt.
func Hash(password string, p Params) (string, error) {
	if p.Memory == 0 || p.Time == 0 || p.Threads == 0 || p.SaltLen < 8 || p.KeyLen < 16 {
		return "", fmt.Errorf("argon2id: parameters %s salt %d key %d too weak", p, p.SaltLen, p.KeyLen)
	}
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return fmt.Sprintf("$argon2id$v=%d$%s$%s$%s", argon2.Version, p, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Parse reads the parameters, salt and key of a PHC string.
func Parse(hash string) (Params, []byte, []byte, error) {
	var p Params
	f := strings.Split(hash, "$")
	if len(f) != 6 || f[0] != "" || f[1] != "argon2id" || f[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return p, nil, nil, ErrFormat
	}
	var threads uint32
	if n, err := fmt.Sscanf(f[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &threads); err != nil || n != 3 ||
		fmt.Sprintf("m=%d,t=%d,p=%d", p.Memory, p.Time, threads) != f[3] {
		return p, nil, nil, ErrFormat
	}
	salt, err1 := b64.DecodeString(f[4])
	key, err2 := b64.DecodeString(f[5])
	if err1 != nil || err2 != nil || threads == 0 || threads > 255 || p.Memory == 0 || p.Memory > maxMemory ||
		p.Time == 0 || p.Time > maxTime || len(salt) < 8 || len(salt) > maxSaltLen || len(key) < 16 || len(key) > maxKeyLen {
		return p, nil, nil, ErrFormat
	}
	p.Threads = uint8(threads)
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	return p, salt, key, nil
}

// Verify checks password against a PHC string in constant time; a wrong
// password is ErrMismatch.
func Verify(password, hash string) error {
	p, salt, key, err := Parse(hash)
	if err != nil {
		return err
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	if subtle.ConstantTimeCompare(got, key) != 1 {
		return ErrMismatch
	}
	return nil
}

// NeedsRehash reports whether hash was made under parameters weaker than
// p in any respect, or is not readable.
func NeedsRehash(hash string, p Params) bool {
	q, _, _, err := Parse(hash)
	return err != nil || q.Memory < p.Memory || q.Time < p.Time || q.Threads < p.Threads || q.KeyLen < p.KeyLen || q.SaltLen < p.SaltLen
}
