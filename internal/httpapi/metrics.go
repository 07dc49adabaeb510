package httpapi

import (
	"errors"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/escai-framework/escai/pkg/security/auth"
)

// Outcome labels of escai_http_events_total. Low cardinality by design:
// never a tenant, agent or event id.
const (
	OutcomeAccepted    = "accepted"
	OutcomeRejected    = "rejected"
	OutcomeForbidden   = "forbidden"
	OutcomeRateLimited = "rate_limited"
	OutcomeFailed      = "failed" // the request was answered 503 or 500
)

// metrics are the instruments of one handler.
type metrics struct {
	requests *prometheus.CounterVec
	events   map[string]prometheus.Counter
	authFail *prometheus.CounterVec
	duration prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	ev := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "escai_http_events_total",
		Help: "Events received over HTTP, by outcome (accepted, rejected, forbidden, rate_limited, failed).",
	}, []string{"outcome"})
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "escai_http_requests_total",
			Help: "HTTP ingest requests answered, by status code.",
		}, []string{"code"}),
		events: make(map[string]prometheus.Counter, 5),
		authFail: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "escai_http_auth_failures_total",
			Help: "HTTP ingest requests refused by authentication, by reason (missing, invalid, expired, unknown_key, algorithm, audience, issuer, scope).",
		}, []string{"reason"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "escai_http_request_duration_seconds",
			Help:    "Time to answer an HTTP ingest request, including the wait for PubAcks.",
			Buckets: prometheus.ExponentialBuckets(1e-4, 3, 12),
		}),
	}
	for _, o := range []string{OutcomeAccepted, OutcomeRejected, OutcomeForbidden, OutcomeRateLimited, OutcomeFailed} {
		m.events[o] = ev.WithLabelValues(o)
	}
	for _, c := range []prometheus.Collector{m.requests, ev, m.authFail, m.duration} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *metrics) request(code int) { m.requests.WithLabelValues(strconv.Itoa(code)).Inc() }

// authReason maps a verification error to its label.
func authReason(err error) string {
	switch {
	case errors.Is(err, auth.ErrTokenExpired):
		return "expired"
	case errors.Is(err, auth.ErrUnknownKey):
		return "unknown_key"
	case errors.Is(err, auth.ErrAlgorithm):
		return "algorithm"
	case errors.Is(err, auth.ErrAudience):
		return "audience"
	case errors.Is(err, auth.ErrIssuer):
		return "issuer"
	}
	return "invalid"
}
