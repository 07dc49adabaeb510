package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testKeys are generated once per test binary: RSA generation is slow.
type testKeys struct {
	rsa   *rsa.PrivateKey
	ec256 *ecdsa.PrivateKey
	ec384 *ecdsa.PrivateKey
	ed    ed25519.PrivateKey
	other ed25519.PrivateKey // a key no set holds
}

var keysOnce = sync.OnceValue(func() *testKeys {
	r, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	e256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	e384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		panic(err)
	}
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	_, other, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	return &testKeys{rsa: r, ec256: e256, ec384: e384, ed: ed, other: other}
})

func keys(t testing.TB) *testKeys {
	t.Helper()
	return keysOnce()
}

// set is the key set most tests verify against: three keys with kids.
func (k *testKeys) set(t testing.TB) *KeySet {
	t.Helper()
	s, err := NewKeySet(
		Key{ID: "rsa-1", Public: &k.rsa.PublicKey},
		Key{ID: "ec-1", Public: &k.ec256.PublicKey},
		Key{ID: "ed-1", Public: k.ed.Public()},
	)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const (
	testIssuer   = "https://auth.escai.test"
	testAudience = "escai-ingest"
)

var testNow = time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)

func newTestVerifier(t testing.TB, s *KeySet) *Verifier {
	t.Helper()
	v, err := NewVerifier(VerifierConfig{
		Keys: s, Issuer: testIssuer, Audience: testAudience,
		Leeway: 30 * time.Second, Now: func() time.Time { return testNow },
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// baseClaims are valid claims at testNow.
func baseClaims() jwt.MapClaims {
	return jwt.MapClaims{
		"iss":    testIssuer,
		"aud":    testAudience,
		"sub":    "agent-runner@acme",
		"exp":    testNow.Add(10 * time.Minute).Unix(),
		"iat":    testNow.Add(-time.Minute).Unix(),
		"jti":    "tok-1",
		"tenant": "acme",
		"agents": []string{"agent-1", "agent-2"},
		"scope":  "events:write events:read",
	}
}

// sign makes a token; header entries replace the defaults (nil deletes).
func sign(t testing.TB, m jwt.SigningMethod, key any, claims jwt.MapClaims, header map[string]any) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, claims)
	tok.Header["typ"] = "at+jwt"
	for k, v := range header {
		if v == nil {
			delete(tok.Header, k)
			continue
		}
		tok.Header[k] = v
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func with(c jwt.MapClaims, kv ...any) jwt.MapClaims {
	out := jwt.MapClaims{}
	for k, v := range c {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
			continue
		}
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

// jwksOf marshals keys to a JWKS document.
func jwksOf(t testing.TB, ks ...Key) []byte {
	t.Helper()
	s, err := NewKeySet(ks...)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var jsonMarshal = json.Marshal

func samePublic(a, b crypto.PublicKey) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	ea, ok := a.(equaler)
	return ok && ea.Equal(b)
}
