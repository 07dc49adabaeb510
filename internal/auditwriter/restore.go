package auditwriter

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"go.uber.org/zap"

	"github.com/escai-framework/escai/pkg/events"
	"github.com/escai-framework/escai/pkg/security/audit"
)

// restore sets the partition's head from the stream: a new chain when
// escai.audit.<part> is empty; otherwise, when the partition's newest
// checkpoint verifies and says where its last record is, the tree from the
// checkpoint's frontier and the records since (restoreFromCheckpoint);
// otherwise the chain continued from every stored record
// (audit.RestoreAppender without a checkpoint, from pseq 0). It reads exactly escai.audit.<part>: the partition's checkpoints, on
// escai.audit.checkpoint.<part> in the same stream, are never replayed as
// records. The newest replayed records are remembered by source position
// for redeliveries. Called by the committer.
//
// Every error is transient (the inputs are retried, then dead-lettered
// after max_deliver): a broker hiccup heals by itself, and a broken tail
// (audit.ErrRestore) must not be sealed over, so the partition stops
// accepting records until an operator repairs it rather than forking the
// chain or dropping inputs as rejected.
func (s *Sealer) restore(ctx context.Context, ps *partitionState) error {
	part := ps.part
	cfg := s.appenderConfig(part, s.lease.gen)
	ctx, cancel := context.WithTimeout(ctx, DefaultRestoreTimeout)
	defer cancel()
	subject := events.AuditSubject(part)
	stream, err := s.js.Stream(ctx, events.StreamAudit)
	if err != nil {
		return fmt.Errorf("auditwriter: %s: %w", events.StreamAudit, err)
	}
	last, err := stream.GetLastMsgForSubject(ctx, subject)
	switch {
	case errors.Is(err, jetstream.ErrMsgNotFound):
		app, err := audit.NewAppender(cfg)
		if err != nil {
			return fmt.Errorf("auditwriter: partition %d: %w", part, err)
		}
		ps.app, ps.lastSeq, ps.lastCkpt = app, 0, time.Now()
		return nil
	case err != nil:
		return fmt.Errorf("auditwriter: last record of partition %d: %w", part, err)
	}

	if ok, err := s.restoreFromCheckpoint(ctx, ps, stream, last); ok || err != nil {
		return err
	}
	msgs, err := readRange(ctx, s.js, subject, 0, last.Sequence)
	if err != nil {
		return fmt.Errorf("auditwriter: restore partition %d: %w", part, err)
	}
	recs, err := recordsOf(msgs)
	if err != nil {
		return fmt.Errorf("auditwriter: restore partition %d: %w", part, err)
	}
	raw := dataOf(recs)
	app, err := audit.RestoreAppender(cfg, nil, raw)
	if err != nil {
		return fmt.Errorf("auditwriter: restore partition %d from %d records: %w", part, len(raw), err)
	}
	if err := s.rememberStored(ps, recs[max(0, len(recs)-s.window):]); err != nil {
		return err
	}
	ps.app, ps.lastSeq, ps.lastCkpt = app, recs[len(recs)-1].seq(), time.Now()
	return nil
}

// catchUp adopts the records stored on the partition after the head this
// committer knows (another writer's, or a batch of its own whose answer
// was lost), so that the next batch is sealed after them.
func (s *Sealer) catchUp(ps *partitionState) error {
	if ps.app == nil {
		return errors.New("no head to continue")
	}
	ctx, cancel := context.WithTimeout(s.ctx, DefaultRestoreTimeout)
	defer cancel()
	msgs, err := readAfter(ctx, s.js, events.AuditSubject(ps.part), ps.lastSeq)
	if err != nil || len(msgs) == 0 {
		return err
	}
	recs, err := recordsOf(msgs)
	if err != nil {
		return err
	}
	raw := dataOf(recs)
	if err := ps.app.Continue(raw); err != nil {
		return err
	}
	if err := s.rememberStored(ps, recs[max(0, len(recs)-s.window):]); err != nil {
		return err
	}
	ps.lastSeq = recs[len(recs)-1].seq()
	return nil
}

