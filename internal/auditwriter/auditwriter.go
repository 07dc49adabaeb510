// Package auditwriter owns the last stage: it reads every tenant's clean
// stream (ESCAI_CLEAN_<tenant>, discovered as tenants appear) and
// ESCAI_SECURITY, appends each event to ESCAI_AUDIT on its partition subject
// escai.audit.<p>, and indexes it in Redis (tenant, agent, type, actor, time,
// event id) before the input is acked. Without Options.Sealing a record is
// the clean event as stored, one message each; with it, a sealed record of
// pkg/security/audit (hash chain, MAC, optional encryption, signed
// checkpoints on escai.audit.checkpoint.<p>; see Sealer), stored in bundles
// of a partition's consecutive records, each bundle fenced by the stream's
// expected last sequence, under the log's lease. The index is a cache of
// the stream: rebuilt when Redis loses it (IndexEpochKey, Reindex), and
// every query re-checks the records it returns.
package auditwriter

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"github.com/escai-framework/escai/internal/stage"
	"github.com/escai-framework/escai/pkg/events"
)

// Consumer is the durable name the writer uses on every stream it reads.
const Consumer = "audit-writer"

// Record headers on ESCAI_AUDIT messages.
const (
	HeaderTenant       = "Escai-Tenant"
	HeaderAgent        = "Escai-Agent"
	HeaderEventID      = "Escai-Event-Id"
	HeaderSourceStream = "Escai-Source-Stream"
	HeaderSourceSeq    = "Escai-Source-Sequence"
	HeaderEventTime    = "Escai-Event-Time-Ms" // event time, Unix milliseconds
	HeaderEventType    = "Escai-Event-Type"
	// HeaderActor is the record's actor as a blind index (audit.DerivedKeys
	// BlindIndex of kind "actor"), never the identity itself; sealed
	// records only (see ActorOf).
	HeaderActor = "Escai-Actor"
	// HeaderBundleSlot is never stored: a sealed input's future (Msg)
	// shows its record with the headers of a record stored alone plus its
	// slot in the bundle that holds it (see RecordRef).
	HeaderBundleSlot = "Escai-Bundle-Slot"
)

// TenantIndexKey is the Redis sorted set of a tenant's audit records:
// score = event time in Unix milliseconds, member = where the record is
// stored (RecordRef: "<seq>:<slot>" in a bundle, "<seq>" alone).
func TenantIndexKey(tenant string) string { return "escai:audit:t:" + tenant }

// AgentIndexKey is the Redis sorted set of one agent's records, scored and
// keyed like TenantIndexKey.
func AgentIndexKey(tenant, agent string) string { return "escai:audit:t:" + tenant + ":agent:" + agent }

// TypeIndexKey is the Redis sorted set of a tenant's records of one event
// type, scored and keyed like TenantIndexKey.
func TypeIndexKey(tenant, eventType string) string {
	return "escai:audit:t:" + tenant + ":type:" + eventType
}

// ActorIndexKey is the Redis sorted set of a tenant's records caused by one
// actor, by the actor's blind index; scored and keyed like TenantIndexKey.
func ActorIndexKey(tenant, actorRef string) string {
	return "escai:audit:t:" + tenant + ":actor:" + actorRef
}

// EventIndexKey is the Redis hash of a tenant's records by "<agent>/<id>",
// value = where the record is stored (RecordRef).
func EventIndexKey(tenant string) string { return "escai:audit:ev:" + tenant }

// Partition maps an event's tenant and agent to its audit partition, so one
// agent's records always form one ordered chain.
func Partition(tenant, agent string, partitions int) int {
	h := xxhash.New()
	_, _ = h.WriteString(tenant)
	_, _ = h.WriteString("/")
	_, _ = h.WriteString(agent)
	return int(h.Sum64() % uint64(partitions))
}

