package auditwriter_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"github.com/escai-framework/escai/internal/auditwriter"
	"github.com/escai-framework/escai/internal/broker/brokertest"
	"github.com/escai-framework/escai/internal/redisx/redistest"
	"github.com/escai-framework/escai/internal/stage"
	"github.com/escai-framework/escai/pkg/events"
)

// TestReindexAfterRedisLostEverything: Redis restarted empty; the index is
// rebuilt from ESCAI_AUDIT and holds every record again.
func TestReindexAfterRedisLostEverything(t *testing.T) {
	const n = 300
	ctx := context.Background()
	srv := brokertest.StartNode(t)
	js := brokertest.JetStream(t, brokertest.Connect(t, srv))
	brokertest.ApplyTenant(t, js, "acme")
	rs := redistest.Start(t)
	rdb := rs.Client(t)
	for i := range n {
		subj, data := cleanEvent(i)
		if _, err := js.Publish(ctx, subj, data); err != nil {
			t.Fatal(err)
		}
	}
	p := auditwriter.NewProcessor(rdb, auditwriter.Options{Partitions: 4, Limits: events.DefaultLimits()}, false)
	r, err := stage.Start(ctx, js, p, stage.Config{Name: "audit-writer", Stream: "ESCAI_CLEAN_acme", Consumer: auditwriter.Consumer}, zap.NewNop(), stage.NewMetrics(prometheus.NewRegistry()))
	if err != nil {
		t.Fatal(err)
	}
	count := func() (int64, int64) {
		return rdb.ZCard(ctx, auditwriter.TenantIndexKey("acme")).Val(), rdb.HLen(ctx, auditwriter.EventIndexKey("acme")).Val()
	}
	brokertest.WaitFor(t, 30*time.Second, func() error {
		if z, h := count(); z != n || h != n {
			return fmt.Errorf("index %d/%d", z, h)
		}
		return nil
	})
	if err := r.Drain(ctx); err != nil {
		t.Fatal(err)
	}

	rs.Restart(t) // empty
	rdb = rs.Client(t)
	if z, _ := count(); z != 0 {
		t.Fatalf("restarted Redis still holds %d entries", z)
	}
	from, err := auditwriter.IndexBehind(ctx, js, rdb)
	if err != nil || from != 1 {
		t.Fatalf("IndexBehind = %d, %v; want 1", from, err)
	}
	// A writer starting on the empty index rebuilds it (in the
	// background: the start does not wait for a large stream).
	w, err := auditwriter.Start(ctx, js, rdb, auditwriter.Options{Partitions: 4, Limits: events.DefaultLimits()}, zap.NewNop(), stage.NewMetrics(prometheus.NewRegistry()))
	if err != nil {
		t.Fatal(err)
	}
	brokertest.WaitFor(t, 30*time.Second, func() error {
		if z, h := count(); z != n || h != n {
			return fmt.Errorf("the writer's rebuild left %d/%d, want %d", z, h, n)
		}
		if ok, err := auditwriter.IndexComplete(ctx, rdb); err != nil || !ok {
			return fmt.Errorf("index not marked complete (%v)", err)
		}
		return nil
	})
	if err := w.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	// Its consumers are gone: a rebuild leaves nothing on the broker.
	st, err := js.Stream(ctx, events.StreamAudit)
	if err != nil {
		t.Fatal(err)
	}
	if info, err := st.Info(ctx); err != nil || info.State.Consumers != 0 {
		t.Fatalf("ESCAI_AUDIT has %d consumers left after the rebuild (%v)", info.State.Consumers, err)
	}
	// Queries through the rebuilt index return every record, and the
	// agent and type sets were rebuilt too.
	ids := map[string]bool{}
	found, err := auditwriter.RunQuery(ctx, js, rdb, auditwriter.Query{Tenant: "acme", Limit: auditwriter.MaxQueryLimit}, nil, func(r *auditwriter.QueryResult) error {
		ids[r.EventID] = true
		return nil
	})
	if err != nil || found != n || len(ids) != n {
		t.Fatalf("query after the rebuild: %d records (%d distinct), %v; want %d", found, len(ids), err, n)
	}
	found, err = auditwriter.RunQuery(ctx, js, rdb, auditwriter.Query{Tenant: "acme", Agent: "agent-2", Type: "escai.tool.call", Limit: auditwriter.MaxQueryLimit}, nil, func(r *auditwriter.QueryResult) error {
		if r.Agent != "agent-2" || r.Event == nil {
			return fmt.Errorf("record %+v", r)
		}
		return nil
	})
	if err != nil || found != n/5 {
		t.Fatalf("agent query after the rebuild: %d, %v; want %d", found, err, n/5)
	}
	rs.Restart(t)
	rdb = rs.Client(t)
	got, err := auditwriter.Reindex(ctx, js, rdb, from, nil)
	if err != nil || got != n {
		t.Fatalf("Reindex = %d, %v; want %d", got, err, n)
	}
	if z, h := count(); z != n || h != n {
		t.Fatalf("after reindex the index holds %d/%d, want %d", z, h, n)
	}
	if from, err := auditwriter.IndexBehind(ctx, js, rdb); err != nil || from != 0 {
		t.Fatalf("IndexBehind after reindex = %d, %v; want 0", from, err)
	}
	// Reindexing again changes nothing.
	if _, err := auditwriter.Reindex(ctx, js, rdb, 1, nil); err != nil {
		t.Fatal(err)
	}
	if z, h := count(); z != n || h != n {
		t.Fatalf("a second reindex left %d/%d", z, h)
	}
}

