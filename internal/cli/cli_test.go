package cli

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/escai-framework/escai/internal/auditwriter"
	"github.com/escai-framework/escai/internal/broker/brokertest"
	"github.com/escai-framework/escai/pkg/events"
	"github.com/escai-framework/escai/pkg/security/config"
	"github.com/escai-framework/escai/pkg/security/pii"
)

// syncBuffer is a bytes.Buffer safe to read while a command writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestAuthzSaysNotBuilt(t *testing.T) {
	cmd := NewAuthz()
	var stderr bytes.Buffer
	cmd.SetErr(&stderr)
	cmd.SetArgs(nil)
	if code := Execute(cmd); code == 0 {
		t.Fatal("authz exited 0 although it is not built")
	}
	if !strings.Contains(stderr.String(), "not built yet") {
		t.Fatalf("stderr = %q", stderr.String())
	}
}

// TestFlagsOverrideTheirVariables: every configuration flag names a
// documented variable, and a flag wins over the environment.
func TestFlagsOverrideTheirVariables(t *testing.T) {
	known := map[string]bool{}
	for _, v := range config.Variables() {
		known[v.Name] = true
	}
	for _, cmd := range []*cobraCmd{{"ingest", NewIngest()}, {"pii-worker", NewPIIWorker()}, {"audit-writer", NewAuditWriter()}, {"dev", newDev()}, {"bench", newBench()}} {
		vars := FlagVariables(cmd.c.Flags())
		if len(vars) == 0 {
			t.Errorf("%s: no configuration flags", cmd.name)
		}
		for flag, v := range vars {
			if !known[v] {
				t.Errorf("%s --%s overrides %s, which config.Variables does not document", cmd.name, flag, v)
			}
		}
	}

	t.Setenv("ESCAI_STAGE_BATCH", "64")
	t.Setenv("ESCAI_SECURITY_PROFILE", "development")
	cmd := NewIngest()
	if err := cmd.Flags().Parse([]string{"--batch", "32", "--profile", "testing"}); err != nil {
		t.Fatal(err)
	}
	c, err := (&configFlags{fs: cmd.Flags(), env: FlagVariables(cmd.Flags())}).load()
	if err != nil {
		t.Fatal(err)
	}
	if c.StageBatch != 32 {
		t.Errorf("--batch 32 with ESCAI_STAGE_BATCH=64 gave %d", c.StageBatch)
	}
	// --profile chooses the defaults, exactly as the variable would.
	if want := config.Default(config.ProfileTesting).AuditEncrypt; c.Profile != config.ProfileTesting || c.AuditEncrypt != want {
		t.Errorf("--profile testing gave profile %s, AuditEncrypt %v", c.Profile, c.AuditEncrypt)
	}
}

type cobraCmd struct {
	name string
	c    *cobra.Command
}

func TestProductionProfileFailsClosedWithoutSecrets(t *testing.T) {
	t.Setenv("ESCAI_SECRET_KEY", "")
	cmd := NewIngest()
	var stderr bytes.Buffer
	cmd.SetErr(&stderr)
	cmd.SetArgs([]string{"--profile", "production", "--nats-url", "nats://127.0.0.1:1"})
	if code := Execute(cmd); code != 1 {
		t.Fatalf("exit code %d, want 1", code)
	}
	if !strings.Contains(stderr.String(), "ESCAI_SECRET_KEY") {
		t.Fatalf("the error does not name the missing secret: %q", stderr.String())
	}
}

func TestStreamsApplyIsIdempotent(t *testing.T) {
	srv := brokertest.StartNode(t)
	run := func() string {
		cmd := NewEscai()
		var out bytes.Buffer
		cmd.SetOut(&out)
		cmd.SetErr(&out)
		cmd.SetArgs([]string{"streams", "apply", "--nats-url", srv.ClientURL(), "--tenant", "acme", "--json"})
		if code := Execute(cmd); code != 0 {
			t.Fatalf("streams apply exited %d: %s", code, out.String())
		}
		return out.String()
	}
	first := run()
	if !strings.Contains(first, `"action":"created"`) || !strings.Contains(first, `"stream":"ESCAI_CLEAN_acme"`) {
		t.Fatalf("first apply:\n%s", first)
	}
	second := run()
	if strings.Contains(second, `"created"`) || strings.Contains(second, `"updated"`) || strings.Count(second, `"unchanged"`) != strings.Count(first, "\n") {
		t.Fatalf("second apply is not all unchanged:\n%s", second)
	}
}

