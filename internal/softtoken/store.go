package softtoken

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"

	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/crypto/gostx509"
)

// writeAtomic writes a file of the folder, mode 0600, so that a reader (or
// a crash) sees the old content or the new, never half: a temporary file
// in the same folder, synced, then renamed over.
func writeAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(0o600)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// newFileName picks an unused NAME for objects the token makes.
func (t *Token) newFileName(prefix string) string {
	for {
		b := make([]byte, 8)
		rand.Read(b)
		name := prefix + hex.EncodeToString(b)
		if _, err := os.Stat(filepath.Join(t.dir, name+".attrs")); errors.Is(err, os.ErrNotExist) {
			return name
		}
	}
}

func (t *Token) path(name, ext string) string { return filepath.Join(t.dir, name+ext) }

// metaFor describes what is left in memory of the objects of file name.
func (t *Token) metaFor(name string) (m meta, any bool) {
	var pub, priv, cert *object
	for _, o := range t.objects {
		if o.file != name {
			continue
		}
		switch o.class {
		case CKO_PUBLIC_KEY:
			pub = o
		case CKO_PRIVATE_KEY:
			priv = o
		case CKO_CERTIFICATE:
			cert = o
		}
	}
	is := func(o *object, a uint64) bool { return string(o.attrs[a]) == string(bval(true)) }
	if cert != nil {
		m.ID, m.CertLabel = cert.attrs[CKA_ID], string(cert.attrs[CKA_LABEL])
	}
	if key := priv; key != nil {
		m.ID, m.Label = key.attrs[CKA_ID], string(key.attrs[CKA_LABEL])
		sensitive := is(key, CKA_SENSITIVE)
		m.Sensitive, m.Extractable = &sensitive, is(key, CKA_EXTRACTABLE)
		m.AlwaysSensitive, m.NeverExtractable = is(key, CKA_ALWAYS_SENSITIVE), is(key, CKA_NEVER_EXTRACTABLE)
		m.Local = is(key, CKA_LOCAL)
		if m.Local {
			m.GenMechanism, _ = parseULong(key.attrs[CKA_KEY_GEN_MECHANISM])
		}
		m.NoPublic, m.NotPrivate = pub == nil, !key.private
	}
	return m, cert != nil || priv != nil
}

// saveMeta rewrites NAME.attrs from memory, or removes it when nothing of
// name is left.
func (t *Token) saveMeta(name string) error {
	m, any := t.metaFor(name)
	if !any {
		err := os.Remove(t.path(name, ".attrs"))
		if errors.Is(err, os.ErrNotExist) {
			err = nil
		}
		return err
	}
	b, _ := json.MarshalIndent(m, "", "  ")
	return writeAtomic(t.path(name, ".attrs"), b)
}

// writeKey stores a private key as OpenSSL writes it: PEM PKCS#8, for GOST
// in the GOST engine's form.
func writeKey(path string, k crypto.Signer) error {
	var der []byte
	var err error
	if g, ok := k.(*gost3410.PrivateKey); ok {
		der, err = gostx509.MarshalPKCS8PrivateKey(g)
	} else {
		der, err = x509.MarshalPKCS8PrivateKey(k)
	}
	if err != nil {
		return err
	}
	return writeAtomic(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

func writeCert(path string, der []byte) error {
	return writeAtomic(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}
