package pipeline_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/escai-framework/escai/internal/auditwriter"
	"github.com/escai-framework/escai/internal/broker/brokertest"
	"github.com/escai-framework/escai/internal/pipeline"
	"github.com/escai-framework/escai/pkg/events"
	"github.com/escai-framework/escai/pkg/security/config"
)

// TestPIIEndToEnd: 10,000 events carrying personal data and secrets go
// through ingest, two pii-worker processes (this binary re-executed as the
// service, configured only through ESCAI_* variables) sharing one durable,
// and the audit writer into a real redis-server. A subscriber on
// escai.clean.> sees none of the planted values; each email and phone
// always becomes the same pseudonym, whichever way the number is written; both processes take a share; the
// clean stream holds every event exactly once; every event's PII report
// is stored; the index holds every event.
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

	_, ijs := h.conn("ingest")
	ing, err := h.env.StartIngest(ctx, ijs)
	if err != nil {
		t.Fatal(err)
	}
	_, ajs := h.conn("audit-writer")
	aw, err := h.env.StartAuditWriter(ctx, ajs, h.rdb)
	if err != nil {
		t.Fatal(err)
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	env := map[string]string{
		"ESCAI_SECURITY_PROFILE": "testing",
		"ESCAI_NATS_URL":         h.srv.ClientURL(),
		"ESCAI_SECRET_KEY":       hex.EncodeToString(key),
		"ESCAI_PII_SENSITIVITY":  "high",
		"ESCAI_PII_STRATEGIES":   "EMAIL=hash,PHONE=hash",
		"ESCAI_STAGE_BATCH":      "64",
		"ESCAI_STAGE_WORKERS":    "2",
		"ESCAI_DATA_DIR":         t.TempDir(),
		"ESCAI_TLS_CERT_DIR":     t.TempDir(),
	}
	workers := []*serviceProc{startService(t, "pii-worker", env), startService(t, "pii-worker", env)}

	planted := func(i int) (email, phone, card, ssn, key string) {
		// Each phone number is written two ways: its pseudonym must be the same.
		phoneFormat := "+1 415 555 %04d"
		if (i/40)%2 == 1 {
			phoneFormat = "(415) 555-%04d"
		}
		return fmt.Sprintf("user%d@example.com", i%50), fmt.Sprintf(phoneFormat, 1000+i%40),
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
		if got := h.msgs(events.StreamSecurity); got < n {
			return fmt.Errorf("%d PII reports", got)
		}
		if got, _ := h.rdb.ZCard(ctx, auditwriter.TypeIndexKey("acme", "escai.prompt")).Result(); got < n {
			return fmt.Errorf("%d prompts indexed", got)
		}
		return nil
	})
	// Each process's own count of what it settled: both took a share, and
	// together they settled every event (more only if one was redelivered).
	var shares []float64
	brokertest.WaitFor(t, 10*time.Second, func() error {
		shares = shares[:0]
		var sum float64
		for _, w := range workers {
			c, err := w.counter(ctx, "escai_stage_messages_total", `stage="pii-worker"`, `outcome="ok"`)
			if err != nil {
				return err
			}
			shares, sum = append(shares, c), sum+c
		}
		if sum < n {
			return fmt.Errorf("the workers settled %v", shares)
		}
		return nil
	})
	t.Logf("events settled by each pii-worker process: %v", shares)
	for i, c := range shares {
		if c < n/10 {
			t.Fatalf("pii-worker process %d settled %v of %d events (shares %v): the load was not shared", i, c, n, shares)
		}
	}
	for _, w := range workers {
		if err := w.stop(); err != nil {
			t.Fatalf("%s: %v\n%s", w.name, err, w.log())
		}
	}
	drain(t, ing)
	drain(t, aw)

	// The stream holds each event exactly once.
	if got := h.msgs("ESCAI_CLEAN_acme"); got != n {
		t.Fatalf("ESCAI_CLEAN_acme holds %d, want exactly %d", got, n)
	}
	if got := h.msgs(events.StreamSecurity); got != n {
		t.Fatalf("ESCAI_SECURITY holds %d PII reports, want exactly %d", got, n)
	}
	stored := map[string]int{}
	cons, err := h.js.OrderedConsumer(ctx, "ESCAI_CLEAN_acme", jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	for len(stored) < n {
		batch, err := cons.Fetch(1000, jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		got := 0
		for m := range batch.Messages() {
			ev, err := events.Decode(m.Data(), events.DefaultLimits())
			if err != nil {
				t.Fatal(err)
			}
			stored[ev.ID]++
			got++
		}
		if got == 0 {
			t.Fatalf("the clean stream yielded %d distinct events", len(stored))
		}
	}
	for id, c := range stored {
		if c != 1 {
			t.Fatalf("event %s stored %d times", id, c)
		}
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
	emailToken := regexp.MustCompile(`<EMAIL:[0-9a-f]+>`)
	phoneToken := regexp.MustCompile(`<PHONE:[0-9a-f]+>`)
	byEmail, byPhone := map[int]string{}, map[int]string{}
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
		for _, v := range []string{email, phone, card, ssn, key, "4111111111111111", "AKIAIOSFODNN7EXAMPL"} {
			if bytes.Contains(data, []byte(v)) {
				t.Fatalf("event %s reached escai.clean.> with %q: %s", ev.ID, v, data)
			}
		}
		for _, c := range []struct {
			re    *regexp.Regexp
			by    map[int]string
			value int
		}{{emailToken, byEmail, i % 50}, {phoneToken, byPhone, i % 40}} {
			tok := c.re.Find(ev.Data)
			if tok == nil {
				t.Fatalf("event %s: no %s pseudonym in %s", ev.ID, c.re, ev.Data)
			}
			if prev, ok := c.by[c.value]; ok && prev != string(tok) {
				t.Fatalf("the same value became %s and %s", prev, tok)
			}
			c.by[c.value] = string(tok)
		}
	}
	for what, by := range map[string]map[int]string{"emails": byEmail, "phones": byPhone} {
		distinct := map[string]bool{}
		for _, tok := range by {
			distinct[tok] = true
		}
		if len(distinct) != len(by) {
			t.Fatalf("%d %s gave %d distinct pseudonyms", len(by), what, len(distinct))
		}
	}
}

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
	// ESCAI_PII_KEY replaces the master key as the source of the PII keys:
	// the same address gets another pseudonym.
	token := func(cfg *config.Config) string {
		m, err := pipeline.NewMasker(cfg)
		if err != nil {
			t.Fatal(err)
		}
		out, _, err := m.MaskData([]byte(`{"a":"jane@example.com"}`))
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
	withMaster := token(&cfg)
	own := cfg
	own.PIIKey = config.Secret(bytes.Repeat([]byte{9, 4, 6, 2}, 8))
	if withOwn := token(&own); withOwn == withMaster || !strings.Contains(withOwn, "<EMAIL:") {
		t.Errorf("with ESCAI_PII_KEY %s, with the master key %s: want two different pseudonyms", withOwn, withMaster)
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
