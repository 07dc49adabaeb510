// Package pipeline wires the stages into a running pipeline: it owns the
// start-up order (streams applied, then ingest, pii-worker, audit writer),
// one NATS connection per stage so a slow stage cannot stall another's
// publishing, and the shutdown order. The separate service binaries start
// one component each through the same functions; `escai dev`, `escai bench`
// and the end-to-end tests start all of them in one process.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"
	"golang.org/x/mod/sumdb/note"

	"github.com/escai-framework/escai/internal/auditwriter"
	"github.com/escai-framework/escai/internal/broker"
	"github.com/escai-framework/escai/internal/ingest"
	"github.com/escai-framework/escai/internal/piiworker"
	"github.com/escai-framework/escai/internal/stage"
	"github.com/escai-framework/escai/pkg/events"
	"github.com/escai-framework/escai/pkg/security/audit"
	"github.com/escai-framework/escai/pkg/security/config"
	"github.com/escai-framework/escai/pkg/security/pii"
	"github.com/escai-framework/escai/pkg/security/validate"
	"github.com/escai-framework/escai/streams"
)

// Component is a started stage: ready checks for /readyz and a drain for
// shutdown.
type Component interface {
	Ready(ctx context.Context) error
	Drain(ctx context.Context) error
}

// Env is what every component needs, built once per process.
type Env struct {
	Config  *config.Config
	Log     *zap.Logger
	Metrics *stage.Metrics
	Defs    *broker.Definitions
	// Registerer receives the instruments of components other than the
	// stage runtime (HTTP ingest).
	Registerer prometheus.Registerer

	rateOnce sync.Once
	rate     *ingest.RateLimiter

	validator        *validate.Validator
	validatorMetrics *ingest.Metrics
	masker           *pii.Masker
	piiMetrics       *piiworker.Metrics
}

// NewEnv loads the stream definitions and registers the stage metrics.
func NewEnv(cfg *config.Config, log *zap.Logger, reg prometheus.Registerer) (*Env, error) {
	defs, err := broker.LoadDefinitions(streams.FS)
	if err != nil {
		return nil, err
	}
	v, err := NewValidator(cfg)
	if err != nil {
		return nil, err
	}
	m, err := NewMasker(cfg)
	if err != nil {
		return nil, err
	}
	return &Env{
		Config: cfg, Log: log, Metrics: stage.NewMetrics(reg), Defs: defs, Registerer: reg,
		validator: v, validatorMetrics: ingest.NewMetrics(reg),
		masker: m, piiMetrics: piiworker.NewMetrics(reg),
	}, nil
}

// NewMasker builds the PII detector and masker from configuration: the
// sensitivity, the custom patterns file (compiled now, so a bad file fails
// start-up), and, when a secret key is set, the keys of the hash and
// encrypt strategies derived from it.
func NewMasker(cfg *config.Config) (*pii.Masker, error) {
	pc := pii.Config{Sensitivity: cfg.PIISensitivity, Allow: splitList(cfg.PIIAllow), Exclude: splitList(cfg.PIIExclude)}
	for _, kv := range splitList(cfg.PIIStrategies) {
		typ, strategy, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, fmt.Errorf("ESCAI_PII_STRATEGIES: %q is not TYPE=strategy", kv)
		}
		if pc.Strategies == nil {
			pc.Strategies = map[string]pii.Strategy{}
		}
		pc.Strategies[strings.TrimSpace(typ)] = pii.Strategy(strings.TrimSpace(strategy))
	}
	if cfg.PIIPatternsFile != "" {
		raw, err := os.ReadFile(cfg.PIIPatternsFile)
		if err != nil {
			return nil, fmt.Errorf("pii patterns: %w", err)
		}
		if pc.Custom, err = pii.ParsePatterns(raw); err != nil {
			return nil, fmt.Errorf("pii patterns %s: %w", cfg.PIIPatternsFile, err)
		}
	}
	if key := PIIKey(cfg); len(key) > 0 {
		keys, err := pii.KeysFromSecret(key)
		if err != nil {
			return nil, err
		}
		pc.Keys = keys
	}
	d, err := pii.NewDetector(pc)
	if err != nil {
		return nil, err
	}
	return pii.NewMasker(d, pc)
}

