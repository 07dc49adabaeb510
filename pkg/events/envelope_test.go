package events

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

func goEnvelope() *Envelope {
	return &Envelope{
		SpecVersion:     SpecVersion,
		ID:              "evt-0001",
		Source:          "https://agents.example.com/acme/agent-1",
		Type:            "escai.tool.call",
		Time:            time.Date(2025, 3, 1, 12, 34, 56, 789e6, time.UTC),
		DataContentType: "application/json",
		Data:            json.RawMessage(`{"tool":"sql"}`),
		Tenant:          "acme",
		AgentID:         "agent-1",
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		mod   func(e *Envelope)
		err   error
		field string
	}{
		"valid":         {mod: func(*Envelope) {}},
		"valid minimal": {mod: func(e *Envelope) { e.DataContentType, e.Data = "", nil }},
		"valid with everything": {mod: func(e *Envelope) {
			e.SessionID, e.TraceParent = "s1", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
		}},
		"valid empty data":         {mod: func(e *Envelope) { e.Data = json.RawMessage{} }},
		"specversion missing":      {mod: func(e *Envelope) { e.SpecVersion = "" }, err: ErrMissingAttribute, field: "specversion"},
		"specversion other":        {mod: func(e *Envelope) { e.SpecVersion = "1.1" }, err: ErrUnsupported, field: "specversion"},
		"id missing":               {mod: func(e *Envelope) { e.ID = "" }, err: ErrMissingAttribute, field: "id"},
		"id invalid utf8":          {mod: func(e *Envelope) { e.ID = "a\xff" }, err: ErrInvalidAttribute, field: "id"},
		"id 129":                   {mod: func(e *Envelope) { e.ID = strings.Repeat("i", 129) }, err: ErrInvalidAttribute, field: "id"},
		"source missing":           {mod: func(e *Envelope) { e.Source = "" }, err: ErrMissingAttribute, field: "source"},
		"source invalid utf8":      {mod: func(e *Envelope) { e.Source = "/\xff" }, err: ErrInvalidAttribute, field: "source"},
		"type missing":             {mod: func(e *Envelope) { e.Type = "" }, err: ErrMissingAttribute, field: "type"},
		"type bad":                 {mod: func(e *Envelope) { e.Type = "escai.a b" }, err: ErrInvalidAttribute, field: "type"},
		"time missing":             {mod: func(e *Envelope) { e.Time = time.Time{} }, err: ErrMissingAttribute, field: "time"},
		"time year 10000":          {mod: func(e *Envelope) { e.Time = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }, err: ErrInvalidAttribute, field: "time"},
		"time negative year":       {mod: func(e *Envelope) { e.Time = time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC) }, err: ErrInvalidAttribute, field: "time"},
		"datacontenttype bad":      {mod: func(e *Envelope) { e.DataContentType = "text/json" }, err: ErrInvalidAttribute, field: "datacontenttype"},
		"datacontenttype bad utf8": {mod: func(e *Envelope) { e.DataContentType = "application/json; a=\"\xff\"" }, err: ErrInvalidAttribute, field: "datacontenttype"},
		"tenant missing":           {mod: func(e *Envelope) { e.Tenant = "" }, err: ErrMissingAttribute, field: "tenant"},
		"tenant bad":               {mod: func(e *Envelope) { e.Tenant = "a.b" }, err: ErrInvalidIdentifier, field: "tenant"},
		"agentid missing":          {mod: func(e *Envelope) { e.AgentID = "" }, err: ErrMissingAttribute, field: "agentid"},
		"agentid bad":              {mod: func(e *Envelope) { e.AgentID = "a>" }, err: ErrInvalidIdentifier, field: "agentid"},
		"sessionid bad":            {mod: func(e *Envelope) { e.SessionID = "S" }, err: ErrInvalidIdentifier, field: "sessionid"},
		"traceparent bad":          {mod: func(e *Envelope) { e.TraceParent = "00-x" }, err: ErrInvalidAttribute, field: "traceparent"},
		"data not json":            {mod: func(e *Envelope) { e.Data = json.RawMessage(`{`) }, err: ErrInvalidAttribute, field: "data"},
		"extension name bad":       {mod: func(e *Envelope) { e.Extensions = map[string]json.RawMessage{"Bad": json.RawMessage(`1`)} }, err: ErrInvalidAttribute, field: "Bad"},
		"extension known name":     {mod: func(e *Envelope) { e.Extensions = map[string]json.RawMessage{"tenant": json.RawMessage(`"x"`)} }, err: ErrInvalidAttribute, field: "tenant"},
		"extension data_base64":    {mod: func(e *Envelope) { e.Extensions = map[string]json.RawMessage{"data_base64": json.RawMessage(`"x"`)} }, err: ErrInvalidAttribute, field: "data_base64"},
		"extension empty value":    {mod: func(e *Envelope) { e.Extensions = map[string]json.RawMessage{"x": nil} }, err: ErrInvalidAttribute, field: "x"},
		"extension invalid json":   {mod: func(e *Envelope) { e.Extensions = map[string]json.RawMessage{"x": json.RawMessage(`{"a"}`)} }, err: ErrInvalidAttribute, field: "x"},
		"33 extensions": {mod: func(e *Envelope) {
			e.Extensions = map[string]json.RawMessage{}
			for _, m := range exts("x", 33) {
				e.Extensions[m.k] = json.RawMessage(m.v)
			}
		}, err: ErrTooLarge},
		"extension smallest is told": {mod: func(e *Envelope) {
			e.Extensions = map[string]json.RawMessage{"zz": nil, "b": nil, "yy": nil, "c": json.RawMessage(`1`), "x": nil}
		}, err: ErrInvalidAttribute, field: "b"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := goEnvelope()
			tc.mod(e)
			err := e.Validate()
			if tc.err == nil {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			wantErr(t, err, tc.err, tc.field)
			if _, merr := e.MarshalJSON(); merr == nil {
				t.Fatal("MarshalJSON accepted an envelope that Validate refuses")
			}
		})
	}
}

