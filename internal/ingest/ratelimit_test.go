package ingest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/escai-framework/escai/internal/stage"
	"github.com/escai-framework/escai/pkg/events"
)

func TestRateLimiterPerAgentAndTenant(t *testing.T) {
	t.Parallel()
	// Effectively no refill during the test: only bursts count.
	l := NewRateLimiter(1e-9, 10, 1e-9, 3)
	allowed := func(tenant, agent string, n int) int {
		got := 0
		for range n {
			if l.Allow(tenant, agent) {
				got++
			}
		}
		return got
	}
	if got := allowed("acme", "runaway", 100); got != 3 {
		t.Fatalf("runaway agent got %d events through, want its burst of 3", got)
	}
	// Its neighbours still get theirs: the runaway spent only its own
	// bucket and 3 of the tenant's 10.
	if got := allowed("acme", "quiet-1", 3) + allowed("acme", "quiet-2", 3); got != 6 {
		t.Fatalf("other agents got %d, want 6", got)
	}
	// The tenant bucket has 1 left.
	if got := allowed("acme", "quiet-3", 3); got != 1 {
		t.Fatalf("tenant limit let %d through, want 1", got)
	}
	// Another tenant is untouched by acme exhausting its bucket.
	if got := allowed("globex", "quiet-3", 3); got != 3 {
		t.Fatalf("another tenant's agent got %d, want 3", got)
	}
}

func TestRateLimiterOff(t *testing.T) {
	t.Parallel()
	l := NewRateLimiter(0, 1, 0, 1)
	for i := range 1000 {
		if !l.Allow("acme", "a") {
			t.Fatalf("limit off, yet event %d refused", i)
		}
	}
}

func TestRateLimiterBoundedMemory(t *testing.T) {
	t.Parallel()
	l := NewRateLimiter(1e6, 1, 1e6, 1)
	for i := range maxBuckets + 500 {
		l.Allow("t", fmt.Sprintf("forged-%d", i))
	}
	if n := len(l.agent.m); n > maxBuckets {
		t.Fatalf("agent table grew to %d entries", n)
	}
}

func TestProcessorRateLimited(t *testing.T) {
	t.Parallel()
	p := New(events.DefaultLimits(), WithRateLimiter(NewRateLimiter(1e-9, 100, 1e-9, 2)))
	subj := "escai.in.acme.agent-1.prompt"
	rejected := 0
	for i := range 5 {
		data := fmt.Appendf(nil, `{"specversion":"1.0","id":"r-%d","source":"urn:a","type":"escai.prompt","time":"2026-12-04T10:00:00Z","tenant":"acme","agentid":"agent-1"}`, i)
		_, err := p.Process(context.Background(), &stage.Message{Subject: subj, Data: data, NumDelivered: 1})
		var pe *stage.PermanentError
		if errors.As(err, &pe) && pe.Code == CodeRateLimited {
			rejected++
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if rejected != 3 {
		t.Fatalf("%d of 5 rejected as rate_limited, want 3 (burst 2)", rejected)
	}
}
