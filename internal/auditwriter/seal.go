package auditwriter

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
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

// DefaultRedeliveryWindow is how many sealed records per partition a Sealer
// remembers by source position, so that a redelivered input gets the same
// record again instead of a second one.
const DefaultRedeliveryWindow = 4096

// DefaultRestoreTimeout bounds reading a partition's records when a Sealer
// restores its chain at the partition's first use.
const DefaultRestoreTimeout = 2 * time.Minute

// SealingOptions turn on sealed records (pkg/security/audit record format
// v1) instead of the raw clean event. Nil Options.Sealing keeps raw records.
type SealingOptions struct {
	// Master is ESCAI_SECRET_KEY; the integrity key (record MAC) and the KEK
	// are derived from it with audit.DeriveKeys. Required (≥ 32 bytes).
	Master config.Secret
	// Encrypt seals bodies with AES-256-GCM under data keys of Keys.
	Encrypt bool
	// Keys is the data key ring used when Encrypt is set. Nil: a ring
	// under the derived KEK that lives only in this process (persisting
	// keys in a KV bucket is a later step).
	Keys *audit.KeyRing
	// WriterID names this writer in every record (e.g. the pod name).
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
	// after the record that reaches it. Default DefaultCheckpointEvery.
	CheckpointEvery int
	// CheckpointSigners sign the checkpoints. Default: the signer
	// DerivedKeys.CheckpointSigner(DefaultCheckpointKeyName) derived from
	// Master, the key `escai audit verify` trusts. In production give the
	// checkpointer its own key (see audit.DerivedKeys.CheckpointSigner).
	CheckpointSigners []note.Signer
}

// Sealer owns the Appender of every partition of one writer process. All
// processors of a Writer share one Sealer: two Appenders for one partition
// would fork its chain.
//
// Ordering. The stage runtime calls Process from several lanes (and, in a
// Writer, several runners) and publishes each output after Process returns,
// so a lock held only inside Process would not make the stream order equal
// the chain order: lane A could seal pseq 5, lane B seal and publish pseq 6,
// and A publish 5 after it (REORDER). The Sealer therefore publishes each
// record itself, asynchronously but while still holding the partition lock,
// on the runtime's own JetStream handle, so records leave the connection in
// pseq order, and hands the runtime the PubAck future (stage.Output.Future)
// to wait for instead of publishing again. Only when that publish cannot be
// issued does the runtime publish the output itself, with the same
// Nats-Msg-Id (origin#pseq).
//
// Checkpoints. Once a partition has CheckpointEvery records since its last
// checkpoint, the Sealer signs one (audit.Appender.Checkpoint) and publishes
// it on CheckpointSubject(p) with Msg-Id "<origin>#cp#<size>", right after
// the record that reached it and under the same lock, so every checkpoint
// follows the records it covers. Flush (called by Writer.Drain) checkpoints
// the rest. A verifier that reads them detects a truncated tail up to the
// newest stored checkpoint.
//
// Redelivery. A redelivered input (same stream and sequence) is answered with
// the record already sealed for it, byte for byte, as long as it is within
// the last RedeliveryWindow records of its partition, so redelivery never
// appends a duplicate to the chain.
//
// Restart. At a partition's first use the Sealer reads every record stored on
// escai.audit.<p> (exactly that subject: checkpoints on
// escai.audit.checkpoint.<p> are not records) and continues the chain with
// audit.RestoreAppender from pseq 0. The last
// RedeliveryWindow replayed records are remembered by their source position
// (headers Escai-Source-Stream and Escai-Source-Sequence), so an input sealed before the restart
// and redelivered after it gets its stored record again (same Msg-Id: the
// runtime's publish is deduplicated) instead of a second one. Open problems
// for the next step: a publish that was lost while later records were stored
// (the republished record lands after them), a redelivered record whose
// republish falls outside the stream's duplicate window, and two writers on
// one partition; they need publishing with the expected last subject
// sequence and a partition lease.
type Sealer struct {
	js      jetstream.JetStream
	opts    SealingOptions
	parts   int
	keys    *audit.DerivedKeys
	ring    *audit.KeyRing
	window  int
	every   uint64
	signers []note.Signer

	mu    sync.Mutex
	state map[int]*partitionState
}

type partitionState struct {
	mu   sync.Mutex
	app  *audit.Appender
	seen map[string]stage.Output // source position → the record sealed for it
	fifo []string                // keys of seen, oldest first (ring)
	next int                     // next slot of fifo to overwrite
}

// NewSealer checks the options and derives the keys. js is the handle the
// stage runtime publishes on (the same connection keeps the order).
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
	s := &Sealer{js: js, opts: opts, parts: partitions, keys: keys, window: opts.RedeliveryWindow, state: map[int]*partitionState{}}
	s.every = uint64(opts.CheckpointEvery)
	s.signers = opts.CheckpointSigners
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
	cfg := s.appenderConfig(0)
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("auditwriter: sealing: %w", err)
	}
	return s, nil
}

