package pipeline_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/escai-framework/escai/internal/pipeline"
	"github.com/escai-framework/escai/pkg/security/config"
)

// TestApplyStreamsWaitingGivesUp: against a broker whose JetStream never
// comes up, a service retries for the time it was given, then says why.
func TestApplyStreamsWaitingGivesUp(t *testing.T) {
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoSigs: true, NoLog: true})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	defer func() { ns.Shutdown(); ns.WaitForShutdown() }()
	if !ns.ReadyForConnections(5 * time.Second) {
		t.Fatal("server not ready")
	}
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc, jetstream.WithDefaultTimeout(200*time.Millisecond))
	cfg := config.Default(config.ProfileTesting)
	core, logs := observer.New(zap.InfoLevel)
	env, err := pipeline.NewEnv(&cfg, zap.New(core), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	_, err = env.ApplyStreamsWaiting(context.Background(), js, 1500*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "gave up after 1.5s") {
		t.Fatalf("err = %v", err)
	}
	// It retried rather than give up at the first failure.
	if retries := logs.FilterMessage("streams not applied yet; retrying").Len(); retries < 1 {
		t.Fatalf("gave up after %d retries", retries)
	}
}
