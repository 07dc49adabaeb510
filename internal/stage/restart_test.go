package stage_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/escai-framework/escai/internal/broker/brokertest"
	"github.com/escai-framework/escai/internal/stage"
	"github.com/escai-framework/escai/pkg/events"
)

// TestRunnerResumesAfterBrokerRestart: the broker goes away under a running
// stage and comes back on the same address with the same store. The stage,
// connected over TCP as the services are, must go on with the events
// published after the restart without being restarted itself: the pull
// request it had open died with the old server, so it has to notice and
// ask again.
//
// Not parallel: the port is picked free and then released for the broker,
// and the package's other tests would compete for loopback ports meanwhile.
func TestRunnerResumesAfterBrokerRestart(t *testing.T) {
	ctx := context.Background()
	dir, port := t.TempDir(), brokertest.FreePort(t)
	srv := brokertest.StartNodeAt(t, dir, port)
	nc, err := nats.Connect(srv.ClientURL(), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	brokertest.Apply(t, js)
	r, err := stage.Start(ctx, js, forward(t, js), stage.Config{Name: "forward", Stream: events.StreamIn, Consumer: "ingest"}, zap.NewNop(), stage.NewMetrics(prometheus.NewRegistry()))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { // before the cleanups, while the broker still runs
		dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		_ = r.Drain(dctx)
	}()

	publish := func(from, to int) {
		for i := from; i < to; i++ {
			subj, data := envelope(i)
			// Right after a restart JetStream may not answer yet: retry.
			brokertest.WaitFor(t, 30*time.Second, func() error {
				pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
				defer cancel()
				_, err := js.Publish(pctx, subj, data, jetstream.WithMsgID(fmt.Sprintf("restart-%d", i)))
				return err
			})
		}
	}
	validHolds := func(n uint64) {
		brokertest.WaitFor(t, time.Minute, func() error {
			ictx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			s, err := js.Stream(ictx, events.StreamValid)
			if err != nil {
				return err
			}
			if got := s.CachedInfo().State.Msgs; got != n {
				return fmt.Errorf("ESCAI_VALID holds %d, want %d", got, n)
			}
			return nil
		})
	}

	publish(0, 50)
	validHolds(50)
	srv.Shutdown()
	brokertest.StartNodeAt(t, dir, port)
	publish(50, 100)
	validHolds(100)
}
