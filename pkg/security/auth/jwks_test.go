package auth

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"
)

// jwkMaps returns one valid JWK per supported type, as editable maps.
func jwkMaps(t *testing.T) map[string]map[string]any {
	t.Helper()
	k := keys(t)
	doc := jwksOf(t,
		Key{ID: "rsa", Public: &k.rsa.PublicKey},
		Key{ID: "ec256", Public: &k.ec256.PublicKey},
		Key{ID: "ec384", Public: &k.ec384.PublicKey},
		Key{ID: "ed", Public: k.ed.Public()},
	)
	var parsed struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(doc, &parsed); err != nil {
		t.Fatal(err)
	}
	out := make(map[string]map[string]any)
	for _, m := range parsed.Keys {
		out[m["kid"].(string)] = m
	}
	return out
}

// edit copies a JWK map with changes (nil deletes a member).
func edit(m map[string]any, kv ...any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
		} else {
			out[kv[i].(string)] = kv[i+1]
		}
	}
	return out
}

func doc(t *testing.T, ks ...map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"keys": ks})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseJWKSAcceptsPublicSignatureKeys(t *testing.T) {
	t.Parallel()
	k := keys(t)
	m := jwkMaps(t)
	s, err := ParseJWKS(doc(t, m["rsa"], m["ec256"], m["ec384"], m["ed"]))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		alg string
		pub any
	}{
		"rsa":   {AlgRS256, &k.rsa.PublicKey},
		"ec256": {AlgES256, &k.ec256.PublicKey},
		"ec384": {AlgES384, &k.ec384.PublicKey},
		"ed":    {AlgEdDSA, k.ed.Public()},
	}
	if s.Len() != len(want) {
		t.Fatalf("Len = %d", s.Len())
	}
	for kid, w := range want {
		got, ok := s.Lookup(kid)
		if !ok || got.Algorithm != w.alg || !samePublic(got.Public, w.pub) {
			t.Errorf("Lookup(%q) = %+v, %v; want alg %s and the generated key", kid, got, ok, w.alg)
		}
	}
	if _, ok := s.Lookup(""); ok {
		t.Error("a missing kid selected a key from a set of four")
	}
	if _, ok := s.Lookup("nope"); ok {
		t.Error("unknown kid selected a key")
	}
}

func TestParseJWKSDefaultsAndSingleKey(t *testing.T) {
	t.Parallel()
	m := jwkMaps(t)
	cases := map[string]struct {
		jwk     map[string]any
		wantAlg string
	}{
		"RSA without alg pins RS256":      {edit(m["rsa"], "alg", nil), AlgRS256},
		"RSA PS384":                       {edit(m["rsa"], "alg", "PS384"), AlgPS384},
		"EC P-384 without alg pins ES384": {edit(m["ec384"], "alg", nil), AlgES384},
		"OKP with RFC 9864 name":          {edit(m["ed"], "alg", "Ed25519"), AlgEdDSA},
		"no use, no kid, one key":         {edit(m["ed"], "use", nil, "kid", nil), AlgEdDSA},
		"key_ops verify":                  {edit(m["ed"], "key_ops", []string{"verify"}), AlgEdDSA},
		"x5c and unknown members ignored": {edit(m["ed"], "x5c", []string{"MII..."}, "ext", true), AlgEdDSA},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s, err := ParseJWKS(doc(t, c.jwk))
			if err != nil {
				t.Fatal(err)
			}
			kid, _ := c.jwk["kid"].(string)
			got, ok := s.Lookup(kid)
			if !ok || got.Algorithm != c.wantAlg {
				t.Fatalf("Lookup(%q) = %+v %v, want alg %s", kid, got, ok, c.wantAlg)
			}
		})
	}
}

