package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/escai-framework/escai/pkg/events"
)

// MaxTokenBytes bounds a token Verify will look at. Access tokens are a few
// hundred bytes to a few KiB; anything larger is refused before any base64
// or JSON work.
const MaxTokenBytes = 8 << 10

// maxLeeway bounds the clock-skew allowance: more would keep expired tokens
// alive for longer than their lifetime.
const maxLeeway = 5 * time.Minute

// DefaultAlgorithms are accepted when VerifierConfig.Algorithms is empty.
func DefaultAlgorithms() []string { return []string{AlgRS256, AlgES256, AlgEdDSA} }

// supportedAlgorithms are the asymmetric algorithms a KeySet can pin.
var supportedAlgorithms = []string{AlgRS256, AlgRS384, AlgRS512, AlgPS256, AlgPS384, AlgPS512, AlgES256, AlgES384, AlgEdDSA}

// VerifierConfig is the user-set part of a Verifier.
type VerifierConfig struct {
	// Keys is a fixed key set. Exactly one of Keys and Source is set.
	Keys *KeySet
	// Source supplies a key set that is reloaded when it changes (a JWKS
	// file or URL).
	Source *KeySource
	// Issuer is the required "iss" value (RFC 8725 §3.8). Required.
	Issuer string
	// Audience is the "aud" value this service answers to; a token must
	// name it (RFC 8725 §3.9). Required.
	Audience string
	// Algorithms are the accepted "alg" values, a subset of RS256, RS384,
	// RS512, PS256, PS384, PS512, ES256, ES384 and EdDSA. Empty means
	// DefaultAlgorithms. "none" and HS256/384/512 are refused: this
	// verifier holds public keys only.
	Algorithms []string
	// Leeway is the clock skew allowed on exp, nbf and iat, 0..5m. Zero
	// means none; 30s is a good value across machines synced with NTP.
	Leeway time.Duration
	// Now returns the current time; nil means time.Now. For tests.
	Now func() time.Time
}

// Validate reports every problem of the configuration at once; each wraps
// ErrConfig.
func (c VerifierConfig) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...))
	}
	switch {
	case c.Keys == nil && c.Source == nil:
		bad("Keys or Source is required")
	case c.Keys != nil && c.Source != nil:
		bad("set Keys or Source, not both")
	case c.Keys != nil && c.Keys.Len() == 0:
		bad("Keys is empty")
	}
	if strings.TrimSpace(c.Issuer) == "" {
		bad("Issuer is required")
	}
	if strings.TrimSpace(c.Audience) == "" {
		bad("Audience is required")
	}
	for _, a := range c.Algorithms {
		if !slices.Contains(supportedAlgorithms, a) {
			bad("algorithm %s is not accepted (only asymmetric signatures: %s)", quoteSafe(a), strings.Join(supportedAlgorithms, ", "))
		}
	}
	if c.Leeway < 0 || c.Leeway > maxLeeway {
		bad("Leeway %v outside 0..%v", c.Leeway, maxLeeway)
	}
	return errors.Join(errs...)
}

// Verifier checks bearer access tokens. Build it once with NewVerifier; it
// is safe for concurrent use.
type Verifier struct {
	keys   *KeySet
	source *KeySource
	parser *jwt.Parser
}

// NewVerifier validates cfg and builds the parser once.
func NewVerifier(cfg VerifierConfig) (*Verifier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	algs := cfg.Algorithms
	if len(algs) == 0 {
		algs = DefaultAlgorithms()
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods(slices.Clone(algs)),
		jwt.WithExpirationRequired(),
		jwt.WithIssuer(cfg.Issuer),
		jwt.WithAudience(cfg.Audience),
		jwt.WithLeeway(cfg.Leeway),
		jwt.WithIssuedAt(),
		// One encoding per token: no padding, canonical trailing bits.
		jwt.WithStrictDecoding(),
	}
	if cfg.Now != nil {
		opts = append(opts, jwt.WithTimeFunc(cfg.Now))
	}
	return &Verifier{keys: cfg.Keys, source: cfg.Source, parser: jwt.NewParser(opts...)}, nil
}

