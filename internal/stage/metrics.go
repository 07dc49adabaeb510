package stage

import "github.com/prometheus/client_golang/prometheus"

// Outcome labels of escai_stage_messages_total. Low cardinality by design:
// never a tenant, agent, subject or event id.
const (
	OutcomeOK           = "ok"
	OutcomeFiltered     = "filtered"
	OutcomeRejected     = "rejected"
	OutcomeRetried      = "retried"
	OutcomeDeadLettered = "dead_lettered"
)

// Metrics are the runtime's Prometheus instruments. Build them once per
// registry and share them between the runners of one process; the stage
// name is a label.
type Metrics struct {
	messages  *prometheus.CounterVec
	process   *prometheus.HistogramVec
	batch     *prometheus.HistogramVec
	batchSize *prometheus.HistogramVec
}

// NewMetrics registers the stage instruments on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "escai_stage_messages_total",
			Help: "Inputs settled by a stage, by outcome (ok, filtered, rejected, retried, dead_lettered).",
		}, []string{"stage", "outcome"}),
		process: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "escai_stage_processing_duration_seconds",
			Help:    "Time a processor spent on one input.",
			Buckets: prometheus.ExponentialBuckets(1e-6, 4, 12),
		}, []string{"stage"}),
		batch: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "escai_stage_batch_duration_seconds",
			Help:    "Time from the start of a batch to its inputs being settled (process, publish, PubAck, commit).",
			Buckets: prometheus.ExponentialBuckets(1e-4, 3, 12),
		}, []string{"stage"}),
		batchSize: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "escai_stage_batch_size",
			Help:    "Inputs per processed batch.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 13),
		}, []string{"stage"}),
	}
	reg.MustRegister(m.messages, m.process, m.batch, m.batchSize)
	return m
}

type stageMetrics struct {
	ok, filtered, rejected, retried, dead prometheus.Counter
	process, batch, batchSize             prometheus.Observer
}

func (m *Metrics) forStage(name string) stageMetrics {
	return stageMetrics{
		ok:        m.messages.WithLabelValues(name, OutcomeOK),
		filtered:  m.messages.WithLabelValues(name, OutcomeFiltered),
		rejected:  m.messages.WithLabelValues(name, OutcomeRejected),
		retried:   m.messages.WithLabelValues(name, OutcomeRetried),
		dead:      m.messages.WithLabelValues(name, OutcomeDeadLettered),
		process:   m.process.WithLabelValues(name),
		batch:     m.batch.WithLabelValues(name),
		batchSize: m.batchSize.WithLabelValues(name),
	}
}
