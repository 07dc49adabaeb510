package events

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

func FuzzDecode(f *testing.F) {
	seeds := [][]byte{
		validBase(),
		benchEnvelope,
		plus(member{"sessionid", `"s-1"`}, member{"traceparent", `"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"`}, member{"escaipii", `{"n":1}`}),
		with("data", nested(31)),
		with("data", nested(32)),
		[]byte(nested(1000)),
		with("id", "\"a\xffb\""),
		with("x\xc3", `1`),
		plus(member{"tenant", `"other"`}),
		plus(member{`\u0074enant`, `"other"`}),
		with("data", `{"s":"\"{[","t":"\\","u":"\\\"[["}`),
		with("id", `"\"{[\\"`),
		with("time", `"2025-03-01T23:59:59.999999999-07:30"`),
		with("time", `"0000-01-01T00:00:00+01:00"`),
		with("datacontenttype", `"application/json; charset=utf-8"`),
		plus(member{"data_base64", `"AAAA"`}),
		[]byte(`{}`),
		[]byte(`[]`),
		[]byte(`{"a":}`),
		[]byte(``),
		append(validBase(), " x"...),
	}
	for _, s := range seeds {
		f.Add(s)
	}
	lim := Limits{MaxBytes: 64 << 10, MaxDepth: 16}
	f.Fuzz(func(t *testing.T, raw []byte) {
		e, err := Decode(raw, lim)
		if err != nil {
			if e != nil {
				t.Fatalf("envelope returned with error %v", err)
			}
			if c := Code(err); c == "" || c == "invalid" {
				t.Fatalf("error without a reason code: %v", err)
			}
			if f := FieldOf(err); len(f) > maxEcho || strings.ContainsFunc(f, func(r rune) bool { return r < 0x20 || r >= 0x7f }) {
				t.Fatalf("unsafe field %q", f)
			}
			return
		}
		if e == nil {
			t.Fatal("nil envelope without error")
		}
		// Decode accepts nothing that encoding/json rejects.
		if !json.Valid(raw) {
			t.Fatalf("accepted invalid JSON %q", raw)
		}
		if err := e.Validate(); err != nil {
			t.Fatalf("decoded envelope does not Validate: %v", err)
		}
		agreeWithEncodingJSON(t, raw, e)
		out, err := e.MarshalJSON()
		if err != nil {
			t.Fatalf("MarshalJSON: %v", err)
		}
		e2, err := Decode(out, lim)
		if err != nil {
			t.Fatalf("Decode(MarshalJSON()): %v\nin:  %q\nout: %q", err, raw, out)
		}
		if !e.Time.Equal(e2.Time) {
			t.Fatalf("time changed: %v -> %v", e.Time, e2.Time)
		}
		e2.Time = e.Time
		if !reflect.DeepEqual(e, e2) {
			t.Fatalf("round trip changed the envelope:\n%#v\n%#v", e, e2)
		}
		if _, err := e.Subject(StageIn); err != nil {
			t.Fatalf("a valid envelope has no subject: %v", err)
		}
	})
}

func FuzzParseEventSubject(f *testing.F) {
	for _, s := range []string{
		"escai.in.acme.agent-1.tool.call",
		"escai.rejected.acme.agent-1",
		"escai.clean.t.a.a.b.c.d.e.f.g.h",
		"escai.in..a.b",
		"escai.in.acme.*.x",
		"escai.in.acme.a.>",
		"escai.audit.0",
		"escai.rejected._unknown._unknown",
		"escai.valid.acme.a.x.",
		"escai.in.acme.a b.x",
		"escai.in.acmé.a.x",
		"escai.in.t.a.\xff",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, subj string) {
		s, err := ParseEventSubject(subj)
		if err != nil {
			if Code(err) != "invalid_subject" || FieldOf(err) != "subject" {
				t.Fatalf("error %v has code %q field %q", err, Code(err), FieldOf(err))
			}
			return
		}
		typ := s.EventType()
		if s.Stage == StageRejected {
			typ = ""
		}
		rebuilt, err := EventSubject(s.Stage, s.Tenant, s.Agent, typ)
		if err != nil {
			t.Fatalf("EventSubject(%+v): %v", s, err)
		}
		if rebuilt != subj || s.String() != subj {
			t.Fatalf("rebuilt %q / String %q from %q", rebuilt, s.String(), subj)
		}
		if strings.ContainsAny(subj, "*> \t\r\n") {
			t.Fatalf("accepted %q", subj)
		}
		e := &Envelope{Tenant: s.Tenant, AgentID: s.Agent, Type: typ}
		if err := CheckSubject(e, s); err != nil {
			t.Fatalf("CheckSubject on matching envelope: %v", err)
		}
	})
}

// agreeWithEncodingJSON is the parser-differential check: encoding/json
// must read the same attributes from an accepted input as Decode did.
func agreeWithEncodingJSON(t *testing.T, raw []byte, e *Envelope) {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("encoding/json refuses accepted input: %v", err)
	}
	str := func(k string) string {
		var s string
		if v, ok := m[k]; ok {
			if err := json.Unmarshal(v, &s); err != nil {
				t.Fatalf("attribute %q: %v", k, err)
			}
		}
		return s
	}
	for k, got := range map[string]string{
		"specversion": e.SpecVersion, "id": e.ID, "source": e.Source, "type": e.Type,
		"datacontenttype": e.DataContentType, "tenant": e.Tenant, "agentid": e.AgentID,
		"sessionid": e.SessionID, "traceparent": e.TraceParent,
	} {
		if want := str(k); got != want {
			t.Fatalf("attribute %q: Decode read %q, encoding/json %q", k, got, want)
		}
	}
	var tm time.Time
	if err := json.Unmarshal(m["time"], &tm); err != nil || !tm.Equal(e.Time) {
		t.Fatalf("time: Decode read %v, encoding/json %v (%v)", e.Time, tm, err)
	}
	n := 0
	for k, v := range m {
		switch k {
		case "specversion", "id", "source", "type", "time", "datacontenttype", "tenant", "agentid", "sessionid", "traceparent":
			n++
		case "data":
			n++
			if string(v) != string(e.Data) {
				t.Fatalf("data: Decode read %q, encoding/json %q", e.Data, v)
			}
		default:
			if got, ok := e.Extensions[k]; !ok || string(got) != string(v) {
				t.Fatalf("extension %q: Decode read %q, encoding/json %q", k, got, v)
			}
		}
	}
	if len(m) != n+len(e.Extensions) {
		t.Fatalf("encoding/json sees %d attributes, Decode %d", len(m), n+len(e.Extensions))
	}
}
