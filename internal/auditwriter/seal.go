package auditwriter

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
	"golang.org/x/mod/sumdb/note"

	"github.com/escai-framework/escai/internal/stage"
	"github.com/escai-framework/escai/pkg/events"
	"github.com/escai-framework/escai/pkg/security/audit"
	"github.com/escai-framework/escai/pkg/security/config"
)

// Headers of checkpoint messages. Records carry only the headers of
// Process: their partition is in the subject and their pseq in the record
// (fewer headers are measurably cheaper for the broker, ~8 %).
const (
	HeaderPartition = "Escai-Audit-Partition"
	// HeaderCheckpointSize is the tree size of a checkpoint message.
	HeaderCheckpointSize = "Escai-Audit-Checkpoint-Size"
	// HeaderCheckpointRecordSeq is the stream sequence of the last record a
	// checkpoint covers (pseq size-1): where a restoring writer starts.
	HeaderCheckpointRecordSeq = "Escai-Audit-Checkpoint-Record-Seq"
)

// logEvents are the types of the security events about the audit log
// itself (escai audit query, escai audit shred).
var logEvents = map[string]bool{
	"escai.security.audit_query": true,
	"escai.security.audit_shred": true,
}

// CodeAuditInvalidInput is the reject code of an event the audit library
// refuses to seal (audit.ErrInvalidInput).
const CodeAuditInvalidInput = "audit_invalid_input"

// Defaults of SealingOptions.
const (
	// DefaultRedeliveryWindow is how many stored records per partition a
	// Sealer remembers by source position, so that a redelivered input is
	// answered with its stored record instead of a second one.
	DefaultRedeliveryWindow = 4096
	// DefaultRestoreTimeout bounds reading a partition's records when a
	// Sealer restores its chain.
	DefaultRestoreTimeout = 2 * time.Minute
	// DefaultMaxRound is how many records one round of the committer
	// holds at most (all of them in flight at once).
	DefaultMaxRound = 2048
	// DefaultCheckpointInterval is the heartbeat: a partition whose newest
	// checkpoint is older gets one, even with no new records.
	DefaultCheckpointInterval = 30 * time.Second
	// DefaultBatchTimeout bounds the PubAcks of one round.
	DefaultBatchTimeout = 10 * time.Second
)

// SealingOptions turn on sealed records (pkg/security/audit record format
// v1) instead of the raw clean event. Nil Options.Sealing keeps raw records.
type SealingOptions struct {
	// Master is ESCAI_SECRET_KEY; the integrity key (record MAC) and the KEK
	// are derived from it with audit.DeriveKeys. Required (≥ 32 bytes).
	Master config.Secret
	// Encrypt seals bodies with AES-256-GCM under data keys of Keys.
	Encrypt bool
	// Keys is the data key ring used when Encrypt is set. Nil: a ring
	// under the derived KEK that lives only in this process (OpenKeyRing
	// gives one persisted in the AUDIT_KEYS bucket).
	Keys *audit.KeyRing
	// WriterID names this writer in every record and holds the log's
	// lease: unique per process (e.g. pod name and pid).
	WriterID string
	// Log is the log name of the origins "<Log>/p/<k>". Default "escai".
	Log string
	// RedeliveryWindow is how many records per partition are remembered
	// for redelivered inputs. Default DefaultRedeliveryWindow.
	RedeliveryWindow int
	// Now is the sealing clock; time.Now when nil.
	Now func() time.Time
	// CheckpointEvery is how many records a partition gets before the
	// Sealer publishes a signed checkpoint on CheckpointSubject(p), right
	// after the batch that reaches it. Default DefaultCheckpointEvery.
	CheckpointEvery int
	// CheckpointInterval is the heartbeat period (see
	// DefaultCheckpointInterval).
	CheckpointInterval time.Duration
	// CheckpointSigners sign the checkpoints. Default: the signer
	// DerivedKeys.CheckpointSigner(DefaultCheckpointKeyName) derived from
	// Master, the key `escai audit verify` trusts. In production give the
	// checkpointer its own key (see audit.DerivedKeys.CheckpointSigner).
	CheckpointSigners []note.Signer
	// CheckpointVerifiers check the partition's newest checkpoint when a
	// writer restores from it instead of replaying from pseq 0. Default:
	// the verifier of the derived signer when CheckpointSigners is empty;
	// none otherwise (full replay).
	CheckpointVerifiers note.Verifiers
	// MaxRound caps the records of one round. Default DefaultMaxRound.
	MaxRound int
	// LeaseTTL is how long the log's lease outlives its holder's last
	// renewal. Default DefaultLeaseTTL.
	LeaseTTL time.Duration
	// LeaseWait is how long the committer waits for a lease it lost
	// before the inputs are retried. Default 2×LeaseTTL.
	LeaseWait time.Duration
	// Replicas of the lease bucket (the streams' replica count).
	Replicas int
	// Logger gets conflicts, takeovers and lost leases. Nop when nil.
	Logger *zap.Logger
	// Publisher, when set, is the JetStream handle records are published
	// on: a connection of its own keeps the records' flow apart from the
	// consumers' deliveries and acks. Default: the stage's handle.
	Publisher jetstream.JetStream
}

