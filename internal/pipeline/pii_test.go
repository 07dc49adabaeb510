package pipeline_test

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/escai-framework/escai/internal/broker/brokertest"
	"github.com/escai-framework/escai/internal/piiworker"
	"github.com/escai-framework/escai/internal/pipeline"
	"github.com/escai-framework/escai/internal/stage"
	"github.com/escai-framework/escai/pkg/events"
	"github.com/escai-framework/escai/pkg/security/config"
	"github.com/escai-framework/escai/pkg/security/pii"
)

// TestPIIEndToEnd: 10,000 events carrying personal data and secrets go
// through ingest and two pii-worker replicas sharing one durable. A
// subscriber on escai.clean.> sees none of the planted values, each email
// always becomes the same pseudonym, and nothing is lost or duplicated.
func TestPIIEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end run")
	}
	const n = 10000
	h := newHarness(t)
	ctx := context.Background()

	// Every clean event, as a consumer of escai.clean.> receives it.
	watcher := brokertest.Connect(t, h.srv)
	var mu sync.Mutex
	var seen [][]byte
	sub, err := watcher.Subscribe("escai.clean.>", func(m *nats.Msg) {
		mu.Lock()
		seen = append(seen, bytes.Clone(m.Data))
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	_ = sub.SetPendingLimits(-1, -1)

	keys, err := pii.KeysFromSecret(config.Secret(bytes.Repeat([]byte{7, 1, 9, 3}, 8)))
	if err != nil {
		t.Fatal(err)
	}
	pc := pii.Config{Sensitivity: config.SensitivityHigh, Strategies: map[string]pii.Strategy{pii.TypeEmail: pii.StrategyHash}, Keys: keys}
	d, err := pii.NewDetector(pc)
	if err != nil {
		t.Fatal(err)
	}
	masker, err := pii.NewMasker(d, pc)
	if err != nil {
		t.Fatal(err)
	}
	ensure := func(ctx context.Context, tenant string) error {
		_, err := h.env.Defs.EnsureTenant(ctx, h.js, tenant, h.env.Overrides())
		return err
	}
	_, ijs := h.conn("ingest")
	ing, err := h.env.StartIngest(ctx, ijs)
	if err != nil {
		t.Fatal(err)
	}
	var workers []*stage.Runner
	var handled [2]atomic.Int64
	for i := range 2 {
		_, pjs := h.conn(fmt.Sprintf("pii-worker-%d", i))
		inner := piiworker.New(h.env.Limits(), masker, true, ensure, nil)
		p := stage.ProcessorFunc(func(ctx context.Context, in *stage.Message) ([]stage.Output, error) {
			handled[i].Add(1)
			return inner.Process(ctx, in)
		})
		r, err := stage.Start(ctx, pjs, p, stage.Config{Name: "pii-worker", Stream: events.StreamValid, Consumer: "pii-worker", Batch: 64, Workers: 2}, zapNop(), stage.NewMetrics(newRegistry()))
		if err != nil {
			t.Fatal(err)
		}
		workers = append(workers, r)
	}

	planted := func(i int) (email, phone, card, ssn, key string) {
		return fmt.Sprintf("user%d@example.com", i%50), fmt.Sprintf("+1 415 555 %04d", 1000+i%9000),
			"4111 1111 1111 1111", fmt.Sprintf("536-22-%04d", 1000+i%8000), "AKIAIOSFODNN7EXAMPL" + string(rune('A'+i%26))
	}
	h.publish(func(i int) (string, []byte) {
		email, phone, card, ssn, key := planted(i)
		return "escai.in.acme.agent-1.prompt", fmt.Appendf(nil,
			`{"specversion":"1.0","id":"pii-%05d","source":"urn:a","type":"escai.prompt","time":"2026-12-04T10:00:00Z","tenant":"acme","agentid":"agent-1","data":{"content":"Contact %s or call %s. Card %s, SSN %s.","tool_args":"{\"aws_key\":\"%s\"}"}}`,
			i, email, phone, card, ssn, key)
	}, 0, n)

	brokertest.WaitFor(t, 120*time.Second, func() error {
		if got := h.msgsOr0("ESCAI_CLEAN_acme"); got < n {
			return fmt.Errorf("%d clean", got)
		}
		return nil
	})
	drain(t, ing)
	for _, w := range workers {
		drain(t, w)
	}
	if got := h.msgs("ESCAI_CLEAN_acme"); got != n {
		t.Fatalf("ESCAI_CLEAN_acme holds %d, want exactly %d", got, n)
	}
	if a, b := handled[0].Load(), handled[1].Load(); a < n/10 || b < n/10 {
		t.Fatalf("the two replicas handled %d and %d events; the load was not shared", a, b)
	}
	brokertest.WaitFor(t, 10*time.Second, func() error {
		mu.Lock()
		defer mu.Unlock()
		if len(seen) < n {
			return fmt.Errorf("subscriber saw %d", len(seen))
		}
		return nil
	})

	mu.Lock()
	defer mu.Unlock()
	pseudonym := regexp.MustCompile(`<EMAIL:[0-9a-f]+>`)
	byEmail := map[int]string{}
	for _, data := range seen {
		ev, err := events.Decode(data, events.DefaultLimits())
		if err != nil {
			t.Fatal(err)
		}
		var i int
		if _, err := fmt.Sscanf(ev.ID, "pii-%05d", &i); err != nil {
			t.Fatal(err)
		}
		email, phone, card, ssn, key := planted(i)
		for _, v := range []string{email, phone, card, ssn, key, "4111111111111111"} {
			if bytes.Contains(data, []byte(v)) {
				t.Fatalf("event %s reached escai.clean.> with %q: %s", ev.ID, v, data)
			}
		}
		tok := pseudonym.Find(ev.Data)
		if tok == nil {
			t.Fatalf("event %s: no email pseudonym in %s", ev.ID, ev.Data)
		}
		if prev, ok := byEmail[i%50]; ok && prev != string(tok) {
			t.Fatalf("the same email became %s and %s", prev, tok)
		}
		byEmail[i%50] = string(tok)
	}
	distinct := map[string]bool{}
	for _, tok := range byEmail {
		distinct[tok] = true
	}
	if len(distinct) != 50 {
		t.Fatalf("50 emails gave %d distinct pseudonyms", len(distinct))
	}
}

func zapNop() *zap.Logger               { return zap.NewNop() }
func newRegistry() *prometheus.Registry { return prometheus.NewRegistry() }

// TestMaskerFromConfiguration: strategies, allow-list and exclusions set
// through ESCAI_PII_* reach the masker the pii-worker uses.
func TestMaskerFromConfiguration(t *testing.T) {
	t.Parallel()
	cfg := config.Default(config.ProfileTesting)
	cfg.SecretKey = config.Secret(bytes.Repeat([]byte{3, 8, 5, 1}, 8))
	cfg.PIIStrategies = "EMAIL=hash, *=redact"
	cfg.PIIAllow = "support@acme.example"
	cfg.PIIExclude = "tool_args.sql"
	m, err := pipeline.NewMasker(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := m.MaskData([]byte(`{"a":"jane@example.com","b":"support@acme.example","c":"card 4111 1111 1111 1111","tool_args":{"sql":"SELECT 'x@y.com'"}}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"a":"<EMAIL:`, `"b":"support@acme.example"`, `"c":"card <CREDIT_CARD>"`, `"sql":"SELECT 'x@y.com'"`} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("masked data %s lacks %s", out, want)
		}
	}
	cfg.PIIStrategies = "EMAIL"
	if _, err := pipeline.NewMasker(&cfg); err == nil {
		t.Error("a strategy without = was accepted")
	}
	cfg.PIIStrategies = "EMAIL=shred"
	if _, err := pipeline.NewMasker(&cfg); err == nil {
		t.Error("an unknown strategy was accepted")
	}
}
