package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/escai-framework/escai/internal/ingest"
	"github.com/escai-framework/escai/internal/stage"
	"github.com/escai-framework/escai/internal/stage/stagetest"
	"github.com/escai-framework/escai/pkg/events"
)

func rawEvent(i int) (string, []byte) {
	agent := fmt.Sprintf("agent-%d", i%3)
	return "escai.in.acme." + agent + ".model.output", fmt.Appendf(nil,
		`{"specversion":"1.0","id":"in-%05d","source":"urn:a","type":"escai.model.output","time":"2026-12-04T10:00:00Z","tenant":"acme","agentid":%q,"data":{"content":"ok %d"}}`, i, agent, i)
}

func TestConformance(t *testing.T) {
	stagetest.Run(t, stagetest.Harness{
		Config:          ingest.Stage,
		NewProcessor:    func(testing.TB, jetstream.JetStream) stage.Processor { return ingest.New(events.DefaultLimits()) },
		Input:           rawEvent,
		Poison:          func() (string, []byte) { return "escai.in.acme.agent-1.model.output", []byte("\xff\xfe not json") },
		OutputStream:    events.StreamValid,
		OutputsPerInput: 1,
	})
}

func TestProcessRejectsWithReason(t *testing.T) {
	t.Parallel()
	p := ingest.New(events.Limits{MaxBytes: 2048, MaxDepth: 8})
	_, good := rawEvent(1)
	cases := map[string]struct {
		subject, data, code, field string
	}{
		"forged agent": {"escai.in.acme.agent-2.model.output", string(good), "subject_mismatch", "agentid"},
		"forged type":  {"escai.in.acme.agent-1.tool.call", string(good), "subject_mismatch", "type"},
		"wildcard":     {"escai.in.acme.*.model.output", string(good), "invalid_subject", "subject"},
		"too deep":     {"escai.in.acme.agent-1.model.output", strings.Replace(string(good), `{"content"`, strings.Repeat(`{"a":`, 9)+`1`+strings.Repeat("}", 9)+`,"x":{"content"`, 1), "too_deep", ""},
		"too large":    {"escai.in.acme.agent-1.model.output", strings.Replace(string(good), "ok 1", strings.Repeat("x", 3000), 1), "too_large", ""},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := p.Process(context.Background(), &stage.Message{Subject: c.subject, Data: []byte(c.data)})
			var pe *stage.PermanentError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want a permanent error", err)
			}
			if pe.Code != c.code || pe.Field != c.field {
				t.Fatalf("code %q field %q, want %q %q (%v)", pe.Code, pe.Field, c.code, c.field, err)
			}
		})
	}
	outs, err := p.Process(context.Background(), &stage.Message{Subject: "escai.in.acme.agent-1.model.output", Data: good})
	if err != nil || len(outs) != 1 || outs[0].Subject != "escai.valid.acme.agent-1.model.output" || outs[0].MsgID != "valid:acme:agent-1:in-00001" || string(outs[0].Data) != string(good) {
		t.Fatalf("valid event: %v %+v", err, outs)
	}
}
