package redisreplay_test

import (
	"testing"

	"github.com/podpis/podpis/internal/testredis"
	"github.com/podpis/podpis/sso/replay/redisreplay"
	"github.com/podpis/podpis/sso/replay/replaytest"
	"github.com/redis/go-redis/v9"
)

func TestStore(t *testing.T) {
	client := redis.NewClient(&redis.Options{Addr: testredis.Start(t)})
	defer client.Close()
	replaytest.Run(t, redisreplay.New(client, "t:"))
}