// TestTrimIndex: entries of events older than the retention leave every
// tenant, agent and type set; newer ones and other keys stay.
func TestTrimIndex(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.Start(t).Client(t)
	now := time.Now()
	old, fresh := float64(now.Add(-40*24*time.Hour).UnixMilli()), float64(now.Add(-time.Hour).UnixMilli())
	keys := []string{auditwriter.TenantIndexKey("acme"), auditwriter.AgentIndexKey("acme", "agent-1"), auditwriter.TypeIndexKey("acme", "escai.tool.call"), auditwriter.TenantIndexKey("globex")}
	for i, k := range keys {
		if err := rdb.ZAdd(ctx, k, redis.Z{Score: old, Member: fmt.Sprint(i*10 + 1)}, redis.Z{Score: fresh, Member: fmt.Sprint(i*10 + 2)}).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := rdb.ZAdd(ctx, "not:audit", redis.Z{Score: old, Member: "x"}).Err(); err != nil {
		t.Fatal(err)
	}
	n, err := auditwriter.TrimIndex(ctx, rdb, now.Add(-30*24*time.Hour))
	if err != nil || n != int64(len(keys)) {
		t.Fatalf("TrimIndex = %d, %v; want %d", n, err, len(keys))
	}
	for i, k := range keys {
		members := rdb.ZRange(ctx, k, 0, -1).Val()
		if len(members) != 1 || members[0] != fmt.Sprint(i*10+2) {
			t.Fatalf("%s holds %v after the trim", k, members)
		}
	}
	if rdb.ZCard(ctx, "not:audit").Val() != 1 {
		t.Fatal("a key outside the audit index was trimmed")
	}
}

// TestReindexSealedBundles: sealed records are stored in bundles; the
// index rebuilt from them (Redis restarted empty) is the index the writer
// wrote live, entry for entry and score for score, and a query through it
// returns every record with its event.
func TestReindexSealedBundles(t *testing.T) {
	const n = 400
	ctx := context.Background()
	js := sealEnv(t)
	rs := redistest.Start(t)
	rdb := rs.Client(t)
	w := sealAll(t, js, rdb, n, auditwriter.Options{Partitions: 4, Batch: 64, Workers: 2}, func(i int, data []byte) []byte {
		if i%3 == 0 {
			data = []byte(strings.Replace(string(data), `"data":{`, `"data":{"actor":"user-`+strconv.Itoa(i%7)+`",`, 1))
		}
		return data
	})
	if st := w.Sealer().Stats(); st.Records != n {
		t.Fatalf("sealer stored %d records, want %d", st.Records, n)
	}
	// Bundles, not one message per record.
	stream, err := js.Stream(ctx, events.StreamAudit)
	if err != nil {
		t.Fatal(err)
	}
	info, err := stream.Info(ctx, jetstream.WithSubjectFilter("escai.audit.*"))
	if err != nil {
		t.Fatal(err)
	}
	var msgs uint64
	for _, c := range info.State.Subjects {
		msgs += c
	}
	if msgs == 0 || msgs >= n/2 {
		t.Fatalf("%d records in %d messages: not bundled", n, msgs)
	}

	live := indexSnapshot(t, rdb)
	if len(live) < 4+5+1 { // tenant, 5 agents, 1 type, actors, event ids
		t.Fatalf("live index has only %d keys", len(live))
	}
	rs.Restart(t)
	rdb = rs.Client(t)
	got, err := auditwriter.Reindex(ctx, js, rdb, 1, nil)
	if err != nil || got != n {
		t.Fatalf("Reindex = %d, %v; want %d", got, err, n)
	}
	rebuilt := indexSnapshot(t, rdb)
	for k, v := range live {
		if rebuilt[k] != v {
			t.Fatalf("index key %s differs after the rebuild:\n live    %.300s\n rebuilt %.300s", k, v, rebuilt[k])
		}
	}
	if len(rebuilt) != len(live) {
		t.Fatalf("rebuilt index has %d keys, live %d", len(rebuilt), len(live))
	}
	seen := map[string]bool{}
	found, err := auditwriter.RunQuery(ctx, js, rdb, auditwriter.Query{Tenant: "acme", Limit: n}, nil, func(r *auditwriter.QueryResult) error {
		if r.Slot == nil || r.PSeq == nil || len(r.Event) == 0 || r.EventTime.IsZero() {
			return fmt.Errorf("record %s: slot %v, pseq %v, event %d bytes, time %v", r.EventID, r.Slot, r.PSeq, len(r.Event), r.EventTime)
		}
		if !strings.Contains(string(r.Event), `"id":"`+r.EventID+`"`) {
			return fmt.Errorf("record %s holds another event: %s", r.EventID, r.Event)
		}
		seen[r.EventID] = true
		return nil
	})
	if err != nil || found != n || len(seen) != n {
		t.Fatalf("query: %d records (%d distinct), %v; want %d", found, len(seen), err, n)
	}
}

// indexSnapshot returns every audit index key with its whole content.
func indexSnapshot(t *testing.T, rdb *redis.Client) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	for _, k := range rdb.Keys(ctx, "escai:audit:*").Val() {
		switch rdb.Type(ctx, k).Val() {
		case "zset":
			out[k] = fmt.Sprint(rdb.ZRangeWithScores(ctx, k, 0, -1).Val())
		case "hash":
			m := rdb.HGetAll(ctx, k).Val()
			keys := slices.Sorted(maps.Keys(m))
			var b strings.Builder
			for _, f := range keys {
				b.WriteString(f + "=" + m[f] + " ")
			}
			out[k] = b.String()
		}
	}
	delete(out, auditwriter.LastIndexedKey)
	return out
}

