package auditwriter_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"

	"github.com/escai-framework/escai/internal/auditwriter"
	"github.com/escai-framework/escai/internal/broker"
	"github.com/escai-framework/escai/internal/redisx/redistest"
	"github.com/escai-framework/escai/internal/stage"
	"github.com/escai-framework/escai/internal/stage/stagetest"
	"github.com/escai-framework/escai/pkg/events"
	"github.com/escai-framework/escai/streams"
)

func cleanEvent(i int) (string, []byte) {
	agent := fmt.Sprintf("agent-%d", i%5)
	return "escai.clean.acme." + agent + ".tool.call", fmt.Appendf(nil,
		`{"specversion":"1.0","id":"c-%05d","source":"urn:a","type":"escai.tool.call","time":"2026-12-04T10:00:%02dZ","tenant":"acme","agentid":%q,"escaipii":{"status":"not_scanned"},"data":{"n":%d}}`,
		i, i%60, agent, i)
}

// TestConformance runs the audit writer's processor through the stage
// suite on a real broker and a real redis-server; after each case the
// index must hold exactly one entry per event.
func TestConformance(t *testing.T) {
	var rdb *redis.Client
	stagetest.Run(t, stagetest.Harness{
		Config: stage.Config{Name: "audit-writer", Stream: "ESCAI_CLEAN_acme", Consumer: auditwriter.Consumer},
		Setup: func(t testing.TB, js jetstream.JetStream) {
			rdb = redistest.Start(t).Client(t)
			defs, err := broker.LoadDefinitions(streams.FS)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := defs.EnsureTenant(context.Background(), js, "acme", broker.Overrides{}); err != nil {
				t.Fatal(err)
			}
		},
		NewProcessor: func(t testing.TB, _ jetstream.JetStream) stage.Processor {
			return auditwriter.NewProcessor(rdb, auditwriter.Options{Partitions: 4, Limits: events.DefaultLimits()}, false)
		},
		Input:           cleanEvent,
		Poison:          func() (string, []byte) { return "escai.clean.acme.agent-1.tool.call", []byte(`{"id":`) },
		OutputStream:    events.StreamAudit,
		OutputsPerInput: 1,
		Verify: func(t testing.TB, _ jetstream.JetStream, n int) {
			ctx := context.Background()
			if got := rdb.ZCard(ctx, auditwriter.TenantIndexKey("acme")).Val(); got != int64(n) {
				t.Fatalf("tenant index holds %d, want %d", got, n)
			}
			if got := rdb.HLen(ctx, auditwriter.EventIndexKey("acme")).Val(); got != int64(n) {
				t.Fatalf("event index holds %d, want %d", got, n)
			}
		},
	})
}

func TestPartitionIsStableAndSpread(t *testing.T) {
	t.Parallel()
	seen := map[int]int{}
	for a := range 1000 {
		agent := fmt.Sprintf("agent-%d", a)
		p := auditwriter.Partition("acme", agent, 16)
		if p != auditwriter.Partition("acme", agent, 16) {
			t.Fatal("partition not stable")
		}
		if p < 0 || p >= 16 {
			t.Fatalf("partition %d out of range", p)
		}
		seen[p]++
	}
	for p := range 16 {
		if seen[p] < 30 {
			t.Errorf("partition %d got %d of 1000 agents; the hash does not spread", p, seen[p])
		}
	}
	// The separator matters: tenant "a" agent "b-c" and tenant "a-b" agent "c"
	// are different chains.
	if auditwriter.Partition("a", "bc", 1<<20) == auditwriter.Partition("ab", "c", 1<<20) {
		t.Error("tenant/agent boundary is not part of the partition key")
	}
}
