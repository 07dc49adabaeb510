package auditwriter

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/escai-framework/escai/pkg/events"
	"github.com/escai-framework/escai/pkg/security/audit"
)

// ReplaySubject hands fn every message stored on one ESCAI_AUDIT subject
// (a partition's records, or its checkpoints), in stream order, up to the
// count the stream reports at the start; fn returns false to stop early.
// progress, when set, is called after every batch. The writer's restore,
// escai audit verify and the tests all read partitions through it.
func ReplaySubject(ctx context.Context, js jetstream.JetStream, subject string, fn func(m jetstream.Msg, streamSeq uint64) bool, progress func(seen uint64)) error {
	stream, err := js.Stream(ctx, events.StreamAudit)
	if err != nil {
		return err
	}
	info, err := stream.Info(ctx, jetstream.WithSubjectFilter(subject))
	if err != nil {
		return err
	}
	want := info.State.Subjects[subject]
	if want == 0 {
		return nil
	}
	cons, err := js.OrderedConsumer(ctx, events.StreamAudit, jetstream.OrderedConsumerConfig{FilterSubjects: []string{subject}})
	if err != nil {
		return err
	}
	for seen := uint64(0); seen < want; {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("%s: replay stopped after %d of %d messages: %w", subject, seen, want, err)
		}
		batch, err := cons.Fetch(int(min(1000, want-seen)), jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			return err
		}
		got := 0
		for m := range batch.Messages() {
			meta, err := m.Metadata()
			if err != nil {
				return err
			}
			seen++
			got++
			if !fn(m, meta.Sequence.Stream) {
				return nil
			}
		}
		if got == 0 {
			return fmt.Errorf("%s: replay stalled after %d of %d messages", subject, seen, want)
		}
		if progress != nil {
			progress(seen)
		}
	}
	return nil
}

// ReplayRecords is ReplaySubject for a partition's records: fn gets every
// record of escai.audit.<p> in pseq order, each with the stream sequence
// of the message holding it (a bundle holds a run of them; see
// audit.AppendBundle). A message whose bundle framing is damaged is handed
// over whole, once, for the Verifier to report. progress, when set, gets
// the records seen so far after every batch of messages.
func ReplayRecords(ctx context.Context, js jetstream.JetStream, part int, fn func(record []byte, streamSeq uint64) bool, progress func(records uint64)) error {
	var records uint64
	var counted func(uint64)
	if progress != nil {
		counted = func(uint64) { progress(records) }
	}
	return ReplaySubject(ctx, js, events.AuditSubject(part), func(m jetstream.Msg, seq uint64) bool {
		recs, err := audit.RecordsOf(m.Data())
		if err != nil {
			recs = [][]byte{m.Data()}
		}
		for _, rec := range recs {
			records++
			if !fn(rec, seq) {
				return false
			}
		}
		return true
	}, counted)
}

// CountRecords returns how many records ESCAI_AUDIT holds on the records
// subjects of partitions 0..partitions-1.
func CountRecords(ctx context.Context, js jetstream.JetStream, partitions int) (uint64, error) {
	var n uint64
	for p := range partitions {
		err := ReplayRecords(ctx, js, p, func([]byte, uint64) bool { n++; return true }, nil)
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// readAfter returns the messages stored on subject after stream sequence
// after, up to the last one stored when it is called, in stream order.
func readAfter(ctx context.Context, js jetstream.JetStream, subject string, after uint64) ([]storedMsg, error) {
	stream, err := js.Stream(ctx, events.StreamAudit)
	if err != nil {
		return nil, err
	}
	last, err := stream.GetLastMsgForSubject(ctx, subject)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return readRange(ctx, js, subject, after, last.Sequence)
}

// readRange returns the messages stored on subject with stream sequences
// in (after, upTo], in stream order; upTo must be a message of subject.
func readRange(ctx context.Context, js jetstream.JetStream, subject string, after, upTo uint64) ([]storedMsg, error) {
	if upTo <= after {
		return nil, nil
	}
	cons, err := js.OrderedConsumer(ctx, events.StreamAudit, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{subject},
		DeliverPolicy:  jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:    after + 1,
	})
	if err != nil {
		return nil, err
	}
	var out []storedMsg
	for {
		batch, err := cons.Fetch(1000, jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			return nil, err
		}
		got := 0
		for m := range batch.Messages() {
			meta, err := m.Metadata()
			if err != nil {
				return nil, err
			}
			got++
			out = append(out, storedMsg{data: append([]byte(nil), m.Data()...), header: m.Headers(), seq: meta.Sequence.Stream})
			if meta.Sequence.Stream >= upTo {
				return out, nil
			}
		}
		if err := batch.Error(); err != nil && got == 0 {
			return nil, err
		}
		if got == 0 {
			return nil, fmt.Errorf("%s: read stalled after %d messages", subject, len(out))
		}
	}
}