// storedMsg is one message read back from ESCAI_AUDIT.
type storedMsg struct {
	data   []byte
	header nats.Header
	seq    uint64
}

// storedRec is one record read back (storedRecord) with the source
// position of its input (empty when unknown).
type storedRec struct {
	storedRecord
	pos string
}

// recordsOf expands messages into their records, in order: a bundle's
// entries, or a message that is one record by itself (its headers say
// what the index keeps and where the input was read).
func recordsOf(msgs []storedMsg) ([]storedRec, error) {
	out := make([]storedRec, 0, len(msgs))
	for _, m := range msgs {
		if !audit.IsBundle(m.data) {
			r := storedRec{storedRecord: storedRecord{data: m.data, meta: metaOfHeader(m.header, m.seq)}}
			if src, seq := m.header.Get(HeaderSourceStream), m.header.Get(HeaderSourceSeq); src != "" && seq != "" {
				r.pos = src + "\x00" + seq
			}
			out = append(out, r)
			continue
		}
		entries, err := audit.SplitBundle(m.data)
		if err != nil {
			return nil, fmt.Errorf("stream seq %d: %w", m.seq, err)
		}
		for i := range entries {
			e := &entries[i]
			rec, err := audit.DecodeRecord(e.Record)
			if err != nil {
				return nil, fmt.Errorf("stream seq %d, bundle slot %d: %w", m.seq, i, err)
			}
			out = append(out, storedRec{
				storedRecord: storedRecord{data: e.Record, meta: metaOfEntry(rec, e, m.seq, i)},
				pos:          e.Source + "\x00" + strconv.FormatUint(e.SourceSeq, 10),
			})
		}
	}
	return out, nil
}

// lastRecordOf decodes the last record a stored message holds.
func lastRecordOf(data []byte) (*audit.Record, error) {
	recs, err := audit.RecordsOf(data)
	if err != nil {
		return nil, err
	}
	return audit.DecodeRecord(recs[len(recs)-1])
}

// dataOf returns the records' bytes, what audit.RestoreAppender and
// Appender.Continue take.
func dataOf(recs []storedRec) [][]byte {
	raw := make([][]byte, len(recs))
	for i, r := range recs {
		raw[i] = r.data
	}
	return raw
}

// rememberStored remembers records read from the stream by the source
// position of their inputs.
func (s *Sealer) rememberStored(ps *partitionState, recs []storedRec) error {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for _, r := range recs {
		rec, err := audit.DecodeRecord(r.data)
		if err != nil {
			return fmt.Errorf("auditwriter: partition %d: stream seq %d: %w", ps.part, r.seq(), err)
		}
		if r.pos == "" || r.meta.eventID != rec.EventID {
			continue // not a record of this writer's format: nothing to match
		}
		ps.remember(r.pos, r.storedRecord, s.window)
	}
	return nil
}