// Keys returns the derived audit keys (integrity key for verifiers).
func (s *Sealer) Keys() *audit.DerivedKeys { return s.keys }

// KeyRing returns the data key ring, nil without encryption.
func (s *Sealer) KeyRing() *audit.KeyRing { return s.ring }

// Origin returns the log identity of partition k.
func (s *Sealer) Origin(k int) string { return audit.Origin(s.opts.Log, uint32(k)) }

func (s *Sealer) appenderConfig(part int) audit.AppenderConfig {
	return audit.AppenderConfig{
		Origin:       s.Origin(part),
		Partition:    uint32(part),
		WriterID:     s.opts.WriterID,
		Keys:         s.ring,
		IntegrityKey: s.keys.Integrity,
		Now:          s.opts.Now,
	}
}

func (s *Sealer) partition(part int) *partitionState {
	s.mu.Lock()
	defer s.mu.Unlock()
	ps := s.state[part]
	if ps == nil {
		ps = &partitionState{seen: map[string]stage.Output{}, fifo: make([]string, 0, min(s.window, 1024))}
		s.state[part] = ps
	}
	return ps
}

// seal turns one decoded input into the record of its partition, publishing
// it under the partition lock (see Sealer).
func (s *Sealer) seal(ctx context.Context, in *stage.Message, ev *events.Envelope, part int) (stage.Output, error) {
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

	ps := s.partition(part)
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if out, ok := ps.seen[pos]; ok {
		return cloneOutput(out), nil
	}
	if ps.app == nil {
		app, err := s.restore(ctx, ps, part)
		if err != nil {
			return stage.Output{}, err
		}
		ps.app = app
		if out, ok := ps.seen[pos]; ok {
			return cloneOutput(out), nil
		}
	}
	recs, err := ps.app.Append([]audit.Input{input})
	if err != nil {
		if errors.Is(err, audit.ErrInvalidInput) {
			return stage.Output{}, stage.Permanent(CodeAuditInvalidInput, "", err)
		}
		return stage.Output{}, fmt.Errorf("auditwriter: seal in partition %d: %w", part, err)
	}
	rec := recs[0]
	h := nats.Header{}
	h.Set(HeaderTenant, ev.Tenant)
	h.Set(HeaderAgent, ev.AgentID)
	h.Set(HeaderEventID, ev.ID)
	h.Set(HeaderSourceStream, in.Stream)
	h.Set(HeaderSourceSeq, strconv.FormatUint(in.Sequence, 10))
	h.Set(HeaderEventTime, strconv.FormatInt(ev.Time.UnixMilli(), 10))
	h.Set(HeaderPartition, strconv.Itoa(part))
	h.Set(HeaderPSeq, strconv.FormatUint(rec.PSeq, 10))
	out := stage.Output{
		Subject: events.AuditSubject(part),
		Data:    rec.Bytes(),
		Header:  h,
		MsgID:   rec.MsgID(),
	}
	ps.remember(pos, out, s.window)

	// Publish while the lock is held so records reach the broker in pseq
	// order; the runtime waits for this PubAck instead of publishing again.
	// If the publish cannot even be issued, the runtime publishes the output
	// itself (same Msg-Id).
	ret := cloneOutput(out)
	f, err := s.js.PublishMsgAsync(&nats.Msg{Subject: ret.Subject, Data: ret.Data, Header: ret.Header},
		jetstream.WithMsgID(ret.MsgID), jetstream.WithStallWait(5*time.Second))
	if err != nil {
		// The runtime publishes the record itself, later: a checkpoint
		// now could reach the stream before the record it covers.
		return ret, nil
	}
	ret.Future = f
	if ps.app.SinceCheckpoint() >= s.every {
		// Right after the record, still under the lock: the checkpoint
		// follows the record it covers. A lost checkpoint is not an
		// error of this input; the next one (or Flush) covers it.
		_, _ = s.checkpointLocked(ps, part)
	}
	return ret, nil
}

// remember keeps out for pos, forgetting the oldest entry beyond window.
func (ps *partitionState) remember(pos string, out stage.Output, window int) {
	if len(ps.fifo) < window {
		ps.fifo = append(ps.fifo, pos)
	} else {
		delete(ps.seen, ps.fifo[ps.next])
		ps.fifo[ps.next] = pos
		ps.next = (ps.next + 1) % window
	}
	ps.seen[pos] = out
}

// cloneOutput copies the header: the publisher adds Nats-Msg-Id to the map
// it is given, and a remembered output may be published again concurrently.
// Data is never modified by the publisher and is shared.
func cloneOutput(o stage.Output) stage.Output {
	h := make(nats.Header, len(o.Header))
	for k, v := range o.Header {
		h[k] = append([]string(nil), v...)
	}
	o.Header = h
	return o
}
