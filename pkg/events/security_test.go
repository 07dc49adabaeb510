package events

import (
	"strings"
	"testing"
	"time"
)

func TestNewSecurityEvent(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	cases := map[string]string{
		"short id":           "evt-1",
		"id at the limit":    strings.Repeat("a", 128),
		"multibyte at limit": strings.Repeat("é", 64),
	}
	for name, id := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := &Envelope{SpecVersion: "1.0", ID: id, Source: "urn:a", Type: "escai.tool.call", Time: now, Tenant: "acme", AgentID: "agent-1"}
			se, err := NewSecurityEvent("validation", "ingest", e, map[string]any{"threats": 2}, now)
			if err != nil {
				t.Fatal(err)
			}
			if se.Subject != "escai.security.validation" || se.MsgID != "security:validation:acme:agent-1:"+id {
				t.Fatalf("subject %q msgid %q", se.Subject, se.MsgID)
			}
			got, err := Decode(se.Body, DefaultLimits())
			if err != nil {
				t.Fatalf("the report does not decode: %v", err)
			}
			if got.Tenant != "acme" || got.AgentID != "agent-1" || got.Type != "escai.security.validation" || string(got.Data) != `{"threats":2}` {
				t.Fatalf("report %+v", got)
			}
		})
	}
	if _, err := NewSecurityEvent("bad.kind", "ingest", &Envelope{}, nil, now); err == nil {
		t.Fatal("a kind with a dot was accepted")
	}
}
