package crm

import (
	"context"
	"math"
	"slices"
	"sync/atomic"
	"time"
)

// Bucket is the state of one token bucket of the rate limits, or one counter
// of the daily quotas, as the store keeps it.
type Bucket struct {
	Key    string
	Tokens float64   // tokens left (a quota: uses counted)
	At     time.Time // when Tokens was last computed
}

// LimitService holds the request rate limits and the daily AI quota. Both
// live in the database, so they hold across replicas: a bucket is one row,
// taken from by one conditional upsert.
type LimitService struct {
	base
	perMinute  int // 0: no rate limit
	lastPrune  atomic.Int64
	dailyQuota int // AI analyses per user per UTC day; 0: none
}

// limitPruneEvery is how often a process forgets idle buckets; a bucket idle
// for longer than limitIdle is full again and can be forgotten.
const (
	limitPruneEvery = 10 * time.Minute
	limitIdle       = time.Hour
)

// RateLimit returns the requests per minute the limit allows (0: no limit).
func (s *LimitService) RateLimit() int { return s.perMinute }

// Allow takes one request from the buckets of the given keys (the user's,
// the client address's): each holds a minute's worth of requests and refills
// at the rate, so a burst of a minute's allowance passes and a steady client
// gets the rate. When any is empty it returns ETOOMANY with the wait until
// it has a token (CodeRateLimited). A key of "" is skipped.
func (s *LimitService) Allow(ctx context.Context, keys ...string) error {
	if s.perMinute <= 0 {
		return nil
	}
	keys = slices.DeleteFunc(slices.Compact(slices.Sorted(slices.Values(keys))), func(k string) bool { return k == "" })
	if len(keys) == 0 {
		return nil
	}
	now := s.now()
	s.prune(ctx, now)
	burst := float64(s.perMinute)
	rate := burst / 60 // per second
	refused, err := s.store.TakeTokens(ctx, keys, rate, burst, now)
	if err != nil {
		return err
	}
	if len(refused) == 0 {
		return nil
	}
	var wait time.Duration
	for _, b := range refused {
		have := math.Min(burst, b.Tokens+math.Max(0, now.Sub(b.At).Seconds())*rate)
		wait = max(wait, time.Duration((1-have)/rate*float64(time.Second)))
	}
	return &Error{Kind: ETOOMANY, Code: CodeRateLimited, RetryAfter: max(wait, time.Second),
		Message: "too many requests; slow down and try again later"}
}

// prune forgets idle buckets now and then; a failure only delays it.
func (s *LimitService) prune(ctx context.Context, now time.Time) {
	last := s.lastPrune.Load()
	if now.UnixNano()-last < int64(limitPruneEvery) || !s.lastPrune.CompareAndSwap(last, now.UnixNano()) {
		return
	}
	_ = s.store.PruneBuckets(context.WithoutCancel(ctx), now.Add(-limitIdle))
}

// takeAIQuota counts one analysis of the acting user today (UTC), or returns
// ETOOMANY (CodeQuotaExceeded) with the wait until midnight UTC when the
// user has had the day's quota. The system actor has none.
func (s *LimitService) takeAIQuota(ctx context.Context, userID string) error {
	if s == nil || s.dailyQuota <= 0 || userID == "" {
		return nil
	}
	now := s.now().UTC()
	day := now.Format(time.DateOnly)
	ok, err := s.store.TakeQuota(ctx, "ai:"+userID+":"+day, s.dailyQuota, now)
	if err != nil || ok {
		return err
	}
	midnight := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, time.UTC)
	return &Error{Kind: ETOOMANY, Code: CodeQuotaExceeded, RetryAfter: max(midnight.Sub(now), time.Second),
		Message: "the daily quota of AI analyses is used up; it renews at midnight UTC"}
}
