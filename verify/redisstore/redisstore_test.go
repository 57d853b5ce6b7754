package redisstore_test

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/podpis/podpis/crypto/cms"
	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/internal/testpki"
	"github.com/podpis/podpis/internal/testredis"
	"github.com/podpis/podpis/internal/testwait"
	"github.com/podpis/podpis/login"
	"github.com/podpis/podpis/verify"
	"github.com/podpis/podpis/verify/redisstore"
	"github.com/redis/go-redis/v9"
)

func TestStore(t *testing.T) {
	addr := testredis.Start(t)
	client := redis.NewClient(&redis.Options{Addr: addr})
	defer client.Close()
	s := redisstore.New(client, "t1:")
	ctx := context.Background()
	if err := s.Consume(ctx, "abc", time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.Consume(ctx, "abc", time.Now().Add(time.Minute)); !errors.Is(err, verify.ErrChallengeReplayed) {
		t.Fatalf("second Consume: %v", err)
	}
	if err := s.Consume(ctx, "past", time.Now().Add(-time.Second)); err == nil {
		t.Fatal("consumed a challenge already forgettable")
	}
	// Forgotten after the Redis expiry: until then, a replay.
	s.Consume(ctx, "short", time.Now().Add(50*time.Millisecond))
	testwait.Until(t, "forgotten after the expiry", func() bool {
		err := s.Consume(ctx, "short", time.Now().Add(time.Minute))
		if err != nil && !errors.Is(err, verify.ErrChallengeReplayed) {
			t.Fatalf("before expiry: %v", err)
		}
		return err == nil
	})
	// Issuing challenges writes nothing to Redis.
	v, _ := verify.New(verify.Config{Origins: []string{"https://lk.example.ru"}, Roots: []*x509.Certificate{testpki.Root(t, gost3410.CurveTC26256A, "root", time.Now()).Cert}, Store: s})
	before, _ := client.DBSize(ctx).Result()
	for i := 0; i < 1000; i++ {
		if _, err := v.IssueChallenge(ctx, "https://lk.example.ru"); err != nil {
			t.Fatal(err)
		}
	}
	if after, _ := client.DBSize(ctx).Result(); after != before {
		t.Fatalf("issuing 1000 challenges: %d keys, then %d", before, after)
	}
}

// TestTwoServers: two login servers share Redis: a challenge issued by one
// logs in through the other, once; racing logins through both let exactly
// one through.
func TestTwoServers(t *testing.T) {
	addr := testredis.Start(t)
	ca := testpki.Root(t, gost3410.CurveTC26256A, "root", time.Now())
	root := ca.Cert
	leaf, priv := ca.Person(t, gost3410.CurveTC26256A, pkix.Name{CommonName: "Пётр"}, time.Now(), nil)

	var servers []*verify.Verifier
	key := make([]byte, verify.MinChallengeKey)
	rand.Read(key)
	for i := 0; i < 2; i++ {
		client := redis.NewClient(&redis.Options{Addr: addr})
		defer client.Close()
		v, err := verify.New(verify.Config{Origins: []string{"https://lk.example.ru"}, Roots: []*x509.Certificate{root}, Store: redisstore.New(client, "podpis:"), ChallengeKey: key})
		if err != nil {
			t.Fatal(err)
		}
		servers = append(servers, v)
	}
	ctx := context.Background()
	const origin = "https://lk.example.ru"
	signLogin := func(challenge string) []byte {
		der, err := cms.Sign(login.NewDocument(origin, challenge, time.Now()).Marshal(), leaf, priv, &cms.SignOptions{ContentType: login.OID})
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	c, _ := servers[0].IssueChallenge(ctx, origin)
	msg := signLogin(c.Value)
	if res, err := servers[1].VerifyLogin(ctx, msg, origin); err != nil || res.Identity.CommonName != "Пётр" {
		t.Fatalf("login through the other server: %v", err)
	}
	if _, err := servers[0].VerifyLogin(ctx, msg, origin); !errors.Is(err, verify.ErrChallengeReplayed) {
		t.Fatalf("replay through the first server: %v", err)
	}

	for round := 0; round < 5; round++ {
		c, _ := servers[round%2].IssueChallenge(ctx, origin)
		msg := signLogin(c.Value)
		var wins, replays atomic.Int32
		var wg sync.WaitGroup
		for i := 0; i < 20; i++ {
			wg.Add(1)
			go func(v *verify.Verifier) {
				defer wg.Done()
				_, err := v.VerifyLogin(ctx, msg, origin)
				if err == nil {
					wins.Add(1)
				} else if errors.Is(err, verify.ErrChallengeReplayed) {
					replays.Add(1)
				} else {
					t.Error(err)
				}
			}(servers[i%2])
		}
		wg.Wait()
		if wins.Load() != 1 || replays.Load() != 19 {
			t.Fatalf("round %d: %d wins, %d replays", round, wins.Load(), replays.Load())
		}
	}
}
