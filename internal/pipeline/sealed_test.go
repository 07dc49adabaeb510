package pipeline_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/escai-framework/escai/internal/auditwriter"
	"github.com/escai-framework/escai/internal/broker/brokertest"
	"github.com/escai-framework/escai/internal/pipeline"
	"github.com/escai-framework/escai/pkg/security/audit"
	"github.com/escai-framework/escai/pkg/security/config"
)

// TestSealedPipelineAcrossRestart: with a secret key and ESCAI_AUDIT_ENCRYPT
// (the testing profile), the pipeline seals and encrypts every record; the
// whole pipeline restarts halfway; afterwards every partition's chain
// verifies with MACs and decryption under the data keys reloaded from the
// AUDIT_KEYS bucket.
func TestSealedPipelineAcrossRestart(t *testing.T) {
	const n = 400
	h := newHarness(t)
	h.env.Config.SecretKey = config.Secret(bytes.Repeat([]byte{9, 4, 7, 2}, 8))
	if !h.env.Config.AuditEncrypt {
		t.Fatal("the testing profile should encrypt audit records")
	}
	ctx := context.Background()
	records := func() uint64 {
		n, err := auditwriter.CountRecords(ctx, h.js, h.env.Config.AuditPartitions)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	run := func(from, to int) {
		p, err := pipeline.Start(ctx, h.env, func(name string) (*nats.Conn, error) { return h.srv.Connect(nats.Name(name)) }, h.rdb)
		if err != nil {
			t.Fatal(err)
		}
		h.publish(envelope, from, to)
		brokertest.WaitFor(t, 60*time.Second, func() error {
			if got := records(); got < uint64(to) {
				return fmt.Errorf("%d records", got)
			}
			return nil
		})
		drain(t, p)
	}
	run(0, n/2)
	run(n/2, n)
	if got := records(); got != n {
		t.Fatalf("ESCAI_AUDIT holds %d records, want exactly %d", got, n)
	}

	keys, err := audit.DeriveKeys(h.env.Config.SecretKey)
	if err != nil {
		t.Fatal(err)
	}
	ring, err := auditwriter.OpenKeyRing(ctx, h.js, keys.KEK, false, 1)
	if err != nil {
		t.Fatal(err)
	}
	_, vkey, _ := keys.CheckpointSigner(auditwriter.DefaultCheckpointKeyName)
	trusted, err := audit.TrustedKeys(vkey)
	if err != nil {
		t.Fatal(err)
	}
	var total uint64
	for p := range h.env.Config.AuditPartitions {
		v, err := audit.NewVerifier(audit.VerifierConfig{
			Origin: audit.Origin("escai", uint32(p)), Partition: uint32(p), Trusted: trusted,
			IntegrityKey: keys.Integrity, Keys: ring, RequireGenesis: true,
		})
		if err != nil {
			t.Fatal(err)
		}
		var want uint64
		err = auditwriter.ReplayRecords(ctx, h.js, p, func(data []byte, seq uint64) bool {
			if f := v.Feed(data, seq); f != nil {
				t.Fatalf("partition %d: %v", p, f)
			}
			rec, err := audit.DecodeRecord(data)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := rec.Open(ring); err != nil {
				t.Fatalf("partition %d pseq %d does not decrypt after the restart: %v", p, rec.PSeq, err)
			}
			want++
			return true
		}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if rep := v.Finish(); rep.Status != "OK" {
			t.Fatalf("partition %d: %+v", p, rep.Finding)
		}
		total += want
	}
	if total != n {
		t.Fatalf("verified %d records, want %d", total, n)
	}
}
