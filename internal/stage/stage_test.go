package stage_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/escai-framework/escai/internal/broker/brokertest"
	"github.com/escai-framework/escai/internal/stage"
	"github.com/escai-framework/escai/internal/stage/stagetest"
	"github.com/escai-framework/escai/pkg/events"
)

// forward is the smallest real stage: decode the envelope from ESCAI_IN and
// store it unchanged on its valid subject. It exercises the runtime only.
func forward(_ testing.TB, _ jetstream.JetStream) stage.Processor {
	return stage.ProcessorFunc(func(_ context.Context, in *stage.Message) ([]stage.Output, error) {
		ev, _, err := events.DecodeFromSubject(in.Subject, in.Data, events.DefaultLimits())
		if err != nil {
			return nil, stage.Permanent(events.Code(err), events.FieldOf(err), err)
		}
		subj, err := ev.Subject(events.StageValid)
		if err != nil {
			return nil, stage.Permanent(events.Code(err), events.FieldOf(err), err)
		}
		return []stage.Output{{Subject: subj, Data: in.Data, MsgID: events.MsgID(events.StageValid, ev)}}, nil
	})
}

func envelope(i int) (string, []byte) {
	agent := fmt.Sprintf("agent-%d", i%7)
	data := fmt.Sprintf(`{"specversion":"1.0","id":"evt-%06d","source":"urn:agent:%s","type":"escai.tool.call","time":"2026-12-04T10:00:00Z","datacontenttype":"application/json","tenant":"acme","agentid":"%s","data":{"tool":"sql","args":{"q":"select 1"}}}`, i, agent, agent)
	return "escai.in.acme." + agent + ".tool.call", []byte(data)
}

func TestConformance(t *testing.T) {
	stagetest.Run(t, stagetest.Harness{
		Config:          stage.Config{Name: "forward", Stream: events.StreamIn, Consumer: "ingest"},
		NewProcessor:    forward,
		Input:           envelope,
		Poison:          func() (string, []byte) { return "escai.in.acme.agent-1.tool.call", []byte(`{"specversion":`) },
		OutputStream:    events.StreamValid,
		OutputsPerInput: 1,
	})
}

func TestDefaultNakDelay(t *testing.T) {
	t.Parallel()
	cases := map[uint64]time.Duration{
		1:  250 * time.Millisecond,
		2:  500 * time.Millisecond,
		3:  time.Second,
		8:  30 * time.Second,
		50: 30 * time.Second,
	}
	for delivered, want := range cases {
		if got := stage.DefaultNakDelay(delivered); got != want {
			t.Errorf("DefaultNakDelay(%d) = %v, want %v", delivered, got, want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	err := stage.Config{Batch: 5000, Workers: -1}.Validate()
	if err == nil {
		t.Fatal("invalid config accepted")
	}
	for _, want := range []string{"Name is required", "Stream and Consumer", "Batch 5000", "Workers -1"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, missing %q", err, want)
		}
	}
}

// TestDrainWithoutDeadline: a caller's context without a deadline must
// not fail the drain (the ack flush needs one; the runner brings its own).
func TestDrainWithoutDeadline(t *testing.T) {
	srv := brokertest.StartNode(t)
	js := brokertest.JetStream(t, brokertest.Connect(t, srv))
	brokertest.Apply(t, js)
	r, err := stage.Start(context.Background(), js, forward(t, js), stage.Config{Name: "forward", Stream: events.StreamIn, Consumer: "ingest"}, zap.NewNop(), stage.NewMetrics(prometheus.NewRegistry()))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Drain(context.Background()); err != nil {
		t.Fatalf("Drain(context.Background()) = %v", err)
	}
}
