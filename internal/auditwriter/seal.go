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
	"github.com/synadia-io/orbit.go/jetstreamext"
	"go.uber.org/zap"
	"golang.org/x/mod/sumdb/note"

	"github.com/escai-framework/escai/internal/stage"
	"github.com/escai-framework/escai/pkg/events"
	"github.com/escai-framework/escai/pkg/security/audit"
	"github.com/escai-framework/escai/pkg/security/config"
)

// Headers of sealed records, in addition to the ones of Process.
const (
	HeaderPartition = "Escai-Audit-Partition"
	HeaderPSeq      = "Escai-Audit-Pseq"
	// HeaderCheckpointSize is the tree size of a checkpoint message.
	HeaderCheckpointSize = "Escai-Audit-Checkpoint-Size"
)

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
	// DefaultMaxBatch is how many records one atomic batch holds at most
	// (the server allows 1,000).
	DefaultMaxBatch = 500
	// DefaultCheckpointInterval is the heartbeat: a partition whose newest
	// checkpoint is older gets one, even with no new records.
	DefaultCheckpointInterval = 30 * time.Second
	// DefaultBatchTimeout bounds one batch publish.
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
	// WriterID names this writer in every record and owns its partition
	// leases: unique per process (e.g. pod name and pid).
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
	// MaxBatch caps the records of one atomic batch. Default
	// DefaultMaxBatch.
	MaxBatch int
	// LeaseTTL is how long a partition lease outlives its holder's last
	// renewal. Default DefaultLeaseTTL.
	LeaseTTL time.Duration
	// LeaseWait is how long a partition waits for a lease another writer
	// holds before its inputs are retried. Default 2×LeaseTTL.
	LeaseWait time.Duration
	// Replicas of the lease bucket (the streams' replica count).
	Replicas int
	// Logger gets conflicts, takeovers and lost leases. Nop when nil.
	Logger *zap.Logger
}

// Sealer turns events into the sealed records of their partitions and
// stores them. All processors of a Writer share one Sealer: one committer
// per partition owns that partition's chain.
//
// Flow. Process hands an input to its partition's queue and returns at once
// with a future (stage.Output.Future) that the stage runtime awaits before
// it indexes and acks. The partition's committer goroutine takes what is
// queued (up to MaxBatch), seals it with the partition's audit.Appender
// and publishes it as one JetStream atomic batch
// (github.com/synadia-io/orbit.go/jetstreamext) whose first message
// carries Nats-Expected-Last-Subject-Sequence: the sequence of the last
// record this committer knows on escai.audit.<p>. The broker stores all of
// the batch or none of it, and only if nobody appended in between, so two
// writers can never fork a partition and a record can never be stored out
// of pseq order. Then every input's future resolves with its record's
// stream sequence.
//
// Conflicts. A refused batch (wrong last sequence: another writer
// appended) or one whose outcome is unknown (timeout) is rewound
// (Appender.Rewind), the records stored after the known head are read and
// adopted (Appender.Continue) — among them, possibly, this very batch,
// whose inputs then resolve without publishing anything again — and the
// rest is sealed anew after them.
//
// Ownership. Before a partition's first batch the committer takes its
// lease in the AUDIT_LEASES bucket (renewed every TTL/3, released on
// Close) and restores the chain from the stream. A lease held by another
// live writer makes the inputs wait (LeaseWait) and then fail as a retry;
// a lost lease makes the committer re-read the partition before it seals
// again. The lease keeps writers from taking turns; the expected sequence
// is what makes turns safe.
//
// Redelivery. The last RedeliveryWindow stored records of each partition
// are remembered by source position (stream and sequence of the clean
// event, also read back from the headers on restore): a redelivered input
// is answered with its stored record and stream sequence, so it is never
// published again, whatever the duplicate window.
//
// Checkpoints. Once a partition has CheckpointEvery records since its last
// checkpoint, the committer signs one after the batch that reached it;
// every CheckpointInterval it signs a heartbeat; Flush anchors every
// partition's tail.
type Sealer struct {
	js      jetstream.JetStream
	opts    SealingOptions
	parts   int
	keys    *audit.DerivedKeys
	ring    *audit.KeyRing
	window  int
	every   uint64
	signers []note.Signer
	leases  *leases
	log     *zap.Logger

	ctx    context.Context // ends with Close: committers stop
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	state  map[int]*partitionState
	closed bool

	stats struct{ batches, records, conflicts, restores atomic.Uint64 }
}