// Options configure a Writer.
type Options struct {
	Partitions int           // audit partitions, ≥ 1
	Limits     events.Limits // decoder limits
	Batch      int
	Workers    int
	// Discover is how often the clean streams are listed. Default 1s.
	Discover time.Duration
	// IndexTimeout bounds one Redis pipeline; it runs on a detached context
	// so a shutdown cannot cut an index write in half. Default 5s.
	IndexTimeout time.Duration
	// Sealing, when set, writes sealed audit records (hash chain, MAC,
	// optional encryption; see Sealer) instead of the raw clean event.
	// Nil keeps raw records.
	Sealing *SealingOptions
	// Retention, when set, trims index entries of events older than it
	// (TrimIndex) at start and every TrimEvery: the index follows the
	// stream's max age.
	Retention time.Duration
	// TrimEvery is how often the index is trimmed. Default 1h.
	TrimEvery time.Duration
	// IndexCheckEvery is how often the writer checks that Redis still
	// holds the index (IndexEpochKey) and rebuilds it when not. Default 5s.
	IndexCheckEvery time.Duration
	// FollowKeys loads every later change of the AUDIT_KEYS bucket into
	// Sealing.Keys: a tenant shredded by `escai audit shred` loses its
	// keys in the running writer too, and keys created by another writer
	// become readable.
	FollowKeys bool
}

// Writer runs one stage runner per clean stream plus one on ESCAI_SECURITY.
type Writer struct {
	js      jetstream.JetStream
	rdb     *redis.Client
	opts    Options
	log     *zap.Logger
	metrics *stage.Metrics
	sealer  *Sealer // nil without Options.Sealing

	mu        sync.Mutex
	runners   map[string]*stage.Runner
	stopping  bool
	stop      chan struct{}
	kick      chan struct{} // a stream was created: discover now
	loopDone  chan struct{}
	indexDone chan struct{}
	advisory  *nats.Subscription
	keyWatch  jetstream.KeyWatcher
}

// Start binds the security stream and every clean stream present, then keeps
// discovering new tenants' streams until Drain.
func Start(ctx context.Context, js jetstream.JetStream, rdb *redis.Client, opts Options, log *zap.Logger, metrics *stage.Metrics) (*Writer, error) {
	if opts.Partitions < 1 {
		return nil, fmt.Errorf("auditwriter: Partitions must be ≥ 1, got %d", opts.Partitions)
	}
	if opts.Discover == 0 {
		opts.Discover = time.Second
	}
	if opts.IndexTimeout == 0 {
		opts.IndexTimeout = 5 * time.Second
	}
	if opts.TrimEvery <= 0 {
		opts.TrimEvery = time.Hour
	}
	if opts.IndexCheckEvery <= 0 {
		opts.IndexCheckEvery = 5 * time.Second
	}
	w := &Writer{
		js: js, rdb: rdb, opts: opts, log: log, metrics: metrics,
		runners:   map[string]*stage.Runner{},
		stop:      make(chan struct{}),
		kick:      make(chan struct{}, 1),
		loopDone:  make(chan struct{}),
		indexDone: make(chan struct{}),
	}
	if opts.Sealing != nil {
		so := *opts.Sealing
		if so.Logger == nil {
			so.Logger = log
		}
		s, err := NewSealer(js, so, opts.Partitions)
		if err != nil {
			return nil, err
		}
		w.sealer = s
		if opts.FollowKeys && so.Keys != nil {
			kw, err := FollowKeys(ctx, js, so.Keys, log)
			if err != nil {
				return nil, err
			}
			w.keyWatch = kw
		}
		// One active writer per log: a standby waits here until the
		// active one stops (its lease is released or expires).
		if err := s.AwaitLease(ctx); err != nil {
			s.Close()
			if w.keyWatch != nil {
				_ = w.keyWatch.Stop()
			}
			return nil, fmt.Errorf("auditwriter: %w", err)
		}
	}
	// An index that lost its data (Redis restarted empty) or fell behind
	// is rebuilt from the stream before new records are indexed; while the
	// writer runs, indexLoop keeps checking (Redis can lose it again).
	rebuild, err := w.ensureIndex(ctx)
	if err != nil {
		return nil, fmt.Errorf("auditwriter: check the index: %w", err)
	}
	if err := w.bind(ctx, events.StreamSecurity); err != nil {
		return nil, err
	}
	// A new tenant's first events should not wait for the next tick: the
	// broker announces every stream it creates.
	sub, err := js.Conn().Subscribe("$JS.EVENT.ADVISORY.STREAM.CREATED."+events.StreamCleanPrefix+"*", func(*nats.Msg) {
		select {
		case w.kick <- struct{}{}:
		default:
		}
	})
	if err != nil {
		return nil, fmt.Errorf("auditwriter: subscribe to stream advisories: %w", err)
	}
	w.advisory = sub
	go w.loop()
	go w.indexLoop(rebuild)
	if err := w.discover(ctx); err != nil {
		_ = w.Drain(ctx)
		return nil, err
	}
	return w, nil
}

