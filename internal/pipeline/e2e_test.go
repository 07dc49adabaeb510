package pipeline_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"github.com/escai-framework/escai/internal/auditwriter"
	"github.com/escai-framework/escai/internal/bench"
	"github.com/escai-framework/escai/internal/broker"
	"github.com/escai-framework/escai/internal/broker/brokertest"
	"github.com/escai-framework/escai/internal/pipeline"
	"github.com/escai-framework/escai/internal/redisx/redistest"
	"github.com/escai-framework/escai/pkg/events"
	"github.com/escai-framework/escai/pkg/security/config"
)

var tenants = []string{"acme", "globex", "initech"}

func envelope(i int) (string, []byte) {
	tenant := tenants[i%len(tenants)]
	agent := fmt.Sprintf("agent-%d", i%11)
	body := fmt.Sprintf(`{"specversion":"1.0","id":"e2e-%06d","source":"urn:escai:agent:%s","type":"escai.tool.call","time":"2026-12-04T10:%02d:%02dZ","datacontenttype":"application/json","tenant":%q,"agentid":%q,"sessionid":"s-%d","data":{"gen_ai.tool.name":"sql","arguments":{"query":"SELECT id FROM orders WHERE id = %d"}}}`,
		i, agent, (i/60)%60, i%60, tenant, agent, i%5, i)
	return "escai.in." + tenant + "." + agent + ".tool.call", []byte(body)
}

type harness struct {
	t   *testing.T
	srv *broker.Server
	env *pipeline.Env
	js  jetstream.JetStream
	rdb *redis.Client
	reg *prometheus.Registry // the env's metrics
}

func newHarness(t *testing.T) *harness {
	srv := brokertest.StartNode(t)
	rdb := redistest.Start(t).Client(t)
	cfg := config.Default(config.ProfileTesting)
	cfg.StageBatch, cfg.StageWorkers = 128, 3
	reg := prometheus.NewRegistry()
	env, err := pipeline.NewEnv(&cfg, zap.NewNop(), reg)
	if err != nil {
		t.Fatal(err)
	}
	js := brokertest.JetStream(t, brokertest.Connect(t, srv))
	if _, err := env.ApplyStreams(context.Background(), js); err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, srv: srv, env: env, js: js, rdb: rdb, reg: reg}
}

// startPipeline starts every stage in this process on the harness's broker
// and Redis; the caller drains it.
func (h *harness) startPipeline() *pipeline.Pipeline {
	h.t.Helper()
	p, err := pipeline.Start(context.Background(), h.env, func(name string) (*nats.Conn, error) { return h.srv.Connect(nats.Name(name)) }, h.rdb)
	if err != nil {
		h.t.Fatal(err)
	}
	return p
}

// conn is a stage's own connection; closing it is how a test kills the stage.
func (h *harness) conn(name string) (*nats.Conn, jetstream.JetStream) {
	nc, err := h.srv.Connect(nats.Name(name))
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(nc.Close)
	js, err := h.env.NewJetStream(nc)
	if err != nil {
		h.t.Fatal(err)
	}
	return nc, js
}

func (h *harness) publish(data func(int) (string, []byte), from, to int) {
	for i := from; i < to; i++ {
		subj, body := data(i)
		if _, err := h.js.PublishAsync(subj, body, jetstream.WithStallWait(time.Minute)); err != nil {
			h.t.Fatalf("publish %d: %v", i, err)
		}
	}
	select {
	case <-h.js.PublishAsyncComplete():
	case <-time.After(60 * time.Second):
		h.t.Fatal("publishes not acknowledged")
	}
}

func (h *harness) msgs(stream string) uint64 {
	s, err := h.js.Stream(context.Background(), stream)
	if err != nil {
		h.t.Fatalf("stream %s: %v", stream, err)
	}
	return s.CachedInfo().State.Msgs
}

func (h *harness) indexed() int64 {
	var n int64
	for _, tn := range tenants {
		c, err := h.rdb.ZCard(context.Background(), auditwriter.TenantIndexKey(tn)).Result()
		if err != nil {
			h.t.Fatalf("ZCARD: %v", err)
		}
		n += c
	}
	return n
}

func (h *harness) shortenAckWait(stream, durable string) {
	ctx := context.Background()
	c, err := h.js.Consumer(ctx, stream, durable)
	if err != nil {
		h.t.Fatal(err)
	}
	cfg := c.CachedInfo().Config
	cfg.AckWait, cfg.BackOff = 2*time.Second, nil
	if _, err := h.js.UpdateConsumer(ctx, stream, cfg); err != nil {
		h.t.Fatal(err)
	}
}

func drain(t *testing.T, c pipeline.Component) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.Drain(ctx); err != nil {
		t.Errorf("drain: %v", err)
	}
}

