package auth

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestVerifyAcceptsValidTokens(t *testing.T) {
	t.Parallel()
	k := keys(t)
	v := newTestVerifier(t, k.set(t))
	cases := map[string]struct {
		token string
		kid   string
	}{
		"RS256":                  {sign(t, jwt.SigningMethodRS256, k.rsa, baseClaims(), map[string]any{"kid": "rsa-1"}), "rsa-1"},
		"ES256":                  {sign(t, jwt.SigningMethodES256, k.ec256, baseClaims(), map[string]any{"kid": "ec-1"}), "ec-1"},
		"EdDSA":                  {sign(t, jwt.SigningMethodEdDSA, k.ed, baseClaims(), map[string]any{"kid": "ed-1"}), "ed-1"},
		"typ JWT":                {sign(t, jwt.SigningMethodEdDSA, k.ed, baseClaims(), map[string]any{"kid": "ed-1", "typ": "JWT"}), "ed-1"},
		"typ application/at+JWT": {sign(t, jwt.SigningMethodEdDSA, k.ed, baseClaims(), map[string]any{"kid": "ed-1", "typ": "application/at+JWT"}), "ed-1"},
		"no typ":                 {sign(t, jwt.SigningMethodEdDSA, k.ed, baseClaims(), map[string]any{"kid": "ed-1", "typ": nil}), "ed-1"},
		"aud array":              {sign(t, jwt.SigningMethodEdDSA, k.ed, with(baseClaims(), "aud", []string{"other", testAudience}), map[string]any{"kid": "ed-1"}), "ed-1"},
		"expired inside leeway":  {sign(t, jwt.SigningMethodEdDSA, k.ed, with(baseClaims(), "exp", testNow.Add(-10*time.Second).Unix()), map[string]any{"kid": "ed-1"}), "ed-1"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := v.Verify(c.token)
			if err != nil {
				t.Fatalf("Verify = %v", err)
			}
			if got.Subject != "agent-runner@acme" || got.Tenant != "acme" || got.Issuer != testIssuer || got.ID != "tok-1" || got.KeyID != c.kid {
				t.Fatalf("claims = %+v", got)
			}
			if !slices.Equal(got.Agents, []string{"agent-1", "agent-2"}) || !got.AllowsAgent("agent-2") || got.AllowsAgent("agent-3") {
				t.Fatalf("agents = %v", got.Agents)
			}
			if !got.HasScope("events:write") || got.HasScope("admin") {
				t.Fatalf("scopes = %v", got.Scopes)
			}
			if got.ExpiresAt.IsZero() || got.IssuedAt.IsZero() {
				t.Fatalf("times = %v %v", got.ExpiresAt, got.IssuedAt)
			}
		})
	}
}

func TestVerifySingleKeyWithoutKid(t *testing.T) {
	t.Parallel()
	k := keys(t)
	s, err := NewKeySet(Key{Public: k.ed.Public()})
	if err != nil {
		t.Fatal(err)
	}
	v := newTestVerifier(t, s)
	if _, err := v.Verify(sign(t, jwt.SigningMethodEdDSA, k.ed, baseClaims(), nil)); err != nil {
		t.Fatalf("kid-less token against a one-key set: %v", err)
	}
	if _, err := v.Verify(sign(t, jwt.SigningMethodEdDSA, k.ed, baseClaims(), map[string]any{"kid": "x"})); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("a kid the set lacks: %v, want ErrUnknownKey", err)
	}
}

func TestVerifyClaimShapes(t *testing.T) {
	t.Parallel()
	k := keys(t)
	v := newTestVerifier(t, k.set(t))
	tok := sign(t, jwt.SigningMethodEdDSA, k.ed, with(baseClaims(), "agents", nil, "agent", "solo", "scope", []string{"a", "b"}), map[string]any{"kid": "ed-1"})
	c, err := v.Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Agents, []string{"solo"}) || !slices.Equal(c.Scopes, []string{"a", "b"}) {
		t.Fatalf("claims = %+v", c)
	}
	tok = sign(t, jwt.SigningMethodEdDSA, k.ed, with(baseClaims(), "agent", "agent-1", "tenant", nil), map[string]any{"kid": "ed-1"})
	if c, err = v.Verify(tok); err != nil || c.Tenant != "" || !slices.Equal(c.Agents, []string{"agent-1", "agent-2"}) {
		t.Fatalf("union of agent and agents, no tenant: %+v %v", c, err)
	}
}

