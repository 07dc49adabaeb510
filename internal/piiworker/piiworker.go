// Package piiworker owns the PII stage: it reads ESCAI_VALID and stores
// each event on its tenant's clean stream (ESCAI_CLEAN_<tenant>), creating
// that stream the first time a tenant appears. At this step it forwards
// events unchanged and marks them "escaipii":{"status":"not_scanned"}; the
// detector and masker of pkg/security/pii replace that in the PII issue.
package piiworker

import (
	"context"
	"fmt"
	"sync"

	"github.com/escai-framework/escai/internal/stage"
	"github.com/escai-framework/escai/pkg/events"
)

// Stage names the stage, its input stream and durable.
var Stage = stage.Config{Name: "pii-worker", Stream: events.StreamValid, Consumer: "pii-worker"}

// EnsureTenantFunc creates a tenant's clean stream and its consumers if
// they do not exist; it must be idempotent.
type EnsureTenantFunc func(ctx context.Context, tenant string) error

// Status is the escaipii attribute this processor writes.
type Status struct {
	Status string         `json:"status"`
	Counts map[string]int `json:"counts,omitempty"`
}

// Processor forwards events to their clean subject. Safe for concurrent use.
type Processor struct {
	limits events.Limits
	ensure EnsureTenantFunc
	known  sync.Map // tenant → struct{}: clean stream known to exist
}

var _ stage.Processor = (*Processor)(nil)

// New returns a processor; ensure is called once per tenant per process.
func New(lim events.Limits, ensure EnsureTenantFunc) *Processor {
	return &Processor{limits: lim, ensure: ensure}
}

// Process implements stage.Processor.
func (p *Processor) Process(ctx context.Context, in *stage.Message) ([]stage.Output, error) {
	// ESCAI_VALID is written by ingest only, but a stage never trusts its
	// input more than the broker's permissions: decode strictly again.
	ev, _, err := events.DecodeFromSubject(in.Subject, in.Data, p.limits)
	if err != nil {
		return nil, stage.Permanent(events.Code(err), events.FieldOf(err), err)
	}
	if err := ev.SetExtension("escaipii", Status{Status: "not_scanned"}); err != nil {
		return nil, stage.Permanent("invalid_attribute", "escaipii", err)
	}
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
	return []stage.Output{{Subject: subject, Data: data, MsgID: events.MsgID(events.StageClean, ev)}}, nil
}
