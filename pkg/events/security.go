package events

import (
	"encoding/json"
	"time"
	"unicode/utf8"
)

// SecurityEvent is what a stage reports on escai.security.<kind> about an
// event it handled: counts, types and fingerprints, never the payload. The
// audit writer seals every one.
type SecurityEvent struct {
	Subject string
	MsgID   string
	Body    []byte
}

// NewSecurityEvent builds the report of kind (validation, pii, …) that
// service makes about the event e. Its id is derived from kind and the
// event, so a redelivered event reports once; tenant and agent are the
// event's, so the report lands in the same audit partition.
func NewSecurityEvent(kind, service string, e *Envelope, data any, now time.Time) (SecurityEvent, error) {
	subject, err := SecuritySubject(kind)
	if err != nil {
		return SecurityEvent{}, err
	}
	if !ValidIdentifier(service) {
		return SecurityEvent{}, &FieldError{Field: "service", Err: ErrInvalidIdentifier, Detail: identifierRule + ", got " + quote(service)}
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return SecurityEvent{}, err
	}
	id := kind + "-" + e.ID
	if len(id) > maxID {
		// Keep the id within the limit, on a rune boundary; the Msg-Id
		// below carries the whole event id for deduplication.
		cut := maxID
		for cut > 0 && !utf8.RuneStart(id[cut]) {
			cut--
		}
		id = id[:cut]
	}
	se := Envelope{
		SpecVersion:     SpecVersion,
		ID:              id,
		Source:          "urn:escai:service:" + service,
		Type:            TypePrefix + "security." + kind,
		Time:            now.UTC(),
		DataContentType: jsonContentType,
		Data:            raw,
		Tenant:          e.Tenant,
		AgentID:         e.AgentID,
		SessionID:       e.SessionID,
		TraceParent:     e.TraceParent,
	}
	body, err := se.MarshalJSON()
	if err != nil {
		return SecurityEvent{}, err
	}
	return SecurityEvent{Subject: subject, MsgID: "security:" + kind + ":" + e.Tenant + ":" + e.AgentID + ":" + e.ID, Body: body}, nil
}
