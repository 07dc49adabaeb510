package events

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

func errorsAs(err error, target any) bool { return errors.As(err, target) }

func TestCode(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		err  error
		want string
	}{
		"nil":         {nil, ""},
		"foreign":     {io.EOF, "invalid"},
		"wrapped":     {fmt.Errorf("ingest: %w", &FieldError{Field: "tenant", Err: ErrInvalidIdentifier}), "invalid_identifier"},
		"joined":      {errors.Join(io.EOF, ErrTooDeep), "too_deep"},
		"bare field":  {&FieldError{Field: "x"}, "invalid"},
		"mismatch":    {&FieldError{Field: "agentid", Err: ErrSubjectMismatch}, "subject_mismatch"},
		"subject":     {&FieldError{Field: "subject", Err: ErrInvalidSubject}, "invalid_subject"},
		"unsupported": {ErrUnsupported, "unsupported"},
	}
	for sentinel, code := range wantCodes {
		tests["sentinel "+code] = struct {
			err  error
			want string
		}{sentinel, code}
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := Code(tc.err); got != tc.want {
				t.Fatalf("Code(%v) = %q, want %q", tc.err, got, tc.want)
			}
		})
	}
}

func TestFieldOf(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		err  error
		want string
	}{
		"nil":      {nil, ""},
		"no field": {ErrTooLarge, ""},
		"direct":   {&FieldError{Field: "type", Err: ErrInvalidAttribute}, "type"},
		"wrapped":  {fmt.Errorf("stage: %w", &FieldError{Field: "agentid", Err: ErrSubjectMismatch}), "agentid"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := FieldOf(tc.err); got != tc.want {
				t.Fatalf("FieldOf = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestFieldErrorError(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		err  *FieldError
		want string
	}{
		"attribute": {&FieldError{Field: "tenant", Err: ErrInvalidIdentifier, Detail: identifierRule}, `events: attribute "tenant": invalid identifier: must match [a-z0-9][a-z0-9_-]{0,63}`},
		"no detail": {&FieldError{Field: "id", Err: ErrMissingAttribute}, `events: attribute "id": missing attribute`},
		"subject":   {&FieldError{Field: "subject", Err: ErrInvalidSubject, Detail: "x"}, `events: subject: invalid subject: x`},
		"no field":  {&FieldError{Err: ErrSubjectMismatch, Detail: "no envelope"}, `events: subject mismatch: no envelope`},
		"no err":    {&FieldError{Field: "a"}, `events: attribute "a": invalid`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := tc.err.Error(); got != tc.want {
				t.Fatalf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestQuoteBounds(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		in   string
		want string
	}{
		"short":          {"abc", `"abc"`},
		"exactly 64":     {strings.Repeat("a", 64), `"` + strings.Repeat("a", 64) + `"`},
		"65":             {strings.Repeat("a", 65), `"` + strings.Repeat("a", 64) + `"... (65 bytes)`},
		"rune boundary":  {strings.Repeat("a", 63) + "é", `"` + strings.Repeat("a", 63) + `"... (65 bytes)`},
		"control":        {"a\nb\x00", `"a\nb\x00"`},
		"invalid utf8":   {"\xff", `"\xff"`},
		"non-ascii":      {"ü", `"\u00fc"`},
		"line separator": {"\u2028", `"\u2028"`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := quote(tc.in); got != tc.want {
				t.Fatalf("quote(%q) = %s, want %s", tc.in, got, tc.want)
			}
		})
	}
}

func TestSafeField(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		in   string
		want string
	}{
		"plain":             {"tenant", "tenant"},
		"64":                {strings.Repeat("a", 64), strings.Repeat("a", 64)},
		"65":                {strings.Repeat("a", 65), strings.Repeat("a", 64)},
		"newline":           {"a\r\nb", `a\r\nb`},
		"unicode":           {"é", `\u00e9`},
		"escape at limit":   {strings.Repeat("a", 62) + "\n", strings.Repeat("a", 62) + `\n`},
		"escape over limit": {strings.Repeat("a", 63) + "\n", strings.Repeat("a", 63)},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := safeField(tc.in)
			if got != tc.want {
				t.Fatalf("safeField(%q) = %q, want %q", tc.in, got, tc.want)
			}
			for i := 0; i < len(got); i++ {
				if got[i] < 0x20 || got[i] >= 0x7f {
					t.Fatalf("unsafe byte %#x in %q", got[i], got)
				}
			}
		})
	}
}