// Sealer turns events into the sealed records of their partitions and
// stores them. All processors of a Writer share one Sealer, which owns the
// chain of every partition of its log.
//
// Flow. Process hands an input to the Sealer's queue and returns at once
// with a future (stage.Output.Future) that the stage runtime awaits before
// it indexes and acks. One committer goroutine takes everything queued (a
// round, up to MaxRound inputs), seals each partition's share with that
// partition's audit.Appender, and publishes it as one bundle (a run of
// consecutive records of the partition in one message; see
// audit.AppendBundle) asynchronously, bundles in order, each with
// Nats-Expected-Last-Sequence set to the stream sequence the bundle
// before it gets. While the Sealer is the only
// publisher to ESCAI_AUDIT those sequences are known in advance, so the
// whole round is in flight at once and the broker still checks every
// record: a record that would land anywhere but right after the one
// sealed before it is refused. Two writers can therefore never fork a
// partition, and no record can be stored out of pseq order. When every
// PubAck is back, each input's future resolves with its record's stream
// sequence.
//
// Conflicts. If any record of a round is refused or unanswered (another
// writer published, a publish was lost), the stored records form a prefix
// of the round; every partition of the round is rewound
// (Appender.Rewind), the records stored after its known head are read and
// adopted (Appender.Continue) — this writer's own stored prefix among
// them, whose inputs then resolve without being published again — and the
// rest is sealed anew in the next attempt.
//
// Ownership. One writer is active per log: it holds the log's lease in
// the AUDIT_LEASES bucket (renewed every TTL/3, released on Close);
// Writer.Start waits for it, so further writers are hot standbys. A lost
// lease makes the committer take it again and restore every partition
// from the stream before it seals; the fence keeps even a writer that does
// not know yet that it lost the lease from forking anything.
//
// Redelivery. The last RedeliveryWindow stored records of each partition
// are remembered by source position (stream and sequence of the clean
// event, also read back from the bundles on restore): a redelivered input
// is answered with its stored record and stream sequence, so it is never
// published again, whatever the duplicate window.
//
// Checkpoints. Once a partition has CheckpointEvery records since its last
// checkpoint, the committer signs one after the round that reached it;
// every CheckpointInterval it signs a heartbeat; Flush anchors every
// partition's tail. Checkpoints are fenced like records.
type Sealer struct {
	js      jetstream.JetStream
	opts    SealingOptions
	parts   int
	keys    *audit.DerivedKeys
	ring    *audit.KeyRing
	window  int
	every   uint64
	signers []note.Signer
	trusted note.Verifiers // for restoring from a checkpoint; nil: full replay
	leases  *leases
	log     *zap.Logger

	ctx      context.Context // ends with Close: the committer stops
	cancel   context.CancelFunc
	failed   chan error // gets why the writer must stop (lease taken over); once
	failOnce sync.Once
	done     chan struct{}
	wake     chan struct{}
	flushReq chan chan error
	started  sync.Once

	mu     sync.Mutex // queue, queued, state, closed
	queue  []*pendingRecord
	queued map[string]*pendingRecord // source position → queued input
	state  map[int]*partitionState
	closed bool

	// Owned by the committer goroutine.
	lease      *heldLease
	streamLast uint64 // sequence of the last message of ESCAI_AUDIT
	lastKnown  bool   // streamLast is what the stream holds

	stats struct{ rounds, records, conflicts, restores, fromCheckpoint atomic.Uint64 }
}

// SealerStats counts what a Sealer did since it started.
type SealerStats struct {
	Rounds    uint64 // rounds of records stored
	Records   uint64 // records stored
	Conflicts uint64 // rounds refused or unanswered, then re-read and sealed again
	Restores  uint64 // partition heads restored from the stream
	// FromCheckpoint counts the restores that started at a checkpoint's
	// frontier instead of pseq 0.
	FromCheckpoint uint64
}

// Stats returns the counters.
func (s *Sealer) Stats() SealerStats {
	return SealerStats{
		Rounds: s.stats.rounds.Load(), Records: s.stats.records.Load(),
		Conflicts: s.stats.conflicts.Load(), Restores: s.stats.restores.Load(),
		FromCheckpoint: s.stats.fromCheckpoint.Load(),
	}
}

// partitionState is one partition of a Sealer.
type partitionState struct {
	part int

	// mu guards the memory of stored records (read by Process).
	mu   sync.Mutex
	seen map[string]storedRecord // source position → its stored record
	fifo []string                // keys of seen, oldest first (ring)
	next int                     // next slot of fifo to overwrite

	// Owned by the committer goroutine.
	app      *audit.Appender // nil until restored, and after a lost lease
	lastSeq  uint64          // stream sequence of the partition's last stored record; 0: none
	lastCkpt time.Time
}

