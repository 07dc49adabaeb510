package pii

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/escai-framework/escai/pkg/security/config"
)

func scanSeeds() []string {
	seeds := []string{
		"", "@", "a@b.co", "+", "+1", "(", "(415) 555-2671", "::", ":::", "::1", "-----BEGIN ", "-----BEGIN PRIVATE KEY-----",
		"-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----", "eyJ", "eyJhbGciOiJub25lIn0.eyJ4IjoxfQ.", "0x", "1", "bc1",
		"GB82 WEST 1234 5698 7654 32", "4111 1111 1111 1111 2027", "1.2.3.4.5.6", "::ffff:1.2.3.4", "fe80::1%eth0",
		"https://u:p@h/x?token=1", "www.", "ghp_", "xoxb-", "\xff\xfe@\xff.co", "jürgen@müller.de", "电话13800138000",
		"536221234 ssn", "+49 (0)30 901820 ext. 12", "0011.2233.4455", "00:1A:2B:3C:4D:5E:6F", noPII[:400],
		"Visit http://[2001:db8::1]/path", "mysql://r:p@127.0.0.1:3306/x", "src=:: dst=::1/128", "fe80::1%eth0/64",
		"Route 10.0.0.0/8.", "iban gb82west12345698765432", "HR12 001 0051 8630 0016 A", "ref 4111 1111 1111 1111 22",
		"my number is 090-1234-5678", "phone 91-415-555-0132", "http://[fe80::1%25eth0]:80/", "u:p#x@[::1]:5",
	}
	corpus, _ := readCorpus()
	for _, s := range corpus {
		if len(seeds) > 80 {
			break
		}
		seeds = append(seeds, s.Text)
	}
	return seeds
}

// FuzzScan checks the scanner's invariants on arbitrary text and keys.
func FuzzScan(f *testing.F) {
	for _, s := range scanSeeds() {
		f.Add(s, "")
		f.Add(s, "phone_number")
	}
	dets := []*Detector{}
	for _, s := range []config.Sensitivity{config.SensitivityLow, config.SensitivityHigh} {
		d, err := NewDetector(Config{Sensitivity: s, Custom: []CustomPattern{{Name: "EMP", Regex: `EMP-\d{3,6}`, Context: []string{"staff"}, Score: 0.5}}})
		if err != nil {
			f.Fatal(err)
		}
		dets = append(dets, d)
	}
	f.Fuzz(func(t *testing.T, text, key string) {
		for _, d := range dets {
			ms := d.ScanWithContext(text, key, nil)
			outer := -1
			for i, m := range ms {
				if m.Start < 0 || m.Start >= m.End || m.End > len(text) {
					t.Fatalf("bad span %+v in %d bytes", m, len(text))
				}
				switch {
				case i > 0 && m.Start < ms[i-1].End && outer >= 0 && ms[outer].Type == TypeURL &&
					m.Type == TypeIPAddress && m.End <= ms[outer].End && (i-1 == outer || ms[i-1].End <= m.Start):
					// the IP address that is a URL's host, nested in it
				case i > 0 && m.Start < ms[i-1].End:
					t.Fatalf("unsorted or overlapping: %+v then %+v", ms[i-1], m)
				default:
					outer = i
				}
				if m.Score <= 0 || m.Score > 1 {
					t.Fatalf("score %v", m.Score)
				}
				if _, ok := kindOf(m.Type); !ok && m.Type != "EMP" {
					t.Fatalf("unknown type %q", m.Type)
				}
				if utf8.ValidString(text) && !utf8.ValidString(text[m.Start:m.End]) {
					t.Fatalf("span %+v cuts a character", m)
				}
			}
			again := d.ScanWithContext(text, key, make([]Match, 0, 4))
			if len(again) != len(ms) {
				t.Fatalf("not deterministic: %v vs %v", ms, again)
			}
			for i := range ms {
				if ms[i] != again[i] {
					t.Fatalf("not deterministic: %v vs %v", ms, again)
				}
			}
		}
	})
}