// TestEndToEnd is the foundation's acceptance run: 20,000 events through
// ingest, pii-worker and audit writer on a real broker and a real Redis,
// with the pii-worker killed mid-run and restarted.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end run")
	}
	const n = 20000
	h := newHarness(t)
	h.shortenAckWait(events.StreamValid, "pii-worker")
	ctx := context.Background()

	_, ajs := h.conn("audit-writer")
	audit, err := h.env.StartAuditWriter(ctx, ajs, h.rdb)
	if err != nil {
		t.Fatal(err)
	}
	_, ijs := h.conn("ingest")
	ing, err := h.env.StartIngest(ctx, ijs)
	if err != nil {
		t.Fatal(err)
	}
	piiConn, pjs := h.conn("pii-worker")
	pii, err := h.env.StartPIIWorker(ctx, pjs)
	if err != nil {
		t.Fatal(err)
	}

	h.publish(envelope, 0, n)

	// Kill the pii-worker while it has work in flight: no drain, no acks.
	brokertest.WaitFor(t, 60*time.Second, func() error {
		if got := h.msgs(events.StreamAudit); got < n/4 {
			return fmt.Errorf("%d records audited", got)
		}
		return nil
	})
	piiConn.Close()
	ctx2, cancel := context.WithTimeout(ctx, 5*time.Second)
	_ = pii.Drain(ctx2)
	cancel()
	_, pjs2 := h.conn("pii-worker-2")
	pii2, err := h.env.StartPIIWorker(ctx, pjs2)
	if err != nil {
		t.Fatal(err)
	}

	brokertest.WaitFor(t, 120*time.Second, func() error {
		got, idx := h.msgs(events.StreamAudit), h.indexed()
		if got < n || idx < n {
			return fmt.Errorf("audit holds %d, index %d, want %d", got, idx, n)
		}
		return nil
	})
	drain(t, ing)
	drain(t, pii2)
	drain(t, audit)

	if got := h.msgs(events.StreamAudit); got != n {
		t.Fatalf("ESCAI_AUDIT holds %d records, want exactly %d", got, n)
	}
	if got := h.indexed(); got != n {
		t.Fatalf("Redis index holds %d entries, want exactly %d", got, n)
	}
	var clean uint64
	for _, tn := range tenants {
		name, _ := events.CleanStream(tn)
		clean += h.msgs(name)
	}
	if clean != n {
		t.Fatalf("clean streams hold %d events, want exactly %d", clean, n)
	}
	if got := h.msgs(events.StreamIn) + h.msgs(events.StreamValid); got != 0 {
		t.Fatalf("%d events left in the work queues", got)
	}
	if got := h.msgs(events.StreamRejected); got != 0 {
		t.Fatalf("%d valid events were rejected", got)
	}
	assertEveryEventAuditedOnce(t, h, n)
}

