package telemetry_test

import (
	"runtime"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/escai-framework/escai/internal/telemetry"
)

func TestNewRegistryBuildInfo(t *testing.T) {
	t.Parallel()
	reg := telemetry.NewRegistry("pii-worker", "v1.2.3")
	want := `
# HELP escai_build_info A metric with a constant '1' value labelled by the service, its version and the Go version it was built with.
# TYPE escai_build_info gauge
escai_build_info{goversion="` + runtime.Version() + `",service="pii-worker",version="v1.2.3"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "escai_build_info"); err != nil {
		t.Error(err)
	}
	// The Go and process collectors are there too.
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range families {
		names[f.GetName()] = true
	}
	for _, n := range []string{"go_goroutines", "process_start_time_seconds"} {
		if !names[n] {
			t.Errorf("registry lacks %s", n)
		}
	}
}

// TestNewRegistryIsPrivate checks that two registries in one process do not
// share metrics, which a default registry would.
func TestNewRegistryIsPrivate(t *testing.T) {
	t.Parallel()
	a := telemetry.NewRegistry("a", "v1")
	b := telemetry.NewRegistry("b", "v1")
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "escai_test_total", Help: "test"})
	a.MustRegister(c)
	b.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: "escai_test_total", Help: "test"}))
	c.Inc()
	if n, err := testutil.GatherAndCount(b, "escai_test_total"); err != nil || n != 1 {
		t.Fatalf("GatherAndCount = %d, %v", n, err)
	}
	if got := testutil.ToFloat64(c); got != 1 {
		t.Errorf("counter = %v, want 1", got)
	}
}
