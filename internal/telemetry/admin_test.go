package telemetry_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/escai-framework/escai/internal/telemetry"
)

func get(t *testing.T, h http.Handler, target string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	return rec.Code, rec.Body.String()
}

func pass(context.Context) error { return nil }

func TestLivezIgnoresChecks(t *testing.T) {
	t.Parallel()
	a := telemetry.NewAdmin("127.0.0.1:0", telemetry.NewRegistry("svc", "v"), nil)
	a.AddReadiness("redis", func(context.Context) error { return errors.New("down") })
	code, body := get(t, a.Handler(), "/livez")
	if code != http.StatusOK || body != "ok\n" {
		t.Errorf("/livez = %d %q, want 200 \"ok\\n\"", code, body)
	}
}

func TestReadyz(t *testing.T) {
	t.Parallel()
	failing := func(context.Context) error {
		return errors.New("dial tcp 127.0.0.1:6379: connect: connection refused\nsecond line")
	}
	tests := map[string]struct {
		checks   map[string]telemetry.Check // added in name order
		target   string
		wantCode int
		wantBody string
	}{
		"no checks": {
			target: "/readyz", wantCode: 200, wantBody: "ok\n",
		},
		"all pass": {
			checks: map[string]telemetry.Check{"nats": pass, "redis": pass},
			target: "/readyz", wantCode: 200, wantBody: "ok\n",
		},
		"all pass verbose": {
			checks:   map[string]telemetry.Check{"nats": pass, "redis": pass},
			target:   "/readyz?verbose",
			wantCode: 200,
			wantBody: "[+]nats ok\n[+]redis ok\nreadyz check passed\n",
		},
		"one fails": {
			checks:   map[string]telemetry.Check{"nats": pass, "redis": failing},
			target:   "/readyz",
			wantCode: 503,
			wantBody: "[-]redis failed: reason withheld\nreadyz check failed\n",
		},
		"one fails verbose": {
			checks:   map[string]telemetry.Check{"nats": pass, "redis": failing},
			target:   "/readyz?verbose=1",
			wantCode: 503,
			wantBody: "[+]nats ok\n[-]redis failed: dial tcp 127.0.0.1:6379: connect: connection refused second line\nreadyz check failed\n",
		},
		"panicking check fails": {
			checks:   map[string]telemetry.Check{"keys": func(context.Context) error { panic("boom") }},
			target:   "/readyz?verbose",
			wantCode: 503,
			wantBody: "[-]keys failed: check panicked: boom\nreadyz check failed\n",
		},
		"healthz is readyz": {
			checks:   map[string]telemetry.Check{"nats": pass, "redis": failing},
			target:   "/healthz?verbose",
			wantCode: 503,
			wantBody: "[+]nats ok\n[-]redis failed: dial tcp 127.0.0.1:6379: connect: connection refused second line\nhealthz check failed\n",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			a := telemetry.NewAdmin("127.0.0.1:0", telemetry.NewRegistry("svc", "v"), nil)
			for _, n := range sortedKeys(tc.checks) {
				a.AddReadiness(n, tc.checks[n])
			}
			code, body := get(t, a.Handler(), tc.target)
			if code != tc.wantCode || body != tc.wantBody {
				t.Errorf("GET %s = %d\n%s\nwant %d\n%s", tc.target, code, body, tc.wantCode, tc.wantBody)
			}
		})
	}
}

// TestReadyzHungCheck uses a check that ignores its context entirely: the
// request must still end, at the timeout, with that check failed.
func TestReadyzHungCheck(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	a := telemetry.NewAdmin("127.0.0.1:0", telemetry.NewRegistry("svc", "v"), nil,
		telemetry.WithCheckTimeout(50*time.Millisecond))
	a.AddReadiness("nats", pass)
	a.AddReadiness("consumer", func(context.Context) error { <-release; return nil })

	code, body := get(t, a.Handler(), "/readyz?verbose")
	const want = "[+]nats ok\n[-]consumer failed: no answer within 50ms\nreadyz check failed\n"
	if code != http.StatusServiceUnavailable || body != want {
		t.Errorf("GET /readyz?verbose = %d\n%s\nwant 503\n%s", code, body, want)
	}
}