func TestParseJWKSRejects(t *testing.T) {
	t.Parallel()
	m := jwkMaps(t)
	// A 1024-bit odd modulus: the parser checks size, not primality.
	weak := new(big.Int).Lsh(big.NewInt(1), 1023)
	weak.SetBit(weak, 0, 1)
	weakN := b64.EncodeToString(weak.Bytes())
	huge := new(big.Int).Lsh(big.NewInt(1), 8200)
	huge.SetBit(huge, 0, 1)
	offCurve := edit(m["ec256"], "y", m["ec256"]["x"])
	cases := map[string]struct {
		doc     []byte
		want    error
		keyErr  bool
		message string
	}{
		"private RSA member d":   {doc: doc(t, edit(m["rsa"], "d", "AQAB")), want: ErrPrivateKey, keyErr: true, message: `member "d"`},
		"private EC member d":    {doc: doc(t, edit(m["ec256"], "d", "AQAB")), want: ErrPrivateKey, keyErr: true},
		"private OKP member d":   {doc: doc(t, edit(m["ed"], "d", "AQAB")), want: ErrPrivateKey, keyErr: true},
		"RSA prime p":            {doc: doc(t, edit(m["rsa"], "p", "AQAB")), want: ErrPrivateKey, keyErr: true},
		"symmetric oct key":      {doc: doc(t, map[string]any{"kty": "oct", "kid": "h", "k": "c2VjcmV0"}), want: ErrPrivateKey, keyErr: true},
		"escaped private member": {doc: []byte(strings.Replace(string(doc(t, m["ed"])), `"kty"`, `"\u0064":"AQAB","kty"`, 1)), want: ErrPrivateKey, keyErr: true},
		"unknown kty":            {doc: doc(t, map[string]any{"kty": "XYZ", "kid": "x"}), want: ErrUnsupportedKey, keyErr: true},
		"missing kty":            {doc: doc(t, edit(m["ed"], "kty", nil)), want: ErrInvalidJWKS, keyErr: true},
		"weak RSA":               {doc: doc(t, edit(m["rsa"], "n", weakN)), want: ErrWeakKey, keyErr: true, message: "1024 bits"},
		"huge RSA":               {doc: doc(t, edit(m["rsa"], "n", b64.EncodeToString(huge.Bytes()))), want: ErrUnsupportedKey, keyErr: true},
		"even RSA exponent":      {doc: doc(t, edit(m["rsa"], "e", b64.EncodeToString([]byte{1, 0, 0}))), want: ErrWeakKey, keyErr: true},
		"RSA exponent 1":         {doc: doc(t, edit(m["rsa"], "e", "AQ")), want: ErrWeakKey, keyErr: true},
		"RSA exponent too big":   {doc: doc(t, edit(m["rsa"], "e", b64.EncodeToString([]byte{1, 0, 0, 0, 1}))), want: ErrWeakKey, keyErr: true},
		"duplicate kid":          {doc: doc(t, m["ed"], edit(m["ec256"], "kid", "ed")), want: ErrDuplicateKeyID, keyErr: true},
		"use enc":                {doc: doc(t, edit(m["rsa"], "use", "enc")), want: ErrUnsupportedKey, keyErr: true},
		"key_ops sign":           {doc: doc(t, edit(m["ed"], "key_ops", []string{"sign", "verify"})), want: ErrUnsupportedKey, keyErr: true},
		"EC key marked RS256":    {doc: doc(t, edit(m["ec256"], "alg", "RS256")), want: ErrKeyAlgorithm, keyErr: true},
		"P-256 key marked ES384": {doc: doc(t, edit(m["ec256"], "alg", "ES384")), want: ErrKeyAlgorithm, keyErr: true},
		"RSA key marked HS256":   {doc: doc(t, edit(m["rsa"], "alg", "HS256")), want: ErrKeyAlgorithm, keyErr: true},
		"OKP key marked none":    {doc: doc(t, edit(m["ed"], "alg", "none")), want: ErrKeyAlgorithm, keyErr: true},
		"EC P-521":               {doc: doc(t, edit(m["ec256"], "crv", "P-521")), want: ErrUnsupportedKey, keyErr: true},
		"OKP X25519":             {doc: doc(t, edit(m["ed"], "crv", "X25519")), want: ErrUnsupportedKey, keyErr: true},
		"point not on curve":     {doc: doc(t, offCurve), want: ErrInvalidJWKS, keyErr: true, message: "not on the curve"},
		"short coordinate":       {doc: doc(t, edit(m["ec256"], "x", b64.EncodeToString(make([]byte, 31)))), want: ErrInvalidJWKS, keyErr: true},
		"short Ed25519":          {doc: doc(t, edit(m["ed"], "x", b64.EncodeToString(make([]byte, 31)))), want: ErrInvalidJWKS, keyErr: true},
		"padded base64":          {doc: doc(t, edit(m["ed"], "x", m["ed"]["x"].(string)+"=")), want: ErrInvalidJWKS, keyErr: true},
		"standard base64":        {doc: doc(t, edit(m["ed"], "x", "+/"+m["ed"]["x"].(string)[2:])), want: ErrInvalidJWKS, keyErr: true},
		"missing n":              {doc: doc(t, edit(m["rsa"], "n", nil)), want: ErrInvalidJWKS, keyErr: true},
		"kid not a string":       {doc: doc(t, edit(m["ed"], "kid", 7)), want: ErrInvalidJWKS, keyErr: true},
		"kid with control":       {doc: doc(t, edit(m["ed"], "kid", "a\nb")), want: ErrInvalidJWKS, keyErr: true},
		"no kid in a set of two": {doc: doc(t, edit(m["ed"], "kid", nil), m["ec256"]), want: ErrInvalidJWKS, keyErr: true},
		"repeated member":        {doc: []byte(strings.Replace(string(doc(t, m["ed"])), `"kty"`, `"alg":"EdDSA","kty"`, 1)), want: ErrInvalidJWKS, keyErr: true, message: "more than once"},
		"repeated keys":          {doc: []byte(`{"keys":[],"keys":[]}`), want: ErrInvalidJWKS},
		"key not an object":      {doc: []byte(`{"keys":[1]}`), want: ErrInvalidJWKS, keyErr: true},
		"empty set":              {doc: []byte(`{"keys":[]}`), want: ErrInvalidJWKS},
		"keys null":              {doc: []byte(`{"keys":null}`), want: ErrInvalidJWKS},
		"no keys member":         {doc: []byte(`{"kty":"OKP"}`), want: ErrInvalidJWKS},
		"an array":               {doc: []byte(`[]`), want: ErrInvalidJWKS},
		"not JSON":               {doc: []byte(`{"keys":[`), want: ErrInvalidJWKS},
		"trailing data":          {doc: append(doc(t, m["ed"]), `{}`...), want: ErrInvalidJWKS},
		"not UTF-8":              {doc: []byte("{\"keys\":[],\"x\":\"\xff\"}"), want: ErrInvalidJWKS},
		"too large":              {doc: []byte(`{"keys":[],"pad":"` + strings.Repeat("a", MaxJWKSBytes) + `"}`), want: ErrJWKSTooLarge},
		"too many keys":          {doc: []byte(`{"keys":[` + strings.Repeat(`{},`, MaxKeys) + `{}]}`), want: ErrJWKSTooLarge},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s, err := ParseJWKS(c.doc)
			if s != nil || !errors.Is(err, c.want) {
				t.Fatalf("ParseJWKS = %v, %v; want %v", s, err, c.want)
			}
			var ke *KeyError
			if errors.As(err, &ke) != c.keyErr {
				t.Fatalf("KeyError = %v, want %v (%v)", !c.keyErr, c.keyErr, err)
			}
			if !strings.Contains(err.Error(), c.message) {
				t.Fatalf("error %q does not mention %q", err, c.message)
			}
		})
	}
}

