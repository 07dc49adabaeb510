package auditwriter_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"github.com/escai-framework/escai/internal/auditwriter"
	"github.com/escai-framework/escai/internal/broker/brokertest"
	"github.com/escai-framework/escai/internal/redisx/redistest"
	"github.com/escai-framework/escai/internal/stage"
	"github.com/escai-framework/escai/pkg/events"
	"github.com/escai-framework/escai/pkg/security/audit"
	"github.com/escai-framework/escai/pkg/security/config"
)

const sealPartitions = 4

func testMaster() config.Secret {
	return config.Secret(bytes.Repeat([]byte("k"), 32))
}

func sealEnv(t *testing.T) jetstream.JetStream {
	t.Helper()
	srv := brokertest.StartNode(t)
	js := brokertest.JetStream(t, brokertest.Connect(t, srv))
	brokertest.ApplyTenant(t, js, "acme")
	return js
}

// TestSealedRecordsVerify runs 300 clean events through the real stage
// runtime with sealing on (several lanes, small batches, so lanes really
// interleave) and replays ESCAI_AUDIT partition by partition through the
// audit Verifier: every chain must be intact, every MAC must verify, every
// body must open to the event as read, and the index must hold 300.
func TestSealedRecordsVerify(t *testing.T) {
	for _, encrypt := range []bool{true, false} {
		t.Run("encrypt="+strconv.FormatBool(encrypt), func(t *testing.T) {
			const n = 300
			ctx := context.Background()
			js := sealEnv(t)
			rdb := redistest.Start(t).Client(t)

			sealer, err := auditwriter.NewSealer(js, auditwriter.SealingOptions{Master: testMaster(), Encrypt: encrypt, WriterID: "test-writer"}, sealPartitions)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(sealer.Close)
			opts := auditwriter.Options{Partitions: sealPartitions, Limits: events.DefaultLimits()}
			p := auditwriter.NewSealingProcessor(rdb, opts, false, sealer)

			want := map[string][]byte{} // event id → clean event bytes
			for i := range n {
				subj, data := cleanEvent(i)
				want[fmt.Sprintf("c-%05d", i)] = data
				if _, err := js.PublishAsync(subj, data, jetstream.WithStallWait(time.Minute)); err != nil {
					t.Fatal(err)
				}
			}
			select {
			case <-js.PublishAsyncComplete():
			case <-time.After(30 * time.Second):
				t.Fatal("publishing inputs timed out")
			}

			cfg := stage.Config{Name: "audit-writer", Stream: "ESCAI_CLEAN_acme", Consumer: auditwriter.Consumer, Batch: 8, Workers: 4, PublishTimeout: 5 * time.Second}
			r, err := stage.Start(ctx, js, p, cfg, zap.NewNop(), stage.NewMetrics(prometheus.NewRegistry()))
			if err != nil {
				t.Fatal(err)
			}
			waitIndexed(t, rdb, "acme", n, 60*time.Second)
			drain(t, r)
			if got := rdb.HLen(ctx, auditwriter.EventIndexKey("acme")).Val(); got != n {
				t.Fatalf("event index holds %d, want %d", got, n)
			}

			stream, err := js.Stream(ctx, events.StreamAudit)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := stream.Info(ctx); err != nil {
				t.Fatal(err)
			}
			if got := countRecords(t, js, sealPartitions); got != n {
				t.Fatalf("ESCAI_AUDIT holds %d records, want %d", got, n)
			}

			verifyAudit(t, js, sealer.Keys(), sealer.KeyRing(), "escai", sealPartitions, encrypt, want)
		})
	}
}

