package telemetry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/escai-framework/escai/internal/httpserve"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"
)

// DefaultCheckTimeout bounds one /readyz request: every check runs at once
// and one still running then counts as failed. Kubernetes probes time out
// after 1s by default; set timeoutSeconds above this value.
const DefaultCheckTimeout = 2 * time.Second

// Check reports whether one dependency of the process is ready to serve the
// next message: NATS connected, the JetStream consumer reachable, Redis
// answering PING, keys loaded. It must honour ctx; a check that does not is
// still cut off at the timeout, but its goroutine lives on until it returns.
//
// The error text is served on /readyz?verbose to anyone who can reach the
// admin port, so it must never contain secrets: no passwords, tokens, keys,
// or URLs with credentials (use redisx.RedactURL and the like).
type Check func(ctx context.Context) error

// AdminOption configures [NewAdmin].
type AdminOption func(*Admin)

// WithCheckTimeout replaces [DefaultCheckTimeout].
func WithCheckTimeout(d time.Duration) AdminOption {
	return func(a *Admin) { a.checkTimeout = d }
}

// Admin is the admin HTTP server of one process: Prometheus metrics,
// liveness and readiness. It listens on its own address, apart from any
// public API, so probes and scrapes keep working when the API is saturated
// and the port can be kept off the public network.
type Admin struct {
	addr         string
	reg          *prometheus.Registry
	log          *zap.Logger
	checkTimeout time.Duration
	handler      http.Handler

	mu      sync.Mutex
	checks  []namedCheck
	failing map[string]bool // last outcome per check, to log changes only
	run     httpserve.Server
}

type namedCheck struct {
	name  string
	check Check
}

// NewAdmin returns an admin server for addr (host:port; ":0" or
// "127.0.0.1:0" pick a free port, see [Admin.Start]) serving the metrics of
// reg. log receives lifecycle messages and readiness changes; nil discards
// them.
func NewAdmin(addr string, reg *prometheus.Registry, log *zap.Logger, opts ...AdminOption) *Admin {
	if log == nil {
		log = zap.NewNop()
	}
	a := &Admin{
		addr:         addr,
		reg:          reg,
		log:          log.Named("admin"),
		checkTimeout: DefaultCheckTimeout,
		failing:      make(map[string]bool),
	}
	for _, o := range opts {
		o(a)
	}

	metrics := promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog: zap.NewStdLog(a.log),
		// One broken collector must not blank every other metric.
		ErrorHandling: promhttp.ContinueOnError,
		Registry:      reg,
		// Scrapes are cheap but not free; a burst of them must not pile up.
		MaxRequestsInFlight: 4,
	})
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.InstrumentMetricHandler(reg, metrics))
	mux.HandleFunc("GET /livez", serveLive)
	mux.HandleFunc("GET /readyz", a.serveReady("readyz"))
	// /healthz is deprecated in Kubernetes in favour of /livez and /readyz
	// but is what many people and tools try first; it answers like /readyz.
	mux.HandleFunc("GET /healthz", a.serveReady("healthz"))
	a.handler = mux
	return a
}

