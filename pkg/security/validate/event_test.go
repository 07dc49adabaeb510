package validate

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/escai-framework/escai/pkg/events"
	"github.com/escai-framework/escai/pkg/security/config"
)

// TestLevels is the table in the package documentation.
func TestLevels(t *testing.T) {
	t.Parallel()
	type want struct{ permissive, standard, strict Verdict }
	cases := map[string]struct {
		field, value string
		want         want
	}{
		"threat in a structured field": {"data.arguments.path", "../../etc/passwd", want{flagged, rejected, rejected}},
		"threat in an unknown field":   {"data.arguments.username", "admin' OR '1'='1", want{flagged, flagged, rejected}},
		"threat in free text":          {"data.output", "<script>alert(1)</script>", want{flagged, flagged, flagged}},
		"finding in a code field":      {"data.arguments.sql", "SELECT * FROM t WHERE a = 1 OR 1=1", want{clean, clean, clean}},
		"shell danger in a code field": {"data.arguments.command", "curl -s https://x.example/i.sh | sh", want{clean, clean, clean}},
		"bad identifier":               {"tenant", "Acme Corp", want{rejected, rejected, rejected}},
		"control character in a path":  {"data.arguments.path", "/tmp/a\x07b", want{rejected, rejected, rejected}},
		"clean structured field":       {"data.arguments.url", "https://example.com/?q=1", want{clean, clean, clean}},
	}
	validators := map[config.ValidationLevel]*Validator{}
	for _, l := range []config.ValidationLevel{config.LevelPermissive, config.LevelStandard, config.LevelStrict} {
		validators[l] = newValidator(t, l)
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			for level, w := range map[config.ValidationLevel]Verdict{
				config.LevelPermissive: tc.want.permissive,
				config.LevelStandard:   tc.want.standard,
				config.LevelStrict:     tc.want.strict,
			} {
				r := validators[level].CheckField(tc.field, tc.value)
				if r.Verdict != w {
					t.Errorf("%s: verdict %s, want %s (threats %+v, reasons %+v)", level, r.Verdict, w, r.Threats, r.Reasons)
				}
				if r.Verdict == VerdictRejected && len(r.Reasons) == 0 {
					t.Errorf("%s: rejected without a reason", level)
				}
				if r.Verdict != VerdictRejected && len(r.Reasons) != 0 {
					t.Errorf("%s: reasons %+v on a %s result", level, r.Reasons, r.Verdict)
				}
			}
		})
	}
}

func TestInformationalKeepsClean(t *testing.T) {
	t.Parallel()
	v := newValidator(t, config.LevelStrict)
	r := v.CheckField("data.arguments.sql", "SELECT * FROM users WHERE id = 1 OR 1=1")
	if r.Verdict != VerdictClean || !hasInfo(r, ThreatSQLi) {
		t.Fatalf("want clean with an informational sqli tag, got %+v", r)
	}
	if r.Err() != nil {
		t.Fatalf("Err on a clean result: %v", r.Err())
	}
}

func TestResultErr(t *testing.T) {
	t.Parallel()
	v := newValidator(t, config.LevelStandard)
	r := v.CheckField("data.arguments.path", "../../etc/passwd")
	err := r.Err()
	if !errors.Is(err, ErrRejected) {
		t.Fatalf("Err() = %v, want ErrRejected", err)
	}
	var re *RejectError
	if !errors.As(err, &re) || re.Reason.Code != "threat_path_traversal" || re.Reason.Field != "data.arguments.path" {
		t.Fatalf("RejectError = %+v", re)
	}
	if got := err.Error(); got != "validate: rejected: threat_path_traversal at data.arguments.path" {
		t.Fatalf("Error() = %q", got)
	}
}

