package validate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/escai-framework/escai/pkg/security/config"
)

var fuzzPaths = []string{
	"../../../etc/passwd", "..%2f..%2f..%2fetc%2fpasswd", "%252e%252e%252f", "%c0%ae%c0%ae/%c0%af", "..%u2215..%u2215",
	`..\..\windows\win.ini`, "....//....//etc", "..;/..;/WEB-INF", "/var/www/../../etc/shadow", "%%32%65%%32%65/",
	"file:///etc/passwd", `C:\Users\me\file.txt`, "a/b/../c", "%", "%u", "%uzzzz", "%e0%80%ae", "\xc0", "．．／", "100%25",
}

// FuzzCanonicalPath checks the path canonicaliser: it never grows its
// input, a result reached in fewer rounds than the bound is stable, and
// the traversal detector accepts whatever comes out.
func FuzzCanonicalPath(f *testing.F) {
	for _, s := range fuzzPaths {
		f.Add(s)
	}
	v := newValidator(f, config.LevelStandard, func(c *Config) { c.AllowedRoots = []string{"/srv/app"} })
	f.Fuzz(func(t *testing.T, s string) {
		var d decoder
		out, rounds := d.canonical(s, false)
		if len(out) > len(s) {
			t.Fatalf("canonical grew %q (%d bytes) to %q (%d bytes)", s, len(s), out, len(out))
		}
		if rounds < maxDecodeRounds {
			var d2 decoder
			again, r2 := d2.canonical(string(out), false)
			if r2 != 0 || !bytes.Equal(again, out) {
				t.Fatalf("canonical(%q) = %q is not stable: %q after %d more rounds", s, out, again, r2)
			}
		}
		pi := analyzePath(out)
		if pi.ups < pi.maxRun || pi.aboveStart > pi.ups {
			t.Fatalf("analyzePath(%q) inconsistent: %+v", out, pi)
		}
		for _, field := range []string{"data.arguments.path", "data.arguments.filename", "data.arguments.url", "data.arguments.other"} {
			checkInvariants(t, v.CheckField(field, s))
		}
	})
}

// FuzzPercentDecode compares one round of URL decoding with net/url where
// both apply: valid %XX escapes and no IIS %uXXXX.
func FuzzPercentDecode(f *testing.F) {
	for _, s := range fuzzPaths {
		f.Add(s, false)
	}
	f.Add("a+b%20c", true)
	f.Fuzz(func(t *testing.T, s string, plus bool) {
		got, changed := percentDecodeOnce(nil, []byte(s), plus)
		if !changed && string(got) != s {
			t.Fatalf("unchanged but different: %q -> %q", s, got)
		}
		if strings.Contains(strings.ToLower(s), "%u") {
			return
		}
		unescape := url.PathUnescape
		if plus {
			unescape = url.QueryUnescape
		}
		if want, err := unescape(s); err == nil && string(got) != want {
			t.Fatalf("percentDecodeOnce(%q, %v) = %q, net/url says %q", s, plus, got, want)
		}
	})
}

// FuzzLoadRules: the policy loader never panics, its errors are
// RuleErrors, and whatever it accepts New accepts too.
func FuzzLoadRules(f *testing.F) {
	f.Add("rules:\n  - id: a\n    field: data.x\n    type: string\n    max_length: 5\n    allow: '[a-z]+'\n")
	f.Add("rules:\n  - id: b\n    field: '**.url'\n    deny: '(?i)localhost'\n    threat: ssrf\n    required: true\n")
	f.Add(`{"rules":[{"id":"c","field":"data.y","type":"integer"}]}`)
	f.Add("- id: d\n  field: data.z\n  required: yes\n")
	f.Add("rules: []\n")
	f.Add("rules:\n  - id: a\n   field: [\n")
	f.Add("rules:\n  - &a {id: x, field: y, type: string}\n  - *a\n")
	f.Add(policyFile)
	f.Add("fields: {keys: {a: sql, b*: path}, paths: [{pattern: 'data.**.x', kind: code}], no_defaults: true}\nallowed_roots: ['C:\\\\work']\n")
	f.Add("limits: {max_array_len: 1}\nmax_future_skew: 1h\n")
	f.Fuzz(func(t *testing.T, src string) {
		p, err := LoadPolicy(strings.NewReader(src), "fuzz.yaml")
		if err != nil {
			if !errors.Is(err, ErrInvalidRules) {
				t.Fatalf("error %v does not wrap ErrInvalidRules", err)
			}
			return
		}
		var c Config
		p.ApplyTo(&c)
		if _, err := New(c); err != nil {
			t.Fatalf("LoadPolicy accepted a policy that New refuses: %v\n%s", err, src)
		}
	})
}

// FuzzWalk feeds arbitrary bytes as event data. The walker must agree
// with encoding/json on what is JSON, and every result must be well
// formed.
func FuzzWalk(f *testing.F) {
	for _, d := range benchData {
		f.Add([]byte(d))
	}
	for _, s := range []string{
		`{"a":"\ud83d\ude00","b":[1,-2.5e3,true,false,null]}`, `{"arguments":"{\"path\":\"../../x\"}"}`,
		`[[[[[]]]]]`, `{"a":{"$ne":null}}`, `{"a":"\u0000"}`, `{"a" :1 ,"b":[ ]}`, `{"x":"\ud800"}`,
		`{"messages":[{"content":"<script>x()</script>","file_path":"/a"}]}`, `"just a string"`, `01`, `{"a":1}}`,
		`{"gen_ai.tool.call.arguments":"[{\"q\":\"{\\\"sql\\\":1}\"}]"}`,
	} {
		f.Add([]byte(s))
	}
	v := newValidator(f, config.LevelStandard, func(c *Config) {
		c.Limits.MaxDepth = 64
		c.Rules = []Rule{{ID: "r", Field: "**.id", Type: "string", MaxLength: 8, Deny: "evil"}}
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := v.CheckJSON("data", data)
		checkInvariants(t, r)
		valid := json.Valid(data)
		if valid && hasReason(r, ReasonMalformedJSON) {
			t.Fatalf("valid JSON reported malformed: %q %+v", data, r.Reasons)
		}
		if !valid && r.Verdict != VerdictRejected {
			t.Fatalf("invalid JSON not rejected: %q", data)
		}
		e := envelope(t, "")
		e.Data = data
		checkInvariants(t, v.CheckEvent(e))
	})
}

// FuzzRunJSONL: one JSON object out per line in, whatever comes in.
func FuzzRunJSONL(f *testing.F) {
	f.Add([]byte(`{"id":1,"field":"data.arguments.path","value":"../../etc/passwd"}` + "\n" + `not json` + "\n\n"))
	f.Add([]byte(`{"id":"x","field":"data.a","value":{"$ne":null}}`))
	f.Add([]byte("{\"id\":[1],\"field\":\"tenant\",\"value\":\"ACME\"}\r\n{\"field\":\"\",\"value\":\"\"}"))
	f.Add([]byte(`{"id":"y","field":"data.gen_ai.tool.call.arguments","value":"{\"cmd\":\"ls\"}"}`))
	v := newValidator(f, config.LevelStandard)
	f.Fuzz(func(t *testing.T, in []byte) {
		var out bytes.Buffer
		if err := RunJSONL(context.Background(), v, bytes.NewReader(in), &out); err != nil {
			t.Fatalf("RunJSONL: %v", err)
		}
		want := bytes.Count(in, []byte("\n"))
		if len(in) > 0 && in[len(in)-1] != '\n' {
			want++
		}
		lines := bytes.Split(bytes.TrimSuffix(out.Bytes(), []byte("\n")), []byte("\n"))
		if out.Len() == 0 {
			lines = nil
		}
		if len(lines) != want {
			t.Fatalf("%d output lines for %d input lines\nin:  %q\nout: %q", len(lines), want, in, out.String())
		}
		for _, l := range lines {
			var m map[string]json.RawMessage
			if err := json.Unmarshal(l, &m); err != nil {
				t.Fatalf("output line is not a JSON object: %q", l)
			}
			if _, ok := m["error"]; !ok {
				if _, ok := m["verdict"]; !ok {
					t.Fatalf("output line has neither verdict nor error: %q", l)
				}
			}
		}
	})
}

// checkInvariants holds for every Result.
func checkInvariants(t *testing.T, r Result) {
	t.Helper()
	switch r.Verdict {
	case VerdictRejected:
		if len(r.Reasons) == 0 {
			t.Fatalf("rejected without reasons: %+v", r)
		}
	case VerdictFlagged:
		if len(r.Reasons) != 0 || !r.Flagged() {
			t.Fatalf("flagged result inconsistent: %+v", r)
		}
	case VerdictClean:
		if len(r.Reasons) != 0 || r.Flagged() {
			t.Fatalf("clean result inconsistent: %+v", r)
		}
	default:
		t.Fatalf("verdict %q", r.Verdict)
	}
	if r.Threats == nil {
		t.Fatal("nil Threats")
	}
	if len(r.Threats) > MaxThreats || len(r.Reasons) > MaxReasons {
		t.Fatalf("unbounded result: %d threats, %d reasons", len(r.Threats), len(r.Reasons))
	}
	for _, th := range r.Threats {
		if len(th.Fingerprint) != 8 || th.Type == "" || th.Rule == "" {
			t.Fatalf("bad threat %+v", th)
		}
		printable(t, th.Field)
	}
	for _, re := range r.Reasons {
		printable(t, re.Field)
	}
}

func printable(t *testing.T, s string) {
	t.Helper()
	if len(s) > maxPathOut {
		t.Fatalf("path of %d bytes", len(s))
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			t.Fatalf("path %q holds byte %#x", s, s[i])
		}
	}
}

// FuzzShapes checks the normalisers behind the shape rules (full-width
// folding, quote folding, junk-as-separator, JavaScript compaction, shell
// globs) on arbitrary input: they never grow what they are given beyond
// what their mapping allows, they are idempotent where they claim to be,
// and every kind of field accepts whatever the detectors make of it.
func FuzzShapes(f *testing.F) {
	for _, s := range []string{
		"'or(id glob 1)--", "x'|email--", " ORDER BY 29-- ", "select current_setting('x');", "’ OR ’1’=’1",
		"＜script＞alert(1)＜/script＞", "&#X000003c;", "<x onend=", "self[\"\\x24\"]", "document /*x*/ . cookie",
		"..%c1%8s..%c1%8sboot.ini", "/..%uEFC8..%uEFC8boot.ini", "%%32%%65%%32%%65/etc/passwd",
		"FOR /D %a IN (dirs) DO abc", "IF [%1]==[] ECHO x", "{,$'whoami',}", "c{a,oun}t", "/et*/*wd", "/???/b??h",
		"() { :;}; id", "\\n/bin/ls -al\\n", "+|+dir+c:\\+|", "%28", "*()|&'", "ldap://x/dc=x??sub?(cn=*)",
		"\xef\xbc", "[", "/*", "{${", "$()", "%", "\\",
	} {
		f.Add(s)
	}
	v := newValidator(f, config.LevelStandard)
	fields := []string{"data.arguments.name", "data.arguments.url", "data.arguments.hostname", "data.arguments.filename",
		"data.arguments.filter", "data.arguments.q", "data.arguments.path", "data.arguments.comment", "data.arguments.sql"}
	f.Fuzz(func(t *testing.T, s string) {
		if w, _ := foldWidth(nil, s); len(w) > len(s) {
			t.Fatalf("foldWidth grew %q to %q", s, w)
		}
		if q, _ := foldQuotes(nil, s); len(q) > len(s) {
			t.Fatalf("foldQuotes grew %q to %q", s, q)
		}
		if j, _ := junkView(nil, []byte(s)); len(j) > len(s) {
			t.Fatalf("junkView grew %q to %q", s, j)
		} else if again, changed := junkView(nil, j); changed && !bytes.Equal(again, j) {
			t.Fatalf("junkView(%q) = %q is not stable: %q", s, j, again)
		}
		if c := jsCompact(nil, s); len(c) > len(s) {
			t.Fatalf("jsCompact grew %q to %q", s, c)
		}
		if len(s) <= 64 {
			shellGlobMatch(s, "/etc/passwd")
		}
		for _, field := range fields {
			checkInvariants(t, v.CheckField(field, s))
		}
	})
}