func TestKeyErrorNamesTheKey(t *testing.T) {
	t.Parallel()
	m := jwkMaps(t)
	_, err := ParseJWKS(doc(t, m["ed"], edit(m["rsa"], "use", "enc")))
	var ke *KeyError
	if !errors.As(err, &ke) || ke.Index != 1 || ke.KeyID != "rsa" {
		t.Fatalf("err = %#v", err)
	}
	if want := `auth: JWKS key 1 (kid "rsa"): unsupported key: use "enc", want "sig"`; err.Error() != want {
		t.Fatalf("Error() = %q, want %q", err, want)
	}
}

func TestNewKeySet(t *testing.T) {
	t.Parallel()
	k := keys(t)
	p224, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	weak := &rsa.PublicKey{N: new(big.Int).SetBit(new(big.Int).Lsh(big.NewInt(1), 1023), 0, 1), E: 65537}
	cases := map[string]struct {
		keys []Key
		want error
	}{
		"none":              {nil, ErrInvalidJWKS},
		"weak RSA":          {[]Key{{ID: "a", Public: weak}}, ErrWeakKey},
		"P-224":             {[]Key{{ID: "a", Public: &p224.PublicKey}}, ErrUnsupportedKey},
		"private key":       {[]Key{{ID: "a", Public: k.ed}}, ErrUnsupportedKey},
		"HMAC secret":       {[]Key{{ID: "a", Public: []byte("secret")}}, ErrUnsupportedKey},
		"alg conflict":      {[]Key{{ID: "a", Algorithm: AlgES256, Public: k.ed.Public()}}, ErrKeyAlgorithm},
		"duplicate kid":     {[]Key{{ID: "a", Public: k.ed.Public()}, {ID: "a", Public: &k.ec256.PublicKey}}, ErrDuplicateKeyID},
		"kid-less of two":   {[]Key{{Public: k.ed.Public()}, {ID: "b", Public: &k.ec256.PublicKey}}, ErrInvalidJWKS},
		"short Ed25519 key": {[]Key{{ID: "a", Public: ed25519.PublicKey(make([]byte, 5))}}, ErrInvalidJWKS},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if s, err := NewKeySet(c.keys...); !errors.Is(err, c.want) {
				t.Fatalf("NewKeySet = %v, %v; want %v", s, err, c.want)
			}
		})
	}
}

func TestMarshalJSONRoundTrips(t *testing.T) {
	t.Parallel()
	k := keys(t)
	s, err := NewKeySet(
		Key{ID: "rsa", Algorithm: AlgPS256, Public: &k.rsa.PublicKey},
		Key{ID: "ec384", Public: &k.ec384.PublicKey},
		Key{ID: "ed", Public: k.ed.Public()},
	)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{`"d"`, `"p"`, `"q"`} {
		if strings.Contains(string(b), secret) {
			t.Fatalf("published JWKS holds %s: %s", secret, b)
		}
	}
	back, err := ParseJWKS(b)
	if err != nil {
		t.Fatalf("ParseJWKS(MarshalJSON) = %v\n%s", err, b)
	}
	for _, want := range s.Keys() {
		got, ok := back.Lookup(want.ID)
		if !ok || got.Algorithm != want.Algorithm || !samePublic(got.Public, want.Public) {
			t.Errorf("%s: got %+v, want %+v", want.ID, got, want)
		}
	}
}