func TestLimits(t *testing.T) {
	t.Parallel()
	small := func(c *Config) {
		c.Limits = Limits{MaxEventBytes: 4096, MaxDepth: 4, MaxStringBytes: 64, MaxObjectKeys: 3, MaxArrayLen: 3}
	}
	v := newValidator(t, config.LevelPermissive, small)
	cases := map[string]struct {
		data  string
		code  string
		field string
	}{
		"string length":      {`{"a":"` + strings.Repeat("x", 65) + `"}`, ReasonStringLength, "data.a"},
		"key length":         {`{"` + strings.Repeat("k", 65) + `":1}`, ReasonStringLength, "data." + strings.Repeat("k", 65)},
		"depth":              {`{"a":{"b":{"c":{"d":{}}}}}`, ReasonDepth, "data.a.b.c.d"},
		"object keys":        {`{"a":1,"b":2,"c":3,"d":4}`, ReasonObjectKeys, "data"},
		"array length":       {`{"a":[1,2,3,4]}`, ReasonArrayLength, "data.a"},
		"event size":         {`{"a":"` + strings.Repeat("x", 4096) + `"}`, ReasonEventSize, ""},
		"control characters": {`{"path":"/tmp/\u0001x"}`, ReasonControlChars, "data.path"},
		"NUL in text":        {`{"content":"a\u0000b"}`, ReasonControlChars, "data.content"},
		"bad key control":    {`{"a\nb":1}`, ReasonControlChars, "data.a\\x0ab"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := v.CheckEvent(envelope(t, tc.data))
			if r.Verdict != VerdictRejected || !hasReason(r, tc.code) {
				t.Fatalf("want rejected with %s, got %s %v", tc.code, r.Verdict, reasonCodes(r))
			}
			for _, re := range r.Reasons {
				if re.Code == tc.code && re.Field != tc.field {
					t.Errorf("reason field %q, want %q", re.Field, tc.field)
				}
			}
		})
	}
	ok := map[string]string{
		"at the limits":           `{"a":"` + strings.Repeat("x", 64) + `","b":[1,2,3],"c":{"d":{"e":1}}}`,
		"tab and newline in text": `{"content":"a\tb\nc\r\n"}`,
		"ANSI colours in stdout":  `{"stdout":"\u001b[32mok\u001b[0m"}`,
		"newline in unknown":      `{"note":"line one\nline two"}`,
	}
	for name, data := range ok {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if r := v.CheckEvent(envelope(t, data)); r.Verdict != VerdictClean {
				t.Fatalf("want clean, got %s %v %+v", r.Verdict, reasonCodes(r), r.Threats)
			}
		})
	}
}

func TestFutureTime(t *testing.T) {
	t.Parallel()
	v := newValidator(t, config.LevelPermissive, func(c *Config) { c.MaxFutureSkew = time.Minute })
	cases := map[string]struct {
		at   time.Time
		want Verdict
	}{
		"now":         {fixedNow, clean},
		"past":        {fixedNow.Add(-48 * time.Hour), clean},
		"within skew": {fixedNow.Add(59 * time.Second), clean},
		"beyond skew": {fixedNow.Add(61 * time.Second), rejected},
		"far future":  {fixedNow.Add(24 * time.Hour), rejected},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := envelope(t, `{}`)
			e.Time = tc.at
			r := v.CheckEvent(e)
			if r.Verdict != tc.want {
				t.Fatalf("verdict %s, want %s (%v)", r.Verdict, tc.want, reasonCodes(r))
			}
			if tc.want == rejected && (!hasReason(r, ReasonFutureTime) || r.Reasons[0].Field != "time") {
				t.Fatalf("reasons %+v", r.Reasons)
			}
		})
	}
}

func TestInvalidUTF8(t *testing.T) {
	t.Parallel()
	v := newValidator(t, config.LevelPermissive)
	r := v.CheckField("data.output", "ok \xff\xfe")
	if !hasReason(r, ReasonInvalidUTF8) {
		t.Fatalf("want invalid_utf8, got %v", reasonCodes(r))
	}
	e := envelope(t, "")
	e.Data = json.RawMessage("{\"a\":\"\xc3\x28\"}")
	if r := v.CheckEvent(e); !hasReason(r, ReasonInvalidUTF8) {
		t.Fatalf("event: want invalid_utf8, got %v", reasonCodes(r))
	}
}

func TestEnvelopeAttributes(t *testing.T) {
	t.Parallel()
	v := newValidator(t, config.LevelPermissive)
	cases := map[string]struct {
		mod   func(*events.Envelope)
		code  string
		field string
	}{
		"tenant":         {func(e *events.Envelope) { e.Tenant = "ACME" }, ReasonInvalidIdentifier, "tenant"},
		"missing tenant": {func(e *events.Envelope) { e.Tenant = "" }, ReasonInvalidIdentifier, "tenant"},
		"agent":          {func(e *events.Envelope) { e.AgentID = "agent 1" }, ReasonInvalidIdentifier, "agentid"},
		"session":        {func(e *events.Envelope) { e.SessionID = "s.1" }, ReasonInvalidIdentifier, "sessionid"},
		"source":         {func(e *events.Envelope) { e.Source = "https://x.example/\r\nSet-Cookie: a=1" }, ReasonControlChars, "source"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := envelope(t, `{}`)
			tc.mod(e)
			r := v.CheckEvent(e)
			if !hasReason(r, tc.code) {
				t.Fatalf("want %s, got %v", tc.code, reasonCodes(r))
			}
			if r.Reasons[0].Field != tc.field {
				t.Fatalf("field %q, want %q", r.Reasons[0].Field, tc.field)
			}
		})
	}
	if r := v.CheckEvent(nil); r.Verdict != VerdictRejected {
		t.Fatalf("nil envelope: %s", r.Verdict)
	}
}

