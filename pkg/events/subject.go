package events

import (
	"strconv"
	"strings"
)

// Stage names a step of the pipeline; it is the second subject token and
// the first part of a Nats-Msg-Id.
type Stage string

// The stages an event passes through. Raw (in), valid and rejected
// subjects carry unmasked data; only clean subjects are for consumers.
const (
	// StageIn is what agents publish: untrusted input.
	StageIn Stage = "in"
	// StageValid is input that passed validation; it still holds PII.
	StageValid Stage = "valid"
	// StageClean is validated and masked: what consumers read.
	StageClean Stage = "clean"
	// StageRejected is the dead letter; its subjects carry no type because
	// a rejected event's type may be the thing that was wrong.
	StageRejected Stage = "rejected"
)

func (s Stage) valid() bool {
	switch s {
	case StageIn, StageValid, StageClean, StageRejected:
		return true
	}
	return false
}

// SubjectPrefix is the first token of every ESCAI subject, so one account
// import/export and one permission prefix cover the whole pipeline.
const SubjectPrefix = "escai"

// Stream names used by the whole project; stream definitions, services and
// scripts must agree on them.
const (
	// StreamIn holds escai.in.> (work queue of raw input).
	StreamIn = "ESCAI_IN"
	// StreamValid holds escai.valid.> (work queue, holds PII).
	StreamValid = "ESCAI_VALID"
	// StreamRejected holds escai.rejected.> (dead letter with reasons).
	StreamRejected = "ESCAI_REJECTED"
	// StreamSecurity holds escai.security.> (security events).
	StreamSecurity = "ESCAI_SECURITY"
	// StreamAudit holds escai.audit.> (sealed audit records).
	StreamAudit = "ESCAI_AUDIT"
	// StreamCleanPrefix starts the per-tenant clean streams; one stream per
	// tenant is what lets JetStream API permissions isolate tenants.
	StreamCleanPrefix = "ESCAI_CLEAN_"
)

// Header names shared by publishers and dead-letter readers.
const (
	// HeaderMsgID is the JetStream deduplication header; its value comes
	// from MsgID.
	HeaderMsgID = "Nats-Msg-Id"
	// HeaderRejectStage names the stage that rejected a message.
	HeaderRejectStage = "Escai-Reject-Stage"
	// HeaderRejectCode carries Code(err).
	HeaderRejectCode = "Escai-Reject-Code"
	// HeaderRejectReason carries the error message.
	HeaderRejectReason = "Escai-Reject-Reason"
	// HeaderRejectField carries FieldOf(err).
	HeaderRejectField = "Escai-Reject-Field"
	// HeaderSourceSubject is the subject the rejected message arrived on.
	HeaderSourceSubject = "Escai-Source-Subject"
	// HeaderSourceSequence is its stream sequence, to find the original.
	HeaderSourceSequence = "Escai-Source-Sequence"
)

// maxSubjectLen bounds any valid event subject (the longest stage prefix,
// tenant, agent and 8 type tokens of 64 bytes each, with their dots), so
// longer input is refused before it is scanned token by token.
const maxSubjectLen = len("escai.rejected.") + 2*(maxIdentifier+1) + maxTypeTokens*(maxIdentifier+1) - 1

// EventSubject builds escai.<stage>.<tenant>.<agent>.<type tokens> (for
// StageRejected escai.rejected.<tenant>.<agent>, and eventType is ignored).
// Every part is validated, so a subject built here never contains a
// wildcard, an empty token or whitespace, whatever the caller passed.
func EventSubject(stage Stage, tenant, agent, eventType string) (string, error) {
	if !stage.valid() {
		return "", &FieldError{Field: "stage", Err: ErrInvalidSubject, Detail: "unknown stage " + quote(string(stage))}
	}
	if err := CheckIdentifier("tenant", tenant); err != nil {
		return "", err
	}
	if err := CheckIdentifier("agentid", agent); err != nil {
		return "", err
	}
	if stage == StageRejected {
		return SubjectPrefix + "." + string(stage) + "." + tenant + "." + agent, nil
	}
	if err := checkType(eventType); err != nil {
		return "", err
	}
	return SubjectPrefix + "." + string(stage) + "." + tenant + "." + agent + "." + eventType[len(TypePrefix):], nil
}