func TestSetExtension(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		name  string
		v     any
		want  string
		err   error
		field string
	}{
		"object":           {name: "escaivalidation", v: map[string]any{"verdict": "clean"}, want: `{"verdict":"clean"}`},
		"string":           {name: "escaipii", v: "masked", want: `"masked"`},
		"nil":              {name: "x", v: nil, want: `null`},
		"raw message":      {name: "x", v: json.RawMessage(`{ "a" : 1 }`), want: `{"a":1}`},
		"name 20":          {name: strings.Repeat("a", 20), v: 1, want: `1`},
		"name 21":          {name: strings.Repeat("a", 21), v: 1, err: ErrInvalidAttribute, field: strings.Repeat("a", 21)},
		"upper-case":       {name: "Pii", v: 1, err: ErrInvalidAttribute, field: "Pii"},
		"underscore":       {name: "escai_pii", v: 1, err: ErrInvalidAttribute, field: "escai_pii"},
		"empty":            {name: "", v: 1, err: ErrInvalidAttribute, field: ""},
		"known tenant":     {name: "tenant", v: "other", err: ErrInvalidAttribute, field: "tenant"},
		"known id":         {name: "id", v: "other", err: ErrInvalidAttribute, field: "id"},
		"known data":       {name: "data", v: 1, err: ErrInvalidAttribute, field: "data"},
		"known time":       {name: "time", v: 1, err: ErrInvalidAttribute, field: "time"},
		"known type":       {name: "type", v: 1, err: ErrInvalidAttribute, field: "type"},
		"unmarshalable":    {name: "x", v: math.Inf(1), err: ErrInvalidAttribute, field: "x"},
		"control in name":  {name: "a\n", v: 1, err: ErrInvalidAttribute, field: `a\n`},
		"data_base64 name": {name: "data_base64", v: "AA", err: ErrInvalidAttribute, field: "data_base64"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := goEnvelope()
			err := e.SetExtension(tc.name, tc.v)
			if tc.err != nil {
				wantErr(t, err, tc.err, tc.field)
				if len(e.Extensions) != 0 {
					t.Fatalf("a refused extension was stored: %v", e.Extensions)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, ok := e.Extension(tc.name)
			if !ok || string(got) != tc.want {
				t.Fatalf("Extension = %s, %v; want %s", got, ok, tc.want)
			}
			if err := e.Validate(); err != nil {
				t.Fatalf("envelope with extension does not validate: %v", err)
			}
		})
	}
}

