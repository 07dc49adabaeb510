package cli

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/escai-framework/escai/internal/auditwriter"
	"github.com/escai-framework/escai/internal/broker/brokertest"
	"github.com/escai-framework/escai/pkg/events"
	"github.com/escai-framework/escai/pkg/security/audit"
	"github.com/escai-framework/escai/pkg/security/config"
)

// BenchmarkAuditVerify measures `escai audit verify` end to end (replay from
// a real broker over TCP, leaf hashes, links, MACs, no decryption): b.N
// sealed records of 1 KiB events in one partition, encrypted and bundled
// as the writer stores them, with a signed checkpoint every 256 records
// whose roots verify checks.
//
//	go test -run '^$' -bench BenchmarkAuditVerify -benchtime 200000x ./internal/cli
func BenchmarkAuditVerify(b *testing.B) {
	const key = "0f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff0"
	b.Setenv("ESCAI_SECRET_KEY", key)
	srv := brokertest.StartNode(b)
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(4096))
	if err != nil {
		b.Fatal(err)
	}
	brokertest.Apply(b, js)
	cfg, err := loadWithSecret(key)
	if err != nil {
		b.Fatal(err)
	}
	keys, err := audit.DeriveKeys(cfg)
	if err != nil {
		b.Fatal(err)
	}
	ring, err := audit.NewKeyRing(audit.KeyRingConfig{KEK: keys.KEK})
	if err != nil {
		b.Fatal(err)
	}
	app, err := audit.NewAppender(audit.AppenderConfig{Origin: audit.Origin("escai", 0), Partition: 0, WriterID: "bench", IntegrityKey: keys.Integrity, Keys: ring})
	if err != nil {
		b.Fatal(err)
	}
	payload := []byte(`{"specversion":"1.0","type":"escai.tool.call","data":{"pad":"` + strings.Repeat("x", 900) + `"}}`)
	// A signed checkpoint every 256 records, as the writer signs them:
	// verify checks each root on the way.
	signer, _, err := keys.CheckpointSigner(auditwriter.DefaultCheckpointKeyName)
	if err != nil {
		b.Fatal(err)
	}
	const batch = 256
	for done := 0; done < b.N; done += batch {
		in := make([]audit.Input, min(batch, b.N-done))
		for i := range in {
			in[i] = audit.Input{EventID: fmt.Sprintf("e-%d", done+i), Tenant: "acme", Agent: "agent-1", EventType: "escai.tool.call", Source: "ESCAI_CLEAN_acme", SourceSeq: uint64(done + i + 1), Payload: payload}
		}
		recs, err := app.Append(in)
		if err != nil {
			b.Fatal(err)
		}
		// Bundles of 32 records: what one writer stores at 16 partitions
		// (BenchmarkWriter reports ~420 records per round).
		for len(recs) > 0 {
			k := min(32, len(recs))
			entries := make([]audit.BundleEntry, k)
			for i, r := range recs[:k] {
				entries[i] = audit.BundleEntry{Record: r.Bytes(), Source: "ESCAI_CLEAN_acme", SourceSeq: uint64(i + 1)}
			}
			data, err := audit.AppendBundle(nil, entries)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := js.PublishAsync(events.AuditSubject(0), data); err != nil {
				b.Fatal(err)
			}
			recs = recs[k:]
		}
		cp, err := app.Checkpoint(time.Now(), signer)
		if err != nil {
			b.Fatal(err)
		}
		data, err := cp.MarshalJSON()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := js.PublishAsync(auditwriter.CheckpointSubject(0), data); err != nil {
			b.Fatal(err)
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(5 * time.Minute):
		b.Fatal("publishing the records took over 5 minutes")
	}

	b.ResetTimer()
	start := time.Now()
	code, out, errOut := runEscaiCmd("audit", "verify", "--nats-url", srv.ClientURL(), "--audit-partitions", "1")
	elapsed := time.Since(start)
	b.StopTimer()
	if code != 0 || !strings.Contains(out, fmt.Sprintf("OK, %d records", b.N)) || !strings.Contains(out, "every record anchored") {
		b.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "records/s")
}

// loadWithSecret decodes key as config decodes ESCAI_SECRET_KEY.
func loadWithSecret(key string) ([]byte, error) {
	cfg, err := config.Load(func(k string) (string, bool) {
		if k == "ESCAI_SECRET_KEY" {
			return key, true
		}
		return "", false
	}, nil)
	if err != nil {
		return nil, err
	}
	return cfg.SecretKey, nil
}
