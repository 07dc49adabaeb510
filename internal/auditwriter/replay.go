package auditwriter

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/escai-framework/escai/pkg/events"
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
