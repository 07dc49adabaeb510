package broker_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/escai-framework/escai/internal/broker"
	"github.com/escai-framework/escai/internal/broker/brokertest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		cfg  broker.Config
		want string
	}{
		"no store": {
			cfg:  broker.Config{},
			want: "broker: invalid server config: StoreDir: required",
		},
		"bad ports and limits": {
			cfg: broker.Config{StoreDir: "x", Port: 70000, HTTPPort: -2, MaxMemory: -1, MaxStore: -1},
			want: "broker: invalid server config: Port: 70000 out of range\n" +
				"broker: invalid server config: HTTPPort: -2 out of range\n" +
				"broker: invalid server config: MaxMemory: negative\n" +
				"broker: invalid server config: MaxStore: negative",
		},
		"cluster": {
			cfg: broker.Config{StoreDir: "x", Cluster: &broker.ClusterConfig{Routes: []string{"nats-route://host-without-port"}}},
			want: "broker: invalid server config: ServerName: required with Cluster (node names must differ)\n" +
				"broker: invalid server config: Cluster.Name: required\n" +
				"broker: invalid server config: Cluster.Port: 0 out of range\n" +
				"broker: invalid server config: Cluster.Routes[0]: \"nats-route://host-without-port\": want host:port",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			err := tc.cfg.Validate()
			if !errors.Is(err, broker.ErrInvalidConfig) || err.Error() != tc.want {
				t.Fatalf("got %v\nwant %s", err, tc.want)
			}
			if _, err := broker.Start(context.Background(), tc.cfg); err == nil || err.Error() != tc.want {
				t.Fatalf("Start: got %v", err)
			}
		})
	}
}

func TestStartServesJetStream(t *testing.T) {
	t.Parallel()
	s := brokertest.StartNode(t)
	if !strings.HasPrefix(s.ClientURL(), "nats://127.0.0.1:") || strings.HasSuffix(s.ClientURL(), ":4222") {
		t.Fatalf("ClientURL %q, want a random loopback port", s.ClientURL())
	}
	if !s.NATS().JetStreamEnabled() {
		t.Fatal("JetStream not enabled")
	}
	js := brokertest.JetStream(t, brokertest.Connect(t, s))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	info, err := js.AccountInfo(ctx)
	if err != nil {
		t.Fatalf("account info over the in-process connection: %v", err)
	}
	if info.Streams != 0 {
		t.Fatalf("fresh node has %d streams", info.Streams)
	}

	s.Shutdown()
	s.Shutdown() // idempotent
	if s.NATS().Running() {
		t.Fatal("server still running after Shutdown")
	}
}

func TestStartPortInUse(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port

	// Only the server's own fatal message names the bind failure; waiting
	// out the readiness timeout would end in "not accepting clients:
	// context deadline exceeded" instead, so the text proves it failed fast.
	_, err = broker.Start(context.Background(), broker.Config{Port: port, StoreDir: t.TempDir()})
	if !errors.Is(err, broker.ErrNotReady) || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("got %v, want ErrNotReady naming the bind failure", err)
	}
}

func TestStartContextCanceled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := broker.Start(ctx, broker.Config{Port: -1, StoreDir: t.TempDir()})
	if !errors.Is(err, broker.ErrNotReady) || !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want ErrNotReady wrapping context.Canceled", err)
	}
}

type recordingLogger struct {
	mu    sync.Mutex
	lines []string
}

func (l *recordingLogger) add(level, format string, v ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, level+" "+fmt.Sprintf(format, v...))
}

func (l *recordingLogger) Noticef(f string, v ...any) { l.add("INF", f, v...) }
func (l *recordingLogger) Warnf(f string, v ...any)   { l.add("WRN", f, v...) }
func (l *recordingLogger) Fatalf(f string, v ...any)  { l.add("FTL", f, v...) }
func (l *recordingLogger) Errorf(f string, v ...any)  { l.add("ERR", f, v...) }
func (l *recordingLogger) Debugf(f string, v ...any)  { l.add("DBG", f, v...) }
func (l *recordingLogger) Tracef(f string, v ...any)  { l.add("TRC", f, v...) }

func (l *recordingLogger) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

func TestStartLogger(t *testing.T) {
	t.Parallel()
	t.Run("forwards", func(t *testing.T) {
		t.Parallel()
		lg := &recordingLogger{}
		s, err := broker.Start(context.Background(), broker.Config{ServerName: "logged", Port: -1, StoreDir: t.TempDir(), Logger: lg})
		if err != nil {
			t.Fatal(err)
		}
		s.Shutdown()
		if got := lg.text(); !strings.Contains(got, "INF Starting nats-server") || !strings.Contains(got, "INF Server is ready") {
			t.Fatalf("logger did not receive the start-up notices:\n%s", got)
		}
	})
	t.Run("typed nil", func(t *testing.T) {
		t.Parallel()
		var lg *recordingLogger
		s, err := broker.Start(context.Background(), broker.Config{Port: -1, StoreDir: t.TempDir(), Logger: lg})
		if err != nil {
			t.Fatal(err)
		}
		s.Shutdown()
	})
}
