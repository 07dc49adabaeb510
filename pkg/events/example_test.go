package events_test

import (
	"fmt"

	"github.com/escai-framework/escai/pkg/events"
)

// A stage decodes what arrived on a subject and, on failure, fills the
// dead-letter headers from the error.
func ExampleDecodeFromSubject() {
	body := []byte(`{"specversion":"1.0","id":"evt-1","source":"/agents/agent-1",` +
		`"type":"escai.tool.call","time":"2025-03-01T12:00:00Z",` +
		`"tenant":"acme","agentid":"agent-1","data":{"tool":"search"}}`)

	e, _, err := events.DecodeFromSubject("escai.in.acme.agent-1.tool.call", body, events.DefaultLimits())
	if err != nil {
		panic(err)
	}
	next, _ := e.Subject(events.StageValid)
	fmt.Println(next, events.MsgID(events.StageValid, e))

	// The same body published on another agent's subject is refused.
	_, s, err := events.DecodeFromSubject("escai.in.acme.agent-2.tool.call", body, events.DefaultLimits())
	dead, _ := events.EventSubject(events.StageRejected, s.Tenant, s.Agent, "")
	fmt.Println(dead)
	fmt.Println(events.HeaderRejectCode+":", events.Code(err))
	fmt.Println(events.HeaderRejectField+":", events.FieldOf(err))
	fmt.Println(events.HeaderRejectReason+":", err)
	// Output:
	// escai.valid.acme.agent-1.tool.call valid:acme:agent-1:evt-1
	// escai.rejected.acme.agent-2
	// Escai-Reject-Code: subject_mismatch
	// Escai-Reject-Field: agentid
	// Escai-Reject-Reason: events: attribute "agentid": subject mismatch: subject has "agent-2", envelope has "agent-1"
}

// Stages add findings as extension attributes, never by rewriting the id.
func ExampleEnvelope_SetExtension() {
	e, err := events.Decode([]byte(`{"specversion":"1.0","id":"evt-1","source":"/a",`+
		`"type":"escai.prompt","time":"2025-03-01T12:00:00+01:00","tenant":"acme","agentid":"a1","data":"hi"}`), events.Limits{})
	if err != nil {
		panic(err)
	}
	if err := e.SetExtension("escaipii", map[string]int{"EMAIL": 0}); err != nil {
		panic(err)
	}
	out, _ := e.MarshalJSON()
	fmt.Println(string(out))
	// Output:
	// {"specversion":"1.0","id":"evt-1","source":"/a","type":"escai.prompt","time":"2025-03-01T11:00:00Z","tenant":"acme","agentid":"a1","escaipii":{"EMAIL":0},"data":"hi"}
}
