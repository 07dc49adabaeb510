// Package ingest owns the first stage: it reads raw agent events from
// ESCAI_IN, applies the envelope checks of package events (size, depth,
// UTF-8, attributes, identifiers, subject/envelope agreement), the rate
// limits, and the field-aware validation of pkg/security/validate, then
// stores each event on its escai.valid subject carrying escaivalidation, or
// dead-letters it with the reason. Every threat found is also reported on
// escai.security.validation (types, fields and fingerprints, never values).
package ingest

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/escai-framework/escai/internal/stage"
	"github.com/escai-framework/escai/pkg/events"
	"github.com/escai-framework/escai/pkg/security/validate"
)

// Stage names the stage, its input stream and durable.
var Stage = stage.Config{Name: "ingest", Stream: events.StreamIn, Consumer: "ingest"}

// Processor validates envelopes. Build it with New; it is safe for
// concurrent use.
type Processor struct {
	limits    events.Limits
	rate      *RateLimiter
	validator *validate.Validator
	level     string
	metrics   *Metrics
	service   string
	now       func() time.Time
}

var _ stage.Processor = (*Processor)(nil)

// Option configures a Processor.
type Option func(*Processor)

// WithRateLimiter rejects events over their tenant's or agent's rate with
// reason rate_limited (dead-lettered, never silently dropped).
func WithRateLimiter(l *RateLimiter) Option { return func(p *Processor) { p.rate = l } }

// WithValidator runs field-aware validation at level (the name recorded in
// escaivalidation).
func WithValidator(v *validate.Validator, level string) Option {
	return func(p *Processor) { p.validator, p.level = v, level }
}

// WithMetrics counts threats and rejections.
func WithMetrics(m *Metrics) Option { return func(p *Processor) { p.metrics = m } }

// WithService names the reporter of security events ("ingest",
// "ingest-http").
func WithService(name string) Option { return func(p *Processor) { p.service = name } }

// New returns a processor enforcing lim.
func New(lim events.Limits, opts ...Option) *Processor {
	p := &Processor{limits: lim, service: "ingest", now: time.Now}
	for _, o := range opts {
		o(p)
	}
	return p
}

// CodeRateLimited is the reason of an event over its rate.
const CodeRateLimited = "rate_limited"

// Validation is the escaivalidation attribute of a valid event.
type Validation struct {
	Level   string            `json:"level"`
	Verdict string            `json:"verdict"`
	Threats []validate.Threat `json:"threats"`
}

// Report is the data of an escai.security.validation event.
type Report struct {
	EventID string            `json:"event_id"`
	Type    string            `json:"event_type"`
	Verdict string            `json:"verdict"`
	Counts  map[string]int    `json:"counts"`
	Threats []validate.Threat `json:"threats"`
	Reasons []validate.Reason `json:"reasons,omitempty"`
}

// Process implements stage.Processor.
func (p *Processor) Process(_ context.Context, in *stage.Message) ([]stage.Output, error) {
	ev, _, err := events.DecodeFromSubject(in.Subject, in.Data, p.limits)
	if err != nil {
		p.metrics.rejected(events.Code(err))
		return nil, stage.Permanent(events.Code(err), events.FieldOf(err), err)
	}
	// A redelivery was already counted when it first arrived.
	if p.rate != nil && in.NumDelivered <= 1 && !p.rate.Allow(ev.Tenant, ev.AgentID) {
		p.metrics.rejected(CodeRateLimited)
		return nil, stage.Permanent(CodeRateLimited, "", errors.New("over the tenant's or agent's event rate"))
	}
	subject, err := ev.Subject(events.StageValid)
	if err != nil {
		return nil, stage.Permanent(events.Code(err), events.FieldOf(err), err)
	}
	if p.validator == nil {
		return []stage.Output{{Subject: subject, Data: in.Data, MsgID: events.MsgID(events.StageValid, ev)}}, nil
	}

	res := p.validator.CheckEvent(ev)
	p.metrics.threats(res.Threats)
	var also []stage.Output
	// Informational tags (SQL in a sql field) are recorded on the event but
	// are nothing to report.
	if actionable(res.Threats) || res.Verdict == validate.VerdictRejected {
		report, err := p.report(ev, &res)
		if err != nil {
			return nil, err
		}
		also = append(also, report)
	}
	if res.Verdict == validate.VerdictRejected {
		r := res.Reasons[0]
		p.metrics.rejected(r.Code)
		return nil, &stage.PermanentError{Code: r.Code, Field: r.Field, Err: res.Err(), Also: also}
	}
	threats := res.Threats
	if threats == nil {
		threats = []validate.Threat{}
	}
	if err := ev.SetExtension("escaivalidation", Validation{Level: p.level, Verdict: string(res.Verdict), Threats: threats}); err != nil {
		return nil, stage.Permanent("invalid_attribute", "escaivalidation", err)
	}
	data, err := ev.MarshalJSON()
	if err != nil {
		return nil, stage.Permanent("invalid_attribute", "", err)
	}
	return append([]stage.Output{{Subject: subject, Data: data, MsgID: events.MsgID(events.StageValid, ev)}}, also...), nil
}

func actionable(ts []validate.Threat) bool {
	for _, t := range ts {
		if !t.Informational {
			return true
		}
	}
	return false
}

func (p *Processor) report(ev *events.Envelope, res *validate.Result) (stage.Output, error) {
	counts := make(map[string]int, len(res.Threats))
	for _, t := range res.Threats {
		counts[t.Type]++
	}
	se, err := events.NewSecurityEvent("validation", p.service, ev, Report{
		EventID: ev.ID, Type: ev.Type, Verdict: string(res.Verdict),
		Counts: counts, Threats: res.Threats, Reasons: res.Reasons,
	}, p.now())
	if err != nil {
		return stage.Output{}, err // transient by construction: retried
	}
	return stage.Output{Subject: se.Subject, Data: se.Body, MsgID: se.MsgID}, nil
}

// Metrics are the validation instruments (low-cardinality labels only).
type Metrics struct {
	threatsTotal    *prometheus.CounterVec
	rejectionsTotal *prometheus.CounterVec
}

// NewMetrics registers escai_validation_threats_total{type} and
// escai_validation_rejections_total{reason} on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		threatsTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "escai_validation_threats_total", Help: "Threats found by ingest validation, by type.",
		}, []string{"type"}),
		rejectionsTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "escai_validation_rejections_total", Help: "Events ingest rejected, by reason code.",
		}, []string{"reason"}),
	}
	reg.MustRegister(m.threatsTotal, m.rejectionsTotal)
	return m
}

func (m *Metrics) threats(ts []validate.Threat) {
	if m == nil {
		return
	}
	for _, t := range ts {
		m.threatsTotal.WithLabelValues(t.Type).Inc()
	}
}

func (m *Metrics) rejected(reason string) {
	if m != nil {
		m.rejectionsTotal.WithLabelValues(reason).Inc()
	}
}
