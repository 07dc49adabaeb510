package auditwriter

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/escai-framework/escai/pkg/events"
	"github.com/escai-framework/escai/pkg/security/audit"
)

// restore sets the partition's head from the stream: a new chain when
// escai.audit.<part> is empty, otherwise the chain continued from every
// stored record (audit.RestoreAppender without a checkpoint, so from pseq
// 0). It reads exactly escai.audit.<part>: the partition's checkpoints, on
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

	var recs []storedMsg
	err = ReplaySubject(ctx, s.js, subject, func(m jetstream.Msg, seq uint64) bool {
		recs = append(recs, storedMsg{data: append([]byte(nil), m.Data()...), header: m.Headers(), seq: seq})
		return seq < last.Sequence
	}, nil)
	if err != nil {
		return fmt.Errorf("auditwriter: restore partition %d: read %d records: %w", part, len(recs), err)
	}
	raw := make([][]byte, len(recs))
	for i, r := range recs {
		raw[i] = r.data
	}
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
	raw := make([][]byte, len(recs))
	for i, r := range recs {
		raw[i] = r.data
	}
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
		h.Set(HeaderPSeq, strconv.FormatUint(rec.PSeq, 10))
		ps.remember(src+"\x00"+seq, storedRecord{data: r.data, header: h, msgID: rec.MsgID(), seq: r.seq}, s.window)
	}
	return nil
}