func TestSetExtensionLimit(t *testing.T) {
	t.Parallel()
	e := goEnvelope()
	for _, m := range exts("x", MaxExtensions) {
		if err := e.SetExtension(m.k, m.v); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.SetExtension("x0", "replaced"); err != nil {
		t.Fatalf("replacing an extension at the limit: %v", err)
	}
	wantErr(t, e.SetExtension("one", 1), ErrTooLarge, "")
	if err := e.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestExtensionAbsent(t *testing.T) {
	t.Parallel()
	var e Envelope
	if v, ok := e.Extension("x"); ok || v != nil {
		t.Fatalf("Extension on empty envelope = %s, %v", v, ok)
	}
}

func TestEventTypeTokens(t *testing.T) {
	t.Parallel()
	tests := map[string]struct{ typ, want string }{
		"two tokens": {"escai.tool.call", "tool.call"},
		"one token":  {"escai.error", "error"},
		"no prefix":  {"tool.call", ""},
		"empty":      {"", ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := &Envelope{Type: tc.typ}
			if got := e.EventTypeTokens(); got != tc.want {
				t.Fatalf("EventTypeTokens(%q) = %q, want %q", tc.typ, got, tc.want)
			}
		})
	}
}

// TestMarshalJSONGolden pins the attribute order, the omission of empty
// optional attributes, UTC time, sorted extensions and data last.
func TestMarshalJSONGolden(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		mod  func(e *Envelope)
		want string
	}{
		"full": {
			mod: func(e *Envelope) {
				e.Time = time.Date(2025, 3, 1, 14, 34, 56, 789e6, time.FixedZone("", 2*3600))
				e.SessionID = "s-1"
				e.TraceParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
				e.Extensions = map[string]json.RawMessage{"zeta": json.RawMessage(`[1, 2]`), "alpha": json.RawMessage(`{"b" :1}`)}
				e.Data = json.RawMessage("{ \"q\" : \"<a&b>\" }")
			},
			want: `{"specversion":"1.0","id":"evt-0001","source":"https://agents.example.com/acme/agent-1","type":"escai.tool.call","time":"2025-03-01T12:34:56.789Z","datacontenttype":"application/json","tenant":"acme","agentid":"agent-1","sessionid":"s-1","traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01","alpha":{"b" :1},"zeta":[1, 2],"data":{ "q" : "<a&b>" }}`,
		},
		"minimal": {
			mod:  func(e *Envelope) { e.DataContentType, e.Data = "", nil },
			want: `{"specversion":"1.0","id":"evt-0001","source":"https://agents.example.com/acme/agent-1","type":"escai.tool.call","time":"2025-03-01T12:34:56.789Z","tenant":"acme","agentid":"agent-1"}`,
		},
		"escapes": {
			mod:  func(e *Envelope) { e.ID, e.Source, e.Data = "a\"b\\c/é\u2028<", "/p?q=\"x\"", nil },
			want: `{"specversion":"1.0","id":"a\"b\\c/é` + "\u2028" + `<","source":"/p?q=\"x\"","type":"escai.tool.call","time":"2025-03-01T12:34:56.789Z","datacontenttype":"application/json","tenant":"acme","agentid":"agent-1"}`,
		},
		"nanoseconds": {
			mod:  func(e *Envelope) { e.Time = time.Date(2025, 3, 1, 0, 0, 0, 1, time.UTC); e.Data = nil },
			want: `{"specversion":"1.0","id":"evt-0001","source":"https://agents.example.com/acme/agent-1","type":"escai.tool.call","time":"2025-03-01T00:00:00.000000001Z","datacontenttype":"application/json","tenant":"acme","agentid":"agent-1"}`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := goEnvelope()
			tc.mod(e)
			got, err := e.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Fatalf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestAppendString(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"plain":        "abc",
		"quote":        `a"b`,
		"backslash":    `a\b`,
		"controls":     "\x00\x01\b\f\n\r\t\x1f\x7f",
		"unicode":      "é€😀\u2028\u2029",
		"invalid utf8": "a\xffb\xc3",
		"html":         "<script>&</script>",
		"empty":        "",
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			out := appendString(nil, in)
			var back string
			if err := json.Unmarshal(out, &back); err != nil {
				t.Fatalf("appendString(%q) = %s is not JSON: %v", in, out, err)
			}
			want := strings.ToValidUTF8(in, "\ufffd")
			if name == "invalid utf8" {
				want = "a\ufffdb\ufffd"
			}
			if back != want {
				t.Fatalf("round trip of %q gave %q", in, back)
			}
		})
	}
}