// storedRecord is a record the stream holds.
type storedRecord struct {
	data []byte
	meta recordMeta // meta.ref: where it is stored
}

// seq is the stream sequence of the message holding the record.
func (st storedRecord) seq() uint64 { return st.meta.ref.Seq }

// pendingRecord is an input waiting for the committer.
type pendingRecord struct {
	in       audit.Input
	part     int
	pos      string
	meta     recordMeta // what the index keeps; ref set once stored
	waiters  []*recordFuture
	deadline time.Time
	attempts int   // rounds that failed with this input
	lastErr  error // why the last one failed
}

// NewSealer checks the options and derives the keys. js is the handle the
// stage runtime uses. Close it after the last input (Writer.Drain does).
func NewSealer(js jetstream.JetStream, opts SealingOptions, partitions int) (*Sealer, error) {
	if js == nil {
		return nil, errors.New("auditwriter: sealing needs a JetStream handle")
	}
	if partitions < 1 {
		return nil, fmt.Errorf("auditwriter: Partitions must be ≥ 1, got %d", partitions)
	}
	keys, err := audit.DeriveKeys(opts.Master)
	if err != nil {
		return nil, fmt.Errorf("auditwriter: sealing keys: %w", err)
	}
	if opts.Log == "" {
		opts.Log = "escai"
	}
	if opts.RedeliveryWindow <= 0 {
		opts.RedeliveryWindow = DefaultRedeliveryWindow
	}
	if opts.CheckpointEvery <= 0 {
		opts.CheckpointEvery = DefaultCheckpointEvery
	}
	if opts.CheckpointInterval <= 0 {
		opts.CheckpointInterval = DefaultCheckpointInterval
	}
	if opts.MaxRound <= 0 {
		opts.MaxRound = DefaultMaxRound
	}
	if opts.LeaseTTL <= 0 {
		opts.LeaseTTL = DefaultLeaseTTL
	}
	if opts.LeaseWait <= 0 {
		opts.LeaseWait = 2 * opts.LeaseTTL
	}
	if opts.WriterID == "" {
		return nil, errors.New("auditwriter: sealing needs a WriterID (it owns the log's lease)")
	}
	log := opts.Logger
	if log == nil {
		log = zap.NewNop()
	}
	if opts.Publisher != nil {
		js = opts.Publisher
	}
	s := &Sealer{
		js: js, opts: opts, parts: partitions, keys: keys, window: opts.RedeliveryWindow,
		every: uint64(opts.CheckpointEvery), signers: opts.CheckpointSigners, trusted: opts.CheckpointVerifiers, log: log,
		leases: &leases{js: js, owner: opts.WriterID, ttl: opts.LeaseTTL, replicas: opts.Replicas},
		done:   make(chan struct{}), wake: make(chan struct{}, 1), flushReq: make(chan chan error), failed: make(chan error, 1),
		queued: map[string]*pendingRecord{}, state: map[int]*partitionState{},
	}
	if len(s.signers) == 0 {
		signer, vkey, err := keys.CheckpointSigner(DefaultCheckpointKeyName)
		if err != nil {
			return nil, fmt.Errorf("auditwriter: checkpoint signer: %w", err)
		}
		s.signers = []note.Signer{signer}
		if s.trusted == nil {
			if s.trusted, err = audit.TrustedKeys(vkey); err != nil {
				return nil, err
			}
		}
	}
	if opts.Encrypt {
		s.ring = opts.Keys
		if s.ring == nil {
			s.ring, err = audit.NewKeyRing(audit.KeyRingConfig{KEK: keys.KEK, Now: opts.Now})
			if err != nil {
				return nil, fmt.Errorf("auditwriter: key ring: %w", err)
			}
		}
	}
	// Reject a bad writer id or log name now, not at the first event.
	cfg := s.appenderConfig(0, 0)
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("auditwriter: sealing: %w", err)
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s, nil
}

// Keys returns the derived audit keys (integrity key for verifiers).
func (s *Sealer) Keys() *audit.DerivedKeys { return s.keys }

// KeyRing returns the data key ring, nil without encryption.
func (s *Sealer) KeyRing() *audit.KeyRing { return s.ring }

// Origin returns the log identity of partition k.
func (s *Sealer) Origin(k int) string { return audit.Origin(s.opts.Log, uint32(k)) }

func (s *Sealer) appenderConfig(part int, leaseRev uint64) audit.AppenderConfig {
	return audit.AppenderConfig{
		Origin:       s.Origin(part),
		Partition:    uint32(part),
		WriterID:     s.opts.WriterID,
		LeaseRev:     leaseRev,
		Keys:         s.ring,
		IntegrityKey: s.keys.Integrity,
		Now:          s.opts.Now,
	}
}

// errSealerClosed fails what is still queued when the Sealer closes: the
// inputs are redelivered (to this writer after a restart, or another).
var errSealerClosed = errors.New("auditwriter: sealer closed")

