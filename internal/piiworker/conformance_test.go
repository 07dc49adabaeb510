package piiworker_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/escai-framework/escai/internal/broker"
	"github.com/escai-framework/escai/internal/piiworker"
	"github.com/escai-framework/escai/internal/stage"
	"github.com/escai-framework/escai/internal/stage/stagetest"
	"github.com/escai-framework/escai/pkg/events"
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
			return piiworker.New(events.DefaultLimits(), ensure(js))
		},
		Input:           validEvent,
		Poison:          func() (string, []byte) { return "escai.valid.acme.agent-1.prompt", []byte(`{"specversion":"2.0"}`) },
		OutputStream:    "ESCAI_CLEAN_acme",
		OutputsPerInput: 1,
	})
}

func TestMarksStatus(t *testing.T) {
	t.Parallel()
	var ensured []string
	p := piiworker.New(events.DefaultLimits(), func(_ context.Context, tenant string) error {
		ensured = append(ensured, tenant)
		return nil
	})
	for i := range 4 {
		subj, data := tenantEvent(i, []string{"acme", "globex"}[i%2])
		outs, err := p.Process(context.Background(), &stage.Message{Subject: subj, Data: data})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(outs[0].Data, []byte(`"escaipii":{"status":"not_scanned"}`)) {
			t.Fatalf("no status in %s", outs[0].Data)
		}
		if _, _, err := events.DecodeFromSubject(outs[0].Subject, outs[0].Data, events.DefaultLimits()); err != nil {
			t.Fatalf("output does not decode on its own subject: %v", err)
		}
	}
	if len(ensured) != 2 {
		t.Fatalf("ensured %v; want each tenant once", ensured)
	}
}