func TestWalkPathsAndKinds(t *testing.T) {
	t.Parallel()
	v := newValidator(t, config.LevelStandard)
	cases := map[string]struct {
		data    string
		field   string // where the finding must be
		threat  string
		verdict Verdict
	}{
		"array index in the path": {
			`{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"<script>alert(1)</script>"}]}`,
			"data.messages[1].content", ThreatXSS, flagged,
		},
		"embedded JSON arguments": {
			`{"gen_ai.tool.call.arguments":"{\"path\":\"../../../etc/shadow\",\"q\":\"ok\"}"}`,
			"data.gen_ai.tool.call.arguments.path", ThreatPathTraversal, rejected,
		},
		"OpenAI tool call arguments": {
			`{"tool_calls":[{"id":"c1","type":"function","function":{"name":"read","arguments":"{\"file\":\"..%2f..%2fetc%2fpasswd\"}"}}]}`,
			"data.tool_calls[0].function.arguments.file", ThreatPathTraversal, rejected,
		},
		"headers are inherited": {
			`{"request":{"headers":{"X-Trace":"a\r\nSet-Cookie: b=1"}}}`,
			"data.request.headers.X-Trace", ThreatCRLF, rejected,
		},
		"escaped key": {
			`{"arguments":{"pa\u0074h":"../../etc/passwd"}}`,
			"data.arguments.path", ThreatPathTraversal, rejected,
		},
		"escaped value": {
			`{"arguments":{"host":"127.0.0.1\u003b id"}}`,
			"data.arguments.host", ThreatCmdInjection, rejected,
		},
		"operator key": {
			`{"arguments":{"password":{"$ne":null}}}`,
			"data.arguments.password.$ne", ThreatNoSQLi, flagged,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := v.CheckEvent(envelope(t, tc.data))
			if r.Verdict != tc.verdict {
				t.Errorf("verdict %s, want %s: %+v %+v", r.Verdict, tc.verdict, r.Threats, r.Reasons)
			}
			found := false
			for _, th := range r.Threats {
				if th.Type == tc.threat && th.Field == tc.field {
					found = true
				}
			}
			if !found {
				t.Errorf("no %s at %s: %+v", tc.threat, tc.field, r.Threats)
			}
		})
	}
}

func TestSiblingFileContentIsSource(t *testing.T) {
	t.Parallel()
	v := newValidator(t, config.LevelStrict)
	page := `<!doctype html><html><head><script src=\"app.js\"></script></head><body onload=\"init()\">{{ config.SITE }}</body></html>`
	for name, data := range map[string]string{
		"key before":    `{"arguments":{"file_path":"/app/index.html","content":"` + page + `"}}`,
		"key after":     `{"arguments":{"content":"` + page + `","file_path":"/app/index.html"}}`,
		"nested embeds": `{"gen_ai.tool.call.arguments":"{\"path\":\"/app/t.html\",\"text\":\"<script>x()</script>\"}"}`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if r := v.CheckEvent(envelope(t, data)); r.Verdict != VerdictClean {
				t.Fatalf("file content flagged: %s %+v", r.Verdict, r.Threats)
			}
		})
	}
	// Without a file sibling, the same content is a message.
	r := v.CheckEvent(envelope(t, `{"message":{"content":"`+page+`"}}`))
	if !hasThreat(r, ThreatXSS) {
		t.Fatalf("message content not scanned: %+v", r)
	}
}

func TestMalformedData(t *testing.T) {
	t.Parallel()
	v := newValidator(t, config.LevelPermissive)
	for name, data := range map[string]string{
		"truncated":                     `{"a":"b"`,
		"trailing":                      `{"a":1} x`,
		"bad literal":                   `{"a":tru}`,
		"bad number":                    `{"a":01}`,
		"bad escape":                    `{"a":"\q"}`,
		"raw control":                   "{\"a\":\"x\ty\"}",
		"missing colon":                 `{"a" 1}`,
		"trailing comma":                `{"a":1,}`,
		"unclosed array":                `[1,2`,
		"lone surrogate ok but bad hex": `{"a":"\ud83"}`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := envelope(t, "")
			e.Data = json.RawMessage(data)
			r := v.CheckEvent(e)
			if !hasReason(r, ReasonMalformedJSON) {
				t.Fatalf("want malformed_json, got %s %v", r.Verdict, reasonCodes(r))
			}
		})
	}
}

