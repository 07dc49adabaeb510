package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/escai-framework/escai/internal/pipeline"
	"github.com/escai-framework/escai/internal/redisx"
	"github.com/escai-framework/escai/internal/telemetry"
	"github.com/escai-framework/escai/pkg/security/config"
)

// Version is the build's version, set with -ldflags "-X ...cli.Version=v1.2.3".
var Version = "dev"

// drainTimeout bounds a graceful shutdown; what is not finished by then is
// left unacked and redelivered to another replica.
const drainTimeout = 30 * time.Second

// process is the telemetry and configuration one service process runs with.
type process struct {
	name string
	cfg  *config.Config
	log  *zap.Logger
	reg  *prometheus.Registry
	env  *pipeline.Env
}

func newProcess(cmd *cobra.Command, name string, cf *configFlags) (*process, error) {
	cfg, err := cf.load()
	if err != nil {
		return nil, err
	}
	log, err := telemetry.NewLogger(name, cfg.LogLevel, cmd.ErrOrStderr())
	if err != nil {
		return nil, err
	}
	reg := telemetry.NewRegistry(name, Version)
	env, err := pipeline.NewEnv(cfg, log, reg)
	if err != nil {
		return nil, err
	}
	return &process{name: name, cfg: cfg, log: log, reg: reg, env: env}, nil
}

// signalContext ends on SIGINT or SIGTERM: the start of a graceful drain.
func signalContext(cmd *cobra.Command) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
}

// startFunc starts a service's component on its connection.
type startFunc func(ctx context.Context, p *process, js jetstream.JetStream, rdb *redis.Client) (pipeline.Component, error)

// runService is the life of one service binary: configuration, NATS,
// streams applied, the component started, the admin endpoints served, then
// a drain on SIGTERM.
func runService(cmd *cobra.Command, name string, cf *configFlags, needsRedis bool, start startFunc) error {
	p, err := newProcess(cmd, name, cf)
	if err != nil {
		return err
	}
	defer func() { _ = p.log.Sync() }()
	ctx, stop := signalContext(cmd)
	defer stop()

	p.log.Info("starting", zap.String("version", Version), zap.Any("config", p.cfg.Redacted()))
	nc, err := connectNATS(ctx, p.cfg, name)
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := p.env.NewJetStream(nc)
	if err != nil {
		return err
	}
	if _, err := p.env.ApplyStreamsWaiting(ctx, js, time.Minute); err != nil {
		return fmt.Errorf("apply streams: %w", err)
	}
	var rdb *redis.Client
	if needsRedis {
		if rdb, err = redisx.Connect(ctx, p.cfg.RedisURL); err != nil {
			return err
		}
		defer rdb.Close()
	}
	comp, err := start(ctx, p, js, rdb)
	if err != nil {
		if ctx.Err() != nil {
			// Stopped while starting, e.g. an audit-writer standby waiting
			// for the lease: a clean stop, not a failure.
			p.log.Info("stopped before it started", zap.Error(err))
			return nil
		}
		return err
	}
	admin := telemetry.NewAdmin(p.cfg.HTTPAddr, p.reg, p.log)
	admin.AddReadiness("nats", natsReady(nc))
	admin.AddReadiness(name, comp.Ready)
	addr, err := admin.Start()
	if err != nil {
		_ = comp.Drain(context.Background())
		return err
	}
	p.log.Info("running", zap.String("admin", "http://"+addr))

	var failed <-chan error
	if f, ok := comp.(interface{ Failed() <-chan error }); ok {
		failed = f.Failed()
	}
	var fatal error
	select {
	case <-ctx.Done():
	case fatal = <-failed:
		p.log.Error("stopping", zap.Error(fatal))
	}
	p.log.Info("draining")
	dctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	err = comp.Drain(dctx)
	_ = admin.Shutdown(dctx)
	if derr := nc.Drain(); derr != nil && !errors.Is(derr, nats.ErrConnectionClosed) {
		err = errors.Join(err, derr)
	}
	p.log.Info("stopped", zap.Error(err))
	if fatal != nil {
		return errors.Join(fatal, err)
	}
	return err
}