// isClosed reports whether Close has run.
func (s *Sealer) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// start runs the committer once.
func (s *Sealer) start() {
	s.started.Do(func() { go s.commitLoop() })
}

// AwaitLease blocks until this writer holds the log's lease (a standby
// waits here for the active writer to stop), then starts the committer.
func (s *Sealer) AwaitLease(ctx context.Context) error {
	if s.isClosed() {
		return errSealerClosed
	}
	first := true
	for {
		l, err := s.leases.acquire(ctx, leaseKey(s.opts.Log), s.opts.LeaseTTL)
		if err == nil {
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.closed {
				s.leases.release(l)
				return errSealerClosed
			}
			s.lease = l // before the committer starts: it owns it from now on
			s.start()
			return nil
		}
		if !errors.Is(err, ErrLeaseHeld) {
			return err
		}
		if first {
			s.log.Info("standby: another audit writer holds the log's lease; waiting", zap.String("log", s.opts.Log), zap.Error(err))
			first = false
		}
	}
}

// partition returns the state of part.
func (s *Sealer) partition(part int) *partitionState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.partitionLocked(part)
}

func (s *Sealer) partitionLocked(part int) *partitionState {
	ps := s.state[part]
	if ps == nil {
		ps = &partitionState{part: part, seen: map[string]storedRecord{}, fifo: make([]string, 0, min(s.window, 1024))}
		s.state[part] = ps
	}
	return ps
}

// seal queues one decoded input and returns the output whose future
// resolves once its record is stored (see Sealer).
func (s *Sealer) seal(_ context.Context, in *stage.Message, ev *events.Envelope, part int) (stage.Output, error) {
	input := audit.Input{
		EventID:   ev.ID,
		Tenant:    ev.Tenant,
		Agent:     ev.AgentID,
		EventType: ev.Type,
		Source:    in.Stream,
		SourceSeq: in.Sequence,
		Payload:   in.Data,
		// The log's own security events (a query, a shred) stay readable
		// after their tenant is shredded: they name no personal data. Only
		// those on ESCAI_SECURITY, which agents cannot write; an agent's
		// event of the same type is the tenant's like any other.
		SharedKey: in.Stream == events.StreamSecurity && logEvents[ev.Type],
	}
	if who := ActorOf(ev.Data); who != "" {
		input.Actor = s.keys.BlindIndex(actorKind, who)
	}
	if err := audit.ValidateInput(&input); err != nil {
		return stage.Output{}, stage.Permanent(CodeAuditInvalidInput, "", err)
	}
	pos := in.Stream + "\x00" + strconv.FormatUint(in.Sequence, 10)
	meta := recordMeta{
		tenant: ev.Tenant, agent: ev.AgentID, eventID: ev.ID, eventType: ev.Type, actor: input.Actor,
		eventMs: ev.Time.UnixMilli(),
	}

	s.start()
	ps := s.partition(part)
	ps.mu.Lock()
	st, ok := ps.seen[pos]
	ps.mu.Unlock()
	if ok {
		return storedOutput(part, st, true), nil
	}
	f := newRecordFuture(part)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return stage.Output{}, errSealerClosed
	}
	if p := s.queued[pos]; p != nil {
		p.waiters = append(p.waiters, f) // redelivered while still queued
	} else {
		p = &pendingRecord{in: input, part: part, pos: pos, meta: meta, waiters: []*recordFuture{f}, deadline: time.Now().Add(s.opts.LeaseWait + DefaultRestoreTimeout)}
		s.queue = append(s.queue, p)
		s.queued[pos] = p
	}
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	// No header: the record is published in a bundle by the committer,
	// and the index reads the future's record (see Processor.Commit).
	return stage.Output{Subject: events.AuditSubject(part), Future: f}, nil
}

// storedOutput answers an input whose record is already stored: the runtime
// indexes it and acks, publishing nothing.
func storedOutput(part int, st storedRecord, dup bool) stage.Output {
	f := newRecordFuture(part)
	f.resolve(st, dup)
	return stage.Output{Subject: events.AuditSubject(part), Data: st.data, Future: f}
}

// remember keeps st for pos, forgetting the oldest entry beyond window.
// Called with ps.mu held.
func (ps *partitionState) remember(pos string, st storedRecord, window int) {
	if _, ok := ps.seen[pos]; ok {
		ps.seen[pos] = st
		return
	}
	if len(ps.fifo) < window {
		ps.fifo = append(ps.fifo, pos)
	} else {
		delete(ps.seen, ps.fifo[ps.next])
		ps.fifo[ps.next] = pos
		ps.next = (ps.next + 1) % window
	}
	ps.seen[pos] = st
}