// TestDevPipelineEndToEnd is `make run` in a test: escai dev on free ports,
// one event published the way the README shows, and that event found in
// ESCAI_CLEAN_acme, ESCAI_AUDIT and the Redis index.
func TestDevPipelineEndToEnd(t *testing.T) {
	dir := t.TempDir()
	cmd := NewEscai()
	out := &syncBuffer{}
	cmd.SetOut(out)
	cmd.SetErr(out)
	cmd.SetArgs([]string{"dev", "--nats-port", "-1", "--monitor-port", "0", "--redis-port", "0", "--http-addr", "127.0.0.1:0", "--data-dir", dir})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		cmd.SetContext(ctx)
		done <- Execute(cmd)
	}()
	natsRe := regexp.MustCompile(`NATS\s+(nats://\S+)`)
	redisRe := regexp.MustCompile(`Redis\s+(redis://\S+)`)
	var natsURL, redisURL string
	brokertest.WaitFor(t, 30*time.Second, func() error {
		s := out.String()
		m1, m2 := natsRe.FindStringSubmatch(s), redisRe.FindStringSubmatch(s)
		if m1 == nil || m2 == nil {
			return fmt.Errorf("no banner yet: %q", s)
		}
		natsURL, redisURL = m1[1], m2[1]
		return nil
	})

	nc, err := nats.Connect(natsURL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	body := `{"specversion":"1.0","id":"evt-0001","source":"urn:escai:agent:agent-1","type":"escai.tool.call","time":"2026-12-04T10:00:00Z","datacontenttype":"application/json","tenant":"acme","agentid":"agent-1","data":{"gen_ai.tool.name":"sql","arguments":{"query":"SELECT 1"}}}`
	// A plain core publish, as `nats pub` does.
	if err := nc.Publish("escai.in.acme.agent-1.tool.call", []byte(body)); err != nil {
		t.Fatal(err)
	}
	js, _ := jetstream.New(nc)
	opts, _ := redis.ParseURL(redisURL)
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	brokertest.WaitFor(t, 30*time.Second, func() error {
		for _, stream := range []string{"ESCAI_CLEAN_acme", events.StreamAudit} {
			s, err := js.Stream(ctx, stream)
			if err != nil {
				return err
			}
			if s.CachedInfo().State.Msgs != 1 {
				return fmt.Errorf("%s holds %d", stream, s.CachedInfo().State.Msgs)
			}
		}
		n, err := rdb.HLen(ctx, auditwriter.EventIndexKey("acme")).Result()
		if err != nil || n != 1 {
			return fmt.Errorf("index entries %d, %v", n, err)
		}
		return nil
	})
	// The dev pipeline seals its audit trail under its own key file, and
	// the chain verifies.
	t.Setenv("ESCAI_SECRET_KEY_FILE", filepath.Join(dir, "secret.key"))
	vcmd := NewEscai()
	var vout bytes.Buffer
	vcmd.SetOut(&vout)
	vcmd.SetErr(&vout)
	vcmd.SetArgs([]string{"audit", "verify", "--nats-url", natsURL})
	if code := Execute(vcmd); code != 0 || !strings.Contains(vout.String(), ": OK, 1 records") {
		t.Fatalf("audit verify on the dev pipeline: exit %d\n%s", code, vout.String())
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("escai dev exited %d:\n%s", code, out.String())
		}
	case <-time.After(40 * time.Second):
		t.Fatal("escai dev did not stop after cancel")
	}
	if !strings.Contains(out.String(), "draining") {
		t.Errorf("no drain on shutdown:\n%s", out.String())
	}
}

// TestValidateJSONL is the escai validate contract: one output line per
// input line, in order, a bad line answered on its line.
func TestValidateJSONL(t *testing.T) {
	in := strings.Join([]string{
		`{"id":"a","field":"data.arguments.sql","value":"SELECT * FROM users WHERE id = 1"}`,
		`{"id":"b","field":"data.arguments.path","value":"..%2f..%2fetc%2fpasswd"}`,
		`{"id":"c","field":"data.prompt","value":"<img src=x onerror=alert(1)>"}`,
		`{oops`,
	}, "\n") + "\n"
	cmd := NewEscai()
	var out, errOut bytes.Buffer
	cmd.SetIn(strings.NewReader(in))
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs([]string{"validate", "--level", "standard"})
	if code := Execute(cmd); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d output lines for 4 inputs:\n%s", len(lines), out.String())
	}
	for i, want := range []string{`"id":"a"`, `"id":"b"`, `"id":"c"`, `"error"`} {
		if !strings.Contains(lines[i], want) {
			t.Errorf("line %d = %s, want %s", i, lines[i], want)
		}
	}
	for i, verdict := range []string{"clean", "rejected", "flagged"} {
		if !strings.Contains(lines[i], `"verdict":"`+verdict+`"`) {
			t.Errorf("line %d = %s, want verdict %s", i, lines[i], verdict)
		}
	}
}

