package events

import (
	"errors"
	"strings"
	"testing"
)

// member is one top-level key with its raw JSON value, so tests can build
// envelopes with any key order, duplicates and malformed values.
type member struct{ k, v string }

func baseMembers() []member {
	return []member{
		{"specversion", `"1.0"`},
		{"id", `"evt-0001"`},
		{"source", `"https://agents.example.com/acme/agent-1"`},
		{"type", `"escai.tool.call"`},
		{"time", `"2025-03-01T12:34:56.789Z"`},
		{"datacontenttype", `"application/json"`},
		{"tenant", `"acme"`},
		{"agentid", `"agent-1"`},
		{"data", `{"tool":"sql","args":{"q":"select 1"}}`},
	}
}

func render(ms []member) []byte {
	var b strings.Builder
	b.WriteByte('{')
	for i, m := range ms {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"` + m.k + `":` + m.v)
	}
	b.WriteByte('}')
	return []byte(b.String())
}

// with replaces key's value in the base envelope, or appends the key.
func with(key, raw string) []byte {
	ms := baseMembers()
	for i := range ms {
		if ms[i].k == key {
			ms[i].v = raw
			return render(ms)
		}
	}
	return render(append(ms, member{key, raw}))
}

// without drops key from the base envelope.
func without(key string) []byte {
	var out []member
	for _, m := range baseMembers() {
		if m.k != key {
			out = append(out, m)
		}
	}
	return render(out)
}

// plus appends members to the base envelope as they are, duplicates too.
func plus(ms ...member) []byte {
	return render(append(baseMembers(), ms...))
}

func validBase() []byte { return render(baseMembers()) }

// nested returns a JSON value of n nested arrays around 0.
func nested(n int) string {
	return strings.Repeat("[", n) + "0" + strings.Repeat("]", n)
}

// wantErr asserts the sentinel, the field and the reason code of err.
func wantErr(t *testing.T, err, sentinel error, field string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got nil error, want %v", sentinel)
	}
	if !errors.Is(err, sentinel) {
		t.Fatalf("got %v, want it to wrap %v", err, sentinel)
	}
	if got := FieldOf(err); got != field {
		t.Fatalf("FieldOf = %q, want %q (err %v)", got, field, err)
	}
	want := wantCodes[sentinel]
	if got := Code(err); got != want || got == "" || got == "invalid" {
		t.Fatalf("Code = %q, want %q (err %v)", got, want, err)
	}
}

// wantCodes is written out by hand: the codes are a contract and must not
// follow the implementation's table silently.
var wantCodes = map[error]string{
	ErrTooLarge:           "too_large",
	ErrTooDeep:            "too_deep",
	ErrInvalidUTF8:        "invalid_utf8",
	ErrMalformedJSON:      "malformed_json",
	ErrDuplicateAttribute: "duplicate_attribute",
	ErrMissingAttribute:   "missing_attribute",
	ErrInvalidAttribute:   "invalid_attribute",
	ErrInvalidIdentifier:  "invalid_identifier",
	ErrUnsupported:        "unsupported",
	ErrSubjectMismatch:    "subject_mismatch",
	ErrInvalidSubject:     "invalid_subject",
}