// Claims is what a verified token says about its bearer.
type Claims struct {
	// Subject is "sub": the user or service the token was issued to.
	Subject string
	// Issuer is "iss", equal to the configured issuer.
	Issuer string
	// Audience is "aud"; it includes the configured audience.
	Audience []string
	// ID is "jti", for revocation lists; "" when absent.
	ID string
	// Tenant is the "tenant" claim, an identifier ([a-z0-9][a-z0-9_-]{0,63})
	// or "" when the token names no tenant.
	Tenant string
	// Agents are the agents the bearer may speak for: the "agents" array
	// and the "agent" string, together, each an identifier.
	Agents []string
	// Scopes are the "scope" claim (a space-separated string, RFC 8693
	// §4.2, or an array of strings).
	Scopes []string
	// ExpiresAt is "exp".
	ExpiresAt time.Time
	// IssuedAt is "iat"; zero when absent.
	IssuedAt time.Time
	// KeyID is the "kid" of the key that verified the token.
	KeyID string
}

// AllowsAgent reports whether the bearer may speak for agent.
func (c *Claims) AllowsAgent(agent string) bool { return slices.Contains(c.Agents, agent) }

// HasScope reports whether the token grants scope.
func (c *Claims) HasScope(scope string) bool { return slices.Contains(c.Scopes, scope) }

// tokenClaims is the JSON shape of the claims golang-jwt decodes and
// validates.
type tokenClaims struct {
	jwt.RegisteredClaims
	Tenant string    `json:"tenant"`
	Agents []string  `json:"agents"`
	Agent  string    `json:"agent"`
	Scope  scopeList `json:"scope"`
}

// scopeList reads "scope" as a space-separated string or an array.
type scopeList []string

// UnmarshalJSON implements json.Unmarshaler.
func (s *scopeList) UnmarshalJSON(b []byte) error {
	var str string
	if err := json.Unmarshal(b, &str); err == nil {
		*s = strings.Fields(str)
		return nil
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return errors.New("scope must be a string or an array of strings")
	}
	*s = list
	return nil
}

// verifyStep records how far a verification got, so that a failure can be
// classified by where it happened rather than by its message.
type verifyStep uint8

const (
	stepParsed verifyStep = iota // header and claims decoded, alg known
	stepKeyed                    // alg allowed, keyfunc called
	stepSigned                   // key found and pinned to alg
)

// Verify checks token and returns its claims. The error wraps one of
// ErrTokenInvalid, ErrTokenExpired, ErrUnknownKey, ErrAlgorithm,
// ErrAudience and ErrIssuer, and never contains the token.
func (v *Verifier) Verify(token string) (*Claims, error) {
	if token == "" {
		return nil, fmt.Errorf("%w: empty token", ErrTokenInvalid)
	}
	if len(token) > MaxTokenBytes {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrTokenInvalid, MaxTokenBytes)
	}
	keys := v.keys
	if v.source != nil {
		keys = v.source.Keys()
	}
	var (
		tc   tokenClaims
		step = stepParsed
		kid  string
	)
	_, err := v.parser.ParseWithClaims(token, &tc, func(t *jwt.Token) (any, error) {
		step = stepKeyed
		if _, ok := t.Header["crit"]; ok {
			// RFC 7515 §4.1.11: extensions we do not understand must fail.
			return nil, fmt.Errorf("%w: crit header with an unsupported extension", ErrTokenInvalid)
		}
		if typ, ok := t.Header["typ"]; ok && !accessTokenType(typ) {
			return nil, fmt.Errorf("%w: typ is not JWT or at+jwt", ErrTokenInvalid)
		}
		if raw, ok := t.Header["kid"]; ok {
			s, isString := raw.(string)
			if !isString || s == "" {
				return nil, fmt.Errorf("%w: kid must be a non-empty string", ErrUnknownKey)
			}
			kid = s
		}
		k, ok := keys.Lookup(kid)
		if !ok {
			if kid == "" {
				return nil, fmt.Errorf("%w: token has no kid and the key set holds %d keys", ErrUnknownKey, keys.Len())
			}
			return nil, fmt.Errorf("%w: no key with the token's kid", ErrUnknownKey)
		}
		if alg := t.Method.Alg(); alg != k.Algorithm {
			return nil, fmt.Errorf("%w: the key is pinned to %s, the token says %s", ErrAlgorithm, k.Algorithm, quoteSafe(alg))
		}
		step = stepSigned
		kid = k.ID
		return k.Public, nil
	})
	if err != nil {
		return nil, classify(err, step, &tc)
	}
	return claimsOf(&tc, kid)
}

