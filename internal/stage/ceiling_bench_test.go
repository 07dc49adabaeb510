package stage_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/escai-framework/escai/internal/broker/brokertest"
	"github.com/escai-framework/escai/internal/stage"
	"github.com/escai-framework/escai/pkg/events"
)

// BenchmarkTopologyCeiling is the most any pipeline on DESIGN.md's flow can
// do on this machine: agents publish 1 KiB events into ESCAI_IN while one
// runtime stage moves them to ESCAI_VALID and a second to ESCAI_CLEAN_bench,
// each with a Msg-Id and acking its input after the PubAck, and neither
// doing any work of its own. The real pipeline also decodes, validates,
// masks and seals into ESCAI_AUDIT, so its events/s is below this one;
// compare both with `nats bench js pub async` (issue 2's ratio).
func BenchmarkTopologyCeiling(b *testing.B) {
	srv := brokertest.StartNode(b)
	js := brokertest.JetStream(b, brokertest.Connect(b, srv))
	brokertest.Apply(b, js)
	brokertest.ApplyTenant(b, js, "bench")
	ctx := context.Background()
	relay := func(from, to string) stage.Processor {
		return stage.ProcessorFunc(func(_ context.Context, in *stage.Message) ([]stage.Output, error) {
			subj := to + strings.TrimPrefix(in.Subject, from)
			id := in.Header.Get(nats.MsgIdHdr)
			return []stage.Output{{Subject: subj, Data: in.Data, MsgID: to + id}}, nil
		})
	}
	var runners []*stage.Runner
	for _, s := range []struct{ name, stream, consumer, from, to string }{
		{"ingest", events.StreamIn, "ingest", "escai.in.", "escai.valid."},
		{"pii-worker", events.StreamValid, "pii-worker", "escai.valid.", "escai.clean."},
	} {
		nc := brokertest.Connect(b, srv)
		sjs, _ := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(8192))
		r, err := stage.Start(ctx, sjs, relay(s.from, s.to), stage.Config{Name: s.name, Stream: s.stream, Consumer: s.consumer}, zap.NewNop(), stage.NewMetrics(prometheus.NewRegistry()))
		if err != nil {
			b.Fatal(err)
		}
		runners = append(runners, r)
	}
	payload := bytes.Repeat([]byte("x"), 1024)
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		m := nats.NewMsg(fmt.Sprintf("escai.in.bench.agent-%d.tool.call", i%16))
		m.Data = payload
		m.Header.Set(nats.MsgIdHdr, fmt.Sprintf("evt-%d", i))
		if _, err := js.PublishMsgAsync(m, jetstream.WithStallWait(time.Minute)); err != nil {
			b.Fatal(err)
		}
	}
	<-js.PublishAsyncComplete()
	clean, err := events.CleanStream("bench")
	if err != nil {
		b.Fatal(err)
	}
	brokertest.WaitFor(b, 10*time.Minute, func() error {
		s, err := js.Stream(ctx, clean)
		if err != nil {
			return err
		}
		if got := s.CachedInfo().State.Msgs; got < uint64(b.N) {
			return fmt.Errorf("%d", got)
		}
		return nil
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
	for _, r := range runners {
		_ = r.Drain(ctx)
	}
}
