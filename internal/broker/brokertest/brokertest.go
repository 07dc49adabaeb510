// Package brokertest starts real embedded JetStream servers and clusters for
// tests of other packages, connects to them in process and applies the
// streams/ definitions. Everything started is stopped in t.Cleanup; waiting
// is done by polling (WaitFor), never by sleeping.
package brokertest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/escai-framework/escai/internal/broker"
	"github.com/escai-framework/escai/streams"
)

// testMaxStore is the JetStream file store limit of test servers. Streams
// with max_bytes (every tenant stream: 10 GiB) reserve that much when
// created, and the server default (75% of the free disk) would make the
// number of tenants a test can create depend on the machine. Tests write
// little, so an accounting limit above the real disk is harmless.
const testMaxStore = 1 << 40

// clusterReadyTimeout bounds how long StartCluster waits for a meta leader
// and current peers; loopback clusters form in well under a second.
const clusterReadyTimeout = 20 * time.Second

// StartNode starts a single JetStream node on a random loopback port with a
// store under t.TempDir, shut down in t.Cleanup.
func StartNode(t testing.TB) *broker.Server {
	t.Helper()
	return StartNodeAt(t, t.TempDir(), -1) // dir registered first: removed after Shutdown
}

// StartNodeAt starts a single JetStream node on port (-1: a random one)
// with its store in dir, shut down in t.Cleanup. Starting it again on the
// same dir and port after Shutdown is a broker restart.
func StartNodeAt(t testing.TB, dir string, port int) *broker.Server {
	t.Helper()
	s, err := broker.Start(context.Background(), broker.Config{
		ServerName: "escai-test",
		Port:       port,
		StoreDir:   dir,
		MaxStore:   testMaxStore,
	})
	if err != nil {
		t.Fatalf("brokertest: start node: %v", err)
	}
	t.Cleanup(s.Shutdown)
	return s
}

// FreePort returns a loopback port that was free a moment ago, for a
// server that must come back on the same address.
func FreePort(t testing.TB) int {
	t.Helper()
	ports, err := freePorts(1)
	if err != nil {
		t.Fatalf("brokertest: free port: %v", err)
	}
	return ports[0]
}

// StartCluster starts an n-node JetStream cluster on loopback (n >= 2; 3 for
// R3 streams) and returns once a meta leader exists and every node is a
// current peer. Nodes are shut down in t.Cleanup.
func StartCluster(t testing.TB, n int) []*broker.Server {
	t.Helper()
	if n < 2 {
		t.Fatalf("brokertest: StartCluster needs at least 2 nodes, got %d", n)
	}
	// Route ports must be known before start, so that every node counts the
	// full cluster when it bootstraps the meta group. A port reserved by
	// listening on :0 can be taken by someone else before the node binds
	// it; that start fails fast and is retried with fresh ports.
	var lastErr error
	for range 3 {
		// Fresh stores: a failed attempt may have left meta state naming
		// peers that will never come back.
		dirs := make([]string, n)
		for i := range dirs {
			dirs[i] = t.TempDir()
		}
		nodes, err := startClusterOnce(dirs)
		if err == nil {
			for _, s := range nodes {
				t.Cleanup(s.Shutdown)
			}
			WaitFor(t, clusterReadyTimeout, func() error { return clusterReady(nodes) })
			return nodes
		}
		lastErr = err
	}
	t.Fatalf("brokertest: start %d-node cluster: %v", n, lastErr)
	return nil
}

func startClusterOnce(dirs []string) ([]*broker.Server, error) {
	n := len(dirs)
	ports, err := freePorts(n)
	if err != nil {
		return nil, err
	}
	routes := make([]string, n)
	for i, p := range ports {
		routes[i] = fmt.Sprintf("nats-route://127.0.0.1:%d", p)
	}
	nodes := make([]*broker.Server, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	// Concurrently: Start waits for a meta leader, which needs a quorum.
	for i := range n {
		wg.Go(func() {
			nodes[i], errs[i] = broker.Start(context.Background(), broker.Config{
				ServerName: fmt.Sprintf("escai-test-%d", i+1),
				Port:       -1,
				StoreDir:   dirs[i],
				MaxStore:   testMaxStore,
				Cluster: &broker.ClusterConfig{
					Name:   "escai-test",
					Port:   ports[i],
					Routes: routes,
				},
			})
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		for _, s := range nodes {
			if s != nil {
				s.Shutdown()
			}
		}
		return nil, err
	}
	return nodes, nil
}

// freePorts reserves n distinct loopback ports by listening on them all at
// once, then releases them for the servers to bind.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func clusterReady(nodes []*broker.Server) error {
	var leader *broker.Server
	for _, s := range nodes {
		if s.NATS().JetStreamIsLeader() {
			leader = s
		}
	}
	if leader == nil {
		return errors.New("no JetStream meta leader")
	}
	if peers := leader.NATS().JetStreamClusterPeers(); len(peers) != len(nodes) {
		return fmt.Errorf("meta leader %s sees %d of %d peers: %s",
			leader.NATS().Name(), len(peers), len(nodes), strings.Join(peers, ","))
	}
	for _, s := range nodes {
		if !s.NATS().JetStreamIsCurrent() {
			return fmt.Errorf("node %s is not current", s.NATS().Name())
		}
	}
	return nil
}

// Connect opens an in-process connection to s, closed in t.Cleanup.
func Connect(t testing.TB, s *broker.Server) *nats.Conn {
	t.Helper()
	nc, err := s.Connect(nats.Name(t.Name()))
	if err != nil {
		t.Fatalf("brokertest: %v", err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// JetStream returns a JetStream client on nc.
func JetStream(t testing.TB, nc *nats.Conn) jetstream.JetStream {
	t.Helper()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatalf("brokertest: jetstream: %v", err)
	}
	return js
}

// Apply applies the embedded streams/ definitions with no overrides (the
// files' single-node values), failing the test on any error.
func Apply(t testing.TB, js jetstream.JetStream) {
	t.Helper()
	ApplyTenant(t, js)
}

// ApplyTenant applies every stream definition, then creates the clean
// stream of each tenant (ESCAI_CLEAN_<tenant>) with its consumers.
func ApplyTenant(t testing.TB, js jetstream.JetStream, tenants ...string) {
	t.Helper()
	defs, err := broker.LoadDefinitions(streams.FS)
	if err != nil {
		t.Fatalf("brokertest: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := defs.Apply(ctx, js, broker.Overrides{}); err != nil {
		t.Fatalf("brokertest: apply streams: %v", err)
	}
	for _, tenant := range tenants {
		if _, err := defs.EnsureTenant(ctx, js, tenant, broker.Overrides{}); err != nil {
			t.Fatalf("brokertest: tenant %s: %v", tenant, err)
		}
	}
}

// WaitFor polls cond every 15ms until it returns nil, and fails the test
// with cond's last error if that does not happen within timeout.
func WaitFor(t testing.TB, timeout time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(15 * time.Millisecond)
	defer tick.Stop()
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("brokertest: condition not met after %v: %v", timeout, err)
			return
		}
		<-tick.C
	}
}
