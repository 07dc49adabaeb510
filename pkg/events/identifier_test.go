package events

import (
	"strings"
	"testing"
)

func TestValidIdentifier(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		in   string
		want bool
	}{
		"letters":         {"acme", true},
		"digit first":     {"0acme", true},
		"dash underscore": {"a-b_c", true},
		"one char":        {"a", true},
		"63":              {strings.Repeat("a", 63), true},
		"64":              {strings.Repeat("a", 64), true},
		"65":              {strings.Repeat("a", 65), false},
		"empty":           {"", false},
		"upper":           {"Acme", false},
		"upper inside":    {"acMe", false},
		"dot":             {"a.b", false},
		"star":            {"*", false},
		"gt":              {">", false},
		"space":           {"a b", false},
		"tab":             {"a\tb", false},
		"newline":         {"a\n", false},
		"NUL":             {"a\x00", false},
		"unicode":         {"é", false},
		"fullwidth a":     {"ａ", false},
		"leading dash":    {"-a", false},
		"leading under":   {"_unknown", false},
		"slash":           {"a/b", false},
		"backslash":       {`a\b`, false},
		"colon":           {"a:b", false},
		"DEL":             {"a\x7f", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := ValidIdentifier(tc.in); got != tc.want {
				t.Fatalf("ValidIdentifier(%q) = %v, want %v", tc.in, got, tc.want)
			}
			err := CheckIdentifier("tenant", tc.in)
			switch {
			case tc.want && err != nil:
				t.Fatalf("CheckIdentifier: %v", err)
			case !tc.want && tc.in == "":
				wantErr(t, err, ErrMissingAttribute, "tenant")
			case !tc.want:
				wantErr(t, err, ErrInvalidIdentifier, "tenant")
			}
		})
	}
}

// TestValidIdentifierAllocs keeps the per-event identifier check free.
func TestValidIdentifierAllocs(t *testing.T) {
	s := strings.Repeat("a-1_", 16)
	if n := testing.AllocsPerRun(100, func() { _ = ValidIdentifier(s) }); n != 0 {
		t.Fatalf("ValidIdentifier allocates %v times", n)
	}
	if n := testing.AllocsPerRun(100, func() { _ = CheckIdentifier("tenant", s) }); n != 0 {
		t.Fatalf("CheckIdentifier on a valid identifier allocates %v times", n)
	}
}

func TestHasControl(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		in   string
		want bool
	}{
		"plain":      {"abc", false},
		"NUL":        {"\x00", true},
		"US":         {"\x1f", true},
		"DEL":        {"\x7f", true},
		"C1 first":   {"\u0080", true},
		"C1 last":    {"\u009f", true},
		"after C1":   {"\u00a0", false},
		"é":          {"é", false},
		"line sep":   {"\u2028", false},
		"space":      {" ", false},
		"tilde":      {"~", false},
		"emoji":      {"😀", false},
		"c2 at end":  {"a\xc2", false},
		"cyrillic":   {"ж", false},
		"latin ext":  {"ā", false},
		"after text": {"abc\u0085", true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := hasControl(tc.in); got != tc.want {
				t.Fatalf("hasControl(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}
