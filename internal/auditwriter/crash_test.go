package auditwriter_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/escai-framework/escai/internal/auditwriter"
	"github.com/escai-framework/escai/internal/broker/brokertest"
	"github.com/escai-framework/escai/internal/redisx/redistest"
	"github.com/escai-framework/escai/internal/stage"
	"github.com/escai-framework/escai/pkg/events"
	"github.com/escai-framework/escai/pkg/security/audit"
)

// TestWriterKilledMidRoundStandbyTakesOver: writer A is killed (its
// connection cut, nothing drained) while rounds are in flight; standby B,
// started at the same time, waits for A's lease to expire, restores every
// partition from the stream and finishes. Every event must be in the
// trail exactly once, every partition a linear chain that verifies, and
// the index must hold every event.
func TestWriterKilledMidRoundStandbyTakesOver(t *testing.T) {
	const n = 3000
	ctx := context.Background()
	srv := brokertest.StartNode(t)
	js := brokertest.JetStream(t, brokertest.Connect(t, srv))
	brokertest.ApplyTenant(t, js, "acme")
	// Redeliver what the dead writer held after 2 s, not the production
	// 30 s, so the test stays short.
	cons, err := js.Consumer(ctx, "ESCAI_CLEAN_acme", auditwriter.Consumer)
	if err != nil {
		t.Fatal(err)
	}
	cc := cons.CachedInfo().Config
	cc.AckWait, cc.BackOff = 2*time.Second, nil
	if _, err := js.UpdateConsumer(ctx, "ESCAI_CLEAN_acme", cc); err != nil {
		t.Fatal(err)
	}
	rdb := redistest.Start(t).Client(t)
	want := map[string][]byte{}
	for i := range n {
		subj, data := cleanEvent(i)
		want[fmt.Sprintf("c-%05d", i)] = data
		if _, err := js.PublishAsync(subj, data); err != nil {
			t.Fatal(err)
		}
	}
	<-js.PublishAsyncComplete()

	keys, err := audit.DeriveKeys(testMaster())
	if err != nil {
		t.Fatal(err)
	}
	ring, err := audit.NewKeyRing(audit.KeyRingConfig{KEK: keys.KEK})
	if err != nil {
		t.Fatal(err)
	}
	start := func(id string) (*auditwriter.Writer, func()) {
		nc := brokertest.Connect(t, srv)
		wjs := brokertest.JetStream(t, nc)
		w, err := auditwriter.Start(ctx, wjs, rdb, auditwriter.Options{
			Partitions: sealPartitions, Limits: events.DefaultLimits(), Batch: 64, Workers: 4,
			Sealing: &auditwriter.SealingOptions{Master: testMaster(), Encrypt: true, Keys: ring, WriterID: id, LeaseTTL: 2 * time.Second},
		}, zap.NewNop(), stage.NewMetrics(prometheus.NewRegistry()))
		if err != nil {
			t.Error(err)
			return nil, nc.Close
		}
		return w, nc.Close
	}
	a, killA := start("writer-a")
	if a == nil {
		t.FailNow()
	}
	bDone := make(chan *auditwriter.Writer, 1)
	go func() { b, _ := start("writer-b"); bDone <- b }() // a standby: waits in Start for the lease

	brokertest.WaitFor(t, 60*time.Second, func() error {
		if got := rdb.ZCard(ctx, auditwriter.TenantIndexKey("acme")).Val(); got < n/4 {
			return fmt.Errorf("index holds %d", got)
		}
		return nil
	})
	killA() // mid-run: rounds in flight, acks unsent, lease left to expire
	statsA := a.Sealer().Stats()
	t.Cleanup(a.Sealer().Close)

	var b *auditwriter.Writer
	select {
	case b = <-bDone:
	case <-time.After(30 * time.Second):
		t.Fatal("standby did not take over within 30 s")
	}
	if b == nil {
		t.FailNow()
	}
	brokertest.WaitFor(t, 90*time.Second, func() error {
		if got := rdb.HLen(ctx, auditwriter.EventIndexKey("acme")).Val(); got != n {
			return fmt.Errorf("event index holds %d of %d", got, n)
		}
		return nil
	})
	drain(t, b)
	statsB := b.Sealer().Stats()
	t.Logf("writer-a before the kill %+v; writer-b %+v", statsA, statsB)
	if statsB.Restores == 0 || statsB.Records == 0 {
		t.Fatalf("writer-b did not take over: %+v", statsB)
	}
	// Exactly one record per event, every chain linear and verified.
	verifyAudit(t, js, keys, ring, "escai", sealPartitions, true, want)
}
