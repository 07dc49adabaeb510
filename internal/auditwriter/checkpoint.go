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

// checkpointLocked signs a checkpoint of the partition's head and publishes
// it asynchronously on its checkpoint subject with Msg-Id
// "<origin>#cp#<size>". Called with ps.mu held, after the record it covers
// was issued, so it reaches the stream after that record.
func (s *Sealer) checkpointLocked(ps *partitionState, part int) (jetstream.PubAckFuture, error) {
	entry, err := ps.app.Checkpoint(s.now(), s.signers...)
	if err != nil {
		return nil, fmt.Errorf("auditwriter: checkpoint of partition %d: %w", part, err)
	}
	data, err := entry.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("auditwriter: checkpoint of partition %d: %w", part, err)
	}
	size := ps.app.Head().Next
	h := nats.Header{}
	h.Set(HeaderPartition, strconv.Itoa(part))
	h.Set(HeaderCheckpointSize, strconv.FormatUint(size, 10))
	msgID := s.Origin(part) + "#cp#" + strconv.FormatUint(size, 10)
	f, err := s.js.PublishMsgAsync(&nats.Msg{Subject: CheckpointSubject(part), Data: data, Header: h},
		jetstream.WithMsgID(msgID), jetstream.WithStallWait(5*time.Second))
	if err != nil {
		return nil, fmt.Errorf("auditwriter: publish checkpoint of partition %d: %w", part, err)
	}
	return f, nil
}

func (s *Sealer) now() time.Time {
	if s.opts.Now != nil {
		return s.opts.Now()
	}
	return time.Now()
}

// Flush signs and publishes a checkpoint for every partition with records
// since its last checkpoint, and waits for the broker to store them. Call it
// once no more inputs are processed (Writer.Drain does), so the tail of every
// partition is anchored.
func (s *Sealer) Flush(ctx context.Context) error {
	s.mu.Lock()
	parts := make(map[int]*partitionState, len(s.state))
	for k, ps := range s.state {
		parts[k] = ps
	}
	s.mu.Unlock()
	var errs []error
	var futures []jetstream.PubAckFuture
	for part, ps := range parts {
		ps.mu.Lock()
		if ps.app != nil && ps.app.SinceCheckpoint() > 0 {
			f, err := s.checkpointLocked(ps, part)
			if err != nil {
				errs = append(errs, err)
			} else {
				futures = append(futures, f)
			}
		}
		ps.mu.Unlock()
	}
	for _, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			errs = append(errs, fmt.Errorf("auditwriter: store checkpoint %s: %w", f.Msg().Subject, err))
		case <-ctx.Done():
			return errors.Join(append(errs, ctx.Err())...)
		}
	}
	return errors.Join(errs...)
}
