package auditwriter

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/escai-framework/escai/internal/stage"
	"github.com/escai-framework/escai/pkg/events"
	"github.com/escai-framework/escai/pkg/security/audit"
)

// restore returns the Appender of a partition at its first use: a new chain
// when escai.audit.<part> is empty, otherwise the chain continued from every
// stored record (audit.RestoreAppender without a checkpoint, so from pseq 0).
// It reads exactly escai.audit.<part>: the partition's checkpoints, on
// escai.audit.checkpoint.<part> in the same stream, are never replayed as
// records.
// The replayed records are remembered in ps by source position for
// redeliveries. Called with ps.mu held.
//
// Every error is transient (the input is retried, then dead-lettered after
// max_deliver): a broker hiccup heals by itself, and a broken tail
// (audit.ErrRestore) must not be sealed over, so the partition stops
// accepting records until an operator repairs it rather than forking the
// chain or dropping inputs as rejected.
func (s *Sealer) restore(ctx context.Context, ps *partitionState, part int) (*audit.Appender, error) {
	cfg := s.appenderConfig(part)
	ctx, cancel := context.WithTimeout(ctx, DefaultRestoreTimeout)
	defer cancel()
	subject := events.AuditSubject(part)
	stream, err := s.js.Stream(ctx, events.StreamAudit)
	if err != nil {
		return nil, fmt.Errorf("auditwriter: %s: %w", events.StreamAudit, err)
	}
	last, err := stream.GetLastMsgForSubject(ctx, subject)
	switch {
	case errors.Is(err, jetstream.ErrMsgNotFound):
		app, err := audit.NewAppender(cfg)
		if err != nil {
			return nil, fmt.Errorf("auditwriter: partition %d: %w", part, err)
		}
		return app, nil
	case err != nil:
		return nil, fmt.Errorf("auditwriter: last record of partition %d: %w", part, err)
	}

	type stored struct {
		data   []byte
		header nats.Header
	}
	var recs []stored
	err = ReplaySubject(ctx, s.js, subject, func(m jetstream.Msg, seq uint64) bool {
		recs = append(recs, stored{data: append([]byte(nil), m.Data()...), header: m.Headers()})
		return seq < last.Sequence
	}, nil)
	if err != nil {
		return nil, fmt.Errorf("auditwriter: restore partition %d: read %d records: %w", part, len(recs), err)
	}

	raw := make([][]byte, len(recs))
	for i, r := range recs {
		raw[i] = r.data
	}
	app, err := audit.RestoreAppender(cfg, nil, raw)
	if err != nil {
		// Transient on purpose, see above.
		return nil, fmt.Errorf("auditwriter: restore partition %d from %d records: %w", part, len(raw), err)
	}

	// Remember the newest records (at most the window) for redeliveries.
	for _, r := range recs[max(0, len(recs)-s.window):] {
		rec, err := audit.DecodeRecord(r.data)
		if err != nil {
			return nil, fmt.Errorf("auditwriter: restore partition %d: %w", part, err)
		}
		src, seq := r.header.Get(HeaderSourceStream), r.header.Get(HeaderSourceSeq)
		if src == "" || seq == "" || r.header.Get(HeaderEventID) != rec.EventID {
			continue // not a record of this writer's format: nothing to match
		}
		h := make(nats.Header, len(r.header))
		for k, v := range r.header {
			h[k] = append([]string(nil), v...)
		}
		h.Del(nats.MsgIdHdr)
		h.Set(HeaderPSeq, strconv.FormatUint(rec.PSeq, 10))
		ps.remember(src+"\x00"+seq, stage.Output{Subject: subject, Data: r.data, Header: h, MsgID: rec.MsgID()}, s.window)
	}
	return app, nil
}
