package auditwriter_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/escai-framework/escai/internal/auditwriter"
	"github.com/escai-framework/escai/internal/stage"
	"github.com/escai-framework/escai/pkg/events"
	"github.com/escai-framework/escai/pkg/security/audit"
)

// TestFencedWritersRaceOnOnePartition: writer A holds the log's lease; it
// then vanishes (as when A stalls past the TTL) and writer B takes it,
// while A still believes it is the active writer. Both seal and publish
// concurrently. The broker's expected-last-subject-sequence fence must
// turn every collision into a re-read and a re-seal: the partition ends as
// one linear chain from genesis with every event exactly once, records of
// both writers interleaved, and it verifies.
func TestFencedWritersRaceOnOnePartition(t *testing.T) {
	const n = 600
	ctx := context.Background()
	js := sealEnv(t)
	want := map[string][]byte{}
	msgs := make([]*stage.Message, n)
	for i := range n {
		subj, data := cleanEvent(i)
		want[fmt.Sprintf("c-%05d", i)] = data
		msgs[i] = &stage.Message{Subject: subj, Data: data, Stream: "ESCAI_CLEAN_acme", Sequence: uint64(i + 1), NumDelivered: 1}
	}
	var sealers []*auditwriter.Sealer
	newWriter := func(id string) stage.Processor {
		s, err := auditwriter.NewSealer(js, auditwriter.SealingOptions{
			Master: testMaster(), WriterID: id, MaxRound: 16,
			LeaseTTL: 30 * time.Second, LeaseWait: time.Second, // A notices the loss only at its next renewal
		}, 1)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		sealers = append(sealers, s)
		return auditwriter.NewSealingProcessor(nil, auditwriter.Options{Partitions: 1, Limits: events.DefaultLimits()}, false, s)
	}
	a, b := newWriter("writer-a"), newWriter("writer-b")

	// deliver processes m on p and waits for its record; like a
	// redelivery, a failed input is handed to the other writer.
	deliver := func(first, second stage.Processor, m *stage.Message) error {
		var lastErr error
		for try := range 20 {
			p := first
			if try%2 == 1 {
				p = second
			}
			outs, err := p.Process(ctx, m)
			if err != nil {
				lastErr = err
				continue
			}
			select {
			case <-outs[0].Future.Ok():
				return nil
			case err := <-outs[0].Future.Err():
				lastErr = err
			case <-time.After(30 * time.Second):
				return errors.New("no answer in 30s")
			}
		}
		return fmt.Errorf("%s not stored after 20 deliveries: %w", m.Header.Get("x"), lastErr)
	}
	if err := deliver(a, b, msgs[0]); err != nil {
		t.Fatal(err)
	}
	// A's lease disappears; B will take the partition at its first input.
	kv, err := js.KeyValue(ctx, auditwriter.LeaseBucket)
	if err != nil {
		t.Fatal(err)
	}
	if err := kv.Purge(ctx, "escai"); err != nil {
		t.Fatal(err)
	}

	var wg sync.WaitGroup
	errs := make(chan error, n)
	for w, pair := range [][2]stage.Processor{{a, b}, {b, a}} {
		wg.Go(func() {
			for i := 1 + w; i < n; i += 2 {
				if err := deliver(pair[0], pair[1], msgs[i]); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	recs := readPartition(t, js, 0)
	if len(recs) != n {
		t.Fatalf("partition 0 holds %d records, want %d", len(recs), n)
	}
	writers := map[string]int{}
	for _, r := range recs {
		rec, err := audit.DecodeRecord(r.data)
		if err != nil {
			t.Fatal(err)
		}
		writers[rec.WriterID]++
	}
	sa, sb := sealers[0].Stats(), sealers[1].Stats()
	t.Logf("records by writer %v; writer-a %+v; writer-b %+v", writers, sa, sb)
	// The race really happened: both wrote, and the broker refused
	// records sealed against a stale head.
	if writers["writer-a"] < 2 || writers["writer-b"] == 0 || sa.Conflicts+sb.Conflicts == 0 {
		t.Fatalf("the writers did not race: %v", writers)
	}
	if sa.Records+sb.Records != n {
		t.Fatalf("writers stored %d records, want %d", sa.Records+sb.Records, n)
	}
	keys, err := audit.DeriveKeys(testMaster())
	if err != nil {
		t.Fatal(err)
	}
	// verifyAudit: genesis, links, MACs, each event exactly once.
	verifyAudit(t, js, keys, nil, "escai", 1, false, want)
}

// TestWriterThatLostItsLeaseStops: when another writer took the log's
// lease over, the old one reports it on Failed (the service then drains
// and exits, to come back as a standby) instead of taking inputs it can
// no longer seal.
func TestWriterThatLostItsLeaseStops(t *testing.T) {
	ctx := context.Background()
	js := sealEnv(t)
	newSealer := func(id string) (*auditwriter.Sealer, stage.Processor) {
		s, err := auditwriter.NewSealer(js, auditwriter.SealingOptions{
			Master: testMaster(), WriterID: id, LeaseTTL: time.Second, LeaseWait: 500 * time.Millisecond,
		}, 1)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		return s, auditwriter.NewSealingProcessor(nil, auditwriter.Options{Partitions: 1, Limits: events.DefaultLimits()}, false, s)
	}
	msg := func(i int) *stage.Message {
		subj, data := cleanEvent(i)
		return &stage.Message{Subject: subj, Data: data, Stream: "ESCAI_CLEAN_acme", Sequence: uint64(i + 1), NumDelivered: 1}
	}
	a, pa := newSealer("writer-a")
	if err := a.AwaitLease(ctx); err != nil {
		t.Fatal(err)
	}
	outs, err := pa.Process(ctx, msg(0))
	if err != nil {
		t.Fatal(err)
	}
	stored(t, outs[0])

	// B takes the lease over (A's vanished, as after a long pause).
	kv, err := js.KeyValue(ctx, auditwriter.LeaseBucket)
	if err != nil {
		t.Fatal(err)
	}
	if err := kv.Purge(ctx, "escai"); err != nil {
		t.Fatal(err)
	}
	b, pb := newSealer("writer-b")
	if err := b.AwaitLease(ctx); err != nil {
		t.Fatal(err)
	}
	outs, err = pb.Process(ctx, msg(1))
	if err != nil {
		t.Fatal(err)
	}
	stored(t, outs[0])

	// A notices at a renewal (every TTL/3); until then its inputs may still
	// be stored, after B's records (the fence). Once it noticed, an input
	// fails, it reports why, and nothing it is given is stored any more.
	outcome := func(outs []stage.Output, err error) error {
		if err != nil {
			return err
		}
		select {
		case <-outs[0].Future.Ok():
			return nil
		case err := <-outs[0].Future.Err():
			return err
		case <-time.After(10 * time.Second):
			t.Fatal("input neither stored nor failed")
			return nil
		}
	}
	next := 2
	for deadline := time.Now().Add(10 * time.Second); ; next++ {
		if outcome(pa.Process(ctx, msg(next))) != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the writer that lost its lease kept storing records for 10 s")
		}
	}
	select {
	case err := <-a.Failed():
		if !errors.Is(err, auditwriter.ErrLeaseHeld) {
			t.Fatalf("Failed: %v, want ErrLeaseHeld", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the writer that lost its lease did not report it")
	}
	if outcome(pa.Process(ctx, msg(next+1))) == nil {
		t.Fatal("a writer without the lease stored a record")
	}
	select {
	case err := <-b.Failed():
		t.Fatalf("the active writer reported %v", err)
	default:
	}
}
