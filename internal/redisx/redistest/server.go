package redistest

import (
	"context"
	"net"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/escai-framework/escai/internal/redisx"
)

// missingServer is the whole failure message when redis-server is absent:
// it says exactly what to install.
const missingServer = "redis-server not found on PATH: install it with `apt-get install -y redis-server` (or run `make test`, which installs it)"

const (
	startTimeout = 15 * time.Second
	// stopTimeout is how long a server gets to exit after SIGTERM before it
	// is killed.
	stopTimeout = 5 * time.Second
)

// Option configures [Start].
type Option func(*config)

type config struct {
	password string
}

// WithPassword makes the server require AUTH with password; [Server.URL] and
// [Server.Client] include it.
func WithPassword(password string) Option {
	return func(c *config) { c.password = password }
}

// Server is a running redis-server owned by one test.
type Server struct {
	// Addr is 127.0.0.1:port; it stays the same across [Server.Restart].
	Addr string
	// URL is redis://[:password@]127.0.0.1:port/0.
	URL string
	// Password is the one set with [WithPassword], or empty.
	Password string

	port int

	mu   sync.Mutex
	proc *redisx.Process
}

// Available reports whether redis-server is on PATH, for the rare test that
// should skip rather than fail without it.
func Available() bool {
	_, err := exec.LookPath("redis-server")
	return err == nil
}

// Start runs a redis-server for t on a free loopback port, waits until it
// answers PING and stops it when t ends. It fails t (with the server's output
// when it would not start) rather than returning an error.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	if !Available() {
		t.Fatal(missingServer)
	}
	proc := startProcess(t, cfg.password, 0)
	_, portText, err := net.SplitHostPort(proc.Addr)
	if err != nil {
		t.Fatalf("redistest: port of %s: %v", proc.Addr, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		t.Fatalf("redistest: port of %s: %v", proc.Addr, err)
	}
	return &Server{
		Addr:     proc.Addr,
		URL:      proc.URL,
		Password: cfg.password,
		port:     port,
		proc:     proc,
	}
}

// startProcess starts one server in a fresh t.TempDir() and registers its
// stop after the directory's removal, so (cleanups running last-in first-out)
// the server is gone before its directory is deleted.
func startProcess(t testing.TB, password string, port int) *redisx.Process {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	opts := []redisx.ProcessOption{redisx.WithAppendOnly(false), redisx.WithPort(port)}
	if password != "" {
		opts = append(opts, redisx.WithPassword(password))
	}
	proc, err := redisx.StartProcess(ctx, t.TempDir(), opts...)
	if err != nil {
		t.Fatalf("redistest: %v", err)
	}
	t.Cleanup(func() {
		if err := stop(proc); err != nil {
			t.Errorf("redistest: %v", err)
		}
	})
	return proc
}

func stop(proc *redisx.Process) error {
	ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
	defer cancel()
	return proc.Stop(ctx)
}

// Client returns a client for the server, closed when t ends. It does not
// PING: a test may hold a client across [Server.Stop] and [Server.Restart]
// and see what the services would see.
func (s *Server) Client(t testing.TB) *redis.Client {
	t.Helper()
	opts, err := redisx.ParseURL(s.URL)
	if err != nil {
		t.Fatalf("redistest: %v", err)
	}
	c := redis.NewClient(opts)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Stop shuts the server down (SIGTERM, then SIGKILL after 5s) and waits for
// it to exit, for tests of what happens when Redis goes away. It is safe to
// call more than once and after the test's own cleanup.
func (s *Server) Stop() {
	s.mu.Lock()
	proc := s.proc
	s.mu.Unlock()
	// The error (a server that needed SIGKILL) is reported by the cleanup
	// registered at start, which calls Stop on the same process again.
	_ = stop(proc)
}

// Restart stops the server if it is running and starts a new one on the
// same Addr with an empty data directory: Redis "killed and restarted with
// nothing", as after a crash without persistence.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.Stop()
	proc := startProcess(t, s.Password, s.port)
	s.mu.Lock()
	s.proc = proc
	s.mu.Unlock()
}