// NewValidator builds the field-aware validator from configuration: the
// level, the event limits, and the policy file (custom rules, field kinds,
// allowed roots, value limits), compiled now so a bad file fails start-up
// with its line and reason.
func NewValidator(cfg *config.Config) (*validate.Validator, error) {
	vc := validate.DefaultConfig(cfg.ValidationLevel)
	vc.Limits.MaxEventBytes = cfg.MaxEventBytes
	vc.Limits.MaxDepth = cfg.MaxEventDepth
	if cfg.ValidationRulesFile != "" {
		f, err := os.Open(cfg.ValidationRulesFile)
		if err != nil {
			return nil, fmt.Errorf("validation rules: %w", err)
		}
		defer f.Close()
		policy, err := validate.LoadPolicy(f, cfg.ValidationRulesFile)
		if err != nil {
			return nil, err
		}
		policy.ApplyTo(&vc)
	}
	return validate.New(vc)
}

// splitList splits a comma-separated setting, dropping empty items.
func splitList(s string) []string {
	var out []string
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// IngestProcessor is the ingest processor of the NATS path (rate limited)
// or, with http set, of HTTP ingest, whose handler takes the rate token.
func (e *Env) IngestProcessor(http bool) *ingest.Processor {
	opts := []ingest.Option{
		ingest.WithValidator(e.validator, string(e.Config.ValidationLevel)),
		ingest.WithMetrics(e.validatorMetrics),
	}
	if http {
		opts = append(opts, ingest.WithService("ingest-http"))
	} else {
		opts = append(opts, ingest.WithRateLimiter(e.RateLimiter()))
	}
	return ingest.New(e.Limits(), opts...)
}

// Overrides turns configuration into stream overrides, so one set of
// definitions serves a single node and a replicated cluster.
func (e *Env) Overrides() broker.Overrides {
	return broker.Overrides{
		Replicas:       e.Config.StreamReplicas,
		AuditRetention: time.Duration(e.Config.AuditRetentionDays) * 24 * time.Hour,
		MaxAckPending:  e.Config.MaxAckPending,
	}
}

// Limits are the decoder limits from configuration.
func (e *Env) Limits() events.Limits {
	return events.Limits{MaxBytes: e.Config.MaxEventBytes, MaxDepth: e.Config.MaxEventDepth}
}

// NewJetStream wraps a connection with the publishing limits the stages use:
// bounded async publishes, so a stalled broker pushes back instead of
// growing memory.
func (e *Env) NewJetStream(nc *nats.Conn) (jetstream.JetStream, error) {
	return jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(max(e.Config.MaxAckPending, 256)))
}

// ApplyStreams creates or updates every stream and consumer.
func (e *Env) ApplyStreams(ctx context.Context, js jetstream.JetStream) ([]broker.Result, error) {
	return e.Defs.Apply(ctx, js, e.Overrides())
}

// ApplyStreamsWaiting is ApplyStreams for a service starting next to its
// broker: a JetStream cluster that is still electing its leader answers
// with timeouts and "temporarily unavailable", so transient failures are
// retried with back-off until ctx or wait runs out. A definition the server
// refuses (an immutable field, bad overrides) fails at once.
func (e *Env) ApplyStreamsWaiting(ctx context.Context, js jetstream.JetStream, wait time.Duration) ([]broker.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	delay := 250 * time.Millisecond
	for {
		res, err := e.ApplyStreams(ctx, js)
		if err == nil || permanentApplyError(err) {
			return res, err
		}
		e.Log.Info("streams not applied yet; retrying", zap.Error(err), zap.Duration("in", delay))
		select {
		case <-ctx.Done():
			return res, fmt.Errorf("apply streams (gave up after %s): %w", wait, err)
		case <-time.After(delay):
		}
		delay = min(2*delay, 5*time.Second)
	}
}

func permanentApplyError(err error) bool {
	for _, p := range []error{broker.ErrImmutableField, broker.ErrInvalidOverrides, broker.ErrInvalidDefinition, broker.ErrInvalidTenant} {
		if errors.Is(err, p) {
			return true
		}
	}
	return false
}