// commitLoop is the committer. It keeps up to two rounds in flight: the
// next round is sealed and published while the PubAcks of the one before
// are still coming back, so the broker never waits for the writer.
func (s *Sealer) commitLoop() {
	defer close(s.done)
	hb := time.NewTicker(min(s.opts.CheckpointInterval, time.Second))
	defer hb.Stop()
	var inflight *round
	for {
		if inflight == nil {
			select {
			case <-s.ctx.Done():
				s.shutdown()
				return
			case <-s.wake:
			case reply := <-s.flushReq:
				for inflight = s.nextRound(false); inflight != nil; inflight = s.nextRound(false) {
					s.finish(inflight, nil)
				}
				reply <- s.checkpoints(func(ps *partitionState) bool { return ps.app.SinceCheckpoint() > 0 })
				continue
			case <-hb.C:
				_ = s.checkpoints(func(ps *partitionState) bool {
					return time.Since(ps.lastCkpt) >= s.opts.CheckpointInterval
				})
				continue
			}
		}
		if inflight != nil && !s.clean() {
			// The lease or the stream's last sequence must be checked
			// again: nothing may be in flight meanwhile.
			s.finish(inflight, nil)
			inflight = nil
		}
		next := s.nextRound(inflight != nil)
		if inflight != nil && !s.finish(inflight, next) {
			// next was sealed on top of the failed round and was
			// recovered with it.
			next = nil
		}
		inflight = next
		if inflight == nil {
			s.mu.Lock()
			more := len(s.queue) > 0
			s.mu.Unlock()
			if more {
				select {
				case s.wake <- struct{}{}:
				default:
				}
			}
		}
	}
}

// clean reports whether the committer may seal on top of what is in
// flight: it holds the lease and knows the stream's last sequence.
func (s *Sealer) clean() bool {
	return s.lease != nil && !s.lease.lost.Load() && s.lastKnown
}

func (s *Sealer) shutdown() {
	s.mu.Lock()
	q := s.queue
	s.queue = nil
	s.mu.Unlock()
	s.fail(q, errSealerClosed)
	if s.lease != nil {
		s.leases.release(s.lease)
		s.lease = nil
	}
}

// round is one set of inputs sealed and published together.
type round struct {
	pending []*pendingRecord
	msgs    []*fencedMsg       // the bundles, partition by partition, then the checkpoints
	rec     []int              // pending[i]'s record is in the bundle msgs[rec[i]] ...
	slot    []int              // ... at entry slot[i]
	recs    [][]byte           // ... and its wire bytes are recs[i]
	last    map[int]*fencedMsg // each partition's last bundle
	ckpts   int                // checkpoints at the end of msgs
	marks   map[int]audit.Mark
	order   []int // partitions of the round, in publish order
	err     error // the first publish error
}

// nextRound takes what is queued (up to MaxRound), seals it and publishes
// it without waiting for the PubAcks. Inputs that cannot be sealed now are
// failed (the runtime retries them). Nil when nothing is queued, or when a
// round is in flight (inflight) and the lease must be taken again first.
func (s *Sealer) nextRound(inflight bool) *round {
	for {
		s.mu.Lock()
		k := min(s.opts.MaxRound, len(s.queue))
		pending := append([]*pendingRecord(nil), s.queue[:k]...)
		s.queue = s.queue[k:]
		if len(s.queue) == 0 {
			s.queue = nil
		}
		s.mu.Unlock()
		if len(pending) == 0 {
			return nil
		}
		now := time.Now()
		live := pending[:0]
		var dead []*pendingRecord
		for _, p := range pending {
			if now.After(p.deadline) || p.attempts >= maxCommitAttempts {
				dead = append(dead, p)
			} else {
				live = append(live, p)
			}
		}
		if len(dead) > 0 {
			err := deadInputErr(dead)
			s.fail(dead, err)
		}
		if len(live) == 0 {
			continue
		}
		if inflight && !s.clean() {
			s.mu.Lock()
			s.queue = append(append([]*pendingRecord(nil), live...), s.queue...)
			s.mu.Unlock()
			return nil
		}
		if err := s.ensureHeads(live, !inflight); err != nil {
			for _, p := range live {
				p.lastErr = err
			}
			s.fail(live, err)
			continue
		}
		if live = s.settleStored(live); len(live) == 0 {
			continue
		}
		r, err := s.sealRound(live)
		if err != nil {
			s.fail(live, err)
			continue
		}
		s.publish(r)
		return r
	}
}

// deadInputErr is the error the inputs of dead fail with.
func deadInputErr(dead []*pendingRecord) error {
	for _, p := range dead {
		if p.lastErr != nil {
			return fmt.Errorf("auditwriter: record not stored after %d attempts: %w", p.attempts, p.lastErr)
		}
	}
	return errors.New("auditwriter: input waited too long to be sealed")
}

// maxCommitAttempts bounds how often one input is sealed again after
// conflicts before it is handed back to the runtime as a retry.
const maxCommitAttempts = 4

