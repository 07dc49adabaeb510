package auditwriter

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/escai-framework/escai/internal/broker/brokertest"
	"github.com/escai-framework/escai/internal/stage"
	"github.com/escai-framework/escai/pkg/events"
	"github.com/escai-framework/escai/pkg/security/config"
	"github.com/nats-io/nats.go/jetstream"
)

// TestRoundWithCheckpointMovesTheHeartbeat: a round that stores a
// checkpoint (after bundles of several records) counts as the partition's
// newest checkpoint, so the heartbeat does not sign another one at once.
func TestRoundWithCheckpointMovesTheHeartbeat(t *testing.T) {
	ctx := context.Background()
	srv := brokertest.StartNode(t)
	js := brokertest.JetStream(t, brokertest.Connect(t, srv))
	brokertest.Apply(t, js)
	s, err := NewSealer(js, SealingOptions{
		Master: config.Secret(bytes.Repeat([]byte("k"), 32)), WriterID: "w", Logger: zap.NewNop(),
		CheckpointEvery: 8, CheckpointInterval: time.Hour,
	}, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	p := NewSealingProcessor(nil, Options{Partitions: 1, Limits: events.DefaultLimits()}, false, s)
	submit := func(from, to int) {
		var outs []stage.Output
		for i := from; i < to; i++ {
			data := fmt.Appendf(nil, `{"specversion":"1.0","id":"c-%05d","source":"urn:a","type":"escai.tool.call","time":"2026-12-04T10:00:00Z","tenant":"acme","agentid":"agent-1","escaipii":{"status":"not_scanned"},"data":{"n":%d}}`, i, i)
			o, err := p.Process(ctx, &stage.Message{Subject: "escai.clean.acme.agent-1.tool.call", Data: data, Stream: "ESCAI_CLEAN_acme", Sequence: uint64(i + 1), NumDelivered: 1})
			if err != nil {
				t.Fatal(err)
			}
			outs = append(outs, o[0])
		}
		for _, o := range outs {
			select {
			case <-o.Future.Ok():
			case err := <-o.Future.Err():
				t.Fatal(err)
			case <-time.After(10 * time.Second):
				t.Fatal("record not stored in 10s")
			}
		}
	}
	submit(0, 1)
	before := time.Now()
	submit(1, 32) // rounds of several records; a round that reaches 8 since the last checkpoint signs one
	st, err := js.Stream(ctx, events.StreamAudit)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx, jetstream.WithSubjectFilter(CheckpointSubject(0)))
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs == 0 {
		t.Fatal("32 records, a checkpoint every 8, and no checkpoint stored")
	}
	ps := s.partition(0)
	if ps.lastCkpt.Before(before) {
		t.Fatal("the round's checkpoint did not move the heartbeat's clock")
	}
}