// SealerStats counts what a Sealer did since it started.
type SealerStats struct {
	Batches   uint64 // atomic batches stored
	Records   uint64 // records stored
	Conflicts uint64 // batches refused or unanswered, then re-read and sealed again
	Restores  uint64 // partition heads restored from the stream
}

// Stats returns the counters.
func (s *Sealer) Stats() SealerStats {
	return SealerStats{
		Batches: s.stats.batches.Load(), Records: s.stats.records.Load(),
		Conflicts: s.stats.conflicts.Load(), Restores: s.stats.restores.Load(),
	}
}

// partitionState is one partition of a Sealer.
type partitionState struct {
	part int
	wake chan struct{}

	// mu guards the queue and the memory of stored records.
	mu     sync.Mutex
	queue  []*pendingRecord
	queued map[string]*pendingRecord // source position → queued input
	seen   map[string]storedRecord   // source position → its stored record
	fifo   []string                  // keys of seen, oldest first (ring)
	next   int                       // next slot of fifo to overwrite

	// headMu guards the chain head: held by the committer while it seals
	// and publishes, and by Flush.
	headMu   sync.Mutex
	app      *audit.Appender // nil until restored, and after a lost lease
	lastSeq  uint64          // stream sequence of the last stored record; 0: none
	lease    *heldLease
	lastCkpt time.Time
}

// storedRecord is a record the stream holds.
type storedRecord struct {
	data   []byte
	header nats.Header // without Nats-Msg-Id
	msgID  string
	seq    uint64
}

