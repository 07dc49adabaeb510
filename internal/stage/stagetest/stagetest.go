// Package stagetest is the conformance suite every stage passes: it runs the
// stage's processor on the real runtime against an embedded JetStream server
// and checks the delivery promises of package stage — at-least-once with no
// duplicates downstream, redelivery after a crash mid-batch, poison input
// dead-lettered with its reason, and a drain that loses nothing.
package stagetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/escai-framework/escai/internal/broker"
	"github.com/escai-framework/escai/internal/broker/brokertest"
	"github.com/escai-framework/escai/internal/stage"
	"github.com/escai-framework/escai/pkg/events"
)

// Harness describes a stage to the suite.
type Harness struct {
	// Config names the stage, stream and durable; the suite sets Batch and
	// Workers small so batches really interleave.
	Config stage.Config
	// Setup prepares streams, consumers and side stores (after the embedded
	// streams/ definitions have been applied).
	Setup func(t testing.TB, js jetstream.JetStream)
	// NewProcessor builds the processor for one runner; a restarted stage
	// gets a fresh one, as a restarted process would.
	NewProcessor func(t testing.TB, js jetstream.JetStream) stage.Processor
	// Input returns valid input number i.
	Input func(i int) (subject string, data []byte)
	// Poison returns input that must be dead-lettered.
	Poison func() (subject string, data []byte)
	// OutputStream and OutputFilter locate the outputs of valid inputs;
	// OutputsPerInput is how many each yields.
	OutputStream    string
	OutputFilter    string
	OutputsPerInput int
	// Verify, when set, runs after each case that processed every input,
	// for stage-specific checks (the audit writer's index count).
	Verify func(t testing.TB, js jetstream.JetStream, inputs int)
}

// Run runs every conformance case as a subtest, each on its own server.
func Run(t *testing.T, h Harness) {
	t.Run("AtLeastOnceNoDuplicates", func(t *testing.T) { atLeastOnce(t, h) })
	t.Run("RedeliveryAfterCrash", func(t *testing.T) { crash(t, h) })
	t.Run("PoisonDeadLettered", func(t *testing.T) { poison(t, h) })
	t.Run("DrainOnShutdown", func(t *testing.T) { drain(t, h) })
}

type env struct {
	srv *broker.Server
	js  jetstream.JetStream
	h   Harness
}

func setup(t *testing.T, h Harness) *env {
	srv := brokertest.StartNode(t)
	js := brokertest.JetStream(t, brokertest.Connect(t, srv))
	brokertest.Apply(t, js)
	if h.Setup != nil {
		h.Setup(t, js)
	}
	// Short redelivery so a crashed runner's inputs come back within the
	// test, the way they would after AckWait in production.
	ctx := context.Background()
	info, err := js.Consumer(ctx, h.Config.Stream, h.Config.Consumer)
	if err != nil {
		t.Fatalf("consumer %s/%s: %v", h.Config.Stream, h.Config.Consumer, err)
	}
	cfg := info.CachedInfo().Config
	cfg.AckWait = time.Second
	cfg.BackOff = nil
	if _, err := js.UpdateConsumer(ctx, h.Config.Stream, cfg); err != nil {
		t.Fatalf("shorten AckWait: %v", err)
	}
	return &env{srv: srv, js: js, h: h}
}

func (e *env) publishInputs(t testing.TB, from, to int) {
	ctx := context.Background()
	for i := from; i < to; i++ {
		subj, data := e.h.Input(i)
		if _, err := e.js.PublishAsync(subj, data, jetstream.WithStallWait(time.Minute)); err != nil {
			t.Fatalf("publish input %d: %v", i, err)
		}
	}
	select {
	case <-e.js.PublishAsyncComplete():
	case <-time.After(30 * time.Second):
		t.Fatal("inputs not acknowledged within 30s")
	}
	_ = ctx
}

