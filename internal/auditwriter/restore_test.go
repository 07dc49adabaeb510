package auditwriter_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/escai-framework/escai/internal/auditwriter"
	"github.com/escai-framework/escai/internal/stage"
	"github.com/escai-framework/escai/pkg/events"
	"github.com/escai-framework/escai/pkg/security/audit"
)

// TestRestoreFromCheckpoint: a writer restarted on a partition of 300
// records with checkpoints every 16 restores from the newest checkpoint's
// frontier and reads only the last window of records (found by a binary
// search), yet answers a redelivery inside that window with the stored
// record, continues the chain, and the partition verifies from genesis.
func TestRestoreFromCheckpoint(t *testing.T) {
	const n = 300
	ctx := context.Background()
	js := sealEnv(t)
	want := map[string][]byte{}
	msg := func(i int) *stage.Message {
		subj, data := cleanEvent(i * 5) // agent-0 only: one partition
		want[fmt.Sprintf("c-%05d", i*5)] = data
		return &stage.Message{Subject: subj, Data: data, Stream: "ESCAI_CLEAN_acme", Sequence: uint64(i + 1), NumDelivered: 1}
	}
	opts := func(id string) auditwriter.SealingOptions {
		return auditwriter.SealingOptions{Master: testMaster(), WriterID: id, CheckpointEvery: 16, RedeliveryWindow: 40}
	}
	newProc := func(s *auditwriter.Sealer) stage.Processor {
		return auditwriter.NewSealingProcessor(nil, auditwriter.Options{Partitions: 1, Limits: events.DefaultLimits()}, false, s)
	}
	a, err := auditwriter.NewSealer(js, opts("writer-a"), 1)
	if err != nil {
		t.Fatal(err)
	}
	pa := newProc(a)
	var records [][]byte
	for i := range n {
		outs, err := pa.Process(ctx, msg(i))
		if err != nil {
			t.Fatal(err)
		}
		m, _ := stored(t, outs[0])
		records = append(records, m.Data)
	}
	a.Close()

	b, err := auditwriter.NewSealer(js, opts("writer-b"), 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	pb := newProc(b)
	// Input 290 is inside the window of 40: answered with its record.
	outs, err := pb.Process(ctx, msg(290))
	if err != nil {
		t.Fatal(err)
	}
	m, ack := stored(t, outs[0])
	if !bytes.Equal(m.Data, records[290]) || !ack.Duplicate {
		t.Fatal("redelivery inside the window after a checkpoint restore was not answered with its stored record")
	}
	st := b.Stats()
	if st.FromCheckpoint != 1 || st.Restores != 1 {
		t.Fatalf("restore did not start at the checkpoint: %+v", st)
	}
	next := n
	outs, err = pb.Process(ctx, msg(next))
	if err != nil {
		t.Fatal(err)
	}
	m, _ = stored(t, outs[0])
	if rec, err := audit.DecodeRecord(m.Data); err != nil || rec.PSeq != n || rec.WriterID != "writer-b" {
		t.Fatalf("next record: %v %+v", err, rec)
	}
	keys, err := audit.DeriveKeys(testMaster())
	if err != nil {
		t.Fatal(err)
	}
	verifyAudit(t, js, keys, nil, "escai", 1, false, want)
}