func (e *Env) stageConfig(base stage.Config) stage.Config {
	base.Batch = e.Config.StageBatch
	base.Workers = e.Config.StageWorkers
	return base
}

// RateLimiter is the per-tenant and per-agent token bucket from
// configuration, built once per process and shared by the NATS and HTTP
// paths so a tenant cannot double its rate by using both.
func (e *Env) RateLimiter() *ingest.RateLimiter {
	e.rateOnce.Do(func() {
		c := e.Config
		e.rate = ingest.NewRateLimiter(float64(c.RateTenant), c.RateTenantBurst, float64(c.RateAgent), c.RateAgentBurst)
	})
	return e.rate
}

// StartIngest starts the ingest stage on js.
func (e *Env) StartIngest(ctx context.Context, js jetstream.JetStream) (*stage.Runner, error) {
	return stage.Start(ctx, js, e.IngestProcessor(false), e.stageConfig(ingest.Stage), e.Log, e.Metrics)
}

// StartPIIWorker starts the PII stage on js; it creates tenants' clean
// streams as they appear.
func (e *Env) StartPIIWorker(ctx context.Context, js jetstream.JetStream) (*stage.Runner, error) {
	ensure := func(ctx context.Context, tenant string) error {
		_, err := e.Defs.EnsureTenant(ctx, js, tenant, e.Overrides())
		return err
	}
	p := piiworker.New(e.Limits(), e.masker, e.Config.PIIAutoMask, ensure, e.piiMetrics)
	return stage.Start(ctx, js, p, e.stageConfig(piiworker.Stage), e.Log, e.Metrics)
}

// StartAuditWriter starts the audit writer on js, indexing into rdb.
func (e *Env) StartAuditWriter(ctx context.Context, js jetstream.JetStream, rdb *redis.Client) (*auditwriter.Writer, error) {
	opts := auditwriter.Options{
		Partitions: e.Config.AuditPartitions,
		Limits:     e.Limits(),
		Batch:      e.Config.StageBatch,
		Workers:    e.Config.StageWorkers,
		Retention:  time.Duration(e.Config.AuditRetentionDays) * 24 * time.Hour,
	}
	// With a secret key, records are sealed: hash-chained per partition,
	// MACed, checkpointed, and encrypted when ESCAI_AUDIT_ENCRYPT is set,
	// under data keys kept (wrapped) in the AUDIT_KEYS bucket.
	if len(e.Config.SecretKey) > 0 {
		keys, err := audit.DeriveKeys(e.Config.SecretKey)
		if err != nil {
			return nil, err
		}
		sealing := &auditwriter.SealingOptions{Master: e.Config.SecretKey, Encrypt: e.Config.AuditEncrypt, WriterID: writerID(), Replicas: e.Config.StreamReplicas}
		if len(e.Config.AuditSigningKey) > 0 {
			signer, vkey, err := audit.ParseSigner(string(e.Config.AuditSigningKey))
			if err != nil {
				return nil, fmt.Errorf("ESCAI_AUDIT_SIGNING_KEY: %w", err)
			}
			trusted, err := audit.TrustedKeys(vkey)
			if err != nil {
				return nil, err
			}
			sealing.CheckpointSigners, sealing.CheckpointVerifiers = []note.Signer{signer}, trusted
			e.Log.Info("audit checkpoints signed with ESCAI_AUDIT_SIGNING_KEY", zap.String("verifier_key", vkey))
		}
		if e.Config.AuditEncrypt {
			kek, err := AuditKEK(e.Config, keys)
			if err != nil {
				return nil, err
			}
			ring, err := auditwriter.OpenKeyRing(ctx, js, kek, e.Config.AuditTenantKeys, e.Config.StreamReplicas)
			if err != nil {
				return nil, err
			}
			sealing.Keys = ring
			opts.FollowKeys = true // shreds and keys of other writers reach this ring
		}
		opts.Sealing = sealing
	} else {
		e.Log.Warn("ESCAI_SECRET_KEY is not set: audit records are stored UNSEALED (no hash chain, MAC or encryption)")
	}
	return auditwriter.Start(ctx, js, rdb, opts, e.Log, e.Metrics)
}