// start runs a runner on its own connection so a test can kill it.
func (e *env) start(t testing.TB, wrap func(stage.Processor, *nats.Conn) stage.Processor) (*stage.Runner, *nats.Conn) {
	nc, err := e.srv.Connect()
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(4096))
	if err != nil {
		t.Fatal(err)
	}
	p := e.h.NewProcessor(t, js)
	if wrap != nil {
		p = keepCommitter(wrap(p, nc), p)
	}
	cfg := e.h.Config
	cfg.Batch, cfg.Workers = 16, 3
	cfg.PublishTimeout = 5 * time.Second
	r, err := stage.Start(context.Background(), js, p, cfg, zap.NewNop(), stage.NewMetrics(prometheus.NewRegistry()))
	if err != nil {
		t.Fatalf("start stage: %v", err)
	}
	return r, nc
}

// keepCommitter gives a wrapped processor the Commit of the one it wraps:
// the test wrappers change Process only, and a lost Commit would silently
// skip the stage's side effects.
func keepCommitter(wrapped, inner stage.Processor) stage.Processor {
	c, ok := inner.(stage.Committer)
	if !ok {
		return wrapped
	}
	return struct {
		stage.Processor
		stage.Committer
	}{wrapped, c}
}

func drainRunner(t testing.TB, r *stage.Runner) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := r.Drain(ctx); err != nil {
		t.Errorf("drain: %v", err)
	}
}

func (e *env) outputs(t testing.TB) uint64 {
	s, err := e.js.Stream(context.Background(), e.h.OutputStream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return 0 // a stage may create its output stream on first output
	}
	if err != nil {
		t.Fatalf("output stream: %v", err)
	}
	if e.h.OutputFilter == "" {
		return s.CachedInfo().State.Msgs
	}
	info, err := s.Info(context.Background(), jetstream.WithSubjectFilter(e.h.OutputFilter))
	if err != nil {
		t.Fatalf("output stream info: %v", err)
	}
	var n uint64
	for _, c := range info.State.Subjects {
		n += c
	}
	return n
}

// unsettled is how many inputs the consumer has not seen acked or termed.
func (e *env) unsettled(t testing.TB) (pending, ackPending uint64) {
	c, err := e.js.Consumer(context.Background(), e.h.Config.Stream, e.h.Config.Consumer)
	if err != nil {
		t.Fatalf("consumer: %v", err)
	}
	i := c.CachedInfo()
	return i.NumPending, uint64(i.NumAckPending)
}

// waitDone waits until every input is settled and exactly want outputs exist.
func (e *env) waitDone(t testing.TB, want uint64) {
	brokertest.WaitFor(t, 60*time.Second, func() error {
		p, ap := e.unsettled(t)
		got := e.outputs(t)
		if p != 0 || ap != 0 || got < want {
			return fmt.Errorf("pending=%d ack_pending=%d outputs=%d want %d", p, ap, got, want)
		}
		return nil
	})
	if got := e.outputs(t); got != want {
		t.Fatalf("outputs = %d, want exactly %d (duplicates downstream)", got, want)
	}
}

func atLeastOnce(t *testing.T, h Harness) {
	const n = 600
	e := setup(t, h)
	e.publishInputs(t, 0, n)
	r, _ := e.start(t, nil)
	e.waitDone(t, uint64(n*h.OutputsPerInput))
	// Republishing the same inputs must not duplicate anything downstream:
	// the stage derives Msg-Ids from the events.
	e.publishInputs(t, 0, n)
	e.waitDone(t, uint64(n*h.OutputsPerInput))
	drainRunner(t, r)
	if h.Verify != nil {
		h.Verify(t, e.js, n)
	}
}

