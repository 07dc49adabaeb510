package auditwriter_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/escai-framework/escai/internal/auditwriter"
	"github.com/escai-framework/escai/internal/redisx/redistest"
	"github.com/escai-framework/escai/internal/stage"
	"github.com/escai-framework/escai/pkg/events"
	"github.com/escai-framework/escai/pkg/security/audit"
)

func TestActorOf(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		`{"actor":"ops@host","user.id":"u1"}`:           "ops@host",
		`{"user.id":"u1","enduser.id":"u2"}`:            "u1",
		`{"enduser.id":"u2"}`:                           "u2",
		`{"prompt":"the \"actor\" key is here"}`:        "",
		`{"args":{"actor":"nested"}}`:                   "",
		`{"actor":42}`:                                  "",
		`{"actor":""}`:                                  "",
		`{"actor":"x"`:                                  "",
		`[{"actor":"a"}]`:                               "",
		`{"actor":"` + strings.Repeat("a", 1025) + `"}`: "",
		`{"user.id":"J\u00fcrgen"}`:                     "Jürgen",
		`null`:                                          "",
	}
	for data, want := range cases {
		if got := auditwriter.ActorOf(json.RawMessage(data)); got != want {
			t.Errorf("ActorOf(%s) = %q, want %q", data, got, want)
		}
	}
}

// FuzzActorOf: arbitrary event data never panics, and an actor found is
// the string value of one of the actor keys at the top level.
func FuzzActorOf(f *testing.F) {
	f.Add([]byte(`{"actor":"ops@host"}`))
	f.Add([]byte(`{"user.id":"u1","enduser.id":"u2"}`))
	f.Add([]byte(`{"actor":{"user.id":"x"}}`))
	f.Add([]byte(`{"actor":"\ud800"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		got := auditwriter.ActorOf(data)
		if got == "" {
			return
		}
		var top map[string]any
		if err := json.Unmarshal(data, &top); err != nil {
			t.Fatalf("actor %q from data that is not a JSON object: %v", got, err)
		}
		if top["actor"] != got && top["user.id"] != got && top["enduser.id"] != got {
			t.Fatalf("actor %q is none of the actor keys' values in %s", got, data)
		}
	})
}

// TestActorIndex: records of events that name an actor are indexed under
// the actor's blind index; a query by actor returns exactly those, and the
// identity itself appears neither in a record header nor in Redis.
func TestActorIndex(t *testing.T) {
	const n = 40
	ctx := context.Background()
	js := sealEnv(t)
	rdb := redistest.Start(t).Client(t)
	keys, err := audit.DeriveKeys(testMaster())
	if err != nil {
		t.Fatal(err)
	}
	actors := []string{"alice@example.com", "bob@example.com"}
	for i := range n {
		subj, data := cleanEvent(i)
		switch i % 4 {
		case 0:
			data = []byte(strings.Replace(string(data), `"data":{`, `"data":{"user.id":"`+actors[0]+`",`, 1))
		case 1:
			data = []byte(strings.Replace(string(data), `"data":{`, `"data":{"actor":"`+actors[1]+`",`, 1))
		}
		if _, err := js.Publish(ctx, subj, data); err != nil {
			t.Fatal(err)
		}
	}
	w, err := auditwriter.Start(ctx, js, rdb, auditwriter.Options{
		Partitions: 4, Limits: events.DefaultLimits(), Batch: 8, Workers: 2,
		Sealing: &auditwriter.SealingOptions{Master: testMaster(), Encrypt: true, WriterID: "w-1"},
	}, zap.NewNop(), stage.NewMetrics(prometheus.NewRegistry()))
	if err != nil {
		t.Fatal(err)
	}
	waitIndexed(t, rdb, "acme", n, 60*time.Second)
	drain(t, w)

	for k, who := range actors {
		ref := auditwriter.ActorRef(keys, who)
		var ids []string
		found, err := auditwriter.RunQuery(ctx, js, rdb, auditwriter.Query{Tenant: "acme", ActorRef: ref, Limit: 100}, nil, func(r *auditwriter.QueryResult) error {
			if r.ActorRef != ref {
				return fmt.Errorf("record %s has actor %q", r.EventID, r.ActorRef)
			}
			ids = append(ids, r.EventID)
			return nil
		})
		if err != nil || found != n/4 {
			t.Fatalf("actor %s: %d records %v, %v; want %d", who, found, ids, err, n/4)
		}
		for _, id := range ids {
			var i int
			if _, err := fmt.Sscanf(id, "c-%05d", &i); err != nil || i%4 != k {
				t.Fatalf("actor %s: record %s is not one of its events", who, id)
			}
		}
	}
	// The identities are nowhere in clear: not in Redis keys or members,
	// not in a record's header.
	for _, key := range rdb.Keys(ctx, "*").Val() {
		for _, who := range actors {
			if strings.Contains(key, who) {
				t.Fatalf("Redis key %q names an actor", key)
			}
		}
	}
	for part := range 4 {
		for _, m := range readSubject(t, js, events.AuditSubject(part)) {
			for _, who := range actors {
				for name, vs := range m.header {
					if strings.Contains(strings.Join(vs, ","), who) {
						t.Fatalf("record header %s names actor %s", name, who)
					}
				}
			}
		}
	}
}

// TestHeaderNamesCanonical: record headers are built without Header.Set,
// so their names must already be in canonical form, or Header.Get would
// not find them.
func TestHeaderNamesCanonical(t *testing.T) {
	t.Parallel()
	for _, name := range []string{auditwriter.HeaderTenant, auditwriter.HeaderAgent, auditwriter.HeaderEventID, auditwriter.HeaderSourceStream,
		auditwriter.HeaderSourceSeq, auditwriter.HeaderEventTime, auditwriter.HeaderEventType, auditwriter.HeaderActor} {
		if c := textproto.CanonicalMIMEHeaderKey(name); c != name {
			t.Errorf("header %q is not canonical (%q)", name, c)
		}
	}
}