// verifyAudit replays every partition of ESCAI_AUDIT through the Verifier
// and checks that the records hold exactly the events of want.
func verifyAudit(t *testing.T, js jetstream.JetStream, keys *audit.DerivedKeys, ring *audit.KeyRing, log string, partitions int, encrypt bool, want map[string][]byte) {
	t.Helper()
	n := len(want)
	_, vkey, err := keys.CheckpointSigner(log)
	if err != nil {
		t.Fatal(err)
	}
	trusted, err := audit.TrustedKeys(vkey)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for part := range partitions {
		v, err := audit.NewVerifier(audit.VerifierConfig{
			Origin:         audit.Origin(log, uint32(part)),
			Partition:      uint32(part),
			Trusted:        trusted,
			IntegrityKey:   keys.Integrity,
			Keys:           ring,
			RequireGenesis: true,
		})
		if err != nil {
			t.Fatal(err)
		}
		recs := readPartition(t, js, part)
		for _, m := range recs {
			if f := v.Feed(m.data, m.seq); f != nil {
				t.Fatalf("partition %d: %v", part, f)
			}
			rec, err := audit.DecodeRecord(m.data)
			if err != nil {
				t.Fatal(err)
			}
			if m.pseq != strconv.FormatUint(rec.PSeq, 10) {
				t.Fatalf("header pseq %q, record pseq %d", m.pseq, rec.PSeq)
			}
			body, err := rec.Open(ring)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(body.Payload, want[rec.EventID]) {
				t.Fatalf("record %s/%d: payload is not the event as read", rec.Origin, rec.PSeq)
			}
			if body.Source != "ESCAI_CLEAN_acme" || body.SourceSeq == 0 {
				t.Fatalf("record %s/%d: source %q seq %d", rec.Origin, rec.PSeq, body.Source, body.SourceSeq)
			}
			if (rec.Cipher == audit.CipherAES256GCM) != encrypt {
				t.Fatalf("record cipher %v with Encrypt=%v", rec.Cipher, encrypt)
			}
			delete(want, rec.EventID)
		}
		rep := v.Finish()
		if rep.Status != "OK" {
			t.Fatalf("partition %d: %s", part, rep)
		}
		if rep.NextPSeq != uint64(len(recs)) || rep.MACsChecked != uint64(len(recs)) {
			t.Fatalf("partition %d: %d records, report %s", part, len(recs), rep)
		}
		if encrypt && rep.Decrypted != uint64(len(recs)) {
			t.Fatalf("partition %d: decrypted %d of %d", part, rep.Decrypted, len(recs))
		}
		total += len(recs)
	}
	if total != n || len(want) != 0 {
		t.Fatalf("replayed %d records of %d events, %d events have none", total, n, len(want))
	}
}

// TestWriterSealing runs the Writer itself with Options.Sealing: one Sealer
// shared by its runners, records that verify.
func TestWriterSealing(t *testing.T) {
	const n = 60
	ctx := context.Background()
	js := sealEnv(t)
	rdb := redistest.Start(t).Client(t)
	keys, err := audit.DeriveKeys(testMaster())
	if err != nil {
		t.Fatal(err)
	}
	ring, err := audit.NewKeyRing(audit.KeyRingConfig{KEK: keys.KEK})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]byte{}
	for i := range n {
		subj, data := cleanEvent(i)
		want[fmt.Sprintf("c-%05d", i)] = data
		if _, err := js.Publish(ctx, subj, data); err != nil {
			t.Fatal(err)
		}
	}
	w, err := auditwriter.Start(ctx, js, rdb, auditwriter.Options{
		Partitions: sealPartitions, Limits: events.DefaultLimits(), Batch: 8, Workers: 2,
		Sealing: &auditwriter.SealingOptions{Master: testMaster(), Encrypt: true, Keys: ring, WriterID: "w-1", Log: "audit.test"},
	}, zap.NewNop(), stage.NewMetrics(prometheus.NewRegistry()))
	if err != nil {
		t.Fatal(err)
	}
	waitIndexed(t, rdb, "acme", n, 60*time.Second)
	drain(t, w)
	// Drain anchored every partition's tail with a checkpoint (Flush).
	for part := range sealPartitions {
		recs, cps := len(readSubject(t, js, events.AuditSubject(part))), len(readSubject(t, js, auditwriter.CheckpointSubject(part)))
		if (recs > 0) != (cps == 1) {
			t.Fatalf("partition %d: %d records, %d checkpoints after Drain", part, recs, cps)
		}
	}
	verifyAudit(t, js, keys, ring, "audit.test", sealPartitions, true, want)
}