// classify maps a golang-jwt failure to this package's sentinels. Which
// step the parser reached tells apart failures that golang-jwt reports
// with one sentinel: ErrTokenSignatureInvalid before the keyfunc runs means
// the algorithm was not in the allowed list, after it a bad signature.
func classify(err error, step verifyStep, tc *tokenClaims) error {
	for _, own := range []error{ErrTokenInvalid, ErrUnknownKey, ErrAlgorithm} {
		if errors.Is(err, own) {
			// Raised by our keyfunc.
			return keyfuncError(err, own)
		}
	}
	switch step {
	case stepParsed:
		switch {
		case errors.Is(err, jwt.ErrTokenMalformed):
			return fmt.Errorf("%w: malformed", ErrTokenInvalid)
		case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
			// The alg is unknown, missing, "none", or not allowed.
			return fmt.Errorf("%w: the token's alg is not accepted", ErrAlgorithm)
		}
		return fmt.Errorf("%w: not verifiable", ErrTokenInvalid)
	case stepKeyed:
		return fmt.Errorf("%w: not verifiable", ErrTokenInvalid)
	}
	if errors.Is(err, jwt.ErrTokenSignatureInvalid) {
		return fmt.Errorf("%w: signature does not verify", ErrTokenInvalid)
	}
	// The signature verified; what is left are the claims.
	switch {
	case errors.Is(err, jwt.ErrTokenInvalidIssuer) || tc.Issuer == "":
		return fmt.Errorf("%w: iss is not the expected issuer", ErrIssuer)
	case errors.Is(err, jwt.ErrTokenInvalidAudience) || len(tc.Audience) == 0 || len(tc.Audience) == 1 && tc.Audience[0] == "":
		return fmt.Errorf("%w: aud does not name this service", ErrAudience)
	case errors.Is(err, jwt.ErrTokenExpired):
		return fmt.Errorf("%w: exp is in the past", ErrTokenExpired)
	case tc.ExpiresAt == nil:
		return fmt.Errorf("%w: exp is required", ErrTokenInvalid)
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return fmt.Errorf("%w: nbf is in the future", ErrTokenInvalid)
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return fmt.Errorf("%w: iat is in the future", ErrTokenInvalid)
	}
	return fmt.Errorf("%w: claims do not validate", ErrTokenInvalid)
}

// keyfuncError returns the keyfunc's own error without golang-jwt's
// prefixes, which would otherwise read "token is unverifiable: error while
// executing keyfunc: …".
func keyfuncError(err, sentinel error) error {
	// The keyfunc error is the last %w of golang-jwt's wrapper.
	type multi interface{ Unwrap() []error }
	for {
		m, ok := err.(multi)
		if !ok {
			return err
		}
		errs := m.Unwrap()
		last := errs[len(errs)-1]
		if !errors.Is(last, sentinel) {
			return err
		}
		err = last
	}
}

// accessTokenType accepts the typ values of an access token: "JWT" (RFC
// 7519) and "at+jwt" (RFC 9068), with or without "application/", in any
// case (media types are case-insensitive).
func accessTokenType(v any) bool {
	s, ok := v.(string)
	if !ok {
		return false
	}
	if len(s) > len("application/") && strings.EqualFold(s[:len("application/")], "application/") {
		s = s[len("application/"):]
	}
	return strings.EqualFold(s, "JWT") || strings.EqualFold(s, "at+jwt")
}

// claimsOf checks the ESCAI claims of a verified token and copies them out.
func claimsOf(tc *tokenClaims, kid string) (*Claims, error) {
	c := &Claims{
		Subject:  tc.Subject,
		Issuer:   tc.Issuer,
		Audience: []string(tc.Audience),
		ID:       tc.ID,
		Tenant:   tc.Tenant,
		Scopes:   []string(tc.Scope),
		KeyID:    kid,
	}
	if tc.ExpiresAt != nil {
		c.ExpiresAt = tc.ExpiresAt.Time
	}
	if tc.IssuedAt != nil {
		c.IssuedAt = tc.IssuedAt.Time
	}
	if c.Tenant != "" && !events.ValidIdentifier(c.Tenant) {
		return nil, fmt.Errorf("%w: tenant claim is not an identifier", ErrTokenInvalid)
	}
	agents := make([]string, 0, len(tc.Agents)+1)
	agents = append(agents, tc.Agents...)
	if tc.Agent != "" {
		agents = append(agents, tc.Agent)
	}
	for _, a := range agents {
		if !events.ValidIdentifier(a) {
			return nil, fmt.Errorf("%w: agents claim holds a value that is not an identifier", ErrTokenInvalid)
		}
	}
	slices.Sort(agents)
	c.Agents = slices.Compact(agents)
	return c, nil
}
