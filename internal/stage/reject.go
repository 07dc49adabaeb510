package stage

import (
	"strconv"

	"github.com/nats-io/nats.go"

	"github.com/escai-framework/escai/pkg/events"
)

// RejectOutput is the dead-letter copy of an input, in the one format every
// reader of ESCAI_REJECTED relies on: the bytes unchanged, the reason in the
// Escai-Reject-* headers (stage, code, reason, field), where it came from in
// Escai-Source-Subject and Escai-Source-Sequence, on the tenant/agent of the
// subject the broker accepted (or the _unknown fallback when even that is
// not trustworthy), with Msg-Id rejected:<stream>:<sequence>.
//
// Inputs that did not come from a stream (HTTP ingest) keep the format but
// must replace MsgID with one derived from their content, and may drop the
// source headers that mean nothing for them.
func RejectOutput(stageName string, in *Message, pe *PermanentError) Output {
	subject := events.RejectedSubjectFallback()
	if s, err := events.ParseEventSubject(in.Subject); err == nil {
		if rs, err := events.EventSubject(events.StageRejected, s.Tenant, s.Agent, ""); err == nil {
			subject = rs
		}
	}
	h := nats.Header{}
	h.Set(events.HeaderRejectStage, stageName)
	h.Set(events.HeaderRejectCode, headerSafe(pe.Code, 64))
	h.Set(events.HeaderRejectReason, headerSafe(pe.Error(), 512))
	if pe.Field != "" {
		h.Set(events.HeaderRejectField, headerSafe(pe.Field, 128))
	}
	h.Set(events.HeaderSourceSubject, headerSafe(in.Subject, 512))
	h.Set(events.HeaderSourceSequence, strconv.FormatUint(in.Sequence, 10))
	return Output{
		Subject: subject,
		Data:    in.Data,
		Header:  h,
		MsgID:   "rejected:" + in.Stream + ":" + strconv.FormatUint(in.Sequence, 10),
	}
}
