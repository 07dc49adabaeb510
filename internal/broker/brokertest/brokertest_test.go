package brokertest_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/escai-framework/escai/internal/broker/brokertest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// fakeTB records Fatalf instead of stopping the test.
type fakeTB struct {
	testing.TB
	fatal string
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) Fatalf(format string, args ...any) { f.fatal = fmt.Sprintf(format, args...) }

func TestWaitFor(t *testing.T) {
	t.Parallel()
	t.Run("eventually", func(t *testing.T) {
		t.Parallel()
		calls := 0
		brokertest.WaitFor(t, 5*time.Second, func() error {
			if calls++; calls < 3 {
				return errors.New("not yet")
			}
			return nil
		})
		if calls != 3 {
			t.Fatalf("cond called %d times, want 3", calls)
		}
	})
	t.Run("never", func(t *testing.T) {
		t.Parallel()
		ft := &fakeTB{}
		start := time.Now()
		n := 0
		brokertest.WaitFor(ft, 100*time.Millisecond, func() error { n++; return fmt.Errorf("attempt %d", n) })
		if want := fmt.Sprintf("brokertest: condition not met after 100ms: attempt %d", n); ft.fatal != want {
			t.Fatalf("got %q, want %q", ft.fatal, want)
		}
		if d := time.Since(start); d < 100*time.Millisecond || n < 3 {
			t.Fatalf("gave up after %v and %d attempts", d, n)
		}
	})
}

func TestNodeConnectApply(t *testing.T) {
	t.Parallel()
	js := brokertest.JetStream(t, brokertest.Connect(t, brokertest.StartNode(t)))
	brokertest.Apply(t, js)
	brokertest.Apply(t, js) // idempotent
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var names []string
	lister := js.StreamNames(ctx)
	for n := range lister.Name() {
		names = append(names, n)
	}
	if err := lister.Err(); err != nil {
		t.Fatal(err)
	}
	if len(names) != 5 {
		t.Fatalf("streams %q, want the 5 non-template streams", names)
	}
}

func TestStartCluster(t *testing.T) {
	t.Parallel()
	nodes := brokertest.StartCluster(t, 3)
	// StartCluster waited for this; under load a node can fall behind for
	// a heartbeat, so the state is read until it holds again.
	brokertest.WaitFor(t, 15*time.Second, func() error {
		leaders := 0
		for _, s := range nodes {
			if !s.NATS().JetStreamIsCurrent() {
				return fmt.Errorf("%s not current", s.NATS().Name())
			}
			if s.NATS().JetStreamIsLeader() {
				leaders++
			}
		}
		if leaders != 1 {
			return fmt.Errorf("%d meta leaders, want 1", leaders)
		}
		return nil
	})
}