// sealRound appends the round to its partitions' Appenders (marking them
// first) and builds the messages: the records partition by partition,
// then a checkpoint for every partition of the round that is due one.
func (s *Sealer) sealRound(pending []*pendingRecord) (*round, error) {
	r := &round{pending: pending, rec: make([]int, len(pending)), marks: map[int]audit.Mark{}}
	byPart := map[int][]int{}
	for i, p := range pending {
		if _, ok := byPart[p.part]; !ok {
			r.order = append(r.order, p.part)
		}
		byPart[p.part] = append(byPart[p.part], i)
	}
	r.msgs = make([]*fencedMsg, 0, 2*len(r.order))
	r.slot = make([]int, len(pending))
	r.recs = make([][]byte, len(pending))
	r.last = map[int]*fencedMsg{}
	limit := s.bundleBytes()
	for _, part := range r.order {
		ps := s.partition(part)
		idx := byPart[part]
		inputs := make([]audit.Input, len(idx))
		for j, i := range idx {
			inputs[j] = pending[i].in
		}
		r.marks[part] = ps.app.Mark()
		recs, err := ps.app.Append(inputs)
		if err != nil {
			delete(r.marks, part) // the head has not moved
			s.rewind(r)
			return nil, err
		}
		// The partition's records go out as bundles (audit.AppendBundle):
		// the broker's cost is per message, so one message per run of
		// records is what lets one writer keep up.
		subject := events.AuditSubject(part)
		var entries []audit.BundleEntry
		size := audit.BundleOverhead
		flush := func() error {
			data, err := audit.AppendBundle(nil, entries)
			if err != nil {
				return err
			}
			m := &fencedMsg{msg: &nats.Msg{Subject: subject, Data: data, Header: make(nats.Header, 2)}}
			r.msgs = append(r.msgs, m)
			r.last[part] = m
			entries, size = entries[:0], audit.BundleOverhead
			return nil
		}
		for j, i := range idx {
			b := recs[j].Bytes()
			p := pending[i]
			grow := audit.BundleEntrySize(len(b), len(p.in.Source))
			if len(entries) > 0 && (size+grow > limit || len(entries) == audit.MaxBundleRecords) {
				if err := flush(); err != nil {
					s.rewind(r)
					return nil, err
				}
			}
			r.rec[i], r.slot[i], r.recs[i] = len(r.msgs), len(entries), b
			entries = append(entries, audit.BundleEntry{Record: b, EventTime: p.meta.eventMs, Source: p.in.Source, SourceSeq: p.in.SourceSeq})
			size += grow
		}
		if err := flush(); err != nil {
			s.rewind(r)
			return nil, err
		}
	}
	for _, part := range r.order {
		ps := s.partition(part)
		if ps.app.SinceCheckpoint() < s.every {
			continue
		}
		if m, err := s.checkpointMsg(ps, 0); err == nil {
			m.after = r.last[part]
			r.msgs = append(r.msgs, m)
			r.ckpts++
		} else {
			s.log.Warn("audit checkpoint not signed", zap.Int("partition", part), zap.Error(err))
		}
	}
	return r, nil
}

// maxBundleBytes bounds one bundle's records (a partition's share of a
// round is split above it); half the broker's max_payload bounds it too.
const maxBundleBytes = 256 << 10

func (s *Sealer) bundleBytes() int {
	limit := maxBundleBytes
	if mp := s.js.Conn().MaxPayload(); mp > 0 && int(mp/2) < limit {
		limit = int(mp / 2)
	}
	return limit
}

// publish sends the round's messages in order, each expecting the stream's
// last sequence to be the one before it (see Sealer), without waiting.
func (s *Sealer) publish(r *round) {
	for _, m := range r.msgs {
		if m.after != nil {
			m.msg.Header.Set(HeaderCheckpointRecordSeq, strconv.FormatUint(m.after.want, 10))
		}
		m.msg.Header.Set(jetstream.ExpectedLastSeqHeader, strconv.FormatUint(s.streamLast, 10))
		m.want = s.streamLast + 1
		f, err := s.js.PublishMsgAsync(m.msg, jetstream.WithStallWait(DefaultBatchTimeout))
		if err != nil {
			r.err = err // the rest would be refused anyway
			s.lastKnown = false
			return
		}
		m.fut = f
		s.streamLast++
	}
}

// await waits for the PubAck of every message published and returns the
// first failure: refused, unanswered, or stored elsewhere than expected.
func (s *Sealer) await(msgs []*fencedMsg, first error) error {
	err := first
	timeout := time.NewTimer(DefaultBatchTimeout)
	defer timeout.Stop()
	for _, m := range msgs {
		if m.fut == nil {
			break
		}
		select {
		case ack := <-m.fut.Ok():
			if ack.Sequence != m.want && err == nil {
				err = fmt.Errorf("auditwriter: stored at sequence %d, expected %d", ack.Sequence, m.want)
			}
		case ferr := <-m.fut.Err():
			if err == nil {
				err = ferr
			}
		case <-timeout.C:
			if err == nil {
				err = errors.New("auditwriter: no PubAck in time")
			}
			return err
		}
	}
	return err
}

