package auditwriter_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/escai-framework/escai/internal/auditwriter"
	"github.com/escai-framework/escai/internal/broker/brokertest"
	"github.com/escai-framework/escai/internal/redisx/redistest"
	"github.com/escai-framework/escai/internal/stage"
	"github.com/escai-framework/escai/pkg/events"
)

// BenchmarkWriter measures one audit writer end to end on a real broker and
// a real redis-server: b.N clean 1 KiB events are stored in
// ESCAI_CLEAN_acme first, then the writer reads, seals (hash chain, MAC,
// AES-GCM), stores (atomic fenced batches) and indexes them; the clock
// runs from its start until the index holds all of them.
//
//	go test -run '^$' -bench BenchmarkWriter -benchtime 100000x -count 6 ./internal/auditwriter
//
// Single runs vary by ±15 % on a 2-core machine (the broker, Redis and the
// writer share it): compare medians (benchstat), on an idle machine.
func BenchmarkWriter(b *testing.B) {
	for _, encrypt := range []bool{true, false} {
		b.Run(fmt.Sprintf("encrypt=%v", encrypt), func(b *testing.B) {
			benchWriter(b, encrypt)
		})
	}
}

func benchWriter(b *testing.B, encrypt bool) {
	ctx := context.Background()
	// ESCAI_BENCH_NATS_URL runs against a broker in its own process (as
	// in production), fresh: the embedded one shares this process's CPU
	// and garbage collector with the writer.
	url := os.Getenv("ESCAI_BENCH_NATS_URL")
	external := url != ""
	if !external {
		url = brokertest.StartNode(b).ClientURL()
	}
	setup, err := nats.Connect(url)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(setup.Close)
	js := brokertest.JetStream(b, setup)
	// A tenant of its own per run: an external broker keeps what earlier
	// runs (b.N = 1 first) stored.
	tenant := fmt.Sprintf("bench%d", time.Now().UnixNano()%1e12)
	brokertest.ApplyTenant(b, js, tenant)
	rdb := redistest.Start(b).Client(b)
	if external {
		// The broker kept earlier runs' records; this run's fresh Redis
		// is taken as current, or the writer would first reindex them all.
		st, err := js.Stream(ctx, events.StreamAudit)
		if err != nil {
			b.Fatal(err)
		}
		info, err := st.Info(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if err := rdb.Set(ctx, auditwriter.LastIndexedKey, info.State.LastSeq, 0).Err(); err != nil {
			b.Fatal(err)
		}
		if err := rdb.Set(ctx, auditwriter.IndexEpochKey, "complete:bench", 0).Err(); err != nil {
			b.Fatal(err)
		}
	}

	pad := strings.Repeat("x", 1024-230)
	for i := range b.N {
		// 64 agents: spread over the 16 partitions, as real traffic is.
		subj, data := cleanEvent(i)
		agent := fmt.Sprintf("agent-%d", i%64)
		subj = strings.Replace(subj, fmt.Sprintf("acme.agent-%d", i%5), tenant+"."+agent, 1)
		data = bytes.Replace(data, fmt.Appendf(nil, `"tenant":"acme","agentid":"agent-%d"`, i%5), fmt.Appendf(nil, `"tenant":%q,"agentid":%q`, tenant, agent), 1)
		data = bytes.Replace(data, []byte(`"n":`), fmt.Appendf(nil, `"pad":%q,"n":`, pad), 1)
		if _, err := js.PublishAsync(subj, data); err != nil {
			b.Fatal(err)
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(2 * time.Minute):
		b.Fatal("publishing the input took over 2 minutes")
	}

	// TCP connections, as between processes: an in-process pipe makes
	// every write wait for the server to read it.
	tcp := func() *nats.Conn {
		nc, err := nats.Connect(url)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(nc.Close)
		return nc
	}
	js, err = jetstream.New(tcp(), jetstream.WithPublishAsyncMaxPending(8192))
	if err != nil {
		b.Fatal(err)
	}
	pjs, err := jetstream.New(tcp(), jetstream.WithPublishAsyncMaxPending(8192))
	if err != nil {
		b.Fatal(err)
	}
	if f := os.Getenv("ESCAI_BENCH_CPUPROFILE"); f != "" {
		out, err := os.Create(f)
		if err != nil {
			b.Fatal(err)
		}
		if err := pprof.StartCPUProfile(out); err != nil {
			b.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	b.ResetTimer()
	start := time.Now()
	w, err := auditwriter.Start(ctx, js, rdb, auditwriter.Options{
		Partitions: 16, Limits: events.DefaultLimits(), Batch: 256, Workers: 4,
		Sealing: &auditwriter.SealingOptions{Master: testMaster(), Encrypt: encrypt, WriterID: "bench", Publisher: pjs},
	}, zap.NewNop(), stage.NewMetrics(prometheus.NewRegistry()))
	if err != nil {
		b.Fatal(err)
	}
	for {
		n, err := rdb.ZCard(ctx, auditwriter.TenantIndexKey(tenant)).Result()
		if err != nil {
			b.Fatal(err)
		}
		if n == int64(b.N) {
			break
		}
		if n > int64(b.N) || time.Since(start) > 5*time.Minute {
			b.Fatalf("index holds %d of %d after %s", n, b.N, time.Since(start))
		}
		time.Sleep(5 * time.Millisecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "records/s")
	st := w.Sealer().Stats()
	b.ReportMetric(float64(st.Records)/float64(max(st.Rounds, 1)), "records/round")
	b.ReportMetric(float64(st.Conflicts), "conflicts")
	dctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := w.Drain(dctx); err != nil {
		b.Fatal(err)
	}
}
