package auth

import (
	"errors"
	"strconv"
	"strings"
)

// Token verification failures. Verify wraps exactly one of them; an HTTP
// handler answers all of them with the same 401, and uses the distinction
// only for metrics.
var (
	// ErrTokenInvalid means the token is malformed, its signature does not
	// verify, a required claim is missing or has the wrong type, its "typ"
	// is not an access-token type, or it is not valid yet.
	ErrTokenInvalid = errors.New("auth: invalid token")
	// ErrTokenExpired means "exp" is in the past (beyond the leeway).
	ErrTokenExpired = errors.New("auth: token expired")
	// ErrUnknownKey means the "kid" header names no key of the set, or is
	// missing while the set holds more than one key.
	ErrUnknownKey = errors.New("auth: unknown signing key")
	// ErrAlgorithm means the "alg" header is not one of the accepted
	// algorithms, or is not the algorithm pinned to the key its "kid" names.
	ErrAlgorithm = errors.New("auth: algorithm not allowed")
	// ErrAudience means "aud" is missing or does not name this service.
	ErrAudience = errors.New("auth: wrong audience")
	// ErrIssuer means "iss" is missing or is not the configured issuer.
	ErrIssuer = errors.New("auth: wrong issuer")
)

// Key set (JWKS) failures. ParseJWKS and NewKeySet wrap exactly one of
// them, inside a *KeyError when one key is at fault.
var (
	// ErrInvalidJWKS means the document is not a JWKS: not UTF-8 JSON, no
	// "keys" array, a member of the wrong type or repeated, bad base64url,
	// a point not on its curve, an empty set, or a key without "kid" in a
	// set of several.
	ErrInvalidJWKS = errors.New("auth: invalid JWKS")
	// ErrJWKSTooLarge means the document exceeds MaxJWKSBytes or holds more
	// than MaxKeys keys.
	ErrJWKSTooLarge = errors.New("auth: JWKS too large")
	// ErrPrivateKey means a key carries private or symmetric material ("d",
	// "p", "q", "dp", "dq", "qi", "oth", "k"): such a document must never be
	// published, and accepting it would hide the leak.
	ErrPrivateKey = errors.New("auth: private key material in JWKS")
	// ErrUnsupportedKey means a key type, curve, "use" or "key_ops" this
	// package does not verify with (only signature keys of kty RSA, EC
	// P-256/P-384 and OKP Ed25519 are accepted), or an RSA modulus above
	// 8192 bits.
	ErrUnsupportedKey = errors.New("auth: unsupported key")
	// ErrWeakKey means an RSA modulus under 2048 bits or an exponent that
	// is even, below 3 or above 2^31-1.
	ErrWeakKey = errors.New("auth: weak key")
	// ErrDuplicateKeyID means two keys share a "kid": a token naming it
	// could not say which key signed it.
	ErrDuplicateKeyID = errors.New("auth: duplicate kid")
	// ErrKeyAlgorithm means a key's "alg" cannot be used with its type or
	// curve (an EC P-256 key marked RS256, an RSA key marked HS256).
	ErrKeyAlgorithm = errors.New("auth: key algorithm conflicts with key")
)

// ErrKeySource means a KeySource could not read or fetch its JWKS (I/O,
// HTTP status, timeout); parse failures wrap the JWKS sentinels instead.
var ErrKeySource = errors.New("auth: key source unavailable")

// ErrConfig means a VerifierConfig or KeySourceConfig is unusable; the
// error lists every problem at once.
var ErrConfig = errors.New("auth: invalid configuration")

// KeyError names the key of a JWKS that broke a rule.
type KeyError struct {
	// Index is the key's position in the "keys" array.
	Index int
	// KeyID is its "kid" ("" when absent), made safe to print: printable
	// ASCII, at most 64 bytes.
	KeyID string
	// Err is one of the JWKS sentinels.
	Err error
	// Detail says what was expected.
	Detail string
}

// Error reads like `auth: JWKS key 1 (kid "k2"): weak key: RSA modulus of
// 1024 bits, need at least 2048`.
func (e *KeyError) Error() string {
	var b strings.Builder
	b.WriteString("auth: JWKS key ")
	b.WriteString(strconv.Itoa(e.Index))
	if e.KeyID != "" {
		b.WriteString(" (kid ")
		b.WriteString(strconv.Quote(e.KeyID))
		b.WriteString(")")
	}
	b.WriteString(": ")
	if e.Err != nil {
		b.WriteString(strings.TrimPrefix(e.Err.Error(), "auth: "))
	} else {
		b.WriteString("invalid")
	}
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	return b.String()
}

// Unwrap exposes the sentinel to errors.Is.
func (e *KeyError) Unwrap() error { return e.Err }

// maxEcho bounds how much of an outside value an error repeats.
const maxEcho = 64

// safe renders an outside value for an error: printable ASCII only, at most
// maxEcho bytes, so it can go into a log line or a header as is.
func safe(s string) string {
	b := make([]byte, 0, min(len(s), maxEcho))
	for _, r := range s {
		if len(b) >= maxEcho {
			break
		}
		if r >= 0x20 && r < 0x7f {
			b = append(b, byte(r))
		} else {
			b = append(b, '?')
		}
	}
	return string(b)
}