// restoreFromCheckpoint restores the partition from its newest checkpoint:
// the tree from the checkpoint's frontier (verified against the trusted
// keys), the records from the one the checkpoint ends with to the last
// one, all checked by RestoreAppender, and, for redeliveries, the
// RedeliveryWindow records before the head, found by a binary search over
// stream sequences (pseq grows with the stream sequence in a partition).
// It reports false when there is no usable checkpoint: the caller replays
// from pseq 0.
func (s *Sealer) restoreFromCheckpoint(ctx context.Context, ps *partitionState, stream jetstream.Stream, last *jetstream.RawStreamMsg) (bool, error) {
	if s.trusted == nil {
		return false, nil
	}
	part := ps.part
	cpMsg, err := stream.GetLastMsgForSubject(ctx, CheckpointSubject(part))
	if err != nil {
		return false, nil
	}
	recordSeq, err := strconv.ParseUint(cpMsg.Header.Get(HeaderCheckpointRecordSeq), 10, 64)
	if err != nil || recordSeq == 0 || recordSeq > last.Sequence {
		return false, nil
	}
	entry, err := audit.ParseCheckpointEntry(cpMsg.Data)
	if err != nil {
		return false, nil
	}
	sc, err := audit.OpenCheckpoint(entry.Note, s.trusted)
	if err != nil || sc.Origin != s.Origin(part) || sc.Size == 0 {
		s.log.Warn("audit partition's newest checkpoint not usable; replaying from pseq 0", zap.Int("partition", part), zap.Error(err))
		return false, nil
	}
	head, err := lastRecordOf(last.Data)
	if err != nil {
		return false, fmt.Errorf("auditwriter: partition %d: last record: %w", part, err)
	}
	// Start at the record the checkpoint ends with, or earlier, to
	// remember a whole window of records for redeliveries.
	target := sc.Size - 1
	if w := uint64(s.window); head.PSeq+1 > w && head.PSeq+1-w < target {
		target = head.PSeq + 1 - w
	} else if head.PSeq+1 <= w {
		target = 0
	}
	from, err := seekPSeq(ctx, stream, events.AuditSubject(part), target, recordSeq)
	if err != nil {
		return false, fmt.Errorf("auditwriter: partition %d: %w", part, err)
	}
	msgs, err := readRange(ctx, s.js, events.AuditSubject(part), from-1, last.Sequence)
	if err != nil {
		return false, fmt.Errorf("auditwriter: restore partition %d: %w", part, err)
	}
	recs, err := recordsOf(msgs)
	if err != nil {
		return false, fmt.Errorf("auditwriter: restore partition %d: %w", part, err)
	}
	// The records from pseq size-1 on continue the checkpoint's tree.
	start := -1
	for i, r := range recs {
		rec, err := audit.DecodeRecord(r.data)
		if err != nil {
			return false, fmt.Errorf("auditwriter: restore partition %d: stream seq %d: %w", part, r.seq(), err)
		}
		if rec.PSeq == sc.Size-1 {
			start = i
			break
		}
	}
	if start < 0 {
		return false, fmt.Errorf("auditwriter: restore partition %d: record pseq %d (the checkpoint's last) not found from stream seq %d", part, sc.Size-1, from)
	}
	raw := dataOf(recs[start:])
	app, err := audit.RestoreAppender(s.appenderConfig(part, s.lease.gen), &sc.Checkpoint, raw)
	if err != nil {
		return false, fmt.Errorf("auditwriter: restore partition %d from its checkpoint of size %d: %w", part, sc.Size, err)
	}
	if err := s.rememberStored(ps, recs[max(0, len(recs)-s.window):]); err != nil {
		return false, err
	}
	ps.app, ps.lastSeq, ps.lastCkpt = app, recs[len(recs)-1].seq(), time.Now()
	s.stats.fromCheckpoint.Add(1)
	return true, nil
}

// seekPSeq returns the smallest stream sequence x such that the last
// record of the first message of subject at or after x has pseq ≥ target:
// reading from x gives the records from pseq target on (that message
// holds target: pseqs are contiguous). hi is such a sequence. pseq grows
// with the stream sequence within a subject, so the predicate is false,
// then true: a binary search, one read per probe.
func seekPSeq(ctx context.Context, stream jetstream.Stream, subject string, target, hi uint64) (uint64, error) {
	info, err := stream.Info(ctx)
	if err != nil {
		return 0, err
	}
	lo := max(info.State.FirstSeq, 1)
	for lo < hi {
		mid := lo + (hi-lo)/2
		m, err := stream.GetMsg(ctx, mid, jetstream.WithGetMsgSubject(subject))
		if err != nil {
			return 0, fmt.Errorf("seek pseq %d: %w", target, err)
		}
		rec, err := lastRecordOf(m.Data)
		if err != nil {
			return 0, fmt.Errorf("seek pseq %d: stream seq %d: %w", target, m.Sequence, err)
		}
		if rec.PSeq >= target {
			hi = mid
		} else {
			lo = m.Sequence + 1 // false up to this record
		}
	}
	return lo, nil
}
