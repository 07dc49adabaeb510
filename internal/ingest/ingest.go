// Package ingest owns the first stage: it reads raw agent events from
// ESCAI_IN, applies the envelope checks of package events (size, depth,
// UTF-8, attributes, identifiers, subject/envelope agreement) and stores each
// event on its escai.valid subject, or dead-letters it with the reason.
// Injection and field-aware validation are a later step (pkg/security/validate).
package ingest

import (
	"context"
	"errors"

	"github.com/escai-framework/escai/internal/stage"
	"github.com/escai-framework/escai/pkg/events"
)

// Stage names the stage, its input stream and durable.
var Stage = stage.Config{Name: "ingest", Stream: events.StreamIn, Consumer: "ingest"}

// Processor validates envelopes. Build it with New; it is safe for
// concurrent use.
type Processor struct {
	limits events.Limits
	rate   *RateLimiter
}

var _ stage.Processor = (*Processor)(nil)

// Option configures a Processor.
type Option func(*Processor)

// WithRateLimiter rejects events over their tenant's or agent's rate with
// reason rate_limited (dead-lettered, never silently dropped).
func WithRateLimiter(l *RateLimiter) Option { return func(p *Processor) { p.rate = l } }

// New returns a processor enforcing lim.
func New(lim events.Limits, opts ...Option) *Processor {
	p := &Processor{limits: lim}
	for _, o := range opts {
		o(p)
	}
	return p
}

// CodeRateLimited is the reason of an event over its rate.
const CodeRateLimited = "rate_limited"

// Process implements stage.Processor. The payload is forwarded byte for
// byte: ingest judges an event, it does not rewrite it.
func (p *Processor) Process(_ context.Context, in *stage.Message) ([]stage.Output, error) {
	ev, _, err := events.DecodeFromSubject(in.Subject, in.Data, p.limits)
	if err != nil {
		return nil, stage.Permanent(events.Code(err), events.FieldOf(err), err)
	}
	// A redelivery was already counted when it first arrived.
	if p.rate != nil && in.NumDelivered <= 1 && !p.rate.Allow(ev.Tenant, ev.AgentID) {
		return nil, stage.Permanent(CodeRateLimited, "", errors.New("over the tenant's or agent's event rate"))
	}
	subject, err := ev.Subject(events.StageValid)
	if err != nil {
		return nil, stage.Permanent(events.Code(err), events.FieldOf(err), err)
	}
	return []stage.Output{{Subject: subject, Data: in.Data, MsgID: events.MsgID(events.StageValid, ev)}}, nil
}
