package cli

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/escai-framework/escai/internal/broker/brokertest"
	"github.com/escai-framework/escai/pkg/events"
	"github.com/escai-framework/escai/pkg/security/audit"
	"github.com/escai-framework/escai/pkg/security/config"
)

// TestAuditVerify seals two partitions with the audit library, stores them
// in ESCAI_AUDIT, and checks escai audit verify: exit 0 on the intact
// stream, exit 1 naming partition, pseq and code once a forged record is
// appended to one partition.
func TestAuditVerify(t *testing.T) {
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
