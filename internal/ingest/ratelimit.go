package ingest

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// RateLimiter is a token bucket per tenant and one per agent, so one
// runaway agent cannot starve the others of its tenant, nor one tenant the
// rest. An event must get a token from both. Buckets are created on first
// use and forgotten when full and the table grows past its bound, so
// forged identifiers cannot grow memory without limit.
type RateLimiter struct {
	tenant, agent bucketSet
}

// NewRateLimiter returns a limiter; a rate of 0 turns that level off.
func NewRateLimiter(tenantRate float64, tenantBurst int, agentRate float64, agentBurst int) *RateLimiter {
	return &RateLimiter{
		tenant: newBucketSet(tenantRate, tenantBurst),
		agent:  newBucketSet(agentRate, agentBurst),
	}
}

// Allow takes one token for the agent and one for its tenant, or none.
func (l *RateLimiter) Allow(tenant, agent string) bool {
	now := time.Now()
	ar := l.agent.reserve(tenant+"/"+agent, now)
	if ar != nil && ar.DelayFrom(now) > 0 {
		ar.CancelAt(now)
		return false
	}
	tr := l.tenant.reserve(tenant, now)
	if tr != nil && tr.DelayFrom(now) > 0 {
		tr.CancelAt(now)
		if ar != nil {
			ar.CancelAt(now)
		}
		return false
	}
	return true
}

// maxBuckets bounds each table; past it, full (idle) buckets are dropped.
const maxBuckets = 100_000

type bucketSet struct {
	limit rate.Limit
	burst int
	mu    sync.Mutex
	m     map[string]*rate.Limiter
}

func newBucketSet(perSecond float64, burst int) bucketSet {
	return bucketSet{limit: rate.Limit(perSecond), burst: max(burst, 1), m: map[string]*rate.Limiter{}}
}

// reserve returns nil when the level is off.
func (s *bucketSet) reserve(key string, now time.Time) *rate.Reservation {
	if s.limit <= 0 {
		return nil
	}
	s.mu.Lock()
	lim, ok := s.m[key]
	if !ok {
		if len(s.m) >= maxBuckets {
			s.sweep(now)
		}
		lim = rate.NewLimiter(s.limit, s.burst)
		s.m[key] = lim
	}
	s.mu.Unlock()
	return lim.ReserveN(now, 1)
}

// sweep forgets buckets that have refilled: forgetting one gives the same
// answer as keeping it. If none has, the table is cleared, which can only
// be lenient for a moment, never wrong the other way.
func (s *bucketSet) sweep(now time.Time) {
	for k, lim := range s.m {
		if lim.TokensAt(now) >= float64(s.burst) {
			delete(s.m, k)
		}
	}
	if len(s.m) >= maxBuckets {
		clear(s.m)
	}
}
