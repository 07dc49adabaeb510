package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/escai-framework/escai/internal/auditwriter"
	"github.com/escai-framework/escai/pkg/events"
)

func queryLines(t *testing.T, out string) []auditwriter.QueryResult {
	t.Helper()
	var rs []auditwriter.QueryResult
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var r auditwriter.QueryResult
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("query output line %q: %v", line, err)
		}
		rs = append(rs, r)
	}
	return rs
}

// TestAuditQuery queries a trail sealed by real writers through the real
// Redis index: by tenant, agent, type and limit, decrypted with the data
// keys or not, and checks that every query was itself recorded on
// ESCAI_SECURITY before it answered.
func TestAuditQuery(t *testing.T) {
	t.Setenv("ESCAI_SECRET_KEY", tamperSecret)
	tr := sealTrail(t)
	base := []string{"audit", "query", "--nats-url", tr.natsURL, "--redis-url", tr.redisURL, "--audit-partitions", "2"}

	code, out, errOut := runEscaiCmd(append(base, "--tenant", "acme", "--agent", "agent-3", "--decrypt", "--limit", "1000")...)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	rs := queryLines(t, out)
	// Events t-00000..t-00079; agent-3 has n % 7 == 3.
	want := 0
	for n := range 80 {
		if n%7 == 3 {
			want++
		}
	}
	if len(rs) != want {
		t.Fatalf("agent-3: %d records, want %d", len(rs), want)
	}
	for _, r := range rs {
		var ev struct {
			ID      string `json:"id"`
			AgentID string `json:"agentid"`
		}
		if err := json.Unmarshal(r.Event, &ev); err != nil || ev.ID != r.EventID || ev.AgentID != "agent-3" || !r.Sealed || r.PSeq == nil || r.Unreadable != "" {
			t.Fatalf("record %+v: event %s (%v)", r, r.Event, err)
		}
	}

	// Without the data keys: headers only, bodies stay sealed.
	code, out, errOut = runEscaiCmd(append(base, "--tenant", "acme", "--type", "escai.tool.call", "--limit", "5")...)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	rs = queryLines(t, out)
	if len(rs) != 5 || rs[0].Event != nil || !strings.Contains(rs[0].Unreadable, "encrypted") || rs[0].Type != "escai.tool.call" {
		t.Fatalf("type query without keys: %d records, first %+v", len(rs), rs[0])
	}

	// By actor: none of these events names one. The recorded query holds
	// the actor's blind index, not the identity asked for.
	code, out, errOut = runEscaiCmd(append(base, "--tenant", "acme", "--actor", "carol@example.com")...)
	if code != 0 || len(queryLines(t, out)) != 0 {
		t.Fatalf("actor query: exit %d, %q\n%s", code, out, errOut)
	}

	// Bad input is refused before anything is read or recorded.
	for _, bad := range [][]string{
		{"--tenant", "ACME"},
		{"--tenant", "acme", "--agent", "a.b"},
		{"--tenant", "acme", "--limit", "0"},
		{"--tenant", "acme", "--since", "yesterday"},
		{"--tenant", "acme", "--since", "1h", "--until", "2h"},
	} {
		if code, _, errOut := runEscaiCmd(append(base, bad...)...); code != 2 {
			t.Errorf("%v: exit %d, want 2\n%s", bad, code, errOut)
		}
	}

	// Both valid queries were recorded, with who asked and what.
	ctx := context.Background()
	cons, err := tr.js.OrderedConsumer(ctx, events.StreamSecurity, jetstream.OrderedConsumerConfig{FilterSubjects: []string{"escai.security.audit_query"}})
	if err != nil {
		t.Fatal(err)
	}
	var reports []QueryReport
	for {
		m, err := cons.Next(jetstream.FetchMaxWait(time.Second))
		if err != nil {
			break
		}
		ev, err := events.Decode(m.Data(), events.DefaultLimits())
		if err != nil {
			t.Fatal(err)
		}
		var r QueryReport
		if err := json.Unmarshal(ev.Data, &r); err != nil {
			t.Fatal(err)
		}
		reports = append(reports, r)
	}
	if len(reports) != 3 || reports[0].Agent != "agent-3" || !reports[0].Decrypt || reports[1].Type != "escai.tool.call" || reports[1].Actor == "" ||
		len(reports[2].ActorRef) != 22 || strings.Contains(fmt.Sprint(reports[2]), "carol") {
		t.Fatalf("recorded queries: %+v", reports)
	}
}
