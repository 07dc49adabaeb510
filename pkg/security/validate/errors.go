package validate

import (
	"errors"
	"strconv"
	"strings"
)

// The sentinels below classify every error of this package; match them
// with errors.Is.
var (
	// ErrInvalidConfig means a Config field is out of range or malformed;
	// New and Config.Validate return it (joined, one *ConfigError per
	// problem) so a service fails at start-up, never per event.
	ErrInvalidConfig = errors.New("validate: invalid configuration")
	// ErrInvalidRules means a rule file does not parse or a rule in it is
	// wrong; the *RuleError says where (file, line) and why.
	ErrInvalidRules = errors.New("validate: invalid rule file")
	// ErrRejected is wrapped by Result.Err when the verdict is rejected:
	// the input is bad (permanent), never worth a retry.
	ErrRejected = errors.New("validate: rejected")
)

// ConfigError is one configuration problem, named by the path of the Config
// field ("Limits.MaxDepth", "Fields.Paths[2].Pattern", "Rules[0].Allow").
type ConfigError struct {
	// Field is the Config field path.
	Field string
	// Problem says what is wrong.
	Problem string
	// Err is ErrInvalidConfig.
	Err error
}

// Error reads `validate: invalid configuration: Limits.MaxDepth: must be
// between 1 and 1024, got 0`.
func (e *ConfigError) Error() string {
	return "validate: invalid configuration: " + e.Field + ": " + e.Problem
}

// Unwrap exposes ErrInvalidConfig.
func (e *ConfigError) Unwrap() error { return e.Err }

// RuleError is one problem in a rule file, with the line it is on (0 when
// the file as a whole is wrong).
type RuleError struct {
	// File is the name given to LoadRules.
	File string
	// Line is 1-based; 0 when unknown.
	Line int
	// Problem says what is wrong.
	Problem string
}

// Error reads `validate: invalid rule file: rules.yaml:12: unknown key
// "maxlen"`.
func (e *RuleError) Error() string {
	var b strings.Builder
	b.WriteString("validate: invalid rule file: ")
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	b.WriteString(e.Problem)
	return b.String()
}

// Unwrap exposes ErrInvalidRules.
func (e *RuleError) Unwrap() error { return ErrInvalidRules }

// RejectError carries the first reason of a rejected Result.
type RejectError struct {
	// Reason is the first reason of the rejection.
	Reason Reason
}

// Error reads `validate: rejected: threat_sqli at data.arguments.id`.
func (e *RejectError) Error() string {
	s := "validate: rejected: " + e.Reason.Code
	if e.Reason.Field != "" {
		s += " at " + e.Reason.Field
	}
	return s
}

// Unwrap exposes ErrRejected.
func (e *RejectError) Unwrap() error { return ErrRejected }

// quote renders an untrusted configuration value for an error: at most 64
// bytes, ASCII only.
func quote(s string) string {
	const max = 64
	if len(s) > max {
		n := max
		for n > 0 && s[n]&0xc0 == 0x80 {
			n--
		}
		return strconv.QuoteToASCII(s[:n]) + "..."
	}
	return strconv.QuoteToASCII(s)
}

func itoa(i int) string { return strconv.Itoa(i) }

// safePath makes a JSON path fit for a Threat or Reason: printable ASCII,
// at most maxPathOut bytes, other bytes as \xNN. Paths are built from keys
// an attacker chose.
func safePath(p string) string {
	clean := len(p) <= maxPathOut
	for i := 0; clean && i < len(p); i++ {
		clean = p[i] >= 0x20 && p[i] < 0x7f
	}
	if clean {
		return p
	}
	const hexd = "0123456789abcdef"
	b := make([]byte, 0, maxPathOut)
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c >= 0x20 && c < 0x7f {
			if len(b)+1 > maxPathOut-3 {
				return string(b) + "..."
			}
			b = append(b, c)
			continue
		}
		if len(b)+4 > maxPathOut-3 {
			return string(b) + "..."
		}
		b = append(b, '\\', 'x', hexd[c>>4], hexd[c&15])
	}
	return string(b)
}

const maxPathOut = 256