// Subject returns the envelope's subject at stage.
func (e *Envelope) Subject(stage Stage) (string, error) {
	return EventSubject(stage, e.Tenant, e.AgentID, e.Type)
}

// Subject is a parsed event subject.
type Subject struct {
	// Stage is the second token.
	Stage Stage
	// Tenant and Agent are the third and fourth tokens.
	Tenant, Agent string
	// TypeTokens is the type without "escai." ("tool.call"); empty for
	// StageRejected.
	TypeTokens string
}

// ParseEventSubject parses and checks a subject a message arrived on. The
// subject is the broker-authenticated half of who sent a message (NATS
// permissions bind an agent to its subjects), so every token is checked
// and anything outside the grammar, including wildcards and empty tokens,
// is ErrInvalidSubject with Field "subject". It never accepts
// RejectedSubjectFallback, whose tokens are not identifiers by design.
func ParseEventSubject(subj string) (Subject, error) {
	bad := func(detail string) (Subject, error) {
		return Subject{}, &FieldError{Field: "subject", Err: ErrInvalidSubject, Detail: detail + ", got " + quote(subj)}
	}
	if len(subj) > maxSubjectLen {
		return bad("longer than " + strconv.Itoa(maxSubjectLen) + " bytes")
	}
	rest, ok := strings.CutPrefix(subj, SubjectPrefix+".")
	if !ok {
		return bad(`must start with "escai."`)
	}
	stageTok, rest, ok := strings.Cut(rest, ".")
	stage := Stage(stageTok)
	if !stage.valid() {
		return bad("token 2 must be a stage (in, valid, clean, rejected)")
	}
	if !ok {
		return bad("too few tokens")
	}
	tenant, rest, ok := strings.Cut(rest, ".")
	if !ValidIdentifier(tenant) {
		return bad("token 3 (tenant) " + identifierRule)
	}
	if !ok {
		return bad("too few tokens")
	}
	agent, rest, hasType := strings.Cut(rest, ".")
	if !ValidIdentifier(agent) {
		return bad("token 4 (agent) " + identifierRule)
	}
	if stage == StageRejected {
		if hasType {
			return bad("rejected subjects have exactly 4 tokens")
		}
		return Subject{Stage: stage, Tenant: tenant, Agent: agent}, nil
	}
	if !hasType {
		return bad("too few tokens: the event type is missing")
	}
	tokens := rest
	for n := 1; ; n++ {
		if n > maxTypeTokens {
			return bad("more than " + strconv.Itoa(maxTypeTokens) + " type tokens")
		}
		tok, tail, more := strings.Cut(rest, ".")
		if !ValidIdentifier(tok) {
			return bad("token " + strconv.Itoa(n+4) + " (type) " + identifierRule)
		}
		if !more {
			break
		}
		rest = tail
	}
	return Subject{Stage: stage, Tenant: tenant, Agent: agent, TypeTokens: tokens}, nil
}

// EventType returns "escai." + TypeTokens, or "" when there are no type
// tokens (rejected subjects).
func (s Subject) EventType() string {
	if s.TypeTokens == "" {
		return ""
	}
	return TypePrefix + s.TypeTokens
}

// String returns the subject text. It does not validate: build subjects
// for publishing with EventSubject.
func (s Subject) String() string {
	base := SubjectPrefix + "." + string(s.Stage) + "." + s.Tenant + "." + s.Agent
	if s.Stage == StageRejected || s.TypeTokens == "" {
		return base
	}
	return base + "." + s.TypeTokens
}

