package auditwriter_test

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/escai-framework/escai/internal/auditwriter"
	"github.com/escai-framework/escai/internal/broker/brokertest"
	"github.com/escai-framework/escai/internal/stage"
	"github.com/escai-framework/escai/pkg/events"
	"github.com/escai-framework/escai/pkg/security/audit"
)

// TestSealerCheckpoints seals 600 events into the partitions with
// CheckpointEvery 100: each partition gets a signed checkpoint every 100
// records on escai.audit.checkpoint.<p>, published after the record that
// reached it, Flush anchors the rest, and a Verifier fed the checkpoints and
// then the records (escai.audit.<p> exactly) matches every root.
func TestSealerCheckpoints(t *testing.T) {
	const n, parts, every = 600, sealPartitions, 100
	ctx := context.Background()
	srv := brokertest.StartNode(t)
	js := brokertest.JetStream(t, brokertest.Connect(t, srv))
	brokertest.Apply(t, js)

	sealer, err := auditwriter.NewSealer(js, auditwriter.SealingOptions{Master: testMaster(), WriterID: "test-writer", CheckpointEvery: every}, parts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sealer.Close)
	p := auditwriter.NewSealingProcessor(nil, auditwriter.Options{Partitions: parts, Limits: events.DefaultLimits()}, false, sealer)
	perPart := map[int]int{}
	for i := range n {
		subj, data := cleanEvent(i)
		outs, err := p.Process(ctx, &stage.Message{Subject: subj, Data: data, Stream: "ESCAI_CLEAN_acme", Sequence: uint64(i + 1), NumDelivered: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(outs) != 1 || outs[0].Future == nil {
			t.Fatalf("event %d: %d outputs, not published by the sealer", i, len(outs))
		}
		select {
		case <-outs[0].Future.Ok():
		case err := <-outs[0].Future.Err():
			t.Fatal(err)
		case <-time.After(10 * time.Second):
			t.Fatal("PubAck timed out")
		}
		part, _ := strconv.Atoi(strings.TrimPrefix(outs[0].Subject, "escai.audit."))
		perPart[part]++
	}
	if max(perPart[0], perPart[1], perPart[2], perPart[3]) < 2*every {
		t.Fatalf("records per partition %v: no partition gets two checkpoints", perPart)
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(10 * time.Second):
		t.Fatal("checkpoint publishes timed out")
	}
	for part, cnt := range perPart {
		if got := len(readSubject(t, js, auditwriter.CheckpointSubject(part))); got != cnt/every {
			t.Fatalf("partition %d: %d records, %d checkpoints, want %d", part, cnt, got, cnt/every)
		}
	}
	t.Logf("records per partition: %v", perPart)
	fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := sealer.Flush(fctx); err != nil {
		t.Fatal(err)
	}

	_, vkey, err := sealer.Keys().CheckpointSigner(auditwriter.DefaultCheckpointKeyName)
	if err != nil {
		t.Fatal(err)
	}
	trusted, err := audit.TrustedKeys(vkey)
	if err != nil {
		t.Fatal(err)
	}
	for part, cnt := range perPart {
		cps := readSubject(t, js, auditwriter.CheckpointSubject(part))
		want := (cnt + every - 1) / every
		if len(cps) != want {
			t.Fatalf("partition %d after Flush: %d checkpoints, want %d", part, len(cps), want)
		}
		recs := readPartition(t, js, part)
		if len(recs) != cnt {
			t.Fatalf("partition %d: %d records stored, want %d (checkpoints must not be read as records)", part, len(recs), cnt)
		}
		v, err := audit.NewVerifier(audit.VerifierConfig{Origin: sealer.Origin(part), Partition: uint32(part), Trusted: trusted, IntegrityKey: sealer.Keys().Integrity, RequireGenesis: true})
		if err != nil {
			t.Fatal(err)
		}
		for i, m := range cps {
			e, err := audit.ParseCheckpointEntry(m.data)
			if err != nil {
				t.Fatal(err)
			}
			if f := v.AddCheckpoint(*e, m.seq); f != nil {
				t.Fatalf("partition %d checkpoint %d: %v", part, i, f)
			}
			// Each checkpoint follows the last record it covers.
			size := min((i+1)*every, cnt)
			if recs[size-1].seq > m.seq {
				t.Fatalf("partition %d: checkpoint of size %d (stream seq %d) before its last record (stream seq %d)", part, size, m.seq, recs[size-1].seq)
			}
		}
		for _, m := range recs {
			if f := v.Feed(m.data, m.seq); f != nil {
				t.Fatalf("partition %d: %v", part, f)
			}
		}
		rep := v.Finish()
		if rep.Status != "OK" || rep.RootsMatched != want || rep.Unanchored != 0 || rep.NextPSeq != uint64(cnt) {
			t.Fatalf("partition %d: %s", part, rep)
		}
	}
}

type subjectMsg struct {
	data   []byte
	seq    uint64
	header nats.Header
}

// readSubject reads every message stored on subject (exactly) in order.
func readSubject(t *testing.T, js jetstream.JetStream, subject string) []subjectMsg {
	t.Helper()
	var out []subjectMsg
	err := auditwriter.ReplaySubject(context.Background(), js, subject, func(m jetstream.Msg, seq uint64) bool {
		out = append(out, subjectMsg{data: bytes.Clone(m.Data()), seq: seq, header: m.Headers()})
		return true
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