// pendingRecord is an input waiting for its partition's committer.
type pendingRecord struct {
	in       audit.Input
	pos      string
	header   nats.Header
	waiters  []*recordFuture
	deadline time.Time
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
	if opts.MaxBatch <= 0 || opts.MaxBatch > 1000 {
		opts.MaxBatch = DefaultMaxBatch
	}
	if opts.LeaseTTL <= 0 {
		opts.LeaseTTL = DefaultLeaseTTL
	}
	if opts.LeaseWait <= 0 {
		opts.LeaseWait = 2 * opts.LeaseTTL
	}
	if opts.WriterID == "" {
		return nil, errors.New("auditwriter: sealing needs a WriterID (it owns the partition leases)")
	}
	log := opts.Logger
	if log == nil {
		log = zap.NewNop()
	}
	s := &Sealer{
		js: js, opts: opts, parts: partitions, keys: keys, window: opts.RedeliveryWindow,
		every: uint64(opts.CheckpointEvery), signers: opts.CheckpointSigners, log: log,
		leases: &leases{js: js, owner: opts.WriterID, ttl: opts.LeaseTTL, replicas: opts.Replicas},
		state:  map[int]*partitionState{},
	}
	if len(s.signers) == 0 {
		signer, _, err := keys.CheckpointSigner(DefaultCheckpointKeyName)
		if err != nil {
			return nil, fmt.Errorf("auditwriter: checkpoint signer: %w", err)
		}
		s.signers = []note.Signer{signer}
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

// partition returns the state of part, starting its committer at first use.
func (s *Sealer) partition(part int) (*partitionState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errSealerClosed
	}
	ps := s.state[part]
	if ps == nil {
		ps = &partitionState{
			part: part, wake: make(chan struct{}, 1),
			queued: map[string]*pendingRecord{}, seen: map[string]storedRecord{},
			fifo: make([]string, 0, min(s.window, 1024)),
		}
		s.state[part] = ps
		s.wg.Add(1)
		go s.commitLoop(ps)
	}
	return ps, nil
}

// seal queues one decoded input for its partition and returns the output
// whose future resolves once its record is stored (see Sealer).
func (s *Sealer) seal(_ context.Context, in *stage.Message, ev *events.Envelope, part int) (stage.Output, error) {
	input := audit.Input{
		EventID:   ev.ID,
		Tenant:    ev.Tenant,
		Agent:     ev.AgentID,
		EventType: ev.Type,
		Source:    in.Stream,
		SourceSeq: in.Sequence,
		Payload:   in.Data,
	}
	if err := audit.ValidateInput(&input); err != nil {
		return stage.Output{}, stage.Permanent(CodeAuditInvalidInput, "", err)
	}
	pos := in.Stream + "\x00" + strconv.FormatUint(in.Sequence, 10)
	h := nats.Header{}
	h.Set(HeaderTenant, ev.Tenant)
	h.Set(HeaderAgent, ev.AgentID)
	h.Set(HeaderEventID, ev.ID)
	h.Set(HeaderSourceStream, in.Stream)
	h.Set(HeaderSourceSeq, strconv.FormatUint(in.Sequence, 10))
	h.Set(HeaderEventTime, strconv.FormatInt(ev.Time.UnixMilli(), 10))
	h.Set(HeaderPartition, strconv.Itoa(part))

	ps, err := s.partition(part)
	if err != nil {
		return stage.Output{}, err
	}
	ps.mu.Lock()
	if st, ok := ps.seen[pos]; ok {
		ps.mu.Unlock()
		return storedOutput(part, st, true), nil
	}
	f := newRecordFuture()
	if p := ps.queued[pos]; p != nil {
		p.waiters = append(p.waiters, f) // redelivered while still queued
	} else {
		p = &pendingRecord{in: input, pos: pos, header: h, waiters: []*recordFuture{f}, deadline: time.Now().Add(s.opts.LeaseWait + DefaultRestoreTimeout)}
		ps.queue = append(ps.queue, p)
		ps.queued[pos] = p
	}
	ps.mu.Unlock()
	select {
	case ps.wake <- struct{}{}:
	default:
	}
	return stage.Output{Subject: events.AuditSubject(part), Header: h, Future: f}, nil
}

// storedOutput answers an input whose record is already stored: the runtime
// indexes it and acks, publishing nothing.
func storedOutput(part int, st storedRecord, dup bool) stage.Output {
	f := newRecordFuture()
	f.resolve(&nats.Msg{Subject: events.AuditSubject(part), Data: st.data, Header: cloneHeader(st.header)}, st.seq, dup)
	return stage.Output{Subject: events.AuditSubject(part), Data: st.data, Header: cloneHeader(st.header), MsgID: st.msgID, Future: f}
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

func cloneHeader(h nats.Header) nats.Header {
	c := make(nats.Header, len(h))
	for k, v := range h {
		c[k] = append([]string(nil), v...)
	}
	return c
}

// commitLoop is the committer of one partition.
func (s *Sealer) commitLoop(ps *partitionState) {
	defer s.wg.Done()
	hb := time.NewTicker(s.opts.CheckpointInterval)
	defer hb.Stop()
	for {
		select {
		case <-s.ctx.Done():
			s.failQueued(ps, errSealerClosed)
			ps.headMu.Lock()
			if ps.lease != nil {
				s.leases.release(ps.lease)
				ps.lease = nil
			}
			ps.headMu.Unlock()
			return
		case <-ps.wake:
			for {
				batch := ps.take(s.opts.MaxBatch)
				if len(batch) == 0 {
					break
				}
				s.commit(ps, batch)
			}
		case <-hb.C:
			s.heartbeat(ps)
		}
	}
}

// take removes up to n inputs from the queue; they stay in queued (a
// redelivery joins them) until resolved.
func (ps *partitionState) take(n int) []*pendingRecord {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	k := min(n, len(ps.queue))
	batch := append([]*pendingRecord(nil), ps.queue[:k]...)
	ps.queue = ps.queue[k:]
	if len(ps.queue) == 0 {
		ps.queue = nil
	}
	return batch
}

func (s *Sealer) failQueued(ps *partitionState, err error) {
	ps.mu.Lock()
	q := ps.queue
	ps.queue = nil
	ps.mu.Unlock()
	s.fail(ps, q, err)
}

// fail resolves the waiters of batch with err (the runtime retries them).
func (s *Sealer) fail(ps *partitionState, batch []*pendingRecord, err error) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for _, p := range batch {
		delete(ps.queued, p.pos)
		for _, f := range p.waiters {
			f.fail(err)
		}
	}
}

// settleStored resolves the inputs of batch whose records the stream
// already holds and returns the others.
func (s *Sealer) settleStored(ps *partitionState, batch []*pendingRecord) []*pendingRecord {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	rest := batch[:0]
	for _, p := range batch {
		st, ok := ps.seen[p.pos]
		if !ok {
			rest = append(rest, p)
			continue
		}
		delete(ps.queued, p.pos)
		for _, f := range p.waiters {
			f.resolve(&nats.Msg{Subject: events.AuditSubject(ps.part), Data: st.data, Header: cloneHeader(st.header)}, st.seq, true)
		}
	}
	return rest
}

// maxCommitAttempts bounds how often one batch is sealed again after
// conflicts before its inputs are handed back to the runtime as retries.
const maxCommitAttempts = 4

// commit seals and stores one batch (see Sealer).
func (s *Sealer) commit(ps *partitionState, batch []*pendingRecord) {
	ps.headMu.Lock()
	defer ps.headMu.Unlock()
	now := time.Now()
	var expired []*pendingRecord
	live := batch[:0]
	for _, p := range batch {
		if now.After(p.deadline) {
			expired = append(expired, p)
		} else {
			live = append(live, p)
		}
	}
	if len(expired) > 0 {
		s.fail(ps, expired, errors.New("auditwriter: input waited too long for its partition"))
	}
	batch = live
	var lastErr error
	for attempt := 0; attempt < maxCommitAttempts && len(batch) > 0; attempt++ {
		if err := s.ensureHead(ps); err != nil {
			lastErr = err
			break
		}
		if batch = s.settleStored(ps, batch); len(batch) == 0 {
			return
		}
		err := s.publishBatch(ps, batch)
		if err == nil {
			if ps.app.SinceCheckpoint() >= s.every {
				s.checkpoint(ps)
			}
			return
		}
		lastErr = err
		s.stats.conflicts.Add(1)
		s.log.Warn("audit batch not stored; re-reading the partition head",
			zap.Int("partition", ps.part), zap.Int("records", len(batch)), zap.Error(err))
		if err := s.catchUp(ps); err != nil {
			s.log.Warn("audit partition head not re-read; restoring it", zap.Int("partition", ps.part), zap.Error(err))
			ps.app = nil
		}
	}
	if len(batch) > 0 {
		s.fail(ps, batch, fmt.Errorf("auditwriter: partition %d: %w", ps.part, lastErr))
	}
}

// ensureHead makes sure this writer holds the partition's lease and has its
// head: taking the lease and restoring the chain at first use, after a
// lost lease, or after a failed catch-up.
func (s *Sealer) ensureHead(ps *partitionState) error {
	if ps.lease != nil && ps.lease.lost.Load() {
		s.log.Warn("audit partition lease lost; re-reading the partition", zap.Int("partition", ps.part))
		s.leases.release(ps.lease)
		ps.lease, ps.app = nil, nil
	}
	if ps.lease == nil {
		l, err := s.leases.acquire(s.ctx, ps.part, s.opts.LeaseWait)
		if err != nil {
			return err
		}
		ps.lease, ps.app = l, nil
	}
	if ps.app == nil {
		if err := s.restore(s.ctx, ps); err != nil {
			return err
		}
		s.stats.restores.Add(1)
	}
	return nil
}

// publishBatch seals batch after the head and stores it as one atomic
// batch fenced by the expected last subject sequence. On success every
// input is resolved; on error the head is rewound (or dropped).
func (s *Sealer) publishBatch(ps *partitionState, batch []*pendingRecord) error {
	inputs := make([]audit.Input, len(batch))
	for i, p := range batch {
		inputs[i] = p.in
	}
	mark := ps.app.Mark()
	recs, err := ps.app.Append(inputs)
	if err != nil {
		return err // the head has not moved
	}
	msgs := make([]*nats.Msg, len(recs))
	subject := events.AuditSubject(ps.part)
	for i := range recs {
		h := cloneHeader(batch[i].header)
		h.Set(HeaderPSeq, strconv.FormatUint(recs[i].PSeq, 10))
		h.Set(jetstream.MsgIDHeader, recs[i].MsgID())
		if i == 0 {
			h.Set(jetstream.ExpectedLastSubjSeqHeader, strconv.FormatUint(ps.lastSeq, 10))
		}
		msgs[i] = &nats.Msg{Subject: subject, Data: recs[i].Bytes(), Header: h}
	}
	ctx, cancel := context.WithTimeout(s.ctx, DefaultBatchTimeout)
	ack, err := jetstreamext.PublishMsgBatch(ctx, s.js, msgs)
	cancel()
	if err == nil && (ack == nil || ack.BatchSize != uint64(len(msgs)) || ack.Sequence < uint64(len(msgs))) {
		err = fmt.Errorf("auditwriter: batch ack %+v for %d records", ack, len(msgs))
	}
	if err != nil {
		if rerr := ps.app.Rewind(mark); rerr != nil {
			ps.app = nil
		}
		return err
	}
	first := ack.Sequence - uint64(len(msgs)) + 1
	ps.mu.Lock()
	for i, p := range batch {
		h := msgs[i].Header
		if i == 0 {
			h.Del(jetstream.ExpectedLastSubjSeqHeader)
		}
		st := storedRecord{data: msgs[i].Data, header: h, msgID: recs[i].MsgID(), seq: first + uint64(i)}
		st.header = cloneHeader(h)
		st.header.Del(jetstream.MsgIDHeader)
		ps.remember(p.pos, st, s.window)
		delete(ps.queued, p.pos)
		for _, f := range p.waiters {
			f.resolve(&nats.Msg{Subject: subject, Data: st.data, Header: cloneHeader(st.header)}, st.seq, false)
		}
	}
	ps.mu.Unlock()
	ps.lastSeq = ack.Sequence
	s.stats.batches.Add(1)
	s.stats.records.Add(uint64(len(msgs)))
	return nil
}

// recordFuture is the jetstream.PubAckFuture of a queued input: it resolves
// with the stream sequence of its record once the batch is stored. Msg is
// the stored record, valid once Ok delivered.
type recordFuture struct {
	msg *nats.Msg
	ok  chan *jetstream.PubAck
	err chan error
}

var _ jetstream.PubAckFuture = (*recordFuture)(nil)

func newRecordFuture() *recordFuture {
	return &recordFuture{ok: make(chan *jetstream.PubAck, 1), err: make(chan error, 1)}
}

func (f *recordFuture) resolve(m *nats.Msg, seq uint64, dup bool) {
	f.msg = m
	f.ok <- &jetstream.PubAck{Stream: events.StreamAudit, Sequence: seq, Duplicate: dup}
}

func (f *recordFuture) fail(err error) { f.err <- err }

func (f *recordFuture) Ok() <-chan *jetstream.PubAck { return f.ok }
func (f *recordFuture) Err() <-chan error            { return f.err }
func (f *recordFuture) Msg() *nats.Msg               { return f.msg }

// Close stops every committer (what is still queued fails and is retried
// by the runtime) and releases the partition leases. Call Flush before it
// to anchor the tails.
func (s *Sealer) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
}
