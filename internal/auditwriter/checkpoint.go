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

// DefaultCheckpointEvery is how many records a partition gets between two
// signed checkpoints when SealingOptions.CheckpointEvery is not set.
const DefaultCheckpointEvery = 256

// DefaultCheckpointKeyName names the checkpoint signer derived from
// ESCAI_SECRET_KEY when SealingOptions.CheckpointSigners is empty; it is the
// key `escai audit verify` trusts.
const DefaultCheckpointKeyName = "escai-audit"

// CheckpointSubject returns escai.audit.checkpoint.<partition>, where the
// Sealer publishes the partition's signed checkpoints (audit.CheckpointEntry
// as JSON). ESCAI_AUDIT holds escai.audit.>, so they are stored next to the
// records; readers of records must filter exactly events.AuditSubject(p).
func CheckpointSubject(partition int) string {
	if partition < 0 {
		panic("auditwriter: negative audit partition " + strconv.Itoa(partition))
	}
	return events.SubjectPrefix + ".audit.checkpoint." + strconv.Itoa(partition)
}

// checkpoints signs a checkpoint of every partition with a head for which
// due holds and stores them fenced like records, after the records they
// cover. Called by the committer with nothing in flight. Checkpoints not
// stored are rewound, so the next one proves consistency from the last
// stored one.
func (s *Sealer) checkpoints(due func(*partitionState) bool) error {
	s.mu.Lock()
	parts := make([]*partitionState, 0, len(s.state))
	for _, ps := range s.state {
		if ps.app != nil && due(ps) {
			parts = append(parts, ps)
		}
	}
	s.mu.Unlock()
	if len(parts) == 0 {
		return nil
	}
	if !s.clean() {
		if err := s.ensureHeads(nil, true); err != nil {
			return err
		}
	}
	var errs []error
	msgs := make([]*fencedMsg, 0, len(parts))
	marks := map[*partitionState]audit.Mark{}
	for _, ps := range parts {
		if ps.app == nil { // dropped by ensureHeads (lease taken again)
			continue
		}
		marks[ps] = ps.app.Mark()
		m, err := s.checkpointMsg(ps, ps.lastSeq)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		msgs = append(msgs, m)
	}
	if err := s.publishFenced(msgs); err != nil {
		s.log.Warn("audit checkpoints not stored", zap.Error(err))
		errs = append(errs, fmt.Errorf("auditwriter: store checkpoints: %w", err))
		for ps, m := range marks {
			if ps.app.Rewind(m) != nil {
				ps.app = nil
			}
		}
		return errors.Join(errs...)
	}
	now := time.Now()
	for ps := range marks {
		ps.lastCkpt = now
	}
	return errors.Join(errs...)
}

// checkpointMsg signs a checkpoint of the partition's head: the message to
// publish on its checkpoint subject, Msg-Id "<origin>#cp#<size>#<time>".
// recordSeq is the stream sequence of the last record it covers when
// known now (0: set at publishing from fencedMsg.after, or none).
func (s *Sealer) checkpointMsg(ps *partitionState, recordSeq uint64) (*fencedMsg, error) {
	now := s.now()
	entry, err := ps.app.Checkpoint(now, s.signers...)
	if err != nil {
		return nil, fmt.Errorf("auditwriter: checkpoint of partition %d: %w", ps.part, err)
	}
	data, err := entry.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("auditwriter: checkpoint of partition %d: %w", ps.part, err)
	}
	size := ps.app.Head().Next
	h := nats.Header{}
	h.Set(HeaderPartition, strconv.Itoa(ps.part))
	h.Set(HeaderCheckpointSize, strconv.FormatUint(size, 10))
	if recordSeq > 0 && size > 0 {
		h.Set(HeaderCheckpointRecordSeq, strconv.FormatUint(recordSeq, 10))
	}
	h.Set(jetstream.MsgIDHeader, s.Origin(ps.part)+"#cp#"+strconv.FormatUint(size, 10)+"#"+strconv.FormatInt(now.UnixNano(), 10))
	return &fencedMsg{msg: &nats.Msg{Subject: CheckpointSubject(ps.part), Data: data, Header: h}}, nil
}

func (s *Sealer) now() time.Time {
	if s.opts.Now != nil {
		return s.opts.Now()
	}
	return time.Now()
}

// Flush seals what is queued, then signs and stores a checkpoint for every
// partition with records since its last checkpoint. Call it once no more
// inputs are processed (Writer.Drain does), so the tail of every partition
// is anchored.
func (s *Sealer) Flush(ctx context.Context) error {
	if s.isClosed() {
		return errSealerClosed
	}
	s.start()
	reply := make(chan error, 1)
	select {
	case s.flushReq <- reply:
	case <-s.done:
		return errSealerClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}