// assertEveryEventAuditedOnce reads the whole audit stream back.
func assertEveryEventAuditedOnce(t *testing.T, h *harness, n int) {
	ctx := context.Background()
	cons, err := h.js.OrderedConsumer(ctx, events.StreamAudit, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	seen := make(map[string]bool, n)
	for len(seen) < n {
		batch, err := cons.Fetch(1000, jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		got := 0
		for m := range batch.Messages() {
			got++
			id := m.Headers().Get(auditwriter.HeaderEventID)
			if seen[id] {
				t.Fatalf("event %s audited twice", id)
			}
			seen[id] = true
			if !bytes.Contains(m.Data(), []byte(`"escaipii":{"status":"scanned"`)) {
				t.Fatalf("audit record %s lacks the pii status", id)
			}
		}
		if got == 0 {
			t.Fatalf("audit stream ended after %d of %d events", len(seen), n)
		}
	}
	for i := range n {
		if !seen[fmt.Sprintf("e2e-%06d", i)] {
			t.Fatalf("event e2e-%06d never audited", i)
		}
	}
}

// TestMalformedInputsRejected sends every kind of bad input through the
// running pipeline; each lands in ESCAI_REJECTED with its reason and the
// stages keep serving.
func TestMalformedInputsRejected(t *testing.T) {
	h := newHarness(t)
	connect := func(name string) (*nats.Conn, error) { return h.srv.Connect(nats.Name(name)) }
	p, err := pipeline.Start(context.Background(), h.env, connect, h.rdb)
	if err != nil {
		t.Fatal(err)
	}
	defer drain(t, p)

	_, good := envelope(1)
	deep := strings.Repeat(`{"a":`, 1000) + "1" + strings.Repeat("}", 1000)
	cases := map[string]struct {
		subject string
		data    []byte
		code    string
	}{
		"bad json":        {"escai.in.globex.agent-1.tool.call", []byte(`{"specversion":"1.0",`), "malformed_json"},
		"invalid utf-8":   {"escai.in.globex.agent-1.tool.call", bytes.Replace(good, []byte("SELECT"), []byte("SEL\xff\xfeCT"), 1), "invalid_utf8"},
		"forged agent":    {"escai.in.globex.agent-9.tool.call", good, "subject_mismatch"},
		"forged tenant":   {"escai.in.acme.agent-1.tool.call", good, "subject_mismatch"},
		"oversized":       {"escai.in.globex.agent-1.tool.call", bytes.Replace(good, []byte("SELECT"), []byte(strings.Repeat("x", 300<<10)), 1), "too_large"},
		"1000-deep":       {"escai.in.globex.agent-1.tool.call", bytes.Replace(good, []byte(`"data":{`), []byte(`"data":{"x":`+deep+`,`), 1), "too_deep"},
		"bad identifier":  {"escai.in.globex.agent-1.tool.call", bytes.Replace(good, []byte(`"sessionid":"s-1"`), []byte(`"sessionid":"s.1>"`), 1), "invalid_identifier"},
		"missing type":    {"escai.in.globex.agent-1.tool.call", bytes.Replace(good, []byte(`"type":"escai.tool.call",`), nil, 1), "missing_attribute"},
		"not an envelope": {"escai.in.globex.agent-1.tool.call", []byte(`[1,2,3]`), "malformed_json"},
	}
	for _, c := range cases {
		if _, err := h.js.Publish(context.Background(), c.subject, c.data); err != nil {
			t.Fatalf("publish: %v", err)
		}
	}
	// A valid event after the bad ones still goes all the way through.
	h.publish(envelope, 1, 2)

	brokertest.WaitFor(t, 30*time.Second, func() error {
		if got := h.msgs(events.StreamRejected); got < uint64(len(cases)) {
			return fmt.Errorf("%d rejected", got)
		}
		if got := h.msgs(events.StreamAudit); got < 1 {
			return fmt.Errorf("valid event not audited")
		}
		return nil
	})
	if got := h.msgs(events.StreamRejected); got != uint64(len(cases)) {
		t.Fatalf("ESCAI_REJECTED holds %d, want %d", got, len(cases))
	}
	codes := map[string]int{}
	rej, _ := h.js.Stream(context.Background(), events.StreamRejected)
	for seq := uint64(1); seq <= uint64(len(cases)); seq++ {
		m, err := rej.GetMsg(context.Background(), seq)
		if err != nil {
			t.Fatal(err)
		}
		if m.Header.Get(events.HeaderRejectReason) == "" || m.Header.Get(events.HeaderRejectStage) != "ingest" {
			t.Errorf("rejected message %d lacks its reason: %v", seq, m.Header)
		}
		codes[m.Header.Get(events.HeaderRejectCode)]++
	}
	want := map[string]int{}
	for _, c := range cases {
		want[c.code]++
	}
	for code, n := range want {
		if codes[code] != n {
			t.Errorf("rejections with code %q = %d, want %d (all: %v)", code, codes[code], n, codes)
		}
	}
	if err := p.Ready(context.Background()); err != nil {
		t.Fatalf("pipeline not ready after bad input: %v", err)
	}
}

// TestBenchRun is escai bench on a small load: every event published is
// audited and indexed, and the figures are consistent.
func TestBenchRun(t *testing.T) {
	h := newHarness(t)
	connect := func(name string) (*nats.Conn, error) { return h.srv.Connect(nats.Name(name)) }
	p, err := pipeline.Start(context.Background(), h.env, connect, h.rdb)
	if err != nil {
		t.Fatal(err)
	}
	defer drain(t, p)
	res, err := bench.Run(context.Background(), brokertest.Connect(t, h.srv), h.rdb, bench.Options{Events: 500, Size: 2048, Agents: 5}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Events != 500 || res.Audited != 500 || res.Indexed != 500 {
		t.Fatalf("result %+v", res)
	}
	if res.EventsPerSecond <= 0 || res.Latency.P50 <= 0 || res.Latency.P99 < res.Latency.P50 {
		t.Fatalf("implausible figures %+v", res)
	}
	s, _ := h.js.Stream(context.Background(), "ESCAI_CLEAN_bench")
	info, _ := s.Info(context.Background())
	if avg := info.State.Bytes / info.State.Msgs; avg < 2048 || avg > 2048+400 {
		t.Errorf("clean events average %d bytes; want about the requested 2048 (+headers)", avg)
	}
	// A second run follows ESCAI_AUDIT from where the first left it and
	// must see every one of its own records (the first run's carry another
	// run id and are not counted either way).
	res, err = bench.Run(context.Background(), brokertest.Connect(t, h.srv), h.rdb, bench.Options{Events: 300, Size: 512, Agents: 3}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Events != 300 || res.Audited != 300 || res.Indexed != 300 {
		t.Fatalf("second run %+v", res)
	}
}
