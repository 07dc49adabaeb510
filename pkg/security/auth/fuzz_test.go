package auth

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

var jwksSentinels = []error{ErrInvalidJWKS, ErrJWKSTooLarge, ErrPrivateKey, ErrUnsupportedKey, ErrWeakKey, ErrDuplicateKeyID, ErrKeyAlgorithm}

func FuzzParseJWKS(f *testing.F) {
	k := keysOnce()
	seed, err := NewKeySet(
		Key{ID: "rsa", Public: &k.rsa.PublicKey},
		Key{ID: "ec256", Public: &k.ec256.PublicKey},
		Key{ID: "ec384", Public: &k.ec384.PublicKey},
		Key{ID: "ed", Public: k.ed.Public()},
	)
	if err != nil {
		f.Fatal(err)
	}
	full, err := json.Marshal(seed)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(full)
	for _, s := range []string{
		`{"keys":[]}`,
		`{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`,
		`{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}]}`,
		`{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","kid":"1"}]}`,
		`{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB","alg":"RS256","use":"sig"}]}`,
		`{"keys":[{"kty":"oct","k":"AQAB"}]}`,
		`{"keys":[{"kty":"OKP","\u006bty":"RSA"}]}`,
		`{"keys":[{},{}],"keys":1}`,
		`{"keys":[1,"a",null,[]]}`,
		"{\"keys\":[{\"kid\":\"\xff\"}]}",
		`[]`, `null`, ``, `{`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		s, err := ParseJWKS(doc)
		if err != nil {
			if s != nil {
				t.Fatal("set returned with an error")
			}
			n := 0
			for _, se := range jwksSentinels {
				if errors.Is(err, se) {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("error wraps %d sentinels: %v", n, err)
			}
			var ke *KeyError
			if errors.As(err, &ke) && strings.ContainsFunc(ke.KeyID, func(r rune) bool { return r < 0x20 || r >= 0x7f }) {
				t.Fatalf("unsafe kid in error: %q", ke.KeyID)
			}
			return
		}
		if s.Len() == 0 || s.Len() > MaxKeys {
			t.Fatalf("set of %d keys", s.Len())
		}
		// What was accepted publishes and parses back to the same keys.
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatalf("MarshalJSON: %v", err)
		}
		back, err := ParseJWKS(b)
		if err != nil {
			t.Fatalf("round trip: %v\n%s", err, b)
		}
		for _, want := range s.Keys() {
			got, ok := back.Lookup(want.ID)
			if !ok || got.Algorithm != want.Algorithm || !samePublic(got.Public, want.Public) {
				t.Fatalf("round trip changed key %q", want.ID)
			}
			if !strings.HasPrefix(got.Algorithm, "RS") && !strings.HasPrefix(got.Algorithm, "PS") && !strings.HasPrefix(got.Algorithm, "ES") && got.Algorithm != AlgEdDSA {
				t.Fatalf("pinned algorithm %q", got.Algorithm)
			}
		}
	})
}

var tokenSentinels = []error{ErrTokenInvalid, ErrTokenExpired, ErrUnknownKey, ErrAlgorithm, ErrAudience, ErrIssuer}

func FuzzVerify(f *testing.F) {
	k := keysOnce()
	s, err := NewKeySet(Key{ID: "ed-1", Public: k.ed.Public()}, Key{ID: "ec-1", Public: &k.ec256.PublicKey})
	if err != nil {
		f.Fatal(err)
	}
	v := newTestVerifier(f, s)
	good := sign(f, jwt.SigningMethodEdDSA, k.ed, baseClaims(), map[string]any{"kid": "ed-1"})
	f.Add(good)
	f.Add(sign(f, jwt.SigningMethodES256, k.ec256, baseClaims(), map[string]any{"kid": "ec-1"}))
	f.Add(sign(f, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, baseClaims(), map[string]any{"kid": "ed-1"}))
	f.Add(sign(f, jwt.SigningMethodHS256, []byte("k"), baseClaims(), map[string]any{"kid": "ed-1"}))
	f.Add("a.b.c")
	f.Add("..")
	f.Add("")
	f.Fuzz(func(t *testing.T, token string) {
		c, err := v.Verify(token)
		if err == nil {
			if c == nil || c.Issuer != testIssuer {
				t.Fatalf("accepted with claims %+v", c)
			}
			return
		}
		n := 0
		for _, se := range tokenSentinels {
			if errors.Is(err, se) {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("error wraps %d sentinels: %v", n, err)
		}
		if len(token) > 16 && strings.Contains(err.Error(), token) {
			t.Fatal("error text contains the token")
		}
	})
}
