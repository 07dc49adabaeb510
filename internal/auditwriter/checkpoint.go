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

// checkpoint signs a checkpoint of the partition's head and publishes it
// asynchronously on its checkpoint subject with Msg-Id
// "<origin>#cp#<size>". Called by the committer (or Flush) with
// ps.headMu held, after the records it covers were stored, so it follows
// them in the stream. A lost checkpoint is not an error of any input: the
// next one covers it, and its consistency proof starts where the last
// stored one ended or is skipped by verifiers.
func (s *Sealer) checkpoint(ps *partitionState) jetstream.PubAckFuture {
	part := ps.part
	entry, err := ps.app.Checkpoint(s.now(), s.signers...)
	if err != nil {
		s.log.Warn("audit checkpoint not signed", zap.Int("partition", part), zap.Error(err))
		return nil
	}
	data, err := entry.MarshalJSON()
	if err != nil {
		s.log.Warn("audit checkpoint not encoded", zap.Int("partition", part), zap.Error(err))
		return nil
	}
	ps.lastCkpt = time.Now()
	size := ps.app.Head().Next
	h := nats.Header{}
	h.Set(HeaderPartition, strconv.Itoa(part))
	h.Set(HeaderCheckpointSize, strconv.FormatUint(size, 10))
	msgID := s.Origin(part) + "#cp#" + strconv.FormatUint(size, 10) + "#" + strconv.FormatInt(ps.lastCkpt.UnixNano(), 10)
	f, err := s.js.PublishMsgAsync(&nats.Msg{Subject: CheckpointSubject(part), Data: data, Header: h},
		jetstream.WithMsgID(msgID), jetstream.WithStallWait(5*time.Second))
	if err != nil {
		s.log.Warn("audit checkpoint not published", zap.Int("partition", part), zap.Error(err))
		return nil
	}
	return f
}

// heartbeat signs a checkpoint when the newest one is older than
// CheckpointInterval, even of an unchanged size: a verifier can then tell
// a quiet partition from one whose tail was cut.
func (s *Sealer) heartbeat(ps *partitionState) {
	ps.headMu.Lock()
	defer ps.headMu.Unlock()
	if ps.app == nil || ps.lease == nil || ps.lease.lost.Load() || time.Since(ps.lastCkpt) < s.opts.CheckpointInterval {
		return
	}
	s.checkpoint(ps)
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
	parts := make([]*partitionState, 0, len(s.state))
	for _, ps := range s.state {
		parts = append(parts, ps)
	}
	s.mu.Unlock()
	var errs []error
	var futures []jetstream.PubAckFuture
	for _, ps := range parts {
		ps.headMu.Lock()
		if ps.app != nil && ps.app.SinceCheckpoint() > 0 {
			if f := s.checkpoint(ps); f != nil {
				futures = append(futures, f)
			} else {
				errs = append(errs, fmt.Errorf("auditwriter: checkpoint of partition %d not published", ps.part))
			}
		}
		ps.headMu.Unlock()
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