func TestAddReadinessPanics(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		name  string
		check telemetry.Check
		want  string
	}{
		"empty name": {"", pass, `telemetry: invalid readiness check name ""`},
		"space":      {"my check", pass, `telemetry: invalid readiness check name "my check"`},
		"nil check":  {"redis", nil, "telemetry: nil readiness check redis"},
		"duplicate":  {"nats", pass, "telemetry: duplicate readiness check nats"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			a := telemetry.NewAdmin("127.0.0.1:0", telemetry.NewRegistry("svc", "v"), nil)
			a.AddReadiness("nats", pass)
			defer func() {
				if got := recover(); got != tc.want {
					t.Errorf("panic = %v, want %q", got, tc.want)
				}
			}()
			a.AddReadiness(tc.name, tc.check)
		})
	}
}

func TestMetricsEndpoint(t *testing.T) {
	t.Parallel()
	reg := telemetry.NewRegistry("audit-writer", "v0.1.0")
	events := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "escai_stage_messages_total",
		Help: "Messages handled by a stage, by outcome.",
	}, []string{"stage", "outcome"})
	reg.MustRegister(events)
	events.WithLabelValues("audit", "ack").Add(3)

	a := telemetry.NewAdmin("127.0.0.1:0", reg, nil)
	code, body := get(t, a.Handler(), "/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics = %d", code)
	}
	for _, want := range []string{
		`escai_build_info{goversion="go`,
		`service="audit-writer",version="v0.1.0"} 1`,
		`escai_stage_messages_total{outcome="ack",stage="audit"} 3`,
		`go_goroutines `,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestStartServeShutdown(t *testing.T) {
	t.Parallel()
	a := telemetry.NewAdmin("127.0.0.1:0", telemetry.NewRegistry("svc", "v"), nil)
	a.AddReadiness("nats", pass)
	addr, err := a.Start()
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(addr, ":0") {
		t.Fatalf("Start returned %q, want the real port", addr)
	}
	if _, err := a.Start(); err == nil {
		t.Error("second Start succeeded")
	}

	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	defer client.CloseIdleConnections()
	for _, path := range []string{"/livez", "/readyz", "/healthz", "/metrics"} {
		resp, err := client.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d, want 200", path, resp.StatusCode)
		}
	}
	resp, err := client.Post("http://"+addr+"/readyz", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /readyz = %d, want 405", resp.StatusCode)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := a.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Get("http://" + addr + "/livez"); err == nil {
		t.Error("GET /livez after Shutdown succeeded")
	}
}

func TestShutdownNotStarted(t *testing.T) {
	t.Parallel()
	a := telemetry.NewAdmin("127.0.0.1:0", telemetry.NewRegistry("svc", "v"), nil)
	if err := a.Shutdown(t.Context()); err != nil {
		t.Errorf("Shutdown before Start = %v, want nil", err)
	}
}

func sortedKeys(m map[string]telemetry.Check) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// TestReadinessChangesAreLogged checks that a probe every few seconds does
// not become a log line every few seconds: only changes are logged.
func TestReadinessChangesAreLogged(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log, err := telemetry.NewLogger("svc", "info", &buf)
	if err != nil {
		t.Fatal(err)
	}
	var down atomic.Bool
	down.Store(true)
	a := telemetry.NewAdmin("127.0.0.1:0", telemetry.NewRegistry("svc", "v"), log)
	a.AddReadiness("redis", func(context.Context) error {
		if down.Load() {
			return errors.New("connection refused")
		}
		return nil
	})
	for range 3 {
		get(t, a.Handler(), "/readyz")
	}
	down.Store(false)
	for range 3 {
		get(t, a.Handler(), "/readyz")
	}

	var got []string
	for _, l := range readLines(t, &buf) {
		got = append(got, fmt.Sprintf("%s %s %s %v", l["level"], l["msg"], l["check"], l["error"]))
	}
	want := []string{
		"warn readiness check failing redis connection refused",
		"info readiness check passing again redis <nil>",
	}
	if !slices.Equal(got, want) {
		t.Errorf("logged %q\nwant   %q", got, want)
	}
}

func TestStartAddressInUse(t *testing.T) {
	t.Parallel()
	first := telemetry.NewAdmin("127.0.0.1:0", telemetry.NewRegistry("svc", "v"), nil)
	addr, err := first.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := first.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
	})

	_, err = telemetry.NewAdmin(addr, telemetry.NewRegistry("svc", "v"), nil).Start()
	if want := "telemetry: admin server: listen tcp " + addr + ": bind: address already in use"; err == nil || err.Error() != want {
		t.Errorf("err = %v, want %q", err, want)
	}
}
