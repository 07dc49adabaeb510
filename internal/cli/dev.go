package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/alicebob/miniredis/v2"
	"github.com/nats-io/nats.go"
	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/escai-framework/escai/internal/broker"
	"github.com/escai-framework/escai/internal/demo"
	"github.com/escai-framework/escai/internal/pipeline"
	"github.com/escai-framework/escai/internal/redisx"
	"github.com/escai-framework/escai/internal/telemetry"
	"github.com/escai-framework/escai/pkg/security/config"
)

type devOptions struct {
	host        string
	port        int
	monitorPort int
	redisPort   int
	demo        bool
	demoRate    float64
}

func newDev() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run the whole pipeline in one process: embedded NATS JetStream, Redis, and every stage",
		Long: `escai dev starts an embedded NATS JetStream server (file store under
<data-dir>/nats), a real redis-server from PATH on a free loopback port (data
under <data-dir>/redis; an in-process stand-in only when none is installed,
with a loud warning), applies the streams, and runs ingest, pii-worker and
the audit writer. It prints how to publish and watch with the nats CLI and
redis-cli. Ctrl-C drains every stage and stops.`,
		Args: cobra.NoArgs,
	}
	var o devOptions
	cmd.Flags().StringVar(&o.host, "nats-host", "127.0.0.1", "NATS listen host")
	cmd.Flags().IntVar(&o.port, "nats-port", 4222, "NATS listen port (-1 = free port)")
	cmd.Flags().IntVar(&o.monitorPort, "monitor-port", 8222, "NATS monitoring port (0 = off, -1 = free port)")
	cmd.Flags().BoolVar(&o.demo, "demo", false, "also publish a realistic stream of agent events")
	cmd.Flags().Float64Var(&o.demoRate, "demo-rate", 2, "demo events per second")
	cmd.Flags().IntVar(&o.redisPort, "redis-port", 6379, "redis-server port on 127.0.0.1 when free (0 = a free port)")
	cf := newConfigFlags(cmd.Flags())
	cf.common()
	cf.stage()
	cf.audit()
	cf.dataDir()
	cmd.RunE = func(cmd *cobra.Command, _ []string) error { return runDev(cmd, cf, o) }
	return cmd
}

// devRedis is the Redis escai dev runs: a real server, or the stand-in.
type devRedis struct {
	url  string
	real *redisx.Process
	mini *miniredis.Miniredis
}

func (r *devRedis) stop(ctx context.Context) {
	if r.real != nil {
		_ = r.real.Stop(ctx)
	}
	if r.mini != nil {
		r.mini.Close()
	}
}

// startDevRedis runs redis-server on port when it is free (the address the
// other commands default to, so `escai audit query` finds it), else on a
// free port.
func startDevRedis(ctx context.Context, dir string, port int, log *zap.Logger, stderr io.Writer) (*devRedis, error) {
	var opts []redisx.ProcessOption
	if port > 0 {
		if l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port))); err == nil {
			_ = l.Close()
			opts = append(opts, redisx.WithPort(port))
		} else {
			log.Info("redis port taken; using a free one", zap.Int("port", port))
		}
	}
	p, err := redisx.StartProcess(ctx, dir, opts...)
	if err != nil && len(opts) > 0 && !errors.Is(err, redisx.ErrRedisServerNotFound) {
		// The port was taken between the check and the start.
		log.Info("redis port taken; using a free one", zap.Int("port", port), zap.Error(err))
		p, err = redisx.StartProcess(ctx, dir)
	}
	if err == nil {
		return &devRedis{url: p.URL, real: p}, nil
	}
	if !errors.Is(err, redisx.ErrRedisServerNotFound) {
		return nil, err
	}
	m, merr := miniredis.Run()
	if merr != nil {
		return nil, errors.Join(err, merr)
	}
	const warning = `
!!! WARNING: redis-server is not installed. escai dev is using an IN-PROCESS
!!! Redis stand-in (miniredis): nothing is persisted and it is not Redis.
!!! Install the real one: apt-get install -y redis-server
`
	fmt.Fprint(stderr, warning)
	log.Warn("redis-server not found on PATH; using the in-process stand-in (miniredis), data is not persisted")
	return &devRedis{url: "redis://" + m.Addr() + "/0", mini: m}, nil
}

