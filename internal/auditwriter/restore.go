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
	recs, err := readRange(ctx, s.js, subject, 0, last.Sequence)
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
	ps.app, ps.lastSeq, ps.lastCkpt = app, recs[len(recs)-1].seq, time.Now()
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
	recs, err := readAfter(ctx, s.js, events.AuditSubject(ps.part), ps.lastSeq)
	if err != nil || len(recs) == 0 {
		return err
	}
	raw := dataOf(recs)
	if err := ps.app.Continue(raw); err != nil {
		return err
	}
	if err := s.rememberStored(ps, recs[max(0, len(recs)-s.window):]); err != nil {
		return err
	}
	ps.lastSeq = recs[len(recs)-1].seq
	return nil
}

type storedMsg struct {
	data   []byte
	header nats.Header
	seq    uint64
}

// dataOf returns the records' bytes, what audit.RestoreAppender and
// Appender.Continue take.
func dataOf(recs []storedMsg) [][]byte {
	raw := make([][]byte, len(recs))
	for i, r := range recs {
		raw[i] = r.data
	}
	return raw
}

// rememberStored remembers records read from the stream by their source
// position (headers Escai-Source-Stream and Escai-Source-Sequence).
func (s *Sealer) rememberStored(ps *partitionState, recs []storedMsg) error {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for _, r := range recs {
		rec, err := audit.DecodeRecord(r.data)
		if err != nil {
			return fmt.Errorf("auditwriter: partition %d: stream seq %d: %w", ps.part, r.seq, err)
		}
		src, seq := r.header.Get(HeaderSourceStream), r.header.Get(HeaderSourceSeq)
		if src == "" || seq == "" || r.header.Get(HeaderEventID) != rec.EventID {
			continue // not a record of this writer's format: nothing to match
		}
		h := cloneHeader(r.header)
		h.Del(nats.MsgIdHdr)
		h.Del(jetstream.ExpectedLastSubjSeqHeader)
		for _, k := range []string{"Nats-Batch-Id", "Nats-Batch-Sequence", "Nats-Batch-Commit"} {
			h.Del(k)
		}
		ps.remember(src+"\x00"+seq, storedRecord{data: r.data, header: h, seq: r.seq}, s.window)
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
	head, err := audit.DecodeRecord(last.Data)
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
	recs, err := readRange(ctx, s.js, events.AuditSubject(part), from-1, last.Sequence)
	if err != nil {
		return false, fmt.Errorf("auditwriter: restore partition %d: %w", part, err)
	}
	// The records from pseq size-1 on continue the checkpoint's tree.
	start := -1
	for i, r := range recs {
		rec, err := audit.DecodeRecord(r.data)
		if err != nil {
			return false, fmt.Errorf("auditwriter: restore partition %d: stream seq %d: %w", part, r.seq, err)
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
	ps.app, ps.lastSeq, ps.lastCkpt = app, recs[len(recs)-1].seq, time.Now()
	s.stats.fromCheckpoint.Add(1)
	return true, nil
}

// seekPSeq returns the smallest stream sequence x such that the first
// record of subject at or after x has pseq ≥ target: reading from x gives
// the records from pseq target on. hi is such a sequence (a record of
// pseq ≥ target). pseq grows with the stream sequence within a subject, so
// the predicate is false, then true: a binary search, one read per probe.
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
		rec, err := audit.DecodeRecord(m.Data)
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
