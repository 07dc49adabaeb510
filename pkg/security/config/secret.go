package config

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
)

// MinSecretKeyBytes is the shortest accepted SecretKey, after decoding: 256
// bits, the key size of HMAC-SHA256 and AES-256.
const MinSecretKeyBytes = 32

// redacted replaces every secret value wherever configuration is shown.
const redacted = "[REDACTED]"

// Secret is key material. It converts freely to []byte (pass it to
// hmac.New or hkdf as is), but every fmt verb, encoding/json and log/slog
// show it as [REDACTED], so a stray Printf or log line cannot leak it.
type Secret []byte

// String returns [REDACTED], or "" when the secret is empty.
func (s Secret) String() string {
	if len(s) == 0 {
		return ""
	}
	return redacted
}

// GoString returns the same as String, so that %#v does not dump the bytes.
func (s Secret) GoString() string { return s.String() }

// Format makes every verb, including %x and %d, print String instead of the
// bytes.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(s.String())) }

// MarshalJSON encodes the secret as the string "[REDACTED]".
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + s.String() + `"`), nil }

// LogValue makes log/slog print String instead of the bytes.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// decodeSecretKey turns the text of ESCAI_SECRET_KEY into key bytes. The rule,
// tried in order (documented in doc.go; it must never change, or existing
// deployments would derive different keys):
//
//  1. 64 or more hex digits, even count: hex-decoded.
//  2. base64, standard or URL alphabet, padded or not, decoding to at least
//     MinSecretKeyBytes: base64-decoded.
//  3. anything else: the raw bytes.
func decodeSecretKey(s string) []byte {
	if len(s) >= 2*MinSecretKeyBytes && len(s)%2 == 0 {
		if b, err := hex.DecodeString(s); err == nil {
			return b
		}
	}
	for _, enc := range []*base64.Encoding{
		base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding,
	} {
		if b, err := enc.Strict().DecodeString(s); err == nil && len(b) >= MinSecretKeyBytes {
			return b
		}
	}
	return []byte(s)
}

// placeholderWords are fragments of keys copied from examples and templates.
// All have five or more characters, so a random base64 key contains one with
// negligible probability (about 1e-6 for a five-letter word).
var placeholderWords = []string{
	"changeme", "change-me", "change_me", "changethis", "secret", "password",
	"passw0rd", "example", "placeholder", "insecure", "dummy", "default",
	"replace", "your-", "your_", "fixme", "deadbeef", "0123456789",
	"abcdefgh", "qwerty", "letmein",
}

// weakKeyReason says why a key is weak, or returns "" if it looks random.
// It is applied to the decoded key and, by Load, to the text the user wrote,
// which catches a template phrase that happens to be valid base64. The reason
// never quotes the key.
func weakKeyReason(b []byte) string {
	lower := strings.ToLower(string(b))
	for _, w := range placeholderWords {
		if strings.Contains(lower, w) {
			return "it contains a well-known placeholder word"
		}
	}
	switch {
	case len(b) == 0:
	case bytes.Count(b, b[:1]) == len(b):
		return "every byte is the same"
	case smallestPeriod(b) <= len(b)/2:
		return "it repeats a short pattern"
	case isArithmetic(b):
		return "it is a sequence of consecutive bytes"
	case distinctBytes(b) < 8:
		return "it uses fewer than 8 distinct bytes"
	}
	return ""
}

// smallestPeriod returns the smallest p such that b[i] == b[i-p] for every
// i >= p, in linear time (the Knuth-Morris-Pratt failure function).
func smallestPeriod(b []byte) int {
	fail := make([]int, len(b))
	k := 0
	for i := 1; i < len(b); i++ {
		for k > 0 && b[i] != b[k] {
			k = fail[k-1]
		}
		if b[i] == b[k] {
			k++
		}
		fail[i] = k
	}
	return len(b) - fail[len(b)-1]
}

// isArithmetic reports whether consecutive bytes differ by one constant, as in
// 0x00 0x01 0x02 or "abcd".
func isArithmetic(b []byte) bool {
	if len(b) < 3 {
		return false
	}
	d := b[1] - b[0]
	for i := 2; i < len(b); i++ {
		if b[i]-b[i-1] != d {
			return false
		}
	}
	return true
}

// distinctBytes counts the different byte values in b.
func distinctBytes(b []byte) int {
	var seen [256]bool
	n := 0
	for _, c := range b {
		if !seen[c] {
			seen[c] = true
			n++
		}
	}
	return n
}
