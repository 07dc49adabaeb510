package cli

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/escai-framework/escai/internal/auditwriter"
	"github.com/escai-framework/escai/internal/broker/brokertest"
	"github.com/escai-framework/escai/internal/redisx"
	"github.com/escai-framework/escai/internal/stage"
	"github.com/escai-framework/escai/pkg/events"
	"github.com/escai-framework/escai/pkg/security/audit"
)

// TestAuditShred: after escai audit shred --tenant acme, acme's payloads
// cannot be decrypted (verify counts them shredded, query says so), every
// partition still verifies, the key material is gone from the bucket's
// history, and the shred itself is sealed into the trail by the next
// writer under the log's shared key, so it stays readable.
func TestAuditShred(t *testing.T) {
	t.Setenv("ESCAI_SECRET_KEY", tamperSecret)
	tr := sealTrail(t)
	ctx := context.Background()
	base := []string{"--nats-url", tr.natsURL, "--audit-partitions", "2"}

	ids, err := auditwriter.TenantKeyIDs(ctx, tr.js, "acme")
	if err != nil || len(ids) != 2 {
		t.Fatalf("acme's keys before the shred: %v %v, want 2 (rotated once)", ids, err)
	}
	code, out, _ := runEscaiCmd(append([]string{"audit", "shred", "--tenant", "acme"}, base...)...)
	if code != 2 || !strings.Contains(out, "would shred 2 data keys") {
		t.Fatalf("without --yes: exit %d\n%s", code, out)
	}
	if code, out, errOut := runEscaiCmd(append([]string{"audit", "shred", "--tenant", "acme", "--yes"}, base...)...); code != 0 {
		t.Fatalf("shred: exit %d\n%s%s", code, out, errOut)
	}
	if code, _, errOut := runEscaiCmd(append([]string{"audit", "shred", "--tenant", "acme", "--yes"}, base...)...); code != 1 || !strings.Contains(errOut, "no data keys") {
		t.Fatalf("second shred: exit %d\n%s", code, errOut)
	}
	// The wrapped keys are gone from the bucket, history included.
	kv, err := tr.js.KeyValue(ctx, auditwriter.KeyBucket)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		hist, err := kv.History(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range hist {
			w, err := audit.ParseWrappedKey(e.Value())
			if err != nil || !w.Shredded || len(w.Wrapped) != 0 {
				t.Fatalf("key %s: history still holds %s", id, e.Value())
			}
		}
	}

	// Verify: intact, every acme body counted shredded, none decrypted.
	code, reps, stderr := verifyJSON(t, tr.natsURL, tr.vkeys)
	if code != 0 || len(reps) != 2 {
		t.Fatalf("verify after shred: exit %d %+v\n%s", code, reps, stderr)
	}
	for _, r := range reps {
		if r.Status != "OK" || r.Decrypted != 0 || r.Shredded != r.NextPSeq || r.RootsMatched == 0 {
			t.Fatalf("partition %d after shred: %+v", r.Partition, r)
		}
	}

	// The next writer seals the shred record (and gives acme a new key).
	master, err := loadWithSecret(tamperSecret)
	if err != nil {
		t.Fatal(err)
	}
	derived, err := audit.DeriveKeys(master)
	if err != nil {
		t.Fatal(err)
	}
	ring, err := auditwriter.OpenKeyRing(ctx, tr.js, derived.KEK, true, 1)
	if err != nil {
		t.Fatal(err)
	}
	rdb, err := redisx.Connect(ctx, tr.redisURL)
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	w, err := auditwriter.Start(ctx, tr.js, rdb, auditwriter.Options{
		Partitions: 2, Limits: events.DefaultLimits(), FollowKeys: true,
		Sealing: &auditwriter.SealingOptions{Master: master, Encrypt: true, Keys: ring, WriterID: "writer-after-shred"},
	}, zap.NewNop(), stage.NewMetrics(prometheus.NewRegistry()))
	if err != nil {
		t.Fatal(err)
	}
	brokertest.WaitFor(t, 30*time.Second, func() error {
		if n := rdb.ZCard(ctx, auditwriter.TypeIndexKey("acme", "escai.security.audit_shred")).Val(); n != 1 {
			return fmt.Errorf("%d shred records indexed", n)
		}
		return nil
	})
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := w.Drain(dctx); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runEscaiCmd(append([]string{"audit", "query", "--tenant", "acme", "--redis-url", tr.redisURL, "--decrypt", "--limit", "1000"}, base...)...)
	if code != 0 {
		t.Fatalf("query: exit %d\n%s", code, errOut)
	}
	var shredded, readable int
	var shredKey string
	for _, r := range queryLines(t, out) {
		switch {
		case r.Type == "escai.security.audit_shred" && r.Event != nil && strings.Contains(string(r.Event), ids[0]):
			readable++
			shredKey = r.KeyID
		case strings.Contains(r.Unreadable, "shredded"):
			shredded++
		}
	}
	if readable != 1 || shredded != 80 {
		t.Fatalf("after the shred: %d readable shred records (want 1), %d shredded records (want 80)\n%s", readable, shredded, out)
	}
	// The shred's record is sealed under the log's shared key, not a new
	// key of acme's: a writer that sealed it before the shred took effect
	// would otherwise have lost it with acme's keys.
	after, err := auditwriter.TenantKeyIDs(ctx, tr.js, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if shredKey == "" || slices.Contains(ids, shredKey) || len(after) != 0 {
		t.Fatalf("shred record under key %q; acme's live keys now %v (shredded %v)", shredKey, after, ids)
	}
}
