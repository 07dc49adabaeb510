package cli

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/escai-framework/escai/internal/auditwriter"
	"github.com/escai-framework/escai/internal/broker/brokertest"
	"github.com/escai-framework/escai/internal/redisx/redistest"
	"github.com/escai-framework/escai/pkg/events"
	"github.com/escai-framework/escai/pkg/security/audit"
	"github.com/escai-framework/escai/pkg/security/config"
)

// auditTestKeys sets ESCAI_SECRET_KEY for the commands under test and
// returns the audit keys derived from it, as config would decode it.
func auditTestKeys(t *testing.T) *audit.DerivedKeys {
	t.Helper()
	const key = "0f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff0"
	t.Setenv("ESCAI_SECRET_KEY", key)
	cfg, err := config.Load(func(k string) (string, bool) {
		if k == "ESCAI_SECRET_KEY" {
			return key, true
		}
		return "", false
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := audit.DeriveKeys(cfg.SecretKey)
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// TestAuditVerify seals two partitions with the audit library, stores them
// in ESCAI_AUDIT, and checks escai audit verify: exit 0 on the intact
// stream, exit 1 naming partition, pseq and code once a forged record is
// appended to one partition.
func TestAuditVerify(t *testing.T) {
	keys := auditTestKeys(t)
	srv := brokertest.StartNode(t)
	js := brokertest.JetStream(t, brokertest.Connect(t, srv))
	brokertest.Apply(t, js)
	ctx := context.Background()
	for p := range 2 {
		app, err := audit.NewAppender(audit.AppenderConfig{Origin: audit.Origin("escai", uint32(p)), Partition: uint32(p), WriterID: "test", IntegrityKey: keys.Integrity})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 20 {
			recs, err := app.Append([]audit.Input{{EventID: fmt.Sprintf("e-%d-%d", p, i), Tenant: "acme", Agent: "agent-1", EventType: "escai.tool.call", Source: "ESCAI_CLEAN_acme", SourceSeq: uint64(i + 1), Payload: []byte(`{"n":1}`)}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := js.Publish(ctx, events.AuditSubject(p), recs[0].Bytes()); err != nil {
				t.Fatal(err)
			}
		}
	}
	run := func() (int, string) {
		cmd := NewEscai()
		var out bytes.Buffer
		cmd.SetOut(&out)
		cmd.SetErr(&out)
		cmd.SetArgs([]string{"audit", "verify", "--nats-url", srv.ClientURL(), "--audit-partitions", "3"})
		return Execute(cmd), out.String()
	}
	if code, out := run(); code != 0 || strings.Count(out, ": OK, ") != 3 || !strings.Contains(out, "partition 1: OK, 20 records") {
		t.Fatalf("intact stream: exit %d\n%s", code, out)
	}
	// A record forged without the integrity key, appended to partition 1.
	forger, _ := audit.NewAppender(audit.AppenderConfig{Origin: audit.Origin("escai", 1), Partition: 1, WriterID: "mallory"})
	forged, _ := forger.Append([]audit.Input{{EventID: "forged", Tenant: "acme", Agent: "agent-1", EventType: "escai.tool.call", Source: "ESCAI_CLEAN_acme", SourceSeq: 99, Payload: []byte(`{}`)}})
	if _, err := js.Publish(ctx, events.AuditSubject(1), forged[0].Bytes()); err != nil {
		t.Fatal(err)
	}
	code, out := run()
	if code != 1 || !strings.Contains(out, "partition 1: ") || strings.Contains(out, "partition 1: OK") || !strings.Contains(out, "partition 0: OK") {
		t.Fatalf("forged record: exit %d\n%s", code, out)
	}
	t.Logf("verify on the forged stream:\n%s", out)
	if !strings.Contains(out, "at pseq 20") {
		t.Fatalf("the finding does not name the pseq of the forged record:\n%s", out)
	}
}

// TestAuditVerifyCheckpoints stores records and signed checkpoints of one
// partition (escai.audit.0 and escai.audit.checkpoint.0) and checks that
// escai audit verify anchors the tail with them (exit 0, roots matched),
// then that a checkpoint covering records the stream does not hold (the
// stream denies deletes: a truncated tail is simulated by never storing it)
// fails with TRUNCATED at the first missing pseq.
func TestAuditVerifyCheckpoints(t *testing.T) {
	keys := auditTestKeys(t)
	signer, _, err := keys.CheckpointSigner(auditwriter.DefaultCheckpointKeyName)
	if err != nil {
		t.Fatal(err)
	}
	srv := brokertest.StartNode(t)
	js := brokertest.JetStream(t, brokertest.Connect(t, srv))
	brokertest.Apply(t, js)
	ctx := context.Background()
	app, err := audit.NewAppender(audit.AppenderConfig{Origin: audit.Origin("escai", 0), Partition: 0, WriterID: "test", IntegrityKey: keys.Integrity})
	if err != nil {
		t.Fatal(err)
	}
	appendN := func(n int, store bool) {
		for range n {
			i := app.Head().Next
			recs, err := app.Append([]audit.Input{{EventID: fmt.Sprintf("e-%d", i), Tenant: "acme", Agent: "agent-1", EventType: "escai.tool.call", Source: "ESCAI_CLEAN_acme", SourceSeq: i + 1, Payload: []byte(`{"n":1}`)}})
			if err != nil {
				t.Fatal(err)
			}
			if store {
				if _, err := js.Publish(ctx, events.AuditSubject(0), recs[0].Bytes()); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	checkpoint := func() {
		e, err := app.Checkpoint(time.Now(), signer)
		if err != nil {
			t.Fatal(err)
		}
		data, err := e.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := js.Publish(ctx, auditwriter.CheckpointSubject(0), data); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		appendN(10, true)
		checkpoint()
	}
	appendN(2, true) // not yet anchored
	run := func() (int, string) {
		cmd := NewEscai()
		var out bytes.Buffer
		cmd.SetOut(&out)
		cmd.SetErr(&out)
		cmd.SetArgs([]string{"audit", "verify", "--nats-url", srv.ClientURL(), "--audit-partitions", "1"})
		return Execute(cmd), out.String()
	}
	code, out := run()
	if code != 0 || !strings.Contains(out, "partition 0: OK, 32 records, 3 checkpoints (3 roots matched), 2 records after the newest checkpoint") || strings.Contains(out, "not anchored: no checkpoints") {
		t.Fatalf("intact stream with checkpoints: exit %d\n%s", code, out)
	}
	t.Logf("verify with checkpoints:\n%s", out)

	// Truncation: the writer sealed 5 more records and signed a checkpoint
	// over them, but the stream holds only the checkpoint.
	appendN(5, false)
	checkpoint()
	code, out = run()
	if code != 1 || !strings.Contains(out, "partition 0: TRUNCATED at pseq 32") {
		t.Fatalf("truncated tail: exit %d\n%s", code, out)
	}
	t.Logf("verify on the truncated stream:\n%s", out)
}

func TestAuditReindex(t *testing.T) {
	srv := brokertest.StartNode(t)
	js := brokertest.JetStream(t, brokertest.Connect(t, srv))
	brokertest.Apply(t, js)
	rs := redistest.Start(t)
	for i := range 7 {
		m := nats.NewMsg(events.AuditSubject(i % 3))
		m.Data = []byte("record")
		m.Header.Set(auditwriter.HeaderTenant, "acme")
		m.Header.Set(auditwriter.HeaderAgent, "agent-1")
		m.Header.Set(auditwriter.HeaderEventID, fmt.Sprintf("e-%d", i))
		m.Header.Set(auditwriter.HeaderEventTime, "1796378400000")
		if _, err := js.PublishMsg(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	cmd := NewEscai()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs([]string{"audit", "reindex", "--nats-url", srv.ClientURL(), "--redis-url", rs.URL})
	if code := Execute(cmd); code != 0 || !strings.Contains(out.String(), "7 records indexed") {
		t.Fatalf("exit %d: %s", code, out.String())
	}
	if n := rs.Client(t).HLen(context.Background(), auditwriter.EventIndexKey("acme")).Val(); n != 7 {
		t.Fatalf("event index holds %d, want 7", n)
	}
	// Again, on an index now marked complete (as a running writer's is):
	// it indexes everything anyway and does not fail.
	if ok, err := auditwriter.IndexComplete(context.Background(), rs.Client(t)); err != nil || !ok {
		t.Fatalf("index not marked complete after a full reindex (%v)", err)
	}
	out.Reset()
	cmd = NewEscai()
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs([]string{"audit", "reindex", "--nats-url", srv.ClientURL(), "--redis-url", rs.URL})
	if code := Execute(cmd); code != 0 || !strings.Contains(out.String(), "7 records indexed") {
		t.Fatalf("second reindex: exit %d: %s", code, out.String())
	}
}