func crash(t *testing.T, h Harness) {
	const n = 600
	e := setup(t, h)
	e.publishInputs(t, 0, n)
	var calls atomic.Int64
	crashed := make(chan struct{})
	r1, _ := e.start(t, func(p stage.Processor, nc *nats.Conn) stage.Processor {
		return stage.ProcessorFunc(func(ctx context.Context, in *stage.Message) ([]stage.Output, error) {
			// Die in the middle of a batch: some outputs of this batch are
			// published, none of its inputs are acked.
			if calls.Add(1) == n/3 {
				nc.Close()
				close(crashed)
			}
			return p.Process(ctx, in)
		})
	})
	select {
	case <-crashed:
	case <-time.After(30 * time.Second):
		t.Fatal("stage never reached the crash point")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	_ = r1.Drain(ctx) // the connection is gone; only its goroutines are stopped
	cancel()
	before := e.outputs(t)
	if before == 0 || before >= uint64(n*h.OutputsPerInput) {
		t.Fatalf("crash point produced %d outputs; want some but not all", before)
	}
	r2, _ := e.start(t, nil)
	e.waitDone(t, uint64(n*h.OutputsPerInput))
	drainRunner(t, r2)
	if h.Verify != nil {
		h.Verify(t, e.js, n)
	}
}

func poison(t *testing.T, h Harness) {
	e := setup(t, h)
	subj, data := h.Poison()
	if _, err := e.js.Publish(context.Background(), subj, data); err != nil {
		t.Fatalf("publish poison: %v", err)
	}
	e.publishInputs(t, 0, 10)
	r, _ := e.start(t, nil)
	e.waitDone(t, uint64(10*h.OutputsPerInput))
	drainRunner(t, r)

	rej, err := e.js.Stream(context.Background(), events.StreamRejected)
	if err != nil {
		t.Fatal(err)
	}
	if got := rej.CachedInfo().State.Msgs; got != 1 {
		t.Fatalf("%s holds %d messages, want the 1 poison input", events.StreamRejected, got)
	}
	m, err := rej.GetMsg(context.Background(), rej.CachedInfo().State.FirstSeq)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(m.Data, data) {
		t.Errorf("dead letter changed the input bytes")
	}
	if m.Header.Get(events.HeaderRejectCode) == "" || m.Header.Get(events.HeaderRejectReason) == "" {
		t.Errorf("dead letter lacks reason headers: %v", m.Header)
	}
	if got := m.Header.Get(events.HeaderRejectStage); got != h.Config.Name {
		t.Errorf("reject stage header = %q, want %q", got, h.Config.Name)
	}
}

func drain(t *testing.T, h Harness) {
	const n = 1500
	e := setup(t, h)
	e.publishInputs(t, 0, n)
	var calls atomic.Int64
	r, _ := e.start(t, func(p stage.Processor, _ *nats.Conn) stage.Processor {
		return stage.ProcessorFunc(func(ctx context.Context, in *stage.Message) ([]stage.Output, error) {
			calls.Add(1)
			time.Sleep(200 * time.Microsecond) // a slow stage, so a drain meets work in flight
			return p.Process(ctx, in)
		})
	})
	brokertest.WaitFor(t, 30*time.Second, func() error {
		if calls.Load() < n/4 {
			return fmt.Errorf("only %d processed", calls.Load())
		}
		return nil
	})
	drainRunner(t, r)
	// Whatever the drained stage acked has its outputs stored, and nothing
	// it stored is left unacked for long (a pull in flight may still be
	// redelivered, which the next runner dedupes).
	pending, ackPending := e.unsettled(t)
	settled := uint64(n) - pending - ackPending
	if got := e.outputs(t); got < settled*uint64(h.OutputsPerInput) {
		t.Fatalf("after drain: %d inputs settled but only %d outputs stored", settled, got)
	}
	if settled == uint64(n) {
		t.Log("drain met no remaining work; the case still checked settled ⇒ stored")
	}
	r2, _ := e.start(t, nil)
	e.waitDone(t, uint64(n*h.OutputsPerInput))
	drainRunner(t, r2)
}
