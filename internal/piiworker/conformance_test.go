package piiworker_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/escai-framework/escai/internal/broker"
	"github.com/escai-framework/escai/internal/piiworker"
	"github.com/escai-framework/escai/internal/stage"
	"github.com/escai-framework/escai/internal/stage/stagetest"
	"github.com/escai-framework/escai/pkg/events"
	"github.com/escai-framework/escai/pkg/security/pii"
	"github.com/escai-framework/escai/streams"
)

func validEvent(i int) (string, []byte) { return tenantEvent(i, "acme") }

func tenantEvent(i int, tenant string) (string, []byte) {
	return "escai.valid." + tenant + ".agent-1.prompt", fmt.Appendf(nil,
		`{"specversion":"1.0","id":"v-%05d","source":"urn:a","type":"escai.prompt","time":"2026-12-04T10:00:00Z","tenant":%q,"agentid":"agent-1","data":{"content":"hello %d"}}`, i, tenant, i)
}

func ensure(js jetstream.JetStream) piiworker.EnsureTenantFunc {
	defs, err := broker.LoadDefinitions(streams.FS)
	if err != nil {
		panic(err)
	}
	return func(ctx context.Context, tenant string) error {
		_, err := defs.EnsureTenant(ctx, js, tenant, broker.Overrides{})
		return err
	}
}

// TestConformance: the tenant's clean stream is created on its first event
// and receives each event exactly once.
func TestConformance(t *testing.T) {
	stagetest.Run(t, stagetest.Harness{
		Config: piiworker.Stage,
		NewProcessor: func(_ testing.TB, js jetstream.JetStream) stage.Processor {
			return piiworker.New(events.DefaultLimits(), masker(t), true, ensure(js), nil)
		},
		Input:           validEvent,
		Poison:          func() (string, []byte) { return "escai.valid.acme.agent-1.prompt", []byte(`{"specversion":"2.0"}`) },
		OutputStream:    "ESCAI_CLEAN_acme",
		OutputsPerInput: 1,
	})
}

func masker(t testing.TB) *pii.Masker {
	d, err := pii.NewDetector(pii.Config{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := pii.NewMasker(d, pii.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMasksAndReports(t *testing.T) {
	t.Parallel()
	var ensured []string
	p := piiworker.New(events.DefaultLimits(), masker(t), true, func(_ context.Context, tenant string) error {
		ensured = append(ensured, tenant)
		return nil
	}, nil)
	for i := range 4 {
		subj, data := tenantEvent(i, []string{"acme", "globex"}[i%2])
		outs, err := p.Process(context.Background(), &stage.Message{Subject: subj, Data: data})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(outs[0].Data, []byte(`"escaipii":{"status":"scanned","counts":{}}`)) {
			t.Fatalf("no status in %s", outs[0].Data)
		}
		if len(outs) != 1 {
			t.Fatalf("an event without PII produced %d outputs", len(outs))
		}
		if _, _, err := events.DecodeFromSubject(outs[0].Subject, outs[0].Data, events.DefaultLimits()); err != nil {
			t.Fatalf("output does not decode on its own subject: %v", err)
		}
	}
	if len(ensured) != 2 {
		t.Fatalf("ensured %v; want each tenant once", ensured)
	}
	// An event with PII: masked on the clean subject, reported with counts.
	data := []byte(`{"specversion":"1.0","id":"p-1","source":"urn:a","type":"escai.prompt","time":"2026-12-04T10:00:00Z","tenant":"acme","agentid":"agent-1","data":{"content":"mail jane.doe@example.com, card 4111 1111 1111 1111"}}`)
	outs, err := p.Process(context.Background(), &stage.Message{Subject: "escai.valid.acme.agent-1.prompt", Data: data})
	if err != nil {
		t.Fatal(err)
	}
	if len(outs) != 2 || outs[1].Subject != "escai.security.pii" {
		t.Fatalf("outputs %+v", outs)
	}
	for _, secret := range []string{"jane.doe@example.com", "4111 1111 1111 1111"} {
		for _, o := range outs {
			if bytes.Contains(o.Data, []byte(secret)) {
				t.Fatalf("%s leaked into %s: %s", secret, o.Subject, o.Data)
			}
		}
	}
	if !bytes.Contains(outs[1].Data, []byte(`"EMAIL":1`)) || !bytes.Contains(outs[1].Data, []byte(`"CREDIT_CARD":1`)) {
		t.Fatalf("report %s", outs[1].Data)
	}
}

// TestEncryptedTokensAreBoundToTheEventsTenant: a value masked with the
// encrypt strategy reveals with the tenant of the event it was in, and
// with no other.
func TestEncryptedTokensAreBoundToTheEventsTenant(t *testing.T) {
	t.Parallel()
	keys, err := pii.KeysFromSecret(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	cfg := pii.Config{Keys: keys, Strategies: map[string]pii.Strategy{pii.TypeEmail: pii.StrategyEncrypt}}
	d, err := pii.NewDetector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m, err := pii.NewMasker(d, cfg)
	if err != nil {
		t.Fatal(err)
	}
	p := piiworker.New(events.DefaultLimits(), m, true, func(context.Context, string) error { return nil }, nil)
	data := []byte(`{"specversion":"1.0","id":"p-2","source":"urn:a","type":"escai.prompt","time":"2026-12-04T10:00:00Z","tenant":"globex","agentid":"agent-1","data":{"content":"mail jane.doe@example.com"}}`)
	outs, err := p.Process(context.Background(), &stage.Message{Subject: "escai.valid.globex.agent-1.prompt", Data: data})
	if err != nil {
		t.Fatal(err)
	}
	out := string(outs[0].Data)
	i, j := strings.Index(out, "<EMAIL:enc:"), strings.Index(out, ">")
	if i < 0 || j < i {
		t.Fatalf("no token in %s", out)
	}
	token := out[i : j+1]
	if v, err := pii.Reveal(token, "globex", keys); err != nil || v != "jane.doe@example.com" {
		t.Fatalf("Reveal for the event's tenant = %q, %v", v, err)
	}
	for _, other := range []string{"acme", ""} {
		if _, err := pii.Reveal(token, other, keys); !errors.Is(err, pii.ErrDecrypt) {
			t.Errorf("Reveal for tenant %q: %v, want ErrDecrypt", other, err)
		}
	}
}