// TestTrimEventIndex: event ids of records below the stream's first
// sequence leave every tenant's hash; the others and other keys stay.
func TestTrimEventIndex(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.Start(t).Client(t)
	for _, tenant := range []string{"acme", "globex"} {
		for seq := 1; seq <= 2500; seq++ { // more than one HSCAN page and one HDEL batch
			// Records stored alone ("<seq>") and in bundles ("<seq>:<slot>").
			ref := strconv.Itoa(seq)
			if seq%2 == 1 {
				ref += ":" + strconv.Itoa(seq%5)
			}
			if err := rdb.HSet(ctx, auditwriter.EventIndexKey(tenant), fmt.Sprintf("agent-1/e-%d", seq), ref).Err(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := rdb.HSet(ctx, "not:audit:ev", "x", 1).Err(); err != nil {
		t.Fatal(err)
	}
	n, err := auditwriter.TrimEventIndex(ctx, rdb, 1201)
	if err != nil || n != 2*1200 {
		t.Fatalf("TrimEventIndex = %d, %v; want %d", n, err, 2*1200)
	}
	for _, tenant := range []string{"acme", "globex"} {
		key := auditwriter.EventIndexKey(tenant)
		if got := rdb.HLen(ctx, key).Val(); got != 1300 {
			t.Fatalf("%s holds %d entries, want 1300", key, got)
		}
		if rdb.HExists(ctx, key, "agent-1/e-1200").Val() || !rdb.HExists(ctx, key, "agent-1/e-1201").Val() {
			t.Fatalf("%s: the boundary moved", key)
		}
	}
	if rdb.HLen(ctx, "not:audit:ev").Val() != 1 {
		t.Fatal("a key outside the audit index was trimmed")
	}
}

// TestIndexRebuiltWhenRedisRestartsEmptyUnderTheWriter: Redis is killed
// and comes back empty on the same address while the writer runs and
// events keep coming. The writer notices (IndexEpochKey is gone), rebuilds
// from the stream, and a query returns every record, old and new.
func TestIndexRebuiltWhenRedisRestartsEmptyUnderTheWriter(t *testing.T) {
	const n = 600
	ctx := context.Background()
	js := sealEnv(t)
	rs := redistest.Start(t)
	rdb := rs.Client(t)
	publish := func(from, to int) {
		for i := from; i < to; i++ {
			subj, data := cleanEvent(i)
			if _, err := js.Publish(ctx, subj, data); err != nil {
				t.Fatal(err)
			}
		}
	}
	publish(0, n/2)
	w, err := auditwriter.Start(ctx, js, rdb, auditwriter.Options{
		Partitions: 4, Limits: events.DefaultLimits(), Batch: 64, Workers: 2, IndexCheckEvery: 200 * time.Millisecond,
		Sealing: &auditwriter.SealingOptions{Master: testMaster(), WriterID: "w-1"},
	}, zap.NewNop(), stage.NewMetrics(prometheus.NewRegistry()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { drain(t, w) })
	waitIndexed(t, rdb, "acme", n/2, 60*time.Second)
	if got := rdb.Get(ctx, auditwriter.IndexEpochKey).Val(); !strings.HasPrefix(got, "complete:") {
		t.Fatalf("index epoch %q after the start, want complete:…", got)
	}

	rs.Restart(t) // empty, same address: the writer's client reconnects
	publish(n/2, n)
	// Only records stored after the restart are indexed live; the rest
	// comes back from the rebuild.
	waitIndexed(t, rdb, "acme", n, 60*time.Second)
	brokertest.WaitFor(t, 30*time.Second, func() error {
		if got := rdb.Get(ctx, auditwriter.IndexEpochKey).Val(); !strings.HasPrefix(got, "complete:") {
			return fmt.Errorf("index epoch %q", got)
		}
		return nil
	})
	seen := map[string]bool{}
	found, err := auditwriter.RunQuery(ctx, js, rdb, auditwriter.Query{Tenant: "acme", Limit: 2 * n}, nil, func(r *auditwriter.QueryResult) error {
		seen[r.EventID] = true
		return nil
	})
	if err != nil || found != n || len(seen) != n {
		t.Fatalf("query: %d records (%d distinct), %v; want %d", found, len(seen), err, n)
	}
	if got := rdb.HLen(ctx, auditwriter.EventIndexKey("acme")).Val(); got != n {
		t.Fatalf("event index holds %d, want %d", got, n)
	}
}

// TestRebuildersDoNotStarveEachOther: two rebuilds at once (two writers,
// or the CLI beside a writer): one does the work and marks the index
// complete, the other steps aside instead of overwriting its mark.
func TestRebuildersDoNotStarveEachOther(t *testing.T) {
	ctx := context.Background()
	js := sealEnv(t)
	rdb := redistest.Start(t).Client(t)
	for i := range 50 {
		subj, data := cleanEvent(i)
		m := nats.NewMsg(events.AuditSubject(i % 3))
		m.Data = data
		m.Header.Set(auditwriter.HeaderTenant, "acme")
		m.Header.Set(auditwriter.HeaderAgent, strings.Split(subj, ".")[3])
		m.Header.Set(auditwriter.HeaderEventID, fmt.Sprintf("c-%05d", i))
		if _, err := js.PublishMsg(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			_, err := auditwriter.RebuildIndex(ctx, js, rdb, nil)
			errs <- err
		}()
	}
	var done, aside int
	for range 2 {
		switch err := <-errs; {
		case err == nil:
			done++
		case errors.Is(err, auditwriter.ErrRebuildNotNeeded):
			aside++
		default:
			t.Fatal(err)
		}
	}
	if done != 1 || aside != 1 {
		t.Fatalf("%d rebuilds done, %d stepped aside; want 1 and 1", done, aside)
	}
	if ok, err := auditwriter.IndexComplete(ctx, rdb); err != nil || !ok {
		t.Fatalf("index not complete (%v)", err)
	}
	if got := rdb.HLen(ctx, auditwriter.EventIndexKey("acme")).Val(); got != 50 {
		t.Fatalf("event index holds %d, want 50", got)
	}
}