// finish waits for the round's PubAcks. When all are back it resolves
// every input and reports true. Otherwise it waits for after too (the
// round sealed on top of r, if any: the fence refused it, or its outcome
// is unknown), and recovers from both (see recover).
func (s *Sealer) finish(r, after *round) bool {
	err := s.await(r.msgs, r.err)
	if err == nil {
		s.stored(r)
		return true
	}
	rounds := []*round{r}
	if after != nil {
		_ = s.await(after.msgs, after.err)
		rounds = append(rounds, after)
	}
	s.recover(err, rounds...)
	return false
}

// recover handles rounds (oldest first) that were not stored whole: the
// stream's last sequence becomes unknown, every partition goes back to
// its oldest mark, and the inputs are queued again, first, in their
// order. ensureHeads then adopts what the stream holds (stored records of
// these rounds included) before anything is sealed again.
func (s *Sealer) recover(err error, rounds ...*round) {
	s.lastKnown = false
	s.stats.conflicts.Add(1)
	n := 0
	for _, r := range rounds {
		n += len(r.pending)
	}
	s.log.Warn("audit records not stored; re-reading the partition heads", zap.Int("records", n), zap.Error(err))
	// Newest first, so each partition ends at the mark of the oldest
	// round that touched it: a later round's mark includes the earlier
	// round's records, which may never have been stored.
	for i := len(rounds) - 1; i >= 0; i-- {
		s.rewind(rounds[i])
	}
	// The heads are re-read by ensureHeads before the next round, after
	// it reads the stream's last sequence.
	var pending []*pendingRecord
	for _, r := range rounds {
		pending = append(pending, r.pending...)
	}
	for _, p := range pending {
		p.attempts++
		p.lastErr = err
	}
	s.mu.Lock()
	s.queue = append(pending, s.queue...)
	s.mu.Unlock()
}

// rewind returns every marked partition of r to its mark (or drops its
// head, to be restored, when that fails).
func (s *Sealer) rewind(r *round) {
	for part, m := range r.marks {
		ps := s.partition(part)
		if ps.app == nil {
			continue
		}
		if err := ps.app.Rewind(m); err != nil {
			ps.app = nil
		}
	}
}

// stored records a fully acknowledged round: remembered for redeliveries,
// partition heads advanced, inputs resolved.
func (s *Sealer) stored(r *round) {
	recs := make([]storedRecord, len(r.pending))
	for i, p := range r.pending {
		m := r.msgs[r.rec[i]]
		meta := p.meta
		meta.ref = RecordRef{Seq: m.want, Slot: r.slot[i]}
		recs[i] = storedRecord{data: r.recs[i], meta: meta}
		ps := s.partition(p.part)
		ps.mu.Lock()
		ps.remember(p.pos, recs[i], s.window)
		ps.mu.Unlock()
		ps.lastSeq = m.want
	}
	if r.ckpts > 0 {
		now := time.Now()
		for _, part := range r.order {
			if ps := s.partition(part); ps.app != nil && ps.app.SinceCheckpoint() == 0 {
				ps.lastCkpt = now
			}
		}
	}
	s.resolve(r.pending, recs, false)
	s.stats.rounds.Add(1)
	s.stats.records.Add(uint64(len(r.pending)))
}

// fail resolves the waiters of batch with err (the runtime retries them).
func (s *Sealer) fail(batch []*pendingRecord, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range batch {
		delete(s.queued, p.pos)
		for _, f := range p.waiters {
			f.fail(err)
		}
	}
}

// settleStored resolves the inputs whose records the stream already holds
// and returns the others.
func (s *Sealer) settleStored(pending []*pendingRecord) []*pendingRecord {
	rest := pending[:0]
	var done []*pendingRecord
	var recs []storedRecord
	for _, p := range pending {
		ps := s.partition(p.part)
		ps.mu.Lock()
		st, ok := ps.seen[p.pos]
		ps.mu.Unlock()
		if ok {
			done, recs = append(done, p), append(recs, st)
		} else {
			rest = append(rest, p)
		}
	}
	s.resolve(done, recs, true)
	return rest
}

// resolve answers the waiters of each pending input with its record.
func (s *Sealer) resolve(batch []*pendingRecord, recs []storedRecord, dup bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, p := range batch {
		delete(s.queued, p.pos)
		st := recs[i]
		for _, f := range p.waiters {
			f.resolve(st, dup)
		}
	}
}

