package argon2id

import (
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"
)

// fast keeps the tests quick; the format does not depend on the cost.
var fast = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestHashVerify(t *testing.T) {
	h, err := Hash("пароль-1", fast)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("hash %q", h)
	}
	if err := Verify("пароль-1", h); err != nil {
		t.Fatal(err)
	}
	for _, wrong := range []string{"пароль-2", "", "пароль-1 ", "ПАРОЛЬ-1"} {
		if err := Verify(wrong, h); !errors.Is(err, ErrMismatch) {
			t.Errorf("Verify(%q) = %v, want ErrMismatch", wrong, err)
		}
	}
	h2, _ := Hash("пароль-1", fast)
	if h2 == h {
		t.Error("two hashes of one password are equal: the salt is not fresh")
	}
}

// TestVerifyReadsParameters: a hash made under other parameters than the
// configured ones verifies with its own, so the cost can be raised.
func TestVerifyReadsParameters(t *testing.T) {
	salt := []byte("somesaltsomesalt")
	key := argon2.IDKey([]byte("password"), salt, 3, 32, 4, 32)
	h := "$argon2id$v=19$m=32,t=3,p=4$" + b64.EncodeToString(salt) + "$" + b64.EncodeToString(key)
	if err := Verify("password", h); err != nil {
		t.Fatalf("Verify of a hash made under m=32,t=3,p=4: %v (key %s)", err, hex.EncodeToString(key))
	}
	if !NeedsRehash(h, Default) {
		t.Error("a hash of 32 KiB does not need rehashing under Default")
	}
	d, _ := Hash("x", Params{Memory: Default.Memory, Time: Default.Time, Threads: 1, SaltLen: 16, KeyLen: 32})
	if NeedsRehash(d, Default) {
		t.Error("a Default hash needs rehashing under Default")
	}
}

func TestParseRefuses(t *testing.T) {
	good, _ := Hash("x", fast)
	f := strings.Split(good, "$")
	for name, h := range map[string]string{
		"argon2i":         strings.Replace(good, "argon2id", "argon2i", 1),
		"version":         strings.Replace(good, "v=19", "v=16", 1),
		"huge memory":     strings.Join([]string{"", f[1], f[2], "m=4194304,t=1,p=1", f[4], f[5]}, "$"),
		"huge time":       strings.Join([]string{"", f[1], f[2], "m=64,t=1000,p=1", f[4], f[5]}, "$"),
		"zero lanes":      strings.Join([]string{"", f[1], f[2], "m=64,t=1,p=0", f[4], f[5]}, "$"),
		"trailing params": strings.Join([]string{"", f[1], f[2], "m=64,t=1,p=1,x=2", f[4], f[5]}, "$"),
		"short salt":      strings.Join([]string{"", f[1], f[2], f[3], "c2FsdA", f[5]}, "$"),
		"bad base64":      strings.Join([]string{"", f[1], f[2], f[3], f[4], "!!!"}, "$"),
		"missing field":   strings.Join(f[:5], "$"),
		"empty":           "",
		"plain sha":       "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8",
	} {
		if err := Verify("x", h); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: Verify = %v, want ErrFormat", name, err)
		}
	}
}

func TestHashRefusesWeakParams(t *testing.T) {
	for _, p := range []Params{{}, {Memory: 64, Time: 1, Threads: 1, SaltLen: 4, KeyLen: 32}, {Memory: 64, Time: 0, Threads: 1, SaltLen: 16, KeyLen: 32}} {
		if _, err := Hash("x", p); err == nil {
			t.Errorf("Hash under %+v succeeded", p)
		}
	}
}

func BenchmarkHashDefault(b *testing.B) {
	b.ReportAllocs()
	b.Logf("argon2id %s", Default)
	for b.Loop() {
		Hash("correct horse battery staple", Default)
	}
}