// PIIKey is the key the PII hash and encrypt keys are derived from:
// ESCAI_PII_KEY when set, else ESCAI_SECRET_KEY; nil when neither is.
func PIIKey(cfg *config.Config) config.Secret {
	if len(cfg.PIIKey) > 0 {
		return cfg.PIIKey
	}
	return cfg.SecretKey
}

// AuditKEK is the key that wraps the audit data keys: derived from
// ESCAI_AUDIT_KEK when it is set, else from ESCAI_SECRET_KEY (keys).
func AuditKEK(cfg *config.Config, keys *audit.DerivedKeys) ([]byte, error) {
	if len(cfg.AuditKEK) == 0 {
		return keys.KEK, nil
	}
	k, err := audit.DeriveKeys(cfg.AuditKEK)
	if err != nil {
		return nil, fmt.Errorf("ESCAI_AUDIT_KEK: %w", err)
	}
	return k.KEK, nil
}

// writerID names this process in the records it seals.
func writerID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown"
	}
	return fmt.Sprintf("%s-%d", host, os.Getpid())
}

// Pipeline is every stage running in one process.
type Pipeline struct {
	Ingest *stage.Runner
	PII    *stage.Runner
	Audit  *auditwriter.Writer
	conns  []*nats.Conn
}

// Connector opens a new NATS connection for a named component.
type Connector func(name string) (*nats.Conn, error)

// Start applies the streams and starts all stages, each on its own
// connection from connect.
func Start(ctx context.Context, env *Env, connect Connector, rdb *redis.Client) (p *Pipeline, err error) {
	p = &Pipeline{}
	defer func() {
		if err != nil {
			_ = p.Drain(context.WithoutCancel(ctx))
		}
	}()
	js := func(name string) (jetstream.JetStream, error) {
		nc, err := connect(name)
		if err != nil {
			return nil, fmt.Errorf("connect %s: %w", name, err)
		}
		p.conns = append(p.conns, nc)
		return env.NewJetStream(nc)
	}
	admin, err := js("escai-provision")
	if err != nil {
		return nil, err
	}
	if _, err := env.ApplyStreams(ctx, admin); err != nil {
		return nil, err
	}
	ajs, err := js("audit-writer")
	if err != nil {
		return nil, err
	}
	if p.Audit, err = env.StartAuditWriter(ctx, ajs, rdb); err != nil {
		return nil, err
	}
	pjs, err := js("pii-worker")
	if err != nil {
		return nil, err
	}
	if p.PII, err = env.StartPIIWorker(ctx, pjs); err != nil {
		return nil, err
	}
	ijs, err := js("ingest")
	if err != nil {
		return nil, err
	}
	if p.Ingest, err = env.StartIngest(ctx, ijs); err != nil {
		return nil, err
	}
	return p, nil
}

// Ready reports the first stage that is not ready.
func (p *Pipeline) Ready(ctx context.Context) error {
	for _, c := range p.components() {
		if err := c.Ready(ctx); err != nil {
			return err
		}
	}
	return nil
}

// Drain stops the stages front to back, so each downstream stage gets the
// last outputs of the one before it in flight, then closes the connections.
func (p *Pipeline) Drain(ctx context.Context) error {
	var errs []error
	for _, c := range p.components() {
		if err := c.Drain(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	// The runners flushed their acks; nothing else is pending on these.
	for _, nc := range p.conns {
		nc.Close()
	}
	p.conns = nil
	return errors.Join(errs...)
}

func (p *Pipeline) components() []Component {
	var cs []Component
	if p.Ingest != nil {
		cs = append(cs, p.Ingest)
	}
	if p.PII != nil {
		cs = append(cs, p.PII)
	}
	if p.Audit != nil {
		cs = append(cs, p.Audit)
	}
	return cs
}

// Group is several components run as one service: ready when all are,
// drained in order (put the front door first).
type Group []Component

// Ready reports the first component that is not ready.
func (g Group) Ready(ctx context.Context) error {
	for _, c := range g {
		if err := c.Ready(ctx); err != nil {
			return err
		}
	}
	return nil
}

// Drain drains every component in order.
func (g Group) Drain(ctx context.Context) error {
	var errs []error
	for _, c := range g {
		if err := c.Drain(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