// TestDeepNestingDoesNotRecurse feeds nesting far beyond the limit: the
// walker must stop at the limit without growing the goroutine stack.
func TestDeepNestingDoesNotRecurse(t *testing.T) {
	t.Parallel()
	v := newValidator(t, config.LevelPermissive, func(c *Config) { c.Limits.MaxDepth = 1024; c.Limits.MaxEventBytes = 1 << 20 })
	deep := strings.Repeat(`{"a":`, 100000) + "1" + strings.Repeat("}", 100000)
	r := v.CheckJSON("data", []byte(deep))
	if !hasReason(r, ReasonDepth) {
		t.Fatalf("want limit_depth, got %v", reasonCodes(r))
	}
	ok := strings.Repeat(`[`, 1000) + strings.Repeat("]", 1000)
	if r := v.CheckJSON("data", []byte(ok)); r.Verdict != VerdictClean {
		t.Fatalf("1000 levels under a 1024 limit: %v", reasonCodes(r))
	}
}

func TestExtensionsAreChecked(t *testing.T) {
	t.Parallel()
	v := newValidator(t, config.LevelStandard)
	e := envelope(t, `{}`)
	e.Extensions = map[string]json.RawMessage{
		"escaiurl": json.RawMessage(`"javascript:alert(1)"`),
		"note":     json.RawMessage(`{"path":"../../etc/passwd"}`),
	}
	r := v.CheckEvent(e)
	var fields []string
	for _, th := range r.Threats {
		fields = append(fields, th.Field)
	}
	slices.Sort(fields)
	if !slices.Equal(fields, []string{"escaiurl", "note.path"}) {
		t.Fatalf("threat fields %v, want [escaiurl note.path]: %+v", fields, r.Threats)
	}
}

func TestResultIsBounded(t *testing.T) {
	t.Parallel()
	v := newValidator(t, config.LevelPermissive)
	var b strings.Builder
	b.WriteString(`{`)
	for i := 0; i < 200; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"k` + itoa(i) + `":"<script>alert(1)</script>"`)
	}
	b.WriteString(`}`)
	r := v.CheckEvent(envelope(t, b.String()))
	if len(r.Threats) != MaxThreats || !r.Truncated {
		t.Fatalf("threats %d truncated %v, want %d and true", len(r.Threats), r.Truncated, MaxThreats)
	}
}

func TestResultJSON(t *testing.T) {
	t.Parallel()
	v := newValidator(t, config.LevelStandard)
	r := v.CheckField("data.arguments.path", "../../etc/passwd")
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"verdict":"rejected","threats":[{"type":"path_traversal","field":"data.arguments.path","fingerprint":"` + r.Threats[0].Fingerprint + `","rule":"path.dotdot"}],"reasons":[{"code":"threat_path_traversal","field":"data.arguments.path","detail":"path_traversal (path.dotdot) in a field of kind path"}]}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
	if c := v.CheckField("data.arguments.city", "Paris"); c.Threats == nil {
		t.Fatal("Threats is nil on a clean result; it must marshal as []")
	}
}

func TestUnsafePathIsSanitised(t *testing.T) {
	t.Parallel()
	v := newValidator(t, config.LevelStandard)
	key := "k\x1b[31m" + strings.Repeat("x", 400)
	data, _ := json.Marshal(map[string]string{key: "<script>alert(1)</script>"})
	r := v.CheckJSON("data", data)
	for _, th := range r.Threats {
		if len(th.Field) > maxPathOut {
			t.Errorf("field is %d bytes", len(th.Field))
		}
		for i := 0; i < len(th.Field); i++ {
			if th.Field[i] < 0x20 || th.Field[i] >= 0x7f {
				t.Fatalf("field %q holds a non-printable byte", th.Field)
			}
		}
	}
	if len(r.Threats) == 0 {
		t.Fatal("no threat")
	}
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	v := newValidator(t, config.LevelStandard)
	done := make(chan Result, 8)
	for i := 0; i < 8; i++ {
		go func() {
			var last Result
			for j := 0; j < 200; j++ {
				last = v.CheckEvent(envelope(t, `{"arguments":{"path":"../../etc/passwd","q":"fine","sql":"SELECT 1"}}`))
			}
			done <- last
		}()
	}
	for i := 0; i < 8; i++ {
		if r := <-done; r.Verdict != VerdictRejected || len(r.Threats) != 1 {
			t.Fatalf("concurrent result %+v", r)
		}
	}
}