// FuzzMaskData checks that masked output is valid JSON and that no value
// the detector reports in the input survives in the output.
func FuzzMaskData(f *testing.F) {
	for _, s := range []string{
		`{"to":"jane@example.com","ssn":"536221234","n":4111111111111111}`,
		`{"a":"{\"b\":\"call 415-882-9090\"}"}`, `[]`, `"x"`, `1`, `{"jane@example.com":1}`, `{"a":[{"b":[{"c":"10.1.2.3"}]}]}`, `{"u":"see http://10.1.2.3/x and mysql://r:p@[::1]:3306/d"}`,
		envelopeLine[strings.Index(envelopeLine, `"data":`)+7 : len(envelopeLine)-1], `{"a":"\ud800"}`, `{"a":"\u0000@x.co"}`,
	} {
		f.Add([]byte(s))
	}
	d, err := NewDetector(Config{})
	if err != nil {
		f.Fatal(err)
	}
	m, err := NewMasker(d, Config{Strategies: map[string]Strategy{"*": StrategyRedact}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out, counts, err := m.MaskData(in)
		if !json.Valid(in) {
			if len(in) > 0 && !errors.Is(err, ErrInvalidJSON) {
				t.Fatalf("invalid input: err %v", err)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if !json.Valid(out) {
			t.Fatalf("invalid output %q from %q", out, in)
		}
		if counts.Total() == 0 && !bytes.Equal(out, in) {
			t.Fatalf("changed without a count: %q -> %q", in, out)
		}
		found, residue := detectedValues(d, in, 0)
		_, outStrings := detectedValues(nil, out, 0)
		for _, v := range found {
			if len(v) < 6 || strings.Contains(residue, v) {
				continue // the same text also occurs where it is not PII
			}
			if strings.Contains(outStrings, v) {
				t.Fatalf("%q survived masking:\nin  %s\nout %s", v, in, out)
			}
		}
	})
}

// detectedValues decodes every key, string and integer of a JSON document
// the way the walker visits them (with the key as context, JSON in
// strings opened) and returns the values d detects, plus all the text
// that was not detected. With d nil it only returns the text.
func detectedValues(d *Detector, doc []byte, depth int) ([]string, string) {
	var found []string
	var rest strings.Builder
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	type level struct {
		obj     bool
		wantKey bool
		key     string
	}
	var stack []level
	key := ""
	visit := func(s, key string, isKey bool) {
		if d == nil {
			rest.WriteString(s + "\x00")
			return
		}
		if !isKey && depth < maxNested && looksLikeJSON(s) && json.Valid([]byte(s)) {
			f, r := detectedValues(d, []byte(s), depth+1)
			found = append(found, f...)
			rest.WriteString(r)
			return
		}
		k := key
		if isKey {
			k = ""
		}
		last := 0
		for _, m := range d.ScanWithContext(s, k, nil) {
			found = append(found, s[m.Start:m.End])
			if m.Start < last {
				continue // nested in the match before (a URL's host)
			}
			rest.WriteString(s[last:m.Start] + "\x00")
			last = m.End
		}
		rest.WriteString(s[last:] + "\x00")
	}
	for {
		tok, err := dec.Token()
		if err == io.EOF || err != nil {
			break
		}
		if len(stack) > 0 && stack[len(stack)-1].obj && stack[len(stack)-1].wantKey {
			if k, ok := tok.(string); ok {
				stack[len(stack)-1].wantKey = false
				stack[len(stack)-1].key = k
				visit(k, "", true)
				continue
			}
		}
		if len(stack) > 0 {
			key = stack[len(stack)-1].key
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{':
				stack = append(stack, level{obj: true, wantKey: true, key: key})
			case '[':
				stack = append(stack, level{key: key})
			default:
				stack = stack[:len(stack)-1]
			}
		case string:
			visit(v, key, false)
		case json.Number:
			s := v.String()
			if len(s) >= 9 && len(s) <= 20 && strings.Trim(s, "0123456789") == "" {
				visit(s, key, false)
			} else {
				rest.WriteString(s + "\x00")
			}
		}
		if n := len(stack); n > 0 && stack[n-1].obj {
			if _, isDelim := tok.(json.Delim); !isDelim || tok == json.Delim('}') || tok == json.Delim(']') {
				stack[n-1].wantKey = true
			}
		}
	}
	return found, rest.String()
}

// FuzzParsePatterns: the pattern file parser never panics, reports
// ErrInvalidPatternFile, and what it accepts is a valid configuration.
func FuzzParsePatterns(f *testing.F) {
	for _, s := range []string{"patterns:\n  - name: A\n    regex: a\n", "- name: B\n  regex: '(('\n", "[]", "{}", "- 1", `[{"name":"X","regex":"x","validator":"luhn"}]`, "patterns: {a: b}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		ps, err := ParsePatterns(in)
		if err != nil {
			if !errors.Is(err, ErrInvalidPatternFile) {
				t.Fatalf("error without sentinel: %v", err)
			}
			return
		}
		if err := (Config{Custom: ps}).Validate(); err != nil {
			for _, e := range unjoin(err) {
				var ce *ConfigError
				if errors.As(e, &ce) && strings.HasPrefix(ce.Field, "Custom") {
					t.Fatalf("accepted an invalid pattern: %v", e)
				}
			}
		}
	})
}

// FuzzScanJSONL: one JSON output line per input line, whatever comes in.
func FuzzScanJSONL(f *testing.F) {
	for _, s := range []string{`{"id":1,"text":"a@b.co"}`, "x\n\n{}\r\n", `{"id":[1,{"a":2}],"text":"+1 415 555 2671"}` + "\n" + `{"text":null}`} {
		f.Add([]byte(s))
	}
	d, err := NewDetector(Config{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var out bytes.Buffer
		if err := ScanJSONL(context.Background(), d, bytes.NewReader(in), &out); err != nil {
			t.Fatal(err)
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
			t.Fatalf("%d output lines for %d input lines", len(lines), want)
		}
		for _, l := range lines {
			if !json.Valid(l) {
				t.Fatalf("output line is not JSON: %q", l)
			}
		}
	})
}

// FuzzReveal: token parsing never panics and only ever reports the
// documented errors.
func FuzzReveal(f *testing.F) {
	keys := Keys{Encrypt: bytes.Repeat([]byte{3}, 32)}
	m, err := NewMasker(&Detector{}, Config{Keys: keys, Strategies: map[string]Strategy{"*": StrategyEncrypt}})
	if err != nil {
		f.Fatal(err)
	}
	tok := string(m.replace(nil, TypeEmail, "jane@example.com", "acme"))
	for _, s := range []string{tok, "<EMAIL>", "<X:enc:v2:>", "<:enc:v2:AAAA>", "<A:enc:v2:" + strings.Repeat("A", 40) + ">", "<A:enc:v1:" + strings.Repeat("A", 40) + ">"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, err := Reveal(s, "acme", keys)
		if err != nil && !errors.Is(err, ErrInvalidToken) && !errors.Is(err, ErrDecrypt) {
			t.Fatalf("unexpected error %v", err)
		}
	})
}
