package idp

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// signingKey is one of the provider's keys, decrypted in memory.
type signingKey struct {
	id   string
	priv *rsa.PrivateKey
}

func (k *signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k *signingKey) Key() any                                    { return k.priv }
func (k *signingKey) ID() string                                  { return k.id }

// publicKey is a key in JWKS.
type publicKey struct {
	id  string
	pub *rsa.PublicKey
}

func (k *publicKey) ID() string                         { return k.id }
func (k *publicKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k *publicKey) Use() string                        { return "sig" }
func (k *publicKey) Key() any                           { return k.pub }

// keyRing keeps the signing keys: the newest signs; older ones stay
// published until publish_until, when every ID token they signed has
// expired.
type keyRing struct {
	db   *db
	aead cipher.AEAD
	cfg  *Config

	mu    sync.Mutex
	cache map[string]*rsa.PrivateKey // decrypted keys by id
}

func newKeyRing(d *db, cfg *Config) (*keyRing, error) {
	block, err := aes.NewCipher(cfg.KeyEncryptionKey)
	if err != nil {
		return nil, fmt.Errorf("idp: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("idp: %w", err)
	}
	return &keyRing{db: d, aead: aead, cfg: cfg, cache: map[string]*rsa.PrivateKey{}}, nil
}

// aad binds a sealed key to its id, so that swapping two rows' ciphertexts
// does not make one key publish under the other's id.
func aad(id string) []byte { return []byte("podpis idp signing key " + id) }

func (r *keyRing) seal(id string, der []byte) []byte {
	nonce := make([]byte, r.aead.NonceSize())
	rand.Read(nonce)
	return r.aead.Seal(nonce, nonce, der, aad(id))
}

func (r *keyRing) open(id string, sealed []byte) (*rsa.PrivateKey, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if k, ok := r.cache[id]; ok {
		return k, nil
	}
	n := r.aead.NonceSize()
	if len(sealed) < n {
		return nil, fmt.Errorf("%w: key %s", ErrKeyDecrypt, id)
	}
	der, err := r.aead.Open(nil, sealed[:n], sealed[n:], aad(id))
	if err != nil {
		return nil, fmt.Errorf("%w: key %s", ErrKeyDecrypt, id)
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("idp: key %s: %w", id, err)
	}
	priv, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("idp: key %s is not RSA", id)
	}
	r.cache[id] = priv
	return priv, nil
}

// rotate makes a new signing key; the current one stops signing now and
// stays published for one ID token lifetime (plus a minute of clock skew).
func (r *keyRing) rotate(ctx context.Context) (*signingKey, error) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("idp: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("idp: %w", err)
	}
	id := randomID()
	now := r.cfg.Now()
	until := now.Add(r.cfg.IDTokenTTL + time.Minute).Unix()
	err = r.db.tx(ctx, func(tx *sql.Tx) error {
		if _, err := r.db.exec(ctx, tx, `UPDATE idp_signing_keys SET signs_until = $1, publish_until = $2 WHERE signs_until IS NULL`, now.Unix(), until); err != nil {
			return err
		}
		_, err := r.db.exec(ctx, tx, `INSERT INTO idp_signing_keys (id, alg, sealed, created_at) VALUES ($1, $2, $3, $4)`,
			id, string(jose.RS256), r.seal(id, der), now.Unix())
		return err
	})
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.cache[id] = priv
	r.mu.Unlock()
	return &signingKey{id: id, priv: priv}, nil
}

// current is the signing key, rotated when older than KeyRotation.
func (r *keyRing) current(ctx context.Context) (*signingKey, error) {
	var id string
	var sealed []byte
	var created int64
	err := r.db.queryRow(ctx, `SELECT id, sealed, created_at FROM idp_signing_keys WHERE signs_until IS NULL ORDER BY created_at DESC LIMIT 1`).Scan(&id, &sealed, &created)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && r.cfg.Now().Sub(time.Unix(created, 0)) >= r.cfg.KeyRotation) {
		return r.rotate(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("idp: signing key: %w", err)
	}
	priv, err := r.open(id, sealed)
	if err != nil {
		return nil, err
	}
	return &signingKey{id: id, priv: priv}, nil
}

// published are the keys in JWKS: the signing one and the retired ones
// whose tokens may still be live.
func (r *keyRing) published(ctx context.Context) ([]op.Key, error) {
	rows, err := r.db.query(ctx, `SELECT id, sealed FROM idp_signing_keys WHERE publish_until IS NULL OR publish_until > $1 ORDER BY created_at DESC`, r.cfg.Now().Unix())
	if err != nil {
		return nil, fmt.Errorf("idp: keys: %w", err)
	}
	defer rows.Close()
	var keys []op.Key
	for rows.Next() {
		var id string
		var sealed []byte
		if err := rows.Scan(&id, &sealed); err != nil {
			return nil, fmt.Errorf("idp: keys: %w", err)
		}
		priv, err := r.open(id, sealed)
		if err != nil {
			return nil, err
		}
		keys = append(keys, &publicKey{id: id, pub: &priv.PublicKey})
	}
	return keys, rows.Err()
}