func TestPIIScanJSONL(t *testing.T) {
	cmd := NewEscai()
	var out bytes.Buffer
	cmd.SetIn(strings.NewReader(`{"id":"x","text":"Grüße an jürgen@example.de"}` + "\n" + `{"id":"y","text":"uuid 123e4567-e89b-12d3-a456-426614174000"}` + "\n"))
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"pii", "scan", "--sensitivity", "high"})
	if code := Execute(cmd); code != 0 {
		t.Fatalf("exit %d", code)
	}
	want := `{"id":"x","matches":[{"type":"EMAIL","start":11,"end":29,"score":`
	if lines := strings.Split(out.String(), "\n"); !strings.HasPrefix(lines[0], want) || lines[1] != `{"id":"y","matches":[]}` {
		t.Fatalf("output:\n%s", out.String())
	}
}

// TestPIIRevealIsAuditedFirst: a reveal stores its security event before
// printing anything, and refuses when it cannot.
func TestPIIRevealIsAuditedFirst(t *testing.T) {
	// The PII keys come from ESCAI_PII_KEY, not the master key: reveal
	// must use the same.
	key := "6f1c2a9b8e7d6c5b4a39281706f5e4d3c2b1a0998877665544332211ffeeddcc"
	piiKey := "0a1b2c3d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff0"
	t.Setenv("ESCAI_SECRET_KEY", key)
	t.Setenv("ESCAI_PII_KEY", piiKey)
	cfg, _ := config.Load(func(k string) (string, bool) {
		if k == "ESCAI_PII_KEY" {
			return piiKey, true
		}
		return "", false
	}, nil)
	keys, err := pii.KeysFromSecret(cfg.PIIKey)
	if err != nil {
		t.Fatal(err)
	}
	pc := pii.Config{Strategies: map[string]pii.Strategy{pii.TypeEmail: pii.StrategyEncrypt}, Keys: keys}
	d, _ := pii.NewDetector(pc)
	m, err := pii.NewMasker(d, pc)
	if err != nil {
		t.Fatal(err)
	}
	// Tokens are bound to the tenant of the event they were masked in.
	tokenFor := func(tenant string) string {
		ev := &events.Envelope{Tenant: tenant, Data: []byte(`{"note":"write to jane@example.com"}`)}
		if _, err := m.MaskEnvelope(ev); err != nil {
			t.Fatal(err)
		}
		d := string(ev.Data)
		return d[strings.Index(d, "<") : strings.Index(d, ">")+1]
	}
	token, foreign := tokenFor("acme"), tokenFor("globex")

	run := func(natsURL string) (int, string) {
		cmd := NewEscai()
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		cmd.SetContext(ctx)
		var out bytes.Buffer
		cmd.SetIn(strings.NewReader(token + "\n" + foreign + "\n"))
		cmd.SetOut(&out)
		cmd.SetErr(&out)
		cmd.SetArgs([]string{"pii", "reveal", "--tenant", "acme", "--reason", "support ticket 42", "--nats-url", natsURL})
		return Execute(cmd), out.String()
	}
	// No broker to record the reveal: nothing is revealed.
	if code, out := run("nats://127.0.0.1:1"); code == 0 || strings.Contains(out, "jane@example.com") {
		t.Fatalf("reveal without an audit trail: exit %d, %s", code, out)
	}
	srv := brokertest.StartNode(t)
	js := brokertest.JetStream(t, brokertest.Connect(t, srv))
	brokertest.Apply(t, js)
	code, out := run(srv.ClientURL())
	if code != 0 || strings.Count(out, `"value":"jane@example.com"`) != 1 {
		t.Fatalf("exit %d: %s", code, out)
	}
	// The other tenant's token does not reveal under --tenant acme.
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 2 || !strings.Contains(lines[1], `"error":"pii: token does not decrypt`) {
		t.Fatalf("a globex token revealed for acme: %s", out)
	}
	s, _ := js.Stream(context.Background(), events.StreamSecurity)
	m0, err := s.GetMsg(context.Background(), 1)
	if err != nil || m0.Subject != "escai.security.pii_reveal" || strings.Contains(string(m0.Data), "jane") || !strings.Contains(string(m0.Data), `"actor":"`) {
		t.Fatalf("security event %v %s", err, m0.Data)
	}
}