// sealAll publishes n clean events of tenant acme (cleanEvent, changed by
// edit when set), runs a sealing writer with opts over them (limits, master
// key and writer id filled in) until the index holds all n, and drains it.
func sealAll(t *testing.T, js jetstream.JetStream, rdb *redis.Client, n int, opts auditwriter.Options, edit func(i int, data []byte) []byte) *auditwriter.Writer {
	t.Helper()
	ctx := context.Background()
	for i := range n {
		subj, data := cleanEvent(i)
		if edit != nil {
			data = edit(i, data)
		}
		if _, err := js.Publish(ctx, subj, data); err != nil {
			t.Fatal(err)
		}
	}
	opts.Limits = events.DefaultLimits()
	if opts.Sealing == nil {
		opts.Sealing = &auditwriter.SealingOptions{Master: testMaster(), WriterID: "w-1"}
	}
	w, err := auditwriter.Start(ctx, js, rdb, opts, zap.NewNop(), stage.NewMetrics(prometheus.NewRegistry()))
	if err != nil {
		t.Fatal(err)
	}
	waitIndexed(t, rdb, "acme", int64(n), 60*time.Second)
	drain(t, w)
	return w
}

// countRecords counts the records (not the messages) of ESCAI_AUDIT.
func countRecords(t *testing.T, js jetstream.JetStream, partitions int) int {
	t.Helper()
	n, err := auditwriter.CountRecords(context.Background(), js, partitions)
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

type storedRecord struct {
	data []byte
	seq  uint64
	pseq string
}

// readPartition reads the records of escai.audit.<part> in order, each
// with the stream sequence of the bundle holding it.
func readPartition(t *testing.T, js jetstream.JetStream, part int) []storedRecord {
	t.Helper()
	var out []storedRecord
	err := auditwriter.ReplayRecords(context.Background(), js, part, func(data []byte, seq uint64) bool {
		rec, err := audit.DecodeRecord(data)
		if err != nil {
			t.Fatalf("stream seq %d: %v", seq, err)
		}
		out = append(out, storedRecord{data: bytes.Clone(data), seq: seq, pseq: strconv.FormatUint(rec.PSeq, 10)})
		return true
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// stored waits for the output's future and returns the stored record and
// its PubAck.
func stored(t *testing.T, out stage.Output) (*nats.Msg, *jetstream.PubAck) {
	t.Helper()
	if out.Future == nil {
		t.Fatal("sealed output without a future")
	}
	select {
	case ack := <-out.Future.Ok():
		return out.Future.Msg(), ack
	case err := <-out.Future.Err():
		t.Fatalf("record not stored: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("record not stored after 30s")
	}
	return nil, nil
}

// TestSealedRedeliveryIsIdentical: processing the same input again (a
// redelivery) is answered with the record already stored for it, byte for
// byte, at the same stream sequence, and does not advance the chain —
// within the process and after a restart.
func TestSealedRedeliveryIsIdentical(t *testing.T) {
	ctx := context.Background()
	js := sealEnv(t)
	sealer, err := auditwriter.NewSealer(js, auditwriter.SealingOptions{Master: testMaster(), Encrypt: true, WriterID: "test-writer"}, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sealer.Close)
	p := auditwriter.NewSealingProcessor(nil, auditwriter.Options{Partitions: 1, Limits: events.DefaultLimits()}, false, sealer)
	msg := func(i int, delivered uint64) *stage.Message {
		subj, data := cleanEvent(i)
		return &stage.Message{Subject: subj, Data: data, Stream: "ESCAI_CLEAN_acme", Sequence: uint64(i + 1), NumDelivered: delivered}
	}
	process := func(p stage.Processor, m *stage.Message) (*nats.Msg, *jetstream.PubAck) {
		t.Helper()
		outs, err := p.Process(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		if len(outs) != 1 {
			t.Fatalf("%d outputs, want 1", len(outs))
		}
		return stored(t, outs[0])
	}
	first, firstAck := process(p, msg(0, 1))
	again, againAck := process(p, msg(0, 2))
	if !bytes.Equal(first.Data, again.Data) || againAck.Sequence != firstAck.Sequence || !againAck.Duplicate {
		t.Fatalf("redelivery: seq %d (dup %v), want the record at %d", againAck.Sequence, againAck.Duplicate, firstAck.Sequence)
	}
	if rec, err := audit.DecodeRecord(first.Data); err != nil || rec.PSeq != 0 {
		t.Fatalf("first record: %v", err)
	}
	next, _ := process(p, msg(1, 1))
	if rec, _ := audit.DecodeRecord(next.Data); rec == nil || rec.PSeq != 1 {
		t.Fatal("next record is not pseq 1: the redelivery moved the head")
	}

	// The Sealer stored both records, in order; nothing else.
	if got := countRecords(t, js, 1); got != 2 {
		t.Fatalf("ESCAI_AUDIT holds %d records, want 2", got)
	}
	recs := readPartition(t, js, 0)
	if !bytes.Equal(recs[0].data, first.Data) || !bytes.Equal(recs[1].data, next.Data) || recs[0].seq != firstAck.Sequence {
		t.Fatal("stored records differ from the outputs")
	}
	sealer.Close()

	// A fresh Sealer (a restarted process, same writer id: it takes its
	// own lease at once) continues the chain, and answers a redelivery of
	// an input sealed before the restart with its stored record.
	restarted, err := auditwriter.NewSealer(js, auditwriter.SealingOptions{Master: testMaster(), WriterID: "test-writer"}, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(restarted.Close)
	p2 := auditwriter.NewSealingProcessor(nil, auditwriter.Options{Partitions: 1, Limits: events.DefaultLimits()}, false, restarted)
	// The first input restores the partition; the redelivery is answered
	// from what the restore read.
	cont, _ := process(p2, msg(2, 1))
	if rec, _ := audit.DecodeRecord(cont.Data); rec == nil || rec.PSeq != 2 {
		t.Fatal("restarted writer did not continue at pseq 2")
	}
	old, oldAck := process(p2, msg(0, 3))
	if !bytes.Equal(old.Data, first.Data) || oldAck.Sequence != firstAck.Sequence || !oldAck.Duplicate || old.Header.Get(auditwriter.HeaderEventID) != "c-00000" {
		t.Fatalf("redelivery after restart: seq %d dup %v, want the stored record at %d", oldAck.Sequence, oldAck.Duplicate, firstAck.Sequence)
	}
	if got := countRecords(t, js, 1); got != 3 {
		t.Fatalf("ESCAI_AUDIT holds %d records, want 3", got)
	}
}

// TestSealerRestart: writer A seals 100 events and drains; writer B (a new
// Sealer, same master key) restores every partition, seals 100 more and gets
// 5 of A's inputs again. Every partition must verify from genesis and hold
// exactly one record per event.
func TestSealerRestart(t *testing.T) {
	const n = 100
	ctx := context.Background()
	js := sealEnv(t)
	rdb := redistest.Start(t).Client(t)
	want := map[string][]byte{}
	publish := func(from, to int) {
		for i := from; i < to; i++ {
			subj, data := cleanEvent(i)
			want[fmt.Sprintf("c-%05d", i)] = data
			if _, err := js.Publish(ctx, subj, data); err != nil {
				t.Fatal(err)
			}
		}
	}
	keys, err := audit.DeriveKeys(testMaster())
	if err != nil {
		t.Fatal(err)
	}
	ring, err := audit.NewKeyRing(audit.KeyRingConfig{KEK: keys.KEK}) // shared: B must open A's bodies in verifyAudit
	if err != nil {
		t.Fatal(err)
	}
	opts := auditwriter.Options{Partitions: sealPartitions, Limits: events.DefaultLimits()}
	cfg := stage.Config{Name: "audit-writer", Stream: "ESCAI_CLEAN_acme", Consumer: auditwriter.Consumer, Batch: 8, Workers: 4, PublishTimeout: 5 * time.Second}
	run := func(total int) (*auditwriter.Sealer, stage.Processor) {
		sealer, err := auditwriter.NewSealer(js, auditwriter.SealingOptions{Master: testMaster(), Encrypt: true, Keys: ring, WriterID: "w-" + strconv.Itoa(total)}, sealPartitions)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(sealer.Close)
		p := auditwriter.NewSealingProcessor(rdb, opts, false, sealer)
		r, err := stage.Start(ctx, js, p, cfg, zap.NewNop(), stage.NewMetrics(prometheus.NewRegistry()))
		if err != nil {
			t.Fatal(err)
		}
		waitIndexed(t, rdb, "acme", int64(total), 60*time.Second)
		drain(t, r)
		fctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := sealer.Flush(fctx); err != nil {
			t.Fatal(err)
		}
		return sealer, p
	}

	publish(0, n)
	a, _ := run(n)
	a.Close() // releases A's leases: B takes them without waiting for the TTL
	publish(n, 2*n)
	b, pb := run(2 * n)
	defer b.Close()

	// Redeliver 5 of A's inputs (ESCAI_CLEAN_acme sequence i+1) to B.
	for _, i := range []int{0, 1, 37, 64, 99} {
		subj, data := cleanEvent(i)
		outs, err := pb.Process(ctx, &stage.Message{Subject: subj, Data: data, Stream: "ESCAI_CLEAN_acme", Sequence: uint64(i + 1), NumDelivered: 2})
		if err != nil {
			t.Fatal(err)
		}
		if len(outs) != 1 {
			t.Fatalf("redelivery of %d: %d outputs", i, len(outs))
		}
		m, ack := stored(t, outs[0])
		rec, err := audit.DecodeRecord(m.Data)
		if err != nil {
			t.Fatal(err)
		}
		if rec.EventID != fmt.Sprintf("c-%05d", i) || !ack.Duplicate || m.Header.Get(auditwriter.HeaderEventID) != rec.EventID {
			t.Fatalf("redelivery of %d answered with %s (duplicate %v)", i, rec.EventID, ack.Duplicate)
		}
	}

	if got := rdb.HLen(ctx, auditwriter.EventIndexKey("acme")).Val(); got != 2*n {
		t.Fatalf("event index holds %d, want %d", got, 2*n)
	}
	// Records only: escai.audit.<p> (checkpoints are escai.audit.checkpoint.<p>).
	if records := countRecords(t, js, sealPartitions); records != 2*n {
		t.Fatalf("ESCAI_AUDIT holds %d records, want %d", records, 2*n)
	}
	if !bytes.Equal(a.Keys().Integrity, b.Keys().Integrity) {
		t.Fatal("same master, different integrity keys")
	}
	// verifyAudit checks a clean report per partition (genesis required,
	// MACs with the integrity key), 200 records in all, one per event.
	verifyAudit(t, js, b.Keys(), ring, "escai", sealPartitions, true, want)
}

// waitIndexed waits until the tenant's time index holds n records.
func waitIndexed(t *testing.T, rdb *redis.Client, tenant string, n int64, within time.Duration) {
	t.Helper()
	brokertest.WaitFor(t, within, func() error {
		if got := rdb.ZCard(context.Background(), auditwriter.TenantIndexKey(tenant)).Val(); got != n {
			return fmt.Errorf("index holds %d of %d", got, n)
		}
		return nil
	})
}

// drain drains d (a runner or a writer) within 30 s, failing the test on error.
func drain(t *testing.T, d interface{ Drain(context.Context) error }) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := d.Drain(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestLargeRoundSplitsIntoBundles: a partition's share of a round that is
// larger than one bundle may be goes out as several bundles, each well
// under the broker's max_payload, and the chain still verifies.
func TestLargeRoundSplitsIntoBundles(t *testing.T) {
	const n = 24
	js := sealEnv(t)
	rdb := redistest.Start(t).Client(t)
	pad := strings.Repeat("x", 48<<10)
	w := sealAll(t, js, rdb, n, auditwriter.Options{Partitions: 1, Batch: n, Workers: 1}, func(_ int, data []byte) []byte {
		return bytes.Replace(data, []byte(`"n":`), []byte(`"pad":"`+pad+`","n":`), 1)
	})
	msgs := readSubject(t, js, events.AuditSubject(0))
	// 24 records of ~48 KiB: at least 5 bundles of at most 256 KiB.
	if len(msgs) < 5 {
		t.Fatalf("%d records of 48 KiB in %d messages", n, len(msgs))
	}
	total := 0
	for _, m := range msgs {
		if len(m.data) > 300<<10 {
			t.Fatalf("stream seq %d: bundle of %d bytes", m.seq, len(m.data))
		}
		entries, err := audit.SplitBundle(m.data)
		if err != nil {
			t.Fatal(err)
		}
		total += len(entries)
	}
	if total != n || countRecords(t, js, 1) != n {
		t.Fatalf("%d records in the bundles, want %d", total, n)
	}
	want := map[string][]byte{}
	for i := range n {
		_, data := cleanEvent(i)
		want[fmt.Sprintf("c-%05d", i)] = bytes.Replace(data, []byte(`"n":`), []byte(`"pad":"`+pad+`","n":`), 1)
	}
	verifyAudit(t, js, w.Sealer().Keys(), w.Sealer().KeyRing(), "escai", 1, false, want)
}

// TestOnlyTheLogsOwnEventsUseTheSharedKey: an audit_shred event on
// ESCAI_SECURITY (the log's own) is sealed under the shared key and stays
// readable after the tenant is shredded; an agent's event of the same type
// on the tenant's clean stream is the tenant's like any other and goes
// with its keys.
func TestOnlyTheLogsOwnEventsUseTheSharedKey(t *testing.T) {
	ctx := context.Background()
	js := sealEnv(t)
	keys, err := audit.DeriveKeys(testMaster())
	if err != nil {
		t.Fatal(err)
	}
	ring, err := auditwriter.OpenKeyRing(ctx, js, keys.KEK, true, 1)
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := auditwriter.NewSealer(js, auditwriter.SealingOptions{Master: testMaster(), Encrypt: true, Keys: ring, WriterID: "w"}, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sealer.Close)
	opts := auditwriter.Options{Partitions: 1, Limits: events.DefaultLimits()}
	event := func(id string) []byte {
		return fmt.Appendf(nil, `{"specversion":"1.0","id":%q,"source":"urn:a","type":"escai.security.audit_shred","time":"2026-12-04T10:00:00Z","tenant":"acme","agentid":"agent-1","data":{"patient":"Jane Doe"}}`, id)
	}
	seal := func(p *auditwriter.Processor, m *stage.Message) *audit.Record {
		outs, err := p.Process(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		msg, _ := stored(t, outs[0])
		rec, err := audit.DecodeRecord(msg.Data)
		if err != nil {
			t.Fatal(err)
		}
		return rec
	}
	agents := seal(auditwriter.NewSealingProcessor(nil, opts, false, sealer), &stage.Message{
		Subject: "escai.clean.acme.agent-1.security.audit_shred", Data: event("a-1"), Stream: "ESCAI_CLEAN_acme", Sequence: 1, NumDelivered: 1,
	})
	logs := seal(auditwriter.NewSealingProcessor(nil, opts, true, sealer), &stage.Message{
		Subject: "escai.security.audit_shred", Data: event("l-1"), Stream: events.StreamSecurity, Sequence: 1, NumDelivered: 1,
	})
	if _, err := ring.Shred("acme"); err != nil {
		t.Fatal(err)
	}
	if _, err := agents.Open(ring); !errors.Is(err, audit.ErrKeyShredded) {
		t.Fatalf("the agent's event after the shred: %v, want ErrKeyShredded", err)
	}
	if _, err := logs.Open(ring); err != nil {
		t.Fatalf("the log's own event after the shred: %v", err)
	}
}