// TestRoundTrip checks Decode → MarshalJSON → Decode gives the same
// envelope and that data and unknown extensions keep their bytes.
func TestRoundTrip(t *testing.T) {
	t.Parallel()
	tests := map[string][]byte{
		"base":                validBase(),
		"all attributes":      plus(member{"sessionid", `"s-1"`}, member{"traceparent", `"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"`}),
		"odd data bytes":      with("data", "{ \"b\":1 , \"a\" : [ 1.50 , 1e2, \"\\u00e9\\/\" ] ,\"a\":null }"),
		"extensions":          plus(member{"escaipii", "{\"counts\" : {\"EMAIL\":1} }"}, member{"escaivalidation", `{"verdict":"clean"}`}, member{"zz", `"\u0041"`}),
		"offset time":         with("time", `"2025-03-01T23:59:59.999999999-07:30"`),
		"escaped attributes":  with("id", `"\u0041\"\\\/\ud83d\ude00\ud800"`),
		"escaped key":         plus(member{`\u0078`, `1`}),
		"charset":             with("datacontenttype", `"application/json ; charset=\"utf-8\""`),
		"data scalar":         with("data", `false`),
		"no data":             without("data"),
		"whitespace document": []byte(" {\n \"specversion\":\"1.0\", \"id\":\"a\", \"source\":\"s\", \"type\":\"escai.x\", \"time\":\"2025-01-01T00:00:00Z\", \"tenant\":\"t\", \"agentid\":\"a\", \"data\": [ ] \n} "),
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e1, err := Decode(in, Limits{})
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			out, err := e1.MarshalJSON()
			if err != nil {
				t.Fatalf("MarshalJSON: %v", err)
			}
			e2, err := Decode(out, Limits{})
			if err != nil {
				t.Fatalf("Decode(MarshalJSON): %v\n%s", err, out)
			}
			assertSameEnvelope(t, e1, e2)
			var orig map[string]json.RawMessage
			if err := json.Unmarshal(in, &orig); err != nil {
				t.Fatal(err)
			}
			if d, ok := orig["data"]; ok && string(e2.Data) != string(d) {
				t.Fatalf("data changed: %s -> %s", d, e2.Data)
			}
			for k, v := range e2.Extensions {
				if string(orig[k]) != string(v) {
					t.Fatalf("extension %q changed: %s -> %s", k, orig[k], v)
				}
			}
		})
	}
}

func assertSameEnvelope(t *testing.T, a, b *Envelope) {
	t.Helper()
	if !a.Time.Equal(b.Time) {
		t.Fatalf("time changed: %v -> %v", a.Time, b.Time)
	}
	ac, bc := *a, *b
	ac.Time, bc.Time = time.Time{}, time.Time{}
	if !reflect.DeepEqual(ac, bc) {
		t.Fatalf("envelopes differ:\n%#v\n%#v", ac, bc)
	}
}

// TestJSONPackageUsesEnvelopeCodec guards the value receiver of
// MarshalJSON and the strict UnmarshalJSON: an Envelope inside another
// document must not fall back to reflection.
func TestJSONPackageUsesEnvelopeCodec(t *testing.T) {
	t.Parallel()
	type line struct {
		Envelope Envelope `json:"envelope"`
	}
	l := line{Envelope: *goEnvelope()}
	b, err := json.Marshal(l)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"specversion":"1.0"`) || strings.Contains(string(b), "SpecVersion") {
		t.Fatalf("json.Marshal did not use MarshalJSON: %s", b)
	}
	var back line
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	assertSameEnvelope(t, &l.Envelope, &back.Envelope)

	dup := `{"envelope":` + string(plus(member{"tenant", `"other"`})) + `}`
	err = json.Unmarshal([]byte(dup), &back)
	wantErr(t, err, ErrDuplicateAttribute, "tenant")

	err = json.Unmarshal([]byte(`{"envelope":null}`), &back)
	wantErr(t, err, ErrMalformedJSON, "")

	if _, err := json.Marshal(Envelope{}); err == nil {
		t.Fatal("json.Marshal accepted an empty envelope")
	}
}
