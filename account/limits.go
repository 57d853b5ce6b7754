package account

import (
	"context"
	"math"
	"time"
)

// The service's numbers (docs/account.md): one place each.
const (
	codeDigits  = 6
	codeTTL     = 10 * time.Minute
	codeTries   = 5
	resendAfter = 60 * time.Second
	renewTTL    = 10 * time.Minute
	sessionIdle = 30 * 24 * time.Hour
	sessionMax  = 365 * 24 * time.Hour
	touchEvery  = time.Minute
	minPassword = 8
	maxPassword = 256
	maxBody     = 64 << 10
	maxCMSBody  = 1 << 20
)

// limit is a rate limit: at most n events per window for one key.
type limit struct {
	name   string
	n      int
	window time.Duration
}

var (
	limitLoginPerID   = limit{"login:id", 10, 15 * time.Minute}
	limitLoginPerAddr = limit{"login:addr", 50, 15 * time.Minute}
	limitSendPerID    = limit{"send:id", 5, time.Hour}
	limitSendPerAddr  = limit{"send:addr", 20, time.Hour}
	limitRegPerAddr   = limit{"register:addr", 10, time.Hour}
	limitCheckPerAddr = limit{"check:addr", 50, 15 * time.Minute}
	limitCertPerAddr  = limit{"cert:addr", 60, time.Minute}
)

// hit is one event counted under a limit, for a key.
type hit struct {
	l   limit
	key string
}

// allow counts each hit; the first exceeded is RATE_LIMITED with the time
// to wait. Every limit is counted even when an earlier one refuses, so a
// refused flood still costs its sender.
func (s *Service) allow(ctx context.Context, hits ...hit) error {
	var refused *Error
	for _, h := range hits {
		l, key := h.l, h.key
		ok, wait, err := s.limiter.Allow(ctx, l.name+":"+key, l.n, l.window)
		if err != nil {
			return ErrUnavailable.with(err)
		}
		if !ok && refused == nil {
			refused = ErrRateLimited.with(nil, retryAfter(int(math.Ceil(wait.Seconds()))))
			s.log.Info("account: rate limited", "limit", l.name, "key", key)
		}
	}
	if refused != nil {
		return refused
	}
	return nil
}