func TestVerifyRejects(t *testing.T) {
	t.Parallel()
	k := keys(t)
	v := newTestVerifier(t, k.set(t))
	ed := map[string]any{"kid": "ed-1"}
	good := sign(t, jwt.SigningMethodEdDSA, k.ed, baseClaims(), ed)
	parts := strings.Split(good, ".")

	// Key confusion: HS256 keyed with the public key, as PEM and as the raw
	// JWK bytes, under the kid of a real key.
	der, err := x509.MarshalPKIXPublicKey(k.ed.Public())
	if err != nil {
		t.Fatal(err)
	}
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	rsaDER, err := x509.MarshalPKIXPublicKey(&k.rsa.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	rsaPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: rsaDER})

	tampered := with(baseClaims(), "tenant", "globex")
	tamperedPayload := base64.RawURLEncoding.EncodeToString(mustJSON(t, tampered))

	cases := map[string]struct {
		token string
		want  error
	}{
		"alg none":                         {sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, baseClaims(), ed), ErrAlgorithm},
		"alg none without kid":             {sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, baseClaims(), map[string]any{"kid": nil}), ErrAlgorithm},
		"HS256 keyed with the Ed25519 PEM": {sign(t, jwt.SigningMethodHS256, pemBytes, baseClaims(), ed), ErrAlgorithm},
		"HS256 keyed with the raw key":     {sign(t, jwt.SigningMethodHS256, []byte(k.ed.Public().(ed25519.PublicKey)), baseClaims(), ed), ErrAlgorithm},
		"HS256 keyed with the RSA PEM":     {sign(t, jwt.SigningMethodHS256, rsaPEM, baseClaims(), map[string]any{"kid": "rsa-1"}), ErrAlgorithm},
		"RS256 under an EC kid":            {sign(t, jwt.SigningMethodRS256, k.rsa, baseClaims(), map[string]any{"kid": "ec-1"}), ErrAlgorithm},
		"PS256 not in the allowed list":    {sign(t, jwt.SigningMethodPS256, k.rsa, baseClaims(), map[string]any{"kid": "rsa-1"}), ErrAlgorithm},
		"unknown alg":                      {b64json(t, map[string]any{"alg": "XYZ", "kid": "ed-1"}) + "." + parts[1] + "." + parts[2], ErrAlgorithm},
		"no alg":                           {b64json(t, map[string]any{"kid": "ed-1"}) + "." + parts[1] + "." + parts[2], ErrAlgorithm},
		"expired":                          {sign(t, jwt.SigningMethodEdDSA, k.ed, with(baseClaims(), "exp", testNow.Add(-time.Hour).Unix()), ed), ErrTokenExpired},
		"missing exp":                      {sign(t, jwt.SigningMethodEdDSA, k.ed, with(baseClaims(), "exp", nil), ed), ErrTokenInvalid},
		"exp as a string":                  {sign(t, jwt.SigningMethodEdDSA, k.ed, with(baseClaims(), "exp", "tomorrow"), ed), ErrTokenInvalid},
		"not valid yet":                    {sign(t, jwt.SigningMethodEdDSA, k.ed, with(baseClaims(), "nbf", testNow.Add(time.Hour).Unix()), ed), ErrTokenInvalid},
		"issued in the future":             {sign(t, jwt.SigningMethodEdDSA, k.ed, with(baseClaims(), "iat", testNow.Add(time.Hour).Unix()), ed), ErrTokenInvalid},
		"wrong aud":                        {sign(t, jwt.SigningMethodEdDSA, k.ed, with(baseClaims(), "aud", "escai-admin"), ed), ErrAudience},
		"missing aud":                      {sign(t, jwt.SigningMethodEdDSA, k.ed, with(baseClaims(), "aud", nil), ed), ErrAudience},
		"wrong iss":                        {sign(t, jwt.SigningMethodEdDSA, k.ed, with(baseClaims(), "iss", "https://evil.test"), ed), ErrIssuer},
		"missing iss":                      {sign(t, jwt.SigningMethodEdDSA, k.ed, with(baseClaims(), "iss", nil), ed), ErrIssuer},
		"unknown kid":                      {sign(t, jwt.SigningMethodEdDSA, k.ed, baseClaims(), map[string]any{"kid": "ed-2"}), ErrUnknownKey},
		"missing kid with three keys":      {sign(t, jwt.SigningMethodEdDSA, k.ed, baseClaims(), map[string]any{"kid": nil}), ErrUnknownKey},
		"kid not a string":                 {sign(t, jwt.SigningMethodEdDSA, k.ed, baseClaims(), map[string]any{"kid": 1}), ErrUnknownKey},
		"signed by another key":            {sign(t, jwt.SigningMethodEdDSA, k.other, baseClaims(), ed), ErrTokenInvalid},
		"tampered payload":                 {parts[0] + "." + tamperedPayload + "." + parts[2], ErrTokenInvalid},
		"tampered signature":               {parts[0] + "." + parts[1] + "." + flip(parts[2]), ErrTokenInvalid},
		"signature stripped":               {parts[0] + "." + parts[1] + ".", ErrTokenInvalid},
		"typ refresh token":                {sign(t, jwt.SigningMethodEdDSA, k.ed, baseClaims(), map[string]any{"kid": "ed-1", "typ": "rt+jwt"}), ErrTokenInvalid},
		"typ not a string":                 {sign(t, jwt.SigningMethodEdDSA, k.ed, baseClaims(), map[string]any{"kid": "ed-1", "typ": 1}), ErrTokenInvalid},
		"crit header":                      {sign(t, jwt.SigningMethodEdDSA, k.ed, baseClaims(), map[string]any{"kid": "ed-1", "crit": []string{"exp"}}), ErrTokenInvalid},
		"tenant not an identifier":         {sign(t, jwt.SigningMethodEdDSA, k.ed, with(baseClaims(), "tenant", "ACME.*"), ed), ErrTokenInvalid},
		"agent not an identifier":          {sign(t, jwt.SigningMethodEdDSA, k.ed, with(baseClaims(), "agents", []string{"a>"}), ed), ErrTokenInvalid},
		"tenant not a string":              {sign(t, jwt.SigningMethodEdDSA, k.ed, with(baseClaims(), "tenant", 5), ed), ErrTokenInvalid},
		"padded segments":                  {parts[0] + "=." + parts[1] + "." + parts[2], ErrTokenInvalid},
		"two segments":                     {parts[0] + "." + parts[1], ErrTokenInvalid},
		"garbage":                          {"not a token", ErrTokenInvalid},
		"empty":                            {"", ErrTokenInvalid},
		"oversized":                        {good + strings.Repeat("A", MaxTokenBytes), ErrTokenInvalid},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			claims, err := v.Verify(c.token)
			if claims != nil || !errors.Is(err, c.want) {
				t.Fatalf("Verify = %+v, %v; want %v", claims, err, c.want)
			}
			for _, other := range []error{ErrTokenInvalid, ErrTokenExpired, ErrUnknownKey, ErrAlgorithm, ErrAudience, ErrIssuer} {
				if other != c.want && errors.Is(err, other) {
					t.Fatalf("error %v wraps %v as well as %v", err, other, c.want)
				}
			}
			if c.token != "" && strings.Contains(err.Error(), c.token) {
				t.Fatalf("error text contains the token")
			}
			for _, seg := range strings.Split(c.token, ".") {
				if len(seg) > 16 && strings.Contains(err.Error(), seg) {
					t.Fatalf("error text contains a token segment: %v", err)
				}
			}
		})
	}
}

