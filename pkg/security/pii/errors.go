package pii

import "errors"

// The sentinels below classify every failure of this package; each error
// returned here wraps exactly one of them, so callers decide with errors.Is
// and never by reading messages. No error message quotes a detected value,
// a key or a decrypted plaintext.
var (
	// ErrInvalidConfig means a Config field is unusable; Validate returns
	// one *ConfigError per problem, joined with errors.Join.
	ErrInvalidConfig = errors.New("pii: invalid configuration")
	// ErrInvalidPatternFile means a custom pattern file could not be read:
	// bad YAML or JSON, an unknown field, or a pattern that does not
	// compile. The message carries the line number when the file is YAML.
	ErrInvalidPatternFile = errors.New("pii: invalid pattern file")
	// ErrInvalidJSON means MaskData was given bytes that are not one JSON
	// value. Input that passed events.Decode never produces it.
	ErrInvalidJSON = errors.New("pii: invalid JSON")
	// ErrInvalidToken means Reveal was given something that is not an
	// encrypted token of the form <TYPE:enc:v2:…> (v1 tokens, which were
	// not bound to a tenant, included).
	ErrInvalidToken = errors.New("pii: not an encrypted token")
	// ErrDecrypt means an encrypted token did not open with the given key
	// and tenant: a different key, another tenant's token, or a token that
	// was altered.
	ErrDecrypt = errors.New("pii: token does not decrypt with this key and tenant")
	// ErrMissingKey means an operation needs key material that Keys does
	// not hold (the encryption key for Reveal, for example).
	ErrMissingKey = errors.New("pii: missing key")
	// ErrBadLine marks a JSONL input line that could not be processed; the
	// JSONL functions report it on the line's output and continue.
	ErrBadLine = errors.New("pii: bad input line")
	// ErrLineTooLong marks a JSONL input line longer than MaxLineBytes.
	ErrLineTooLong = errors.New("pii: line too long")
)

// ConfigError is one configuration problem: which field, which sentinel,
// what is wrong. Field uses Go field paths such as "Custom[2].Regex" or
// "Strategies[EMAIL]".
type ConfigError struct {
	// Field names the offending Config field.
	Field string
	// Err is the sentinel this problem wraps (ErrInvalidConfig).
	Err error
	// Detail says what is wrong and, where useful, what to do.
	Detail string
}

// Error returns "pii: invalid configuration: Field: detail".
func (e *ConfigError) Error() string {
	return e.Err.Error() + ": " + e.Field + ": " + e.Detail
}

// Unwrap returns the sentinel.
func (e *ConfigError) Unwrap() error { return e.Err }
