package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/escai-framework/escai/internal/auditwriter"
	"github.com/escai-framework/escai/internal/broker/brokertest"
	"github.com/escai-framework/escai/internal/pipeline"
	"github.com/escai-framework/escai/internal/redisx/redistest"
	"github.com/escai-framework/escai/pkg/security/audit"
	"github.com/escai-framework/escai/pkg/security/config"
)

// TestAuditSigningKeyFromConfig: escai audit keygen writes a signing key
// (0600, never overwritten); a writer configured with
// ESCAI_AUDIT_SIGNING_KEY_FILE signs its checkpoints with it, and verify
// trusts that key by default — not the one derived from ESCAI_SECRET_KEY.
func TestAuditSigningKeyFromConfig(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "audit-signing.key")
	code, vkey, errOut := runEscaiCmd("audit", "keygen", "-o", keyFile)
	vkey = strings.TrimSpace(vkey)
	if code != 0 || !strings.HasPrefix(vkey, "escai+") {
		t.Fatalf("keygen: exit %d, %q\n%s", code, vkey, errOut)
	}
	if fi, err := os.Stat(keyFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", err, fi.Mode())
	}
	if code, _, _ := runEscaiCmd("audit", "keygen", "-o", keyFile); code == 0 {
		t.Fatal("keygen overwrote an existing key file")
	}

	t.Setenv("ESCAI_SECRET_KEY", tamperSecret)
	t.Setenv("ESCAI_AUDIT_SIGNING_KEY_FILE", keyFile)
	t.Setenv("ESCAI_AUDIT_ENCRYPT", "true")
	t.Setenv("ESCAI_AUDIT_KEK", strings.Repeat("7e", 32))
	cfg, err := config.LoadFromOS()
	if err != nil {
		t.Fatal(err)
	}
	cfg.AuditPartitions = 2
	srv := brokertest.StartNode(t)
	js := brokertest.JetStream(t, brokertest.Connect(t, srv))
	brokertest.Apply(t, js)
	ctx := context.Background()
	env, err := pipeline.NewEnv(cfg, zap.NewNop(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.Defs.EnsureTenant(ctx, js, "acme", env.Overrides()); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		data := `{"specversion":"1.0","id":"k-` + string(rune('a'+i)) + `","source":"urn:a","type":"escai.tool.call","time":"2026-12-04T10:00:00Z","tenant":"acme","agentid":"agent-1","escaipii":{"status":"not_scanned"},"data":{}}`
		if _, err := js.Publish(ctx, "escai.clean.acme.agent-1.tool.call", []byte(data)); err != nil {
			t.Fatal(err)
		}
	}
	rs := redistest.Start(t)
	rdb := rs.Client(t)
	w, err := env.StartAuditWriter(ctx, js, rdb)
	if err != nil {
		t.Fatal(err)
	}
	brokertest.WaitFor(t, 30*time.Second, func() error {
		if n := rdb.ZCard(ctx, auditwriter.TenantIndexKey("acme")).Val(); n != 10 {
			return fmt.Errorf("index holds %d of 10", n)
		}
		return nil
	})
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := w.Drain(dctx); err != nil { // anchors the tail with a checkpoint
		t.Fatal(err)
	}
	code, reps, stderr := verifyJSON(t, srv.ClientURL(), nil)
	if code != 0 || len(reps) != 2 {
		t.Fatalf("verify with the configured key: exit %d %+v\n%s", code, reps, stderr)
	}
	matched := 0
	for _, r := range reps {
		matched += r.RootsMatched
		if r.Decrypted != r.NextPSeq {
			t.Fatalf("partition %d: %d of %d bodies decrypted under ESCAI_AUDIT_KEK", r.Partition, r.Decrypted, r.NextPSeq)
		}
		if r.Checkpoint != nil && (len(r.Checkpoint.SignedBy) != 1 || !strings.HasPrefix(vkey, r.Checkpoint.SignedBy[0])) {
			t.Fatalf("checkpoint signed by %v, want %s", r.Checkpoint.SignedBy, vkey)
		}
	}
	if matched == 0 {
		t.Fatal("no checkpoint root matched")
	}
	// The data keys are wrapped under ESCAI_AUDIT_KEK, not the master key.
	os.Unsetenv("ESCAI_AUDIT_KEK")
	if code, _, stderr := verifyJSON(t, srv.ClientURL(), nil); code == 0 || !strings.Contains(stderr, "does not unwrap") {
		t.Fatalf("decrypting without ESCAI_AUDIT_KEK: exit %d\n%s", code, stderr)
	}
	// Without the signing key, verify falls back to the derived key and
	// rejects the checkpoints.
	t.Setenv("ESCAI_AUDIT_KEK", strings.Repeat("7e", 32))
	os.Unsetenv("ESCAI_AUDIT_SIGNING_KEY_FILE")
	code, reps, stderr = verifyJSON(t, srv.ClientURL(), nil)
	if code != 1 || len(reps) != 2 || (reps[0].Finding == nil && reps[1].Finding == nil) {
		t.Fatalf("verify trusting the derived key: exit %d %+v\n%s", code, reps, stderr)
	}
}

// TestAuditCheckpointKey: escai audit checkpoint key prints the verifier
// key auditors need for verify-proof: the one derived from
// ESCAI_SECRET_KEY by default, ESCAI_AUDIT_SIGNING_KEY's when it is set;
// without either there is no signer to name.
func TestAuditCheckpointKey(t *testing.T) {
	t.Setenv("ESCAI_SECRET_KEY", "")
	t.Setenv("ESCAI_AUDIT_SIGNING_KEY", "")
	if code, out, _ := runEscaiCmd("audit", "checkpoint", "key"); code != 2 {
		t.Fatalf("no key configured: exit %d, %q", code, out)
	}

	t.Setenv("ESCAI_SECRET_KEY", tamperSecret)
	secret, err := loadWithSecret(tamperSecret)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := audit.DeriveKeys(secret)
	if err != nil {
		t.Fatal(err)
	}
	_, derived, err := keys.CheckpointSigner(auditwriter.DefaultCheckpointKeyName)
	if err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runEscaiCmd("audit", "checkpoint", "key"); code != 0 || strings.TrimSpace(out) != derived {
		t.Fatalf("derived: exit %d, %q, want %q\n%s", code, out, derived, errOut)
	}

	keyFile := filepath.Join(t.TempDir(), "signing.key")
	code, vkey, _ := runEscaiCmd("audit", "keygen", "-o", keyFile)
	if code != 0 {
		t.Fatalf("keygen: exit %d", code)
	}
	t.Setenv("ESCAI_AUDIT_SIGNING_KEY_FILE", keyFile)
	if code, out, errOut := runEscaiCmd("audit", "checkpoint", "key"); code != 0 || strings.TrimSpace(out) != strings.TrimSpace(vkey) || out == derived {
		t.Fatalf("configured: exit %d, %q, want %q\n%s", code, out, vkey, errOut)
	}
}
