package events

import (
	"strings"
	"testing"
)

// benchEnvelope is a realistic tool-call event of about 1 KiB: the shape
// agents send most often.
var benchEnvelope = []byte(`{"specversion":"1.0","id":"01JNQ8ZK6V3C2T7Y4W9XGB5M0E","source":"https://agents.acme.example/research/agent-7","type":"escai.tool.call","time":"2025-03-01T12:34:56.789123Z","datacontenttype":"application/json","tenant":"acme","agentid":"research-agent-7","sessionid":"sess-2025-03-01-0042","traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",` +
	`"data":{"tool":"sql_query","call_id":"call_7f3a9c","arguments":{"sql":"SELECT id, name, email, created_at FROM customers WHERE region = 'emea' AND status = 'active' ORDER BY created_at DESC LIMIT 50","database":"analytics","timeout_ms":5000},` +
	`"reasoning":"The user asked for the most recent active customers in EMEA; querying the analytics replica keeps load off the primary.",` +
	`"context":{"step":4,"plan":["understand request","find table","query","summarise"],"model":"gpt-4o-2024-08-06","temperature":0.2,"tokens":{"prompt":1832,"completion":96}},` +
	`"policy":{"allow_write":false,"max_rows":1000,"redact":["email","phone"]},"attachments":[],"retry":0}}`)

func BenchmarkDecode(b *testing.B) {
	if _, err := Decode(benchEnvelope, DefaultLimits()); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(benchEnvelope)))
	for b.Loop() {
		if _, err := Decode(benchEnvelope, DefaultLimits()); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeTooDeep(b *testing.B) {
	deep := []byte(`{"data":` + nested(1000) + `}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(deep)))
	for b.Loop() {
		_, _ = Decode(deep, DefaultLimits())
	}
}

func BenchmarkMarshalJSON(b *testing.B) {
	e, err := Decode(benchEnvelope, DefaultLimits())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(benchEnvelope)))
	for b.Loop() {
		if _, err := e.MarshalJSON(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseEventSubject(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseEventSubject("escai.in.acme.research-agent-7.tool.call"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValidIdentifier(b *testing.B) {
	s := strings.Repeat("a", 64)
	b.ReportAllocs()
	for b.Loop() {
		ValidIdentifier(s)
	}
}

func TestBenchEnvelopeIsAbout1KiB(t *testing.T) {
	t.Parallel()
	if n := len(benchEnvelope); n < 900 || n > 1200 {
		t.Fatalf("bench envelope is %d bytes", n)
	}
}