func natsReady(nc *nats.Conn) telemetry.Check {
	return func(context.Context) error {
		if s := nc.Status(); s != nats.CONNECTED {
			return fmt.Errorf("nats connection %s", s)
		}
		return nil
	}
}

func serviceCommand(use, short string) (*cobra.Command, *configFlags) {
	cmd := &cobra.Command{
		Use:           use,
		Short:         short,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       Version,
	}
	cf := newConfigFlags(cmd.Flags())
	cf.common()
	return cmd, cf
}

// NewIngest is the ingest service.
func NewIngest() *cobra.Command {
	cmd, cf := serviceCommand("ingest", "Validate raw agent events from ESCAI_IN (and HTTPS POST /v1/events) into ESCAI_VALID or ESCAI_REJECTED")
	cf.stage()
	cf.str("ingest-http-addr", "ESCAI_INGEST_HTTP_ADDR", "listen address of HTTPS POST /v1/events (empty: off)")
	cf.str("jwks-file", "ESCAI_JWKS_FILE", "JWKS file of the keys that sign ingest bearer tokens")
	cf.str("jwks-url", "ESCAI_JWKS_URL", "JWKS URL of the keys that sign ingest bearer tokens")
	cf.str("jwt-issuer", "ESCAI_JWT_ISSUER", "required iss of ingest bearer tokens")
	cf.str("jwt-audience", "ESCAI_JWT_AUDIENCE", "required aud of ingest bearer tokens")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		return runService(cmd, "ingest", cf, false, func(ctx context.Context, p *process, js jetstream.JetStream, _ *redis.Client) (pipeline.Component, error) {
			r, err := p.env.StartIngest(ctx, js)
			if err != nil {
				return nil, err
			}
			h, err := p.env.StartHTTPIngest(ctx, js)
			if err != nil {
				_ = r.Drain(context.WithoutCancel(ctx))
				return nil, err
			}
			if h == nil {
				return r, nil
			}
			p.log.Info("HTTP ingest listening", zap.String("addr", h.Addr))
			return pipeline.Group{h, r}, nil // stop taking requests first
		})
	}
	return cmd
}

// NewPIIWorker is the PII stage service.
func NewPIIWorker() *cobra.Command {
	cmd, cf := serviceCommand("pii-worker", "Mask PII in ESCAI_VALID events into each tenant's ESCAI_CLEAN_<tenant> stream")
	cf.stage()
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		return runService(cmd, "pii-worker", cf, false, func(ctx context.Context, p *process, js jetstream.JetStream, _ *redis.Client) (pipeline.Component, error) {
			return p.env.StartPIIWorker(ctx, js)
		})
	}
	return cmd
}

// NewAuditWriter is the audit writer service.
func NewAuditWriter() *cobra.Command {
	cmd, cf := serviceCommand("audit-writer", "Append clean and security events to ESCAI_AUDIT and index them in Redis")
	cf.stage()
	cf.redis()
	cf.audit()
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		return runService(cmd, "audit-writer", cf, true, func(ctx context.Context, p *process, js jetstream.JetStream, rdb *redis.Client) (pipeline.Component, error) {
			return p.env.StartAuditWriter(ctx, js, rdb)
		})
	}
	return cmd
}

// NewAuthz is the auth service. It is not built yet: the command says so
// and fails, rather than run something that authorises nothing.
func NewAuthz() *cobra.Command {
	cmd, _ := serviceCommand("authz", "NATS auth-callout service and HTTPS auth API (not built yet)")
	cmd.RunE = func(*cobra.Command, []string) error {
		return errors.New("authz: the auth-callout service is not built yet; the broker runs without callout until it is (see the auth issue)")
	}
	return cmd
}

// Execute runs a command and turns its error into an exit code: 0 on
// success, the code of an ExitError, 1 otherwise.
func Execute(cmd *cobra.Command) int {
	err := cmd.Execute()
	if err == nil {
		return 0
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		if ee.Err != nil {
			fmt.Fprintf(cmd.ErrOrStderr(), "%s: %v\n", cmd.Name(), ee.Err)
		}
		return ee.Code
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "%s: %v\n", cmd.Name(), err)
	return 1
}

// ExitError carries a specific exit code (e.g. 1 for a tampered audit log,
// 2 for bad usage).
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }
