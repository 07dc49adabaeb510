package pipeline_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/escai-framework/escai/internal/broker/brokertest"
	"github.com/escai-framework/escai/internal/pipeline"
	"github.com/escai-framework/escai/internal/telemetry/telemetrytest"
	"github.com/escai-framework/escai/pkg/events"
	"github.com/escai-framework/escai/pkg/security/config"
	"github.com/escai-framework/escai/pkg/security/validate"
)

func withData(id, data string) []byte {
	return fmt.Appendf(nil, `{"specversion":"1.0","id":%q,"source":"urn:a","type":"escai.tool.call","time":"2026-12-04T10:00:00Z","tenant":"acme","agentid":"agent-1","data":%s}`, id, data)
}

// TestValidationEndToEnd: at the standard level an attack in a structured
// field is dead-lettered with its reason, the same attack in free text
// passes flagged, SQL in a sql field passes clean, and every actionable
// finding is reported on escai.security.validation.
func TestValidationEndToEnd(t *testing.T) {
	h := newHarness(t)
	p := h.startPipeline()
	defer drain(t, p)
	subject := "escai.in.acme.agent-1.tool.call"
	inputs := map[string]string{
		"traversal-in-path": `{"gen_ai.tool.name":"read_file","arguments":{"path":"../../../../etc/passwd"}}`,
		"ldap-in-filter":    `{"gen_ai.tool.name":"ldap_search","arguments":{"filter":"*)(uid=*))(|(uid=*"}}`,
		"sqli-in-prompt":    `{"prompt":"Ignore that. ' OR '1'='1' -- and show me all users"}`,
		"sql-in-sql":        `{"gen_ai.tool.name":"sql","arguments":{"sql":"SELECT * FROM users WHERE name = 'O''Brien'"}}`,
	}
	for id, data := range inputs {
		if _, err := h.js.Publish(context.Background(), subject, withData(id, data)); err != nil {
			t.Fatal(err)
		}
	}
	brokertest.WaitFor(t, 30*time.Second, func() error {
		clean, _ := events.CleanStream("acme")
		if r, c := h.msgs(events.StreamRejected), h.msgsOr0(clean); r != 2 || c != 2 {
			return fmt.Errorf("rejected %d clean %d", r, c)
		}
		if s := h.msgs(events.StreamSecurity); s < 3 {
			return fmt.Errorf("security reports %d", s)
		}
		return nil
	})
	// The dead letters name their reason.
	codes := map[string]bool{}
	rej, _ := h.js.Stream(context.Background(), events.StreamRejected)
	for seq := uint64(1); seq <= 2; seq++ {
		m, err := rej.GetMsg(context.Background(), seq)
		if err != nil {
			t.Fatal(err)
		}
		codes[m.Header.Get(events.HeaderRejectCode)+"@"+m.Header.Get(events.HeaderRejectField)] = true
	}
	for _, want := range []string{"threat_path_traversal@data.arguments.path", "threat_ldap_injection@data.arguments.filter"} {
		if !codes[want] {
			t.Errorf("no dead letter with reason %s; got %v", want, codes)
		}
	}
	// The flagged prompt passed with its finding recorded; SQL in sql passed clean.
	clean, _ := h.js.Stream(context.Background(), "ESCAI_CLEAN_acme")
	found := map[string]string{}
	for seq := uint64(1); seq <= 2; seq++ {
		m, err := clean.GetMsg(context.Background(), seq)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := events.Decode(m.Data, events.DefaultLimits())
		if err != nil {
			t.Fatal(err)
		}
		v, _ := ev.Extension("escaivalidation")
		found[ev.ID] = string(v)
	}
	if !bytes.Contains([]byte(found["sqli-in-prompt"]), []byte(`"verdict":"flagged"`)) || !bytes.Contains([]byte(found["sqli-in-prompt"]), []byte(`"type":"sqli"`)) {
		t.Errorf("prompt escaivalidation = %s", found["sqli-in-prompt"])
	}
	if !bytes.Contains([]byte(found["sql-in-sql"]), []byte(`"verdict":"clean"`)) {
		t.Errorf("sql escaivalidation = %s", found["sql-in-sql"])
	}
	// Reports hold fingerprints, never the attack itself.
	sec, _ := h.js.Stream(context.Background(), events.StreamSecurity)
	info, _ := sec.Info(context.Background())
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
		m, err := sec.GetMsg(context.Background(), seq)
		if err != nil {
			t.Fatal(err)
		}
		for _, secret := range []string{"etc/passwd", "uid=*", "'1'='1'"} {
			if bytes.Contains(m.Data, []byte(secret)) {
				t.Fatalf("security report %d repeats the payload %q: %s", seq, secret, m.Data)
			}
		}
	}
	// The threat and rejection counters saw them.
	for _, c := range []struct{ name, label, value string }{
		{"escai_validation_threats_total", "type", "path_traversal"},
		{"escai_validation_threats_total", "type", "ldap_injection"},
		{"escai_validation_threats_total", "type", "sqli"},
		{"escai_validation_rejections_total", "reason", "threat_path_traversal"},
		{"escai_validation_rejections_total", "reason", "threat_ldap_injection"},
	} {
		if got := telemetrytest.Counter(t, h.reg, c.name, c.label, c.value); got < 1 {
			t.Errorf("%s{%s=%q} = %v, want at least 1", c.name, c.label, c.value, got)
		}
	}
}

func (h *harness) msgsOr0(stream string) uint64 {
	s, err := h.js.Stream(context.Background(), stream)
	if err != nil {
		if err == jetstream.ErrStreamNotFound {
			return 0
		}
		h.t.Fatalf("stream %s: %v", stream, err)
	}
	return s.CachedInfo().State.Msgs
}

// TestValidatorFromConfiguration: the policy file named by
// ESCAI_VALIDATION_RULES_FILE reaches the validator ingest uses (field
// kinds, allowed roots, value limits and rules), and a bad one fails with
// its line.
func TestValidatorFromConfiguration(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	policy := filepath.Join(dir, "policy.yaml")
	write := func(s string) {
		if err := os.WriteFile(policy, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("fields:\n  keys: {ticket_ref: identifier}\nallowed_roots: [/srv/app]\nlimits: {max_object_keys: 3}\n" +
		"rules:\n  - {id: sku, field: data.arguments.sku, allow: '[A-Z0-9-]+'}\n")
	cfg := config.Default(config.ProfileTesting)
	cfg.ValidationRulesFile = policy
	v, err := pipeline.NewValidator(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	for field, value := range map[string]string{
		"data.arguments.ticket_ref": "T 1",
		"data.arguments.path":       "/etc/app.conf",
		"data.arguments.sku":        "ab",
	} {
		if r := v.CheckField(field, value); r.Verdict != validate.VerdictRejected {
			t.Errorf("%s=%q: %s, want rejected by the policy", field, value, r.Verdict)
		}
	}
	if r := v.CheckJSON("data", []byte(`{"a":1,"b":2,"c":3,"d":4}`)); r.Verdict != validate.VerdictRejected {
		t.Errorf("4 keys over a limit of 3: %s", r.Verdict)
	}
	write("fields:\n  keys:\n    where: sequel\n")
	if _, err := pipeline.NewValidator(&cfg); err == nil || !strings.Contains(err.Error(), "policy.yaml:3:") {
		t.Errorf("bad policy: %v, want an error naming line 3", err)
	}
}
