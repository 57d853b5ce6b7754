package telegram_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/podpis/podpis/internal/testredis"
	"github.com/podpis/podpis/sso/replay/redisreplay"
	"github.com/podpis/podpis/sso/telegram"
	"github.com/redis/go-redis/v9"
)

// TestVerifyReplayRedis: two account servers sharing Redis let the same
// widget data in once, through either.
func TestVerifyReplayRedis(t *testing.T) {
	addr := testredis.Start(t)
	var vs []*telegram.Verifier
	for range 2 {
		client := redis.NewClient(&redis.Options{Addr: addr})
		defer client.Close()
		v, err := telegram.New(telegram.Config{BotToken: testToken, Store: redisreplay.New(client, "podpis:sso:")})
		if err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	data := sign(testToken, widgetData(time.Now().Add(-time.Minute)))
	if _, err := vs[1].Verify(context.Background(), data); err != nil {
		t.Fatal(err)
	}
	if _, err := vs[0].Verify(context.Background(), data); !errors.Is(err, telegram.ErrReplayed) {
		t.Fatalf("replay through the other server: %v", err)
	}
}