func (w *Writer) loop() {
	defer close(w.loopDone)
	t := time.NewTicker(w.opts.Discover)
	defer t.Stop()
	var trim <-chan time.Time
	if w.opts.Retention > 0 {
		w.trim()
		tt := time.NewTicker(w.opts.TrimEvery)
		defer tt.Stop()
		trim = tt.C
	}
	for {
		select {
		case <-w.stop:
			return
		case <-trim:
			w.trim()
		case <-w.kick:
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := w.discover(ctx); err != nil {
				w.log.Warn("audit writer: discovering clean streams failed", zap.Error(err))
			}
			cancel()
		}
	}
}

// ensureIndex brings the index up to the stream at start: the records
// after the last one indexed when the index is complete; otherwise the
// whole stream is rebuilt in the background by indexLoop (new records are
// indexed meanwhile), so a large stream does not hold the start up.
func (w *Writer) ensureIndex(ctx context.Context) (rebuild bool, err error) {
	complete, err := IndexComplete(ctx, w.rdb)
	if err != nil || !complete {
		return !complete, err
	}
	from, err := IndexBehind(ctx, w.js, w.rdb)
	if err != nil || from == 0 {
		return false, err
	}
	n, err := Reindex(ctx, w.js, w.rdb, from, nil)
	if err != nil {
		return false, err
	}
	if n > 0 {
		w.log.Info("audit index was behind the stream; caught up", zap.Uint64("records", n), zap.Uint64("from_seq", from))
	}
	return false, nil
}

// indexLoop rebuilds the index from the stream whenever it is not known
// complete: at start when ensureIndex says so, and whenever a check
// (every IndexCheckEvery) finds IndexEpochKey gone because Redis lost its
// data. New records go on being indexed meanwhile.
func (w *Writer) indexLoop(rebuildNow bool) {
	defer close(w.indexDone)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-w.stop
		cancel()
	}()
	t := time.NewTicker(w.opts.IndexCheckEvery)
	defer t.Stop()
	check := rebuildNow
	for {
		if check {
			w.rebuildIfLost(ctx)
		}
		select {
		case <-w.stop:
			return
		case <-t.C:
			check = true
		}
	}
}

func (w *Writer) rebuildIfLost(ctx context.Context) {
	complete, err := IndexComplete(ctx, w.rdb)
	if err != nil || complete {
		if err != nil && ctx.Err() == nil {
			w.log.Warn("audit index check failed; trying again", zap.Error(err))
		}
		return
	}
	n, err := RebuildIndex(ctx, w.js, w.rdb, nil)
	switch {
	case errors.Is(err, ErrRebuildNotNeeded):
	case err != nil:
		if ctx.Err() == nil {
			w.log.Warn("audit index rebuild failed; trying again", zap.Error(err))
		}
	case n == 0:
		w.log.Info("audit index complete (nothing stored yet)")
	default:
		w.log.Warn("audit index was not complete (new, or Redis lost its data); rebuilt from the stream", zap.Uint64("records", n))
	}
}

