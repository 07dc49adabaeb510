// Package piiworker owns the PII stage: it reads ESCAI_VALID, detects and
// masks personal data and secrets in each event's data with
// pkg/security/pii, and stores it on its tenant's clean stream
// (ESCAI_CLEAN_<tenant>), creating that stream the first time a tenant
// appears. Every event with findings is reported on escai.security.pii with
// counts per type, never values.
package piiworker

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/escai-framework/escai/internal/stage"
	"github.com/escai-framework/escai/pkg/events"
	"github.com/escai-framework/escai/pkg/security/pii"
)

// Stage names the stage, its input stream and durable.
var Stage = stage.Config{Name: "pii-worker", Stream: events.StreamValid, Consumer: "pii-worker"}

// EnsureTenantFunc creates a tenant's clean stream and its consumers if
// they do not exist; it must be idempotent.
type EnsureTenantFunc func(ctx context.Context, tenant string) error

// Status is the escaipii attribute of an event that was not masked:
// "detected" (detect-and-report mode) with its counts.
type Status struct {
	Status string     `json:"status"`
	Counts pii.Counts `json:"counts"`
}

// StatusDetected marks an event scanned but deliberately left unmasked
// (ESCAI_PII_AUTO_MASK=false, development and testing only).
const StatusDetected = "detected"

// Report is the data of an escai.security.pii event.
type Report struct {
	EventID string     `json:"event_id"`
	Type    string     `json:"event_type"`
	Masked  bool       `json:"masked"`
	Counts  pii.Counts `json:"counts"`
}

// Processor masks events and routes them to their clean subject. Safe for
// concurrent use.
type Processor struct {
	limits  events.Limits
	ensure  EnsureTenantFunc
	masker  *pii.Masker
	mask    bool
	metrics *Metrics
	now     func() time.Time
	known   sync.Map // tenant → struct{}: clean stream known to exist
}

var _ stage.Processor = (*Processor)(nil)

// New returns a processor. With mask false events are scanned and reported
// but forwarded unmasked (configuration refuses that outside development
// and testing). ensure is called once per tenant per process.
func New(lim events.Limits, masker *pii.Masker, mask bool, ensure EnsureTenantFunc, metrics *Metrics) *Processor {
	return &Processor{limits: lim, masker: masker, mask: mask, ensure: ensure, metrics: metrics, now: time.Now}
}

// Process implements stage.Processor.
func (p *Processor) Process(ctx context.Context, in *stage.Message) ([]stage.Output, error) {
	// ESCAI_VALID is written by ingest only, but a stage never trusts its
	// input more than the broker's permissions: decode strictly again.
	ev, _, err := events.DecodeFromSubject(in.Subject, in.Data, p.limits)
	if err != nil {
		return nil, stage.Permanent(events.Code(err), events.FieldOf(err), err)
	}
	var counts pii.Counts
	if p.mask {
		// MaskEnvelope binds ev.Tenant into encrypt-strategy tokens, so
		// `escai pii reveal --tenant` opens them for that tenant only.
		if counts, err = p.masker.MaskEnvelope(ev); err != nil {
			// The data is valid JSON (it decoded); a failure here is ours,
			// and an unmasked event must never pass: dead-letter it.
			return nil, stage.Permanent("pii_mask_failed", "data", err)
		}
	} else {
		if _, counts, err = p.masker.MaskData(ev.Data); err != nil {
			return nil, stage.Permanent("pii_scan_failed", "data", err)
		}
		if err := ev.SetExtension(pii.ExtensionName, Status{Status: StatusDetected, Counts: counts}); err != nil {
			return nil, stage.Permanent("invalid_attribute", pii.ExtensionName, err)
		}
	}
	p.metrics.detected(counts)
	data, err := ev.MarshalJSON()
	if err != nil {
		return nil, stage.Permanent("invalid_attribute", "", err)
	}
	subject, err := ev.Subject(events.StageClean)
	if err != nil {
		return nil, stage.Permanent(events.Code(err), events.FieldOf(err), err)
	}
	if _, ok := p.known.Load(ev.Tenant); !ok {
		if err := p.ensure(ctx, ev.Tenant); err != nil {
			return nil, fmt.Errorf("ensure clean stream for tenant: %w", err) // transient: retried
		}
		p.known.Store(ev.Tenant, struct{}{})
	}
	outs := []stage.Output{{Subject: subject, Data: data, MsgID: events.MsgID(events.StageClean, ev)}}
	if counts.Total() > 0 {
		se, err := events.NewSecurityEvent("pii", "pii-worker", ev, Report{EventID: ev.ID, Type: ev.Type, Masked: p.mask, Counts: counts}, p.now())
		if err != nil {
			return nil, err
		}
		outs = append(outs, stage.Output{Subject: se.Subject, Data: se.Body, MsgID: se.MsgID})
	}
	return outs, nil
}

// Metrics are the PII instruments.
type Metrics struct{ detections *prometheus.CounterVec }

// NewMetrics registers escai_pii_detections_total{type} on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{detections: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "escai_pii_detections_total", Help: "Personal data and secrets found by the PII stage, by type.",
	}, []string{"type"})}
	reg.MustRegister(m.detections)
	return m
}

func (m *Metrics) detected(c pii.Counts) {
	if m == nil {
		return
	}
	for t, n := range c {
		m.detections.WithLabelValues(t).Add(float64(n))
	}
}
