// Package ingest owns the first stage: it reads raw agent events from
// ESCAI_IN, applies the envelope checks of package events (size, depth,
// UTF-8, attributes, identifiers, subject/envelope agreement) and stores each
// event on its escai.valid subject, or dead-letters it with the reason.
// Injection and field-aware validation are a later step (pkg/security/validate).
package ingest

import (
	"context"

	"github.com/escai-framework/escai/internal/stage"
	"github.com/escai-framework/escai/pkg/events"
)

// Stage names the stage, its input stream and durable.
var Stage = stage.Config{Name: "ingest", Stream: events.StreamIn, Consumer: "ingest"}

// Processor validates envelopes. Build it with New; it is safe for
// concurrent use.
type Processor struct {
	limits events.Limits
}

var _ stage.Processor = (*Processor)(nil)

// New returns a processor enforcing lim.
func New(lim events.Limits) *Processor { return &Processor{limits: lim} }

// Process implements stage.Processor. The payload is forwarded byte for
// byte: ingest judges an event, it does not rewrite it.
func (p *Processor) Process(_ context.Context, in *stage.Message) ([]stage.Output, error) {
	ev, _, err := events.DecodeFromSubject(in.Subject, in.Data, p.limits)
	if err != nil {
		return nil, stage.Permanent(events.Code(err), events.FieldOf(err), err)
	}
	subject, err := ev.Subject(events.StageValid)
	if err != nil {
		return nil, stage.Permanent(events.Code(err), events.FieldOf(err), err)
	}
	return []stage.Output{{Subject: subject, Data: in.Data, MsgID: events.MsgID(events.StageValid, ev)}}, nil
}
