package pipeline_test

import (
	"context"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/escai-framework/escai/internal/bench"
	"github.com/escai-framework/escai/internal/broker/brokertest"
	"github.com/escai-framework/escai/internal/pipeline"
	"github.com/escai-framework/escai/internal/redisx/redistest"
	"github.com/escai-framework/escai/pkg/security/config"
)

// BenchmarkPipeline runs b.N 1 KiB events end to end (ingest → pii-worker
// → audit writer → Redis index) on an embedded broker and a real
// redis-server, the same path `escai bench` measures.
func BenchmarkPipeline(b *testing.B) {
	srv := brokertest.StartNode(b)
	rdb := redistest.Start(b).Client(b)
	cfg := config.Default(config.ProfileTesting)
	reg := prometheus.NewRegistry()
	env, err := pipeline.NewEnv(&cfg, zap.NewNop(), reg)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	p, err := pipeline.Start(ctx, env, func(name string) (*nats.Conn, error) { return srv.Connect(nats.Name(name)) }, rdb)
	if err != nil {
		b.Fatal(err)
	}
	nc := brokertest.Connect(b, srv)
	b.ResetTimer()
	res, err := bench.Run(ctx, nc, rdb, bench.Options{Events: b.N, Size: 1024}, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(res.EventsPerSecond, "events/s")
	b.ReportMetric(res.Latency.P50, "p50-ms")
	b.ReportMetric(res.Latency.P99, "p99-ms")
	_ = p.Drain(ctx)
	if testing.Verbose() {
		mfs, _ := reg.Gather()
		for _, mf := range mfs {
			for _, m := range mf.GetMetric() {
				if h := m.GetHistogram(); h != nil && h.GetSampleCount() > 0 {
					b.Logf("%s %v count=%d mean=%g", mf.GetName(), m.GetLabel()[0].GetValue(), h.GetSampleCount(), h.GetSampleSum()/float64(h.GetSampleCount()))
				}
				if c := m.GetCounter(); c != nil && c.GetValue() > 0 {
					b.Logf("%s %v = %g", mf.GetName(), m.GetLabel(), c.GetValue())
				}
			}
		}
	}
}