// trim removes index entries older than the retention.
func (w *Writer) trim() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	n, err := TrimIndex(ctx, w.rdb, time.Now().Add(-w.opts.Retention))
	if err != nil {
		w.log.Warn("audit index not trimmed", zap.Error(err))
		return
	}
	if n > 0 {
		w.log.Info("audit index trimmed to the retention", zap.Int64("entries", n), zap.Duration("retention", w.opts.Retention))
	}
	// Event ids point at stream sequences: those below the stream's first
	// are records retention removed.
	st, err := w.js.Stream(ctx, events.StreamAudit)
	if err != nil {
		w.log.Warn("audit event index not trimmed", zap.Error(err))
		return
	}
	if first := st.CachedInfo().State.FirstSeq; first > 1 {
		if n, err := TrimEventIndex(ctx, w.rdb, first); err != nil {
			w.log.Warn("audit event index not trimmed", zap.Error(err))
		} else if n > 0 {
			w.log.Info("audit event index trimmed to the stream", zap.Int64("entries", n), zap.Uint64("first_seq", first))
		}
	}
}

func (w *Writer) discover(ctx context.Context) error {
	names := w.js.StreamNames(ctx, jetstream.WithStreamListSubject("escai.clean.>"))
	var errs []error
	for name := range names.Name() {
		if !strings.HasPrefix(name, events.StreamCleanPrefix) {
			continue
		}
		if err := w.bind(ctx, name); err != nil {
			errs = append(errs, err)
		}
	}
	if err := names.Err(); err != nil && !errors.Is(err, jetstream.ErrEndOfData) {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (w *Writer) bind(ctx context.Context, streamName string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopping || w.runners[streamName] != nil {
		return nil
	}
	cfg := stage.Config{Name: "audit-writer", Stream: streamName, Consumer: Consumer, Batch: w.opts.Batch, Workers: w.opts.Workers}
	p := NewProcessor(w.rdb, w.opts, streamName == events.StreamSecurity)
	p.sealer = w.sealer // one Sealer for every stream: one chain per partition
	r, err := stage.Start(ctx, w.js, p, cfg, w.log, w.metrics)
	if err != nil {
		return err
	}
	w.runners[streamName] = r
	return nil
}

// Failed delivers why the writer must stop (see Sealer.Failed); nil
// channel (never ready) without sealing.
func (w *Writer) Failed() <-chan error {
	if w.sealer == nil {
		return nil
	}
	return w.sealer.Failed()
}

// Sealer returns the writer's Sealer, nil when records are not sealed.
func (w *Writer) Sealer() *Sealer { return w.sealer }

// Ready reports whether every bound consumer and Redis are reachable.
func (w *Writer) Ready(ctx context.Context) error {
	if err := w.rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis: %w", err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, r := range w.runners {
		if err := r.Ready(ctx); err != nil {
			return err
		}
	}
	return nil
}

// Drain stops discovery and drains every runner.
func (w *Writer) Drain(ctx context.Context) error {
	w.mu.Lock()
	if !w.stopping {
		w.stopping = true
		close(w.stop)
		if w.advisory != nil {
			_ = w.advisory.Unsubscribe()
		}
	}
	runners := make([]*stage.Runner, 0, len(w.runners))
	for _, r := range w.runners {
		runners = append(runners, r)
	}
	w.mu.Unlock()
	if w.advisory != nil { // the loops run once the advisory is subscribed
		<-w.loopDone
		select { // a rebuild stops with w.stop; a broker gone away must not hold the drain
		case <-w.indexDone:
		case <-ctx.Done():
		}
	}

	var errs []error
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, r := range runners {
		wg.Go(func() {
			if err := r.Drain(ctx); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if w.sealer != nil {
		// No input is processed any more: anchor every partition's tail.
		if err := w.sealer.Flush(ctx); err != nil {
			errs = append(errs, err)
		}
		w.sealer.Close() // releases the log's lease
	}
	if w.keyWatch != nil {
		_ = w.keyWatch.Stop()
	}
	return errors.Join(errs...)
}

// Processor turns one clean or security event into one audit record and
// indexes a stored batch in Redis. The Writer runs one per stream; it is
// exported so the stage conformance suite can run it alone.
type Processor struct {
	rdb      *redis.Client
	opts     Options
	security bool
	sealer   *Sealer // nil: raw records
}

var (
	_ stage.Processor = (*Processor)(nil)
	_ stage.Committer = (*Processor)(nil)
)

// NewProcessor returns the processor for a clean stream, or for
// ESCAI_SECURITY when security is true (its subjects are not event
// subjects, so only the envelope is checked).
func NewProcessor(rdb *redis.Client, opts Options, security bool) *Processor {
	if opts.IndexTimeout == 0 {
		opts.IndexTimeout = 5 * time.Second
	}
	if opts.Partitions < 1 {
		opts.Partitions = 1
	}
	return &Processor{rdb: rdb, opts: opts, security: security}
}

// NewSealingProcessor returns a processor that writes sealed records with
// s (see Sealer). Every processor that can see events of one partition
// must share one Sealer; opts.Sealing is ignored here, s carries it.
func NewSealingProcessor(rdb *redis.Client, opts Options, security bool, s *Sealer) *Processor {
	p := NewProcessor(rdb, opts, security)
	p.sealer = s
	return p
}

// Process implements stage.Processor.
func (p *Processor) Process(ctx context.Context, in *stage.Message) ([]stage.Output, error) {
	var (
		ev  *events.Envelope
		err error
	)
	if p.security {
		ev, err = events.Decode(in.Data, p.opts.Limits)
	} else {
		ev, _, err = events.DecodeFromSubject(in.Subject, in.Data, p.opts.Limits)
	}
	if err != nil {
		return nil, stage.Permanent(events.Code(err), events.FieldOf(err), err)
	}
	part := Partition(ev.Tenant, ev.AgentID, p.opts.Partitions)
	if p.sealer != nil {
		out, err := p.sealer.seal(ctx, in, ev, part)
		if err != nil {
			return nil, err
		}
		return []stage.Output{out}, nil
	}
	return []stage.Output{{
		Subject: events.AuditSubject(part),
		Data:    in.Data,
		Header:  recordHeader(in, ev),
		MsgID:   "audit:" + in.Stream + ":" + ev.Tenant + ":" + ev.AgentID + ":" + ev.ID,
	}}, nil
}

// recordHeader is the header of every audit record, raw or sealed: what
// the index is built from (indexBatch) and what a restore remembers
// redeliveries by (the source position).
//
// It is built on every record, so its values share one backing array (two
// allocations instead of eight) and the map has room for the actor and the
// fence header the committer adds. The names are already canonical.
func recordHeader(in *stage.Message, ev *events.Envelope) nats.Header {
	v := &[7]string{
		ev.Tenant, ev.AgentID, ev.ID, in.Stream,
		strconv.FormatUint(in.Sequence, 10), strconv.FormatInt(ev.Time.UnixMilli(), 10), ev.Type,
	}
	h := make(nats.Header, 10)
	h[HeaderTenant] = v[0:1:1]
	h[HeaderAgent] = v[1:2:2]
	h[HeaderEventID] = v[2:3:3]
	h[HeaderSourceStream] = v[3:4:4]
	h[HeaderSourceSeq] = v[4:5:5]
	h[HeaderEventTime] = v[5:6:6]
	h[HeaderEventType] = v[6:7:7]
	return h
}

// Commit indexes a batch of stored records in one Redis pipeline. Members
// are audit sequences, which the broker returns unchanged for a deduplicated
// republish, so a redelivered batch indexes to the same entries.
func (p *Processor) Commit(ctx context.Context, batch []stage.Stored) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.opts.IndexTimeout)
	defer cancel()
	pipe := p.rdb.Pipeline()
	var idx indexBatch
	var last uint64
	for _, s := range batch {
		if len(s.Acks) != 1 {
			return fmt.Errorf("auditwriter: %d PubAcks for one record", len(s.Acks))
		}
		seq := s.Acks[0].Sequence
		if f, ok := s.Outputs[0].Future.(*recordFuture); ok {
			idx.add(f.rec.meta, float64(s.In.Stored.UnixMilli())) // sealed, in a bundle
		} else {
			idx.add(metaOfHeader(s.Outputs[0].Header, seq), float64(s.In.Stored.UnixMilli()))
		}
		last = max(last, seq)
	}
	idx.queue(ctx, pipe)
	raiseLastIndexed.Eval(ctx, pipe, []string{LastIndexedKey}, last)
	_, err := pipe.Exec(ctx)
	return err
}
