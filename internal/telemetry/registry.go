package telemetry

import (
	"runtime"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// NewRegistry returns a new registry, one per process, holding the Go
// runtime and process collectors and the escai_build_info gauge (always 1,
// labelled service, version and goversion, so dashboards can join on it and
// spot mixed versions during a rollout). Metrics of the process's packages
// are registered on it by whoever wires them; the default registry is never
// used.
func NewRegistry(service, version string) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	buildInfo := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "escai_build_info",
		Help: "A metric with a constant '1' value labelled by the service, its version and the Go version it was built with.",
		ConstLabels: prometheus.Labels{
			"service":   service,
			"version":   version,
			"goversion": runtime.Version(),
		},
	})
	buildInfo.Set(1)
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		buildInfo,
	)
	return reg
}
