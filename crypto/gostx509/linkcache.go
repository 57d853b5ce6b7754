package gostx509

import (
	"crypto/sha256"
	"crypto/x509"
	"sync"
)

// A linkKey names one verified issuer link: SHA-256(child.Raw ‖
// parent.Raw). Both are whole DER elements, so the concatenation is
// unambiguous, and a different byte in either certificate is a different
// key: a remembered link can only ever vouch for the exact pair that was
// verified.
type linkKey [sha256.Size]byte

func keyOf(child, parent *x509.Certificate) linkKey {
	h := sha256.New()
	h.Write(child.Raw)
	h.Write(parent.Raw)
	var k linkKey
	h.Sum(k[:0])
	return k
}

// Capacity of the link cache. Each of linkShards shards keeps its current
// generation and the one before it; a full current generation becomes the
// old one and the old one is dropped whole (O(1) eviction, no scan). A
// shard therefore always holds its linkGeneration most recent links, and
// at most twice that: 131,072 to 262,144 links in all (~10 MB at most), so
// 100,000 signers spread by SHA-256 over the shards (~1,560 each) all stay.
const (
	linkShards     = 64
	linkGeneration = 2048
)

// linkCache is a set of verified links, safe for concurrent use; logins
// under different signers mostly take different shard locks.
type linkCache struct {
	shards [linkShards]linkShard
}

type linkShard struct {
	mu       sync.Mutex
	cur, old map[linkKey]struct{}
	_        [40]byte // a shard per cache line: no false sharing of locks
}

func (c *linkCache) shard(k linkKey) *linkShard { return &c.shards[k[0]%linkShards] }

// has reports whether k was added and not yet evicted. A link found in the
// old generation moves to the current one, so the links every login uses
// (intermediate to root) never age out.
func (c *linkCache) has(k linkKey) bool {
	s := c.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.cur[k]; ok {
		return true
	}
	if _, ok := s.old[k]; ok {
		delete(s.old, k)
		s.put(k)
		return true
	}
	return false
}

func (c *linkCache) add(k linkKey) {
	s := c.shard(k)
	s.mu.Lock()
	s.put(k)
	s.mu.Unlock()
}

func (s *linkShard) put(k linkKey) {
	if s.cur == nil || len(s.cur) >= linkGeneration {
		s.old, s.cur = s.cur, make(map[linkKey]struct{}, linkGeneration)
	}
	s.cur[k] = struct{}{}
}

// len counts the links held, for tests.
func (c *linkCache) len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		n += len(s.cur) + len(s.old)
		s.mu.Unlock()
	}
	return n
}
