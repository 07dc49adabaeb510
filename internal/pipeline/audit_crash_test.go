package pipeline_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/escai-framework/escai/internal/broker/brokertest"
	"github.com/escai-framework/escai/pkg/security/audit"
)

// TestAuditWriterProcessKilled: two audit-writer processes (this binary
// re-executed as the service) share one log: the first is active, the
// second a standby waiting for the lease. While clean events keep coming,
// the active one is killed with SIGKILL in the middle of its rounds; the
// standby takes the lease over once it expires, restores every partition
// from the stream and goes on. In the end ESCAI_AUDIT holds exactly one
// record per event — none lost, none twice — every partition verifies
// from genesis, and the index holds every record.
func TestAuditWriterProcessKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end run with a 10 s lease takeover")
	}
	const n, partitions = 6000, 4
	h := newHarness(t)
	ctx := context.Background()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	if _, err := h.env.Defs.EnsureTenant(ctx, h.js, "acme", h.env.Overrides()); err != nil {
		t.Fatal(err)
	}
	ro := h.rdb.Options()
	redisURL := "redis://" + ro.Addr + "/0"
	if ro.Password != "" {
		redisURL = "redis://:" + ro.Password + "@" + ro.Addr + "/0"
	}
	env := map[string]string{
		"ESCAI_SECURITY_PROFILE":  "testing",
		"ESCAI_NATS_URL":          h.srv.ClientURL(),
		"ESCAI_REDIS_URL":         redisURL,
		"ESCAI_SECRET_KEY":        hex.EncodeToString(key),
		"ESCAI_AUDIT_PARTITIONS":  fmt.Sprint(partitions),
		"ESCAI_STAGE_BATCH":       "64",
		"ESCAI_STAGE_WORKERS":     "2",
		"ESCAI_DATA_DIR":          t.TempDir(),
		"ESCAI_TLS_CERT_DIR":      t.TempDir(),
		"ESCAI_AUDIT_ENCRYPT":     "true",
		"ESCAI_AUDIT_TENANT_KEYS": "true",
	}
	active := startService(t, "audit-writer", env)
	standby := startProcess(t, "audit-writer", env) // waits for the lease: no admin endpoint yet

	// Events keep coming, about 3,000/s, the whole time.
	var published atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range n {
			agent := fmt.Sprintf("agent-%d", i%9)
			data := fmt.Appendf(nil, `{"specversion":"1.0","id":"k-%05d","source":"urn:a","type":"escai.tool.call","time":"2026-12-04T10:00:00Z","tenant":"acme","agentid":%q,"escaipii":{"status":"clean"},"data":{"n":%d}}`, i, agent, i)
			if _, err := h.js.PublishAsync("escai.clean.acme."+agent+".tool.call", data, jetstream.WithStallWait(time.Minute)); err != nil {
				t.Errorf("publish %d: %v", i, err)
				return
			}
			published.Add(1)
			if i%30 == 29 {
				time.Sleep(10 * time.Millisecond)
			}
		}
	}()
	brokertest.WaitFor(t, 60*time.Second, func() error {
		if got := h.indexed(); got < n/4 {
			return fmt.Errorf("%d indexed", got)
		}
		return nil
	})
	if err := active.cmd.Process.Kill(); err != nil { // SIGKILL: no drain, no lease release
		t.Fatal(err)
	}
	<-active.exited
	killedAt := h.indexed()
	t.Logf("active writer killed after %d of %d events published, %d indexed", published.Load(), n, killedAt)
	if killedAt >= n {
		t.Fatal("every event was indexed before the kill: nothing was in flight")
	}
	<-done

	brokertest.WaitFor(t, 90*time.Second, func() error {
		if got := h.indexed(); got < n {
			return fmt.Errorf("%d of %d indexed", got, n)
		}
		return nil
	})
	if err := standby.stop(); err != nil {
		t.Fatalf("standby: %v\n%s", err, standby.log())
	}

	// Exactly one record per event, every partition intact from genesis.
	seen := map[string]int{}
	total := verifySealed(t, h.js, key, partitions, nil, func(_ int, rec *audit.Record) { seen[rec.EventID]++ })
	if total != n || len(seen) != n {
		t.Fatalf("%d records for %d distinct events, want %d of each", total, len(seen), n)
	}
	for id, c := range seen {
		if c != 1 {
			t.Fatalf("event %s has %d records", id, c)
		}
	}
	if got := h.indexed(); got != n {
		t.Fatalf("index holds %d, want %d", got, n)
	}
}
