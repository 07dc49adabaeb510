package pipeline_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/escai-framework/escai/internal/auditwriter"
	"github.com/escai-framework/escai/internal/broker/brokertest"
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
		p := h.startPipeline()
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
	total := verifySealed(t, h.js, h.env.Config.SecretKey, h.env.Config.AuditPartitions, ring, func(p int, rec *audit.Record) {
		if _, err := rec.Open(ring); err != nil {
			t.Fatalf("partition %d pseq %d does not decrypt after the restart: %v", p, rec.PSeq, err)
		}
	})
	if total != n {
		t.Fatalf("verified %d records, want %d", total, n)
	}
}

// verifySealed replays every partition of the log "escai" through a
// Verifier (from genesis; the MACs and checkpoints of the keys derived from
// secret; bodies with ring when set), hands each record to each, and
// returns how many records verified.
func verifySealed(t *testing.T, js jetstream.JetStream, secret []byte, partitions int, ring *audit.KeyRing, each func(p int, rec *audit.Record)) uint64 {
	t.Helper()
	keys, err := audit.DeriveKeys(secret)
	if err != nil {
		t.Fatal(err)
	}
	_, vkey, err := keys.CheckpointSigner(auditwriter.DefaultCheckpointKeyName)
	if err != nil {
		t.Fatal(err)
	}
	trusted, err := audit.TrustedKeys(vkey)
	if err != nil {
		t.Fatal(err)
	}
	var total uint64
	for p := range partitions {
		v, err := audit.NewVerifier(audit.VerifierConfig{
			Origin: audit.Origin("escai", uint32(p)), Partition: uint32(p), Trusted: trusted,
			IntegrityKey: keys.Integrity, Keys: ring, RequireGenesis: true,
		})
		if err != nil {
			t.Fatal(err)
		}
		err = auditwriter.ReplayRecords(context.Background(), js, p, func(data []byte, seq uint64) bool {
			if f := v.Feed(data, seq); f != nil {
				t.Fatalf("partition %d: %v", p, f)
			}
			rec, err := audit.DecodeRecord(data)
			if err != nil {
				t.Fatal(err)
			}
			if each != nil {
				each(p, rec)
			}
			return true
		}, nil)
		if err != nil {
			t.Fatal(err)
		}
		rep := v.Finish()
		if rep.Status != "OK" {
			t.Fatalf("partition %d: %+v", p, rep.Finding)
		}
		total += rep.NextPSeq
	}
	return total
}
