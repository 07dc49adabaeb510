package broker_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/escai-framework/escai/internal/broker"
	"github.com/escai-framework/escai/internal/broker/brokertest"
)

func TestClusterR3(t *testing.T) {
	t.Parallel()
	nodes := brokertest.StartCluster(t, 3)
	js := brokertest.JetStream(t, brokertest.Connect(t, nodes[0]))
	d := load(t)
	ov := broker.Overrides{Replicas: 3}

	res, err := d.Apply(testCtx(t), js, ov)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "first", actions(res), allActions(broker.ActionCreated))
	res, err = d.Apply(testCtx(t), js, ov)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "second", actions(res), allActions(broker.ActionUnchanged))
	if _, err := d.EnsureTenant(testCtx(t), js, "acme", ov); err != nil {
		t.Fatal(err)
	}

	for _, name := range []string{"ESCAI_IN", "ESCAI_AUDIT", "ESCAI_CLEAN_acme"} {
		brokertest.WaitFor(t, 20*time.Second, func() error {
			info := streamInfo(t, js, name)
			if info.Config.Replicas != 3 || info.Cluster == nil || info.Cluster.Leader == "" || len(info.Cluster.Replicas) != 2 {
				return fmt.Errorf("%s: replicas %d, cluster %+v", name, info.Config.Replicas, info.Cluster)
			}
			for _, p := range info.Cluster.Replicas {
				if !p.Current {
					return fmt.Errorf("%s: replica %s not current", name, p.Name)
				}
			}
			return nil
		})
	}

	// Publish through one node, read back through another.
	ctx := testCtx(t)
	ack, err := js.Publish(ctx, "escai.security.auth_failure", []byte("denied"), jetstream.WithMsgID("sec-1"))
	if err != nil {
		t.Fatal(err)
	}
	js2 := brokertest.JetStream(t, brokertest.Connect(t, nodes[2]))
	cons, err := js2.Consumer(ctx, "ESCAI_SECURITY", "audit-writer")
	if err != nil {
		t.Fatal(err)
	}
	if r := cons.CachedInfo().Config.Replicas; r != 0 {
		t.Errorf("consumer num_replicas %d, want 0 (inherits the stream's 3)", r)
	}
	msg, err := cons.Next(jetstream.FetchMaxWait(5 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	md, err := msg.Metadata()
	if err != nil {
		t.Fatal(err)
	}
	if string(msg.Data()) != "denied" || md.Sequence.Stream != ack.Sequence {
		t.Fatalf("read %q at %d, want %q at %d", msg.Data(), md.Sequence.Stream, "denied", ack.Sequence)
	}
	if err := msg.DoubleAck(ctx); err != nil {
		t.Fatal(err)
	}
}