// ensureHeads makes sure this writer holds the lease, knows the stream's
// last sequence and has the head of every partition of pending. Taking the
// lease again after it was lost needs nothing in flight (idle); otherwise
// the loss is handled at the next round.
func (s *Sealer) ensureHeads(pending []*pendingRecord, idle bool) error {
	if idle && s.lease != nil && s.lease.lost.Load() {
		s.log.Error("audit log lease lost; taking it again and re-reading every partition", zap.String("log", s.opts.Log))
		s.leases.release(s.lease)
		s.lease = nil
	}
	if s.lease == nil {
		l, err := s.leases.acquire(s.ctx, leaseKey(s.opts.Log), s.opts.LeaseWait)
		if errors.Is(err, ErrLeaseHeld) {
			// Another writer is the active one now: this one must stop
			// taking inputs it cannot seal (they would only be retried
			// and, in the end, dead-lettered) and wait as a standby.
			s.failOnce.Do(func() { s.failed <- err })
		}
		if err != nil {
			return err
		}
		s.lease = l
		s.mu.Lock()
		for _, ps := range s.state {
			ps.app = nil // another writer may have written meanwhile
		}
		s.mu.Unlock()
		s.lastKnown = false
	}
	// The stream's last sequence first, then the heads (see refreshHeads).
	if !s.lastKnown {
		if err := s.refreshHeads(); err != nil {
			return err
		}
	}
	for _, p := range pending {
		ps := s.partition(p.part)
		if ps.app != nil {
			continue
		}
		if err := s.restore(s.ctx, ps); err != nil {
			return err
		}
		s.stats.restores.Add(1)
	}
	return nil
}

// refreshHeads reads the stream's last sequence, then brings every
// partition head up to date. The order is what makes the fence sound: a
// head is sealed against together with a predicted sequence, and every
// head is at least as new as the moment that sequence was read, so a
// record another writer stores after it makes the prediction, and the
// publish, fail.
func (s *Sealer) refreshHeads() error {
	ctx, cancel := context.WithTimeout(s.ctx, DefaultBatchTimeout)
	defer cancel()
	stream, err := s.js.Stream(ctx, events.StreamAudit)
	if err != nil {
		return fmt.Errorf("auditwriter: %s: %w", events.StreamAudit, err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		return fmt.Errorf("auditwriter: %s: %w", events.StreamAudit, err)
	}
	s.mu.Lock()
	parts := make([]*partitionState, 0, len(s.state))
	for _, ps := range s.state {
		parts = append(parts, ps)
	}
	s.mu.Unlock()
	for _, ps := range parts {
		if ps.app == nil {
			continue
		}
		if err := s.catchUp(ps); err != nil {
			s.log.Warn("audit partition head not re-read; restoring it", zap.Int("partition", ps.part), zap.Error(err))
			ps.app = nil
			if err := s.restore(s.ctx, ps); err != nil {
				return err
			}
			s.stats.restores.Add(1)
		}
	}
	s.streamLast, s.lastKnown = info.State.LastSeq, true
	return nil
}

// publishFenced publishes msgs fenced like a round and waits for them.
func (s *Sealer) publishFenced(msgs []*fencedMsg) error {
	r := &round{msgs: msgs}
	s.publish(r)
	err := s.await(msgs, r.err)
	if err != nil {
		s.lastKnown = false
	}
	return err
}

// fencedMsg is one message of a round with the sequence it must get.
type fencedMsg struct {
	msg  *nats.Msg
	want uint64
	fut  jetstream.PubAckFuture
	// after is the record a checkpoint covers last, published before it
	// in the same round: its sequence goes into HeaderCheckpointRecordSeq.
	after *fencedMsg
}

// recordFuture is the jetstream.PubAckFuture of a queued input: it resolves
// with the stream sequence of the bundle holding its record once the round
// is stored. rec is the stored record, valid once Ok delivered.
type recordFuture struct {
	part int
	rec  storedRecord
	ok   chan *jetstream.PubAck
	err  chan error
}

var _ jetstream.PubAckFuture = (*recordFuture)(nil)

func newRecordFuture(part int) *recordFuture {
	return &recordFuture{part: part, ok: make(chan *jetstream.PubAck, 1), err: make(chan error, 1)}
}

func (f *recordFuture) resolve(st storedRecord, dup bool) {
	f.rec = st
	f.ok <- &jetstream.PubAck{Stream: events.StreamAudit, Sequence: st.seq(), Duplicate: dup}
}

func (f *recordFuture) fail(err error) { f.err <- err }

func (f *recordFuture) Ok() <-chan *jetstream.PubAck { return f.ok }
func (f *recordFuture) Err() <-chan error            { return f.err }

// Msg returns the stored record with the headers of a record stored alone
// (the index fields, HeaderBundleSlot for its place in the bundle); nil
// before Ok delivered. It is built on each call: nothing on the hot path
// needs it.
func (f *recordFuture) Msg() *nats.Msg {
	if f.rec.data == nil {
		return nil
	}
	return &nats.Msg{Subject: events.AuditSubject(f.part), Data: f.rec.data, Header: f.rec.meta.header()}
}

// Failed delivers why this writer must stop: another writer took the
// log's lease over and holds it. The service drains and exits; restarted,
// it waits as a standby.
func (s *Sealer) Failed() <-chan error { return s.failed }

// Close stops the committer (what is still queued fails and is retried by
// the runtime) and releases the log's lease. Call Flush before it to
// anchor the tails.
func (s *Sealer) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.start() // so that done closes even if nothing ever started it
	<-s.done
}