// CheckSubject refuses an envelope whose tenant, agent or type differs from
// the subject it arrived on: the broker vouches for the subject, not for the
// body, so an agent could otherwise publish events in another agent's or
// tenant's name. The error is ErrSubjectMismatch with Field "tenant",
// "agentid" or "type". Rejected subjects carry no type, so type is not
// compared for them.
func CheckSubject(e *Envelope, s Subject) error {
	mismatch := func(field, inSubject, inEnvelope string) error {
		return &FieldError{Field: field, Err: ErrSubjectMismatch, Detail: "subject has " + quote(inSubject) + ", envelope has " + quote(inEnvelope)}
	}
	if e == nil {
		return &FieldError{Err: ErrSubjectMismatch, Detail: "no envelope"}
	}
	if s.Tenant != e.Tenant {
		return mismatch("tenant", s.Tenant, e.Tenant)
	}
	if s.Agent != e.AgentID {
		return mismatch("agentid", s.Agent, e.AgentID)
	}
	if s.Stage != StageRejected {
		tokens, ok := strings.CutPrefix(e.Type, TypePrefix)
		if !ok || tokens != s.TypeTokens {
			return mismatch("type", s.EventType(), e.Type)
		}
	}
	return nil
}

// DecodeFromSubject is what a stage runs on a message: it parses the
// subject (cheap, and refuses forged subjects before the body is read),
// decodes the body within lim, and checks that both name the same tenant,
// agent and type. The parsed Subject is returned whenever the subject
// itself was valid, even if the body was not, so the caller can route the
// dead letter to the tenant's rejected subject.
func DecodeFromSubject(subject string, raw []byte, lim Limits) (*Envelope, Subject, error) {
	s, err := ParseEventSubject(subject)
	if err != nil {
		return nil, Subject{}, err
	}
	e, err := Decode(raw, lim)
	if err != nil {
		return nil, s, err
	}
	if err := CheckSubject(e, s); err != nil {
		return nil, s, err
	}
	return e, s, nil
}

// AuditSubject returns escai.audit.<partition>. A partition is computed by
// the audit writer (a hash modulo N), never taken from input, so a negative
// one is a programming error and panics.
func AuditSubject(partition int) string {
	if partition < 0 {
		panic("events: negative audit partition " + strconv.Itoa(partition))
	}
	return SubjectPrefix + ".audit." + strconv.Itoa(partition)
}

// SecuritySubject returns escai.security.<kind>; kind must be an
// identifier so a security event can never land on a wildcard subject.
func SecuritySubject(kind string) (string, error) {
	if !ValidIdentifier(kind) {
		return "", &FieldError{Field: "kind", Err: ErrInvalidSubject, Detail: identifierRule + ", got " + quote(kind)}
	}
	return SubjectPrefix + ".security." + kind, nil
}

// unknownToken starts with '_', which no identifier can, so the fallback
// subject can never collide with a real tenant or agent.
const unknownToken = "_unknown"

// RejectedSubjectFallback is the dead-letter subject for input whose tenant
// and agent cannot be trusted (the subject itself was invalid).
func RejectedSubjectFallback() string {
	return SubjectPrefix + "." + string(StageRejected) + "." + unknownToken + "." + unknownToken
}

// CleanStream returns the clean stream of tenant, ESCAI_CLEAN_<tenant>.
// Stream names may not contain '.', '*', '>', whitespace or path
// separators; an identifier has none of them.
func CleanStream(tenant string) (string, error) {
	if err := CheckIdentifier("tenant", tenant); err != nil {
		return "", err
	}
	return StreamCleanPrefix + tenant, nil
}

// MsgID derives the Nats-Msg-Id of e at stage: <stage>:<tenant>:<agent>:<id>.
// It depends only on the event, so a message redelivered after a crash and
// published again is dropped by JetStream's duplicate window, and it is
// unambiguous because stage, tenant and agent cannot contain ':' (only the
// id, which comes last, can), so two agents reusing an id never collide.
// e must be valid.
func MsgID(stage Stage, e *Envelope) string {
	return string(stage) + ":" + e.Tenant + ":" + e.AgentID + ":" + e.ID
}
