package stage_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/escai-framework/escai/internal/broker/brokertest"
	"github.com/escai-framework/escai/internal/stage"
	"github.com/escai-framework/escai/pkg/events"
)

// BenchmarkStageForward measures one stage on the runtime: ESCAI_IN →
// decode → ESCAI_VALID with PubAck before ack, 1 KiB-class envelopes, on an
// embedded broker over in-process connections.
func BenchmarkStageForward(b *testing.B) {
	srv := brokertest.StartNode(b)
	js := brokertest.JetStream(b, brokertest.Connect(b, srv))
	brokertest.Apply(b, js)
	ctx := context.Background()
	for i := range b.N {
		subj, data := envelope(i)
		if _, err := js.PublishAsync(subj, data, jetstream.WithStallWait(time.Minute)); err != nil {
			b.Fatal(err)
		}
	}
	<-js.PublishAsyncComplete()
	nc2 := brokertest.Connect(b, srv)
	js2, _ := jetstream.New(nc2, jetstream.WithPublishAsyncMaxPending(8192))
	reg := prometheus.NewRegistry()
	b.ResetTimer()
	r, err := stage.Start(ctx, js2, stage.ProcessorFunc(func(ctx context.Context, in *stage.Message) ([]stage.Output, error) {
		return forward(b, js2).Process(ctx, in)
	}), stage.Config{Name: "forward", Stream: events.StreamIn, Consumer: "ingest"}, zap.NewNop(), stage.NewMetrics(reg))
	if err != nil {
		b.Fatal(err)
	}
	brokertest.WaitFor(b, 5*time.Minute, func() error {
		s, _ := js.Stream(ctx, events.StreamValid)
		if got := s.CachedInfo().State.Msgs; got < uint64(b.N) {
			return fmt.Errorf("%d", got)
		}
		return nil
	})
	b.StopTimer()
	_ = r.Drain(ctx)
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if h := m.GetHistogram(); h != nil {
				b.Logf("%s count=%d mean=%g", mf.GetName(), h.GetSampleCount(), h.GetSampleSum()/float64(h.GetSampleCount()))
			}
		}
	}
}