func runDev(cmd *cobra.Command, cf *configFlags, o devOptions) error {
	p, err := newProcess(cmd, "escai-dev", cf)
	if err != nil {
		return err
	}
	defer func() { _ = p.log.Sync() }()
	ctx, stop := signalContext(cmd)
	defer stop()
	keyHint := ""
	if len(p.cfg.SecretKey) == 0 {
		// Development without a configured key still seals its audit
		// trail, under a key of its own kept beside its data.
		key, path, err := devSecretKey(p.cfg.DataDir)
		if err != nil {
			return err
		}
		p.cfg.SecretKey = key
		keyHint = "ESCAI_SECRET_KEY_FILE=" + path + " "
		p.log.Info("no ESCAI_SECRET_KEY: using the development key file", zap.String("file", path))
	}

	srv, err := broker.Start(ctx, broker.Config{
		ServerName: "escai-dev",
		Host:       o.host,
		Port:       o.port,
		HTTPPort:   o.monitorPort,
		StoreDir:   filepath.Join(p.cfg.DataDir, "nats"),
	})
	if err != nil {
		return err
	}
	defer srv.Shutdown()

	red, err := startDevRedis(ctx, filepath.Join(p.cfg.DataDir, "redis"), o.redisPort, p.log, cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	defer red.stop(context.Background())
	rdb, err := redisx.Connect(ctx, red.url)
	if err != nil {
		return err
	}
	defer rdb.Close()

	connect := func(name string) (*nats.Conn, error) { return srv.Connect(nats.Name(name)) }
	pl, err := pipeline.Start(ctx, p.env, connect, rdb)
	if err != nil {
		return err
	}
	admin := telemetry.NewAdmin(p.cfg.HTTPAddr, p.reg, p.log)
	admin.AddReadiness("pipeline", pl.Ready)
	admin.AddReadiness("redis", func(ctx context.Context) error { return rdb.Ping(ctx).Err() })
	adminAddr, err := admin.Start()
	if err != nil {
		_ = pl.Drain(context.Background())
		return err
	}
	printDevBanner(cmd.OutOrStdout(), srv.ClientURL(), red, p.cfg.DataDir, adminAddr, keyHint)

	demoDone := make(chan error, 1)
	if o.demo {
		nc, err := srv.Connect(nats.Name("escai-demo"))
		if err != nil {
			return err
		}
		defer nc.Close()
		go func() { demoDone <- demo.Run(ctx, nc, o.demoRate, cmd.OutOrStdout()) }()
	} else {
		close(demoDone)
	}

	<-ctx.Done()
	fmt.Fprintln(cmd.OutOrStdout(), "\ndraining the pipeline…")
	if err := <-demoDone; err != nil && !errors.Is(err, context.Canceled) {
		p.log.Warn("demo stopped", zap.Error(err))
	}
	dctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	err = pl.Drain(dctx)
	_ = admin.Shutdown(dctx)
	return err
}

// devSecretKey loads, or creates with mode 0600, <dataDir>/secret.key: 32
// random bytes in hex, the same text ESCAI_SECRET_KEY_FILE accepts.
func devSecretKey(dataDir string) (config.Secret, string, error) {
	path := filepath.Join(dataDir, "secret.key")
	if b, err := os.ReadFile(path); err == nil {
		key, err := hex.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(key) < config.MinSecretKeyBytes {
			return nil, "", fmt.Errorf("%s is not a hex key of at least %d bytes", path, config.MinSecretKeyBytes)
		}
		return key, path, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, "", err
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, "", err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, "", err
	}
	if err := os.WriteFile(path, []byte(hex.EncodeToString(key)+"\n"), 0o600); err != nil {
		return nil, "", err
	}
	return key, path, nil
}

func printDevBanner(w io.Writer, natsURL string, red *devRedis, dataDir, adminAddr, keyHint string) {
	redisNote := "real redis-server, data under " + filepath.Join(dataDir, "redis")
	if red.mini != nil {
		redisNote = "IN-PROCESS STAND-IN (install redis-server for the real thing)"
	}
	redisHostPort := strings.TrimSuffix(strings.TrimPrefix(red.url, "redis://"), "/0")
	host, port, _ := strings.Cut(redisHostPort, ":")
	example := `{"specversion":"1.0","id":"evt-0001","source":"urn:escai:agent:agent-1","type":"escai.tool.call","time":"2026-12-04T10:00:00Z","datacontenttype":"application/json","tenant":"acme","agentid":"agent-1","data":{"gen_ai.tool.name":"sql","arguments":{"query":"SELECT 1"}}}`
	fmt.Fprintf(w, `
ESCAI dev pipeline is running (ingest → pii-worker → audit-writer).

  NATS    %[1]s   (JetStream store under %[2]s)
  Redis   %[3]s   (%[4]s)
  Admin   http://%[5]s/metrics   /livez   /readyz

Publish an agent event (natscli: go install github.com/nats-io/natscli/nats@v0.5.0):
  nats -s %[1]s pub escai.in.acme.agent-1.tool.call '%[6]s'

Watch it go through:
  nats -s %[1]s sub 'escai.clean.>'
  nats -s %[1]s stream view ESCAI_CLEAN_acme
  nats -s %[1]s stream view ESCAI_AUDIT
  nats -s %[1]s stream view ESCAI_REJECTED      # bad input, with the reason in headers
  redis-cli -h %[7]s -p %[8]s ZRANGE escai:audit:t:acme 0 -1 WITHSCORES
  %[9]sescai audit verify --nats-url %[1]s   # replays and checks the sealed audit chains
  %[9]sescai audit prove evt-0001 --nats-url %[1]s -o proof.json
  escai audit verify-proof proof.json --checkpoint-key "$(%[9]sescai audit checkpoint key)"

Ctrl-C drains every stage and stops.
`, natsURL, filepath.Join(dataDir, "nats"), red.url, redisNote, adminAddr, example, host, port, keyHint)
}
