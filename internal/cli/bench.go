package cli

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/pprof"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/escai-framework/escai/internal/auditwriter"
	"github.com/escai-framework/escai/internal/bench"
	"github.com/escai-framework/escai/internal/broker"
	"github.com/escai-framework/escai/internal/pipeline"
	"github.com/escai-framework/escai/internal/redisx"
	"github.com/escai-framework/escai/pkg/events"
)

func newBench() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "End-to-end load: publish envelopes, wait for them in ESCAI_AUDIT and the Redis index, report events/s and latency",
		Long: `escai bench publishes envelopes to escai.in.<tenant>.… at a target rate
(--rate) or as fast as the broker takes them, follows them into ESCAI_AUDIT
and waits until the Redis index holds every one. It reports end-to-end
events/s (first publish → last indexed) and per-event latency percentiles
from publish to the audit record being stored (HDR histogram).

By default it runs against an embedded pipeline (broker, redis-server and
every stage in this process, in a temporary directory). With --embedded=false
it loads a running pipeline at ESCAI_NATS_URL / ESCAI_REDIS_URL.`,
		Args: cobra.NoArgs,
	}
	var (
		o        bench.Options
		embedded bool
		asJSON   bool
		cpuProf  string
	)
	f := cmd.Flags()
	f.IntVar(&o.Events, "events", 0, "events to publish (0 = publish for --duration)")
	f.Float64Var(&o.Rate, "rate", 0, "target events per second (0 = maximal)")
	f.DurationVar(&o.Duration, "duration", 0, "publishing time when --events is 0 (default 10s)")
	f.IntVar(&o.Size, "size", 1024, "envelope size in bytes")
	f.StringVar(&o.Tenant, "tenant", "bench", "tenant of the bench events")
	f.IntVar(&o.Agents, "agents", 16, "agents to spread events over")
	f.BoolVar(&embedded, "embedded", true, "run against an embedded pipeline in a temporary directory")
	f.BoolVar(&asJSON, "json", false, "print the result as JSON")
	f.StringVar(&cpuProf, "cpuprofile", "", "write a CPU profile of the whole run (embedded pipeline included) to this file")
	cf := newConfigFlags(f)
	cf.common()
	cf.stage()
	cf.redis()
	cf.audit()
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		p, err := newProcess(cmd, "escai-bench", cf)
		if err != nil {
			return err
		}
		ctx, stop := signalContext(cmd)
		defer stop()
		var (
			nc  *nats.Conn
			rdb *redis.Client
		)
		if embedded {
			if len(p.cfg.SecretKey) == 0 {
				// Measure the pipeline as it runs with a key: records sealed.
				key := make([]byte, 32)
				if _, err := rand.Read(key); err != nil {
					return err
				}
				p.cfg.SecretKey = key
			}
			dir, err := os.MkdirTemp("", "escai-bench-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			srv, err := broker.Start(ctx, broker.Config{ServerName: "escai-bench", Port: -1, StoreDir: filepath.Join(dir, "nats")})
			if err != nil {
				return err
			}
			defer srv.Shutdown()
			red, err := redisx.StartProcess(ctx, filepath.Join(dir, "redis"), redisx.WithAppendOnly(false))
			if err != nil {
				return err
			}
			defer func() { _ = red.Stop(context.Background()) }()
			if rdb, err = redisx.Connect(ctx, red.URL); err != nil {
				return err
			}
			defer rdb.Close()
			connect := func(name string) (*nats.Conn, error) { return srv.Connect(nats.Name(name)) }
			pl, err := pipeline.Start(ctx, p.env, connect, rdb)
			if err != nil {
				return err
			}
			defer func() { _ = pl.Drain(context.Background()) }()
			if nc, err = srv.Connect(nats.Name("escai-bench")); err != nil {
				return err
			}
		} else {
			if nc, err = connectNATS(ctx, p.cfg, "escai-bench"); err != nil {
				return err
			}
			if rdb, err = redisx.Connect(ctx, p.cfg.RedisURL); err != nil {
				return err
			}
			defer rdb.Close()
		}
		defer nc.Close()

		if err := provisionBenchTenant(ctx, p, nc, o.Tenant); err != nil {
			return err
		}
		if cpuProf != "" {
			pf, err := os.OpenFile(cpuProf, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
			if err != nil {
				return err
			}
			defer pf.Close()
			if err := pprof.StartCPUProfile(pf); err != nil {
				return err
			}
			defer pprof.StopCPUProfile()
		}
		progress := progressPrinter(cmd.ErrOrStderr())
		res, err := bench.Run(ctx, nc, rdb, o, progress)
		if err != nil {
			return err
		}
		return printBench(cmd.OutOrStdout(), res, asJSON)
	}
	return cmd
}

// progressPrinter rewrites one status line on a terminal and stays silent
// otherwise, so piped output is only the result.
func progressPrinter(w io.Writer) func(bench.Progress) {
	f, ok := w.(*os.File)
	if !ok || !isTerminal(f) {
		return nil
	}
	return func(p bench.Progress) {
		fmt.Fprintf(w, "\r%6.1fs  published %-9d audited %-9d indexed %-9d", p.Elapsed.Seconds(), p.Published, p.Audited, p.Indexed)
	}
}

func printBench(w io.Writer, r *bench.Result, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	_, err := fmt.Fprintf(w, `
events            %d × %d B
published         %.0f events/s  (%.2fs)
end to end        %.0f events/s  (first publish → last indexed, %.2fs)
latency (publish → stored in ESCAI_AUDIT)
  p50 %.2f ms   p90 %.2f ms   p99 %.2f ms   p99.9 %.2f ms   max %.2f ms   mean %.2f ms
`, r.Events, r.SizeBytes, r.PublishPerSec, r.PublishSeconds, r.EventsPerSecond, r.ElapsedSeconds,
		r.Latency.P50, r.Latency.P90, r.Latency.P99, r.Latency.P999, r.Latency.Max, r.Latency.Mean)
	return err
}

// provisionBenchTenant creates the tenant's clean stream before the load
// starts and waits until the audit writer pulls from it, so the figures
// describe the steady state rather than the first sight of a tenant.
func provisionBenchTenant(ctx context.Context, p *process, nc *nats.Conn, tenant string) error {
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	if _, err := p.env.Defs.EnsureTenant(ctx, js, tenant, p.env.Overrides()); err != nil {
		return err
	}
	stream, _ := events.CleanStream(tenant)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c, err := js.Consumer(ctx, stream, auditwriter.Consumer)
		if err == nil && c.CachedInfo().NumWaiting > 0 {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("bench: no audit writer is reading %s", stream)
}

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }
