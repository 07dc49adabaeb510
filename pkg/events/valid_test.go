package events

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

func TestValidJSONAgreesWithEncodingJSON(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"object":             `{"a":1,"b":[true,false,null],"c":{"d":"e"}}`,
		"empty object":       `{}`,
		"empty array":        ` [ ] `,
		"nested empties":     `[{},[],{"a":[]}]`,
		"numbers":            `[0,-0,1.5,-2e10,3E+2,4e-3,123456789012345678901234567890]`,
		"escapes":            `"\" \\ \/ \b \f \n \r \t \u00e9 \uD83D\uDE00"`,
		"utf8 raw":           `"Grüße 日本"`,
		"leading zero":       `01`,
		"minus only":         `-`,
		"dot no digits":      `1.`,
		"exp no digits":      `1e`,
		"exp sign only":      `1e+`,
		"plus sign":          `+1`,
		"hex":                `0x10`,
		"bad escape":         `"\x"`,
		"short unicode":      `"\u12"`,
		"bad unicode":        `"\u12g4"`,
		"control in string":  "\"a\x01b\"",
		"tab in string":      "\"a\tb\"",
		"unterminated":       `"abc`,
		"trailing comma obj": `{"a":1,}`,
		"trailing comma arr": `[1,]`,
		"missing colon":      `{"a" 1}`,
		"non-string key":     `{1:2}`,
		"two values":         `1 2`,
		"trailing garbage":   `{} x`,
		"mismatched close":   `[}`,
		"unclosed":           `[[`,
		"empty":              ``,
		"spaces only":        "  \n\t",
		"true prefix":        `tru`,
		"nul literal":        `nul`,
		"capital true":       `True`,
		"deep":               strings.Repeat("[", 100) + strings.Repeat("]", 100),
		"deep unbalanced":    strings.Repeat("[", 100) + strings.Repeat("]", 99),
		"lone backslash end": `"\`,
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got, want := validJSON([]byte(in)), json.Valid([]byte(in)); got != want {
				t.Fatalf("validJSON(%q) = %v, encoding/json says %v", in, got, want)
			}
		})
	}
}

// FuzzValidJSON is a differential fuzzer: the fast validator must give the
// answer of encoding/json on every input.
func FuzzValidJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,2.5e3,"x\u00e9"],"b":null}`, `[`, `"\`, `-0.0e-0`, `{"a":}`, "\"\x7f\"", `[1,[2,[3]]]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if got, want := validJSON(data), json.Valid(data); got != want {
			t.Fatalf("validJSON(%q) = %v, encoding/json says %v", data, got, want)
		}
	})
}

// FuzzValidJSONDepth: the one-pass check agrees with the two it replaces
// in Decode: the depth scan finds the same offset, and without a level too
// deep the syntax answer is encoding/json's.
func FuzzValidJSONDepth(f *testing.F) {
	for _, s := range []string{`{"a":[1,[2,[3]]]}`, `[[[[]]]]`, `{"a":{"b":{}}}`, `[[[[`, `{"a":"[[[[["}`, `[{}, [[]], "x"]`} {
		f.Add([]byte(s), uint8(2))
	}
	f.Fuzz(func(t *testing.T, data []byte, max uint8) {
		limit := int(max%40) + 1
		ok, deepAt := validJSONDepth(data, limit)
		if deepAt >= 0 {
			if want := depthExceededAt(data, limit); want != deepAt {
				t.Fatalf("validJSONDepth(%q, %d): too deep at %d, the depth scan says %d", data, limit, deepAt, want)
			}
			return
		}
		if ok {
			if want := depthExceededAt(data, limit); want >= 0 {
				t.Fatalf("validJSONDepth(%q, %d) passed; the depth scan finds a level too deep at %d", data, limit, want)
			}
		}
		if want := json.Valid(data); ok != want {
			t.Fatalf("validJSONDepth(%q, %d) = %v, encoding/json says %v", data, limit, ok, want)
		}
	})
}

func BenchmarkValidJSON(b *testing.B) {
	raw := []byte(`{"specversion":"1.0","id":"evt-000001","source":"urn:escai:agent:agent-1","type":"escai.tool.call","time":"2026-12-04T10:00:00Z","datacontenttype":"application/json","tenant":"acme","agentid":"agent-1","data":{"gen_ai.tool.name":"sql","arguments":{"query":"SELECT id, total FROM orders WHERE customer_id = 42","limit":10},"pad":"` + strings.Repeat("x", 700) + `"}}`)
	b.Run("fast", func(b *testing.B) {
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			validJSON(raw)
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			json.Valid(raw)
		}
	})
}

// TestScanStringWordAtATime puts every byte value at every offset of a
// string long enough for the eight-byte path, so each lane of the word
// check meets each stop character, and compares with encoding/json.
func TestScanStringWordAtATime(t *testing.T) {
	t.Parallel()
	for c := range 256 {
		for pos := range 40 {
			s := []byte(`"` + strings.Repeat("a", 40) + `"`)
			s[1+pos] = byte(c)
			if got, want := validJSON(s), json.Valid(s); got != want {
				t.Fatalf("byte %#x at %d: validJSON %v, encoding/json %v", c, pos, got, want)
			}
			// An escape right after: the scan must resume word-wise.
			e := []byte(`"` + strings.Repeat("b", 10) + `\n` + strings.Repeat("a", 30) + `"`)
			e[14+pos%28] = byte(c)
			if got, want := validJSON(e), json.Valid(e); got != want {
				t.Fatalf("after an escape, byte %#x at %d: validJSON %v, encoding/json %v", c, 14+pos%28, got, want)
			}
		}
	}
}

// FuzzPlainURI: whatever the source fast path accepts, url.Parse accepts.
func FuzzPlainURI(f *testing.F) {
	for _, s := range []string{"urn:escai:agent:a", "https://agents.acme.example/research/agent-7", "/agents/a", "http://h:80/x", "http://h:x", "a:b", "1a:b", "//h/x", "http://[::1]/", "mailto:a@b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if plainURI(s) {
			if _, err := url.Parse(s); err != nil {
				t.Fatalf("plainURI(%q) accepted what url.Parse refuses: %v", s, err)
			}
		}
	})
}