// AddReadiness adds a check that /readyz runs, named as it appears in the
// verbose output ("nats", "redis", "consumer"). It may be called while the
// server runs. Like [http.ServeMux.Handle] it panics on a programming error:
// an empty or duplicate name, or a nil check.
func (a *Admin) AddReadiness(name string, c Check) {
	if name == "" || strings.ContainsAny(name, " \t\r\n") {
		panic(fmt.Sprintf("telemetry: invalid readiness check name %q", name))
	}
	if c == nil {
		panic("telemetry: nil readiness check " + name)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, nc := range a.checks {
		if nc.name == name {
			panic("telemetry: duplicate readiness check " + name)
		}
	}
	a.checks = append(a.checks, namedCheck{name: name, check: c})
}

// Handler returns the admin endpoints, for tests and for mounting on a
// server of the caller's own:
//
//   - /metrics: the registry in the Prometheus text format.
//   - /livez: 200 "ok" while the process can serve HTTP at all. It never
//     checks dependencies: a Redis outage must not make Kubernetes restart
//     every replica at once.
//   - /readyz: 200 when every readiness check passes within the timeout, 503
//     otherwise. Machines read only the status code. With ?verbose the body
//     lists each check as "[+]name ok" or "[-]name failed: <error>", as
//     Kubernetes does; without it, failing checks are listed with their
//     reason withheld.
//   - /healthz: the same as /readyz.
func (a *Admin) Handler() http.Handler { return a.handler }

// Start listens on the configured address and serves [Admin.Handler] in a
// goroutine until [Admin.Shutdown]. It returns the address it listens on,
// which tells the caller the port when the configured one was 0. An Admin
// starts at most once.
func (a *Admin) Start() (string, error) {
	srv := &http.Server{
		Handler: a.handler,
		// Slow or idle clients must not hold connections: the admin port is
		// reachable by scrapers and probes, not only by friends.
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          zap.NewStdLog(a.log),
	}
	addr, err := a.run.Start(a.addr, srv, httpserve.Serve, func(err error) {
		a.log.Error("admin server stopped", zap.Error(err))
	})
	if errors.Is(err, httpserve.ErrStarted) {
		return "", errors.New("telemetry: admin server already started")
	}
	if err != nil {
		return "", fmt.Errorf("telemetry: admin server: %w", err)
	}
	a.log.Info("admin server listening", zap.String("addr", addr))
	return addr, nil
}

// Shutdown stops accepting connections, waits for requests in flight until
// ctx ends, then closes whatever is left. It returns once the serving
// goroutine has exited. Shutdown of an Admin never started does nothing.
func (a *Admin) Shutdown(ctx context.Context) error {
	if err := a.run.Shutdown(ctx); err != nil {
		return fmt.Errorf("telemetry: admin server shutdown: %w", err)
	}
	return nil
}

func serveLive(w http.ResponseWriter, _ *http.Request) {
	writeText(w, http.StatusOK, "ok\n")
}

type checkResult struct {
	name string
	err  error
}

// serveReady renders check results the way kube-apiserver does, so people
// and scripts used to it read ours without surprise.
func (a *Admin) serveReady(endpoint string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		results := a.runChecks(r.Context())
		_, verbose := r.URL.Query()["verbose"]
		failed := false
		var b strings.Builder
		for _, res := range results {
			switch {
			case res.err == nil:
				if verbose {
					fmt.Fprintf(&b, "[+]%s ok\n", res.name)
				}
			case verbose:
				failed = true
				fmt.Fprintf(&b, "[-]%s failed: %s\n", res.name, oneLine(res.err.Error()))
			default:
				failed = true
				fmt.Fprintf(&b, "[-]%s failed: reason withheld\n", res.name)
			}
		}
		switch {
		case failed:
			fmt.Fprintf(&b, "%s check failed\n", endpoint)
			writeText(w, http.StatusServiceUnavailable, b.String())
		case verbose:
			fmt.Fprintf(&b, "%s check passed\n", endpoint)
			writeText(w, http.StatusOK, b.String())
		default:
			writeText(w, http.StatusOK, "ok\n")
		}
	}
}

// runChecks runs every check at once under one deadline and returns their
// results in the order they were added.
func (a *Admin) runChecks(ctx context.Context) []checkResult {
	a.mu.Lock()
	checks := append([]namedCheck(nil), a.checks...)
	a.mu.Unlock()

	ctx, cancel := context.WithTimeout(ctx, a.checkTimeout)
	defer cancel()
	done := make([]chan error, len(checks))
	for i, nc := range checks {
		done[i] = make(chan error, 1) // buffered: a late check must not block forever
		go func() { done[i] <- runCheck(ctx, nc.check) }()
	}
	results := make([]checkResult, len(checks))
	for i, nc := range checks {
		results[i].name = nc.name
		select {
		case results[i].err = <-done[i]:
		case <-ctx.Done():
			results[i].err = fmt.Errorf("no answer within %s", a.checkTimeout)
		}
	}
	// A prober that hung up says nothing about the dependencies.
	if !errors.Is(ctx.Err(), context.Canceled) {
		a.logChanges(results)
	}
	return results
}

// runCheck turns a panicking check into a failed one: a bug in one check
// must not take the process down through its admin port.
func runCheck(ctx context.Context, c Check) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("check panicked: %v", v)
		}
	}()
	return c(ctx)
}

// logChanges logs a check when its outcome differs from the last one seen
// (and its first failure), not on every probe: readiness changes are
// lifecycle events, probe traffic is not.
func (a *Admin) logChanges(results []checkResult) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, res := range results {
		failing := res.err != nil
		was, seen := a.failing[res.name]
		a.failing[res.name] = failing
		switch {
		case failing && (!seen || !was):
			a.log.Warn("readiness check failing", zap.String("check", res.name), zap.Error(res.err))
		case !failing && seen && was:
			a.log.Info("readiness check passing again", zap.String("check", res.name))
		}
	}
}

func writeText(w http.ResponseWriter, status int, body string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// oneLine keeps a multi-line error from breaking the one-check-per-line
// format of the verbose output.
func oneLine(s string) string {
	return strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s)
}
