package auditwriter

import (
	"bytes"
	"encoding/json"
	"slices"
)

// actorKind is the BlindIndex kind of actors. It must never change: the
// references already in records and in the index are made with it.
const actorKind = "actor"

// actorKeys are the top-level data attributes that name who caused an
// event, in order of preference: "actor" (the operator in ESCAI's own
// security events: audit queries, shreds, PII reveals), then the
// OpenTelemetry end-user attributes an agent framework records for the
// person it acts for.
var actorKeys = []string{"actor", "user.id", "enduser.id"}

// quotedActorKeys are actorKeys as they appear in JSON, for the pre-check
// every record runs.
var quotedActorKeys = func() [][]byte {
	q := make([][]byte, len(actorKeys))
	for i, k := range actorKeys {
		q[i] = []byte(`"` + k + `"`)
	}
	return q
}()

// maxActorValue bounds the identity that is hashed; longer values are not
// an identity.
const maxActorValue = 1024

// ActorOf returns who caused an event, from its data: the string value of
// the first of "actor", "user.id" or "enduser.id" among data's top-level
// keys, or "" when there is none. Records carry only its blind index, so
// the identity itself never reaches a header or Redis; `escai audit query
// --actor` computes the same reference to look it up. The writer sees the
// clean event, after PII masking: an actor that is personal data (an
// email) is its masked form here, stable under the hash strategy.
func ActorOf(data json.RawMessage) string {
	// Cheap pre-check: most events name no actor, and they must not pay
	// for a parse.
	if !slices.ContainsFunc(quotedActorKeys, func(k []byte) bool { return bytes.Contains(data, k) }) {
		return ""
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(data, &top) != nil {
		return ""
	}
	for _, k := range actorKeys {
		var s string
		if raw, ok := top[k]; ok && json.Unmarshal(raw, &s) == nil && s != "" && len(s) <= maxActorValue {
			return s
		}
	}
	return ""
}

// validActorRef reports whether s has the form of a blind index: 22
// base64url characters.
func validActorRef(s string) bool {
	if len(s) != 22 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// ActorRef is the blind index under which records caused by actor are
// indexed, for a query: the same keys as the writer's (ESCAI_SECRET_KEY).
func ActorRef(keys interface {
	BlindIndex(kind, value string) string
}, actor string) string {
	return keys.BlindIndex(actorKind, actor)
}