func TestVerifierConfigValidate(t *testing.T) {
	t.Parallel()
	k := keys(t)
	s := k.set(t)
	cases := map[string]struct {
		cfg  VerifierConfig
		want []string
	}{
		"nothing":         {VerifierConfig{}, []string{"Keys or Source is required", "Issuer is required", "Audience is required"}},
		"none":            {VerifierConfig{Keys: s, Issuer: "i", Audience: "a", Algorithms: []string{"none"}}, []string{`algorithm "none" is not accepted`}},
		"HS256":           {VerifierConfig{Keys: s, Issuer: "i", Audience: "a", Algorithms: []string{"EdDSA", "HS256"}}, []string{`algorithm "HS256" is not accepted`}},
		"leeway":          {VerifierConfig{Keys: s, Issuer: "i", Audience: "a", Leeway: time.Hour}, []string{"Leeway 1h0m0s outside"}},
		"keys and source": {VerifierConfig{Keys: s, Source: &KeySource{}, Issuer: "i", Audience: "a"}, []string{"not both"}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			v, err := NewVerifier(c.cfg)
			if v != nil || !errors.Is(err, ErrConfig) {
				t.Fatalf("NewVerifier = %v, %v", v, err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestVerifyRestrictedAlgorithms(t *testing.T) {
	t.Parallel()
	k := keys(t)
	v, err := NewVerifier(VerifierConfig{Keys: k.set(t), Issuer: testIssuer, Audience: testAudience, Algorithms: []string{AlgEdDSA}, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(sign(t, jwt.SigningMethodRS256, k.rsa, baseClaims(), map[string]any{"kid": "rsa-1"})); !errors.Is(err, ErrAlgorithm) {
		t.Fatalf("RS256 with EdDSA only: %v", err)
	}
	if _, err := v.Verify(sign(t, jwt.SigningMethodEdDSA, k.ed, baseClaims(), map[string]any{"kid": "ed-1"})); err != nil {
		t.Fatal(err)
	}
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := jsonMarshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func b64json(t testing.TB, v any) string {
	return base64.RawURLEncoding.EncodeToString(mustJSON(t, v))
}

// flip changes the first character of a base64url segment.
func flip(s string) string {
	if s[0] == 'A' {
		return "B" + s[1:]
	}
	return "A" + s[1:]
}
