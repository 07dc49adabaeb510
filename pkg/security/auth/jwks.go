package auth

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"unicode/utf8"
)

// Bounds of a JWKS document. Real issuers publish a handful of keys (the
// current one and the next, during a rotation); the bounds keep a hostile or
// broken endpoint from making every reload expensive.
const (
	// MaxJWKSBytes is the largest JWKS document accepted.
	MaxJWKSBytes = 256 << 10
	// MaxKeys is the most keys one set may hold.
	MaxKeys = 64
	// maxKeyID bounds a "kid"; it is compared, never parsed.
	maxKeyID = 256
)

// RSA modulus bounds: below 2048 bits is breakable (NIST SP 800-131A);
// above 8192 bits a verification costs enough to be a denial of service.
const (
	minRSABits = 2048
	maxRSABits = 8192
)

// Algorithm names, as in the JWS "alg" header (RFC 7518, RFC 8037).
const (
	AlgRS256 = "RS256"
	AlgRS384 = "RS384"
	AlgRS512 = "RS512"
	AlgPS256 = "PS256"
	AlgPS384 = "PS384"
	AlgPS512 = "PS512"
	AlgES256 = "ES256"
	AlgES384 = "ES384"
	AlgEdDSA = "EdDSA"
)

// Key is one public verification key.
type Key struct {
	// ID is the key's "kid"; "" only in a set of exactly one key.
	ID string
	// Algorithm is the one JWS algorithm this key verifies (RFC 8725 §3.1:
	// each key is used with exactly one algorithm).
	Algorithm string
	// Public is *rsa.PublicKey, *ecdsa.PublicKey (P-256 or P-384) or
	// ed25519.PublicKey.
	Public crypto.PublicKey
}

// KeySet is an immutable set of verification keys indexed by "kid". Build
// it with ParseJWKS or NewKeySet; it is safe for concurrent use.
type KeySet struct {
	keys []Key
	byID map[string]int
}

// Len returns how many keys the set holds.
func (s *KeySet) Len() int {
	if s == nil {
		return 0
	}
	return len(s.keys)
}

// Keys returns a copy of the keys in their document order.
func (s *KeySet) Keys() []Key { return append([]Key(nil), s.keys...) }

// Lookup returns the key a token's "kid" selects: the key with that ID, or,
// when kid is "" and the set holds exactly one key, that key. A missing kid
// never selects a key from a set of several.
func (s *KeySet) Lookup(kid string) (Key, bool) {
	if s == nil {
		return Key{}, false
	}
	if kid == "" {
		if len(s.keys) == 1 {
			return s.keys[0], true
		}
		return Key{}, false
	}
	i, ok := s.byID[kid]
	if !ok {
		return Key{}, false
	}
	return s.keys[i], true
}

// NewKeySet builds a set from keys built in Go (the auth service's own
// signing keys), with the rules ParseJWKS applies: a supported key type,
// an algorithm that fits the key (Algorithm "" picks the key's default),
// RSA of 2048..8192 bits, unique IDs, and an ID on every key of a set of
// several.
func NewKeySet(keys ...Key) (*KeySet, error) {
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: no keys", ErrInvalidJWKS)
	}
	if len(keys) > MaxKeys {
		return nil, fmt.Errorf("%w: %d keys, at most %d", ErrJWKSTooLarge, len(keys), MaxKeys)
	}
	out := make([]Key, 0, len(keys))
	for i, k := range keys {
		keyErr := func(err error, detail string) error {
			return &KeyError{Index: i, KeyID: safe(k.ID), Err: err, Detail: detail}
		}
		if err := checkKeyID(k.ID); err != "" {
			return nil, keyErr(ErrInvalidJWKS, err)
		}
		var kty, crv string
		switch pub := k.Public.(type) {
		case *rsa.PublicKey:
			if pub == nil || pub.N == nil {
				return nil, keyErr(ErrInvalidJWKS, "nil RSA key")
			}
			if detail, err := checkRSA(pub); err != nil {
				return nil, keyErr(err, detail)
			}
			kty = "RSA"
		case *ecdsa.PublicKey:
			if pub == nil || pub.Curve == nil {
				return nil, keyErr(ErrInvalidJWKS, "nil EC key")
			}
			switch pub.Curve {
			case elliptic.P256():
				crv = "P-256"
			case elliptic.P384():
				crv = "P-384"
			default:
				return nil, keyErr(ErrUnsupportedKey, "EC curve must be P-256 or P-384")
			}
			if _, err := pub.Bytes(); err != nil {
				return nil, keyErr(ErrInvalidJWKS, "EC point is not valid")
			}
			kty = "EC"
		case ed25519.PublicKey:
			if len(pub) != ed25519.PublicKeySize {
				return nil, keyErr(ErrInvalidJWKS, "Ed25519 key must be 32 bytes")
			}
			kty, crv = "OKP", "Ed25519"
		default:
			return nil, keyErr(ErrUnsupportedKey, fmt.Sprintf("public key type %T", k.Public))
		}
		alg, err := pinAlgorithm(kty, crv, k.Algorithm)
		if err != nil {
			return nil, keyErr(err, "alg "+quoteSafe(k.Algorithm)+" cannot be used with a "+kty+" "+crv+" key")
		}
		k.Algorithm = alg
		out = append(out, k)
	}
	return index(out)
}

// index checks IDs across the set and builds the lookup map.
func index(keys []Key) (*KeySet, error) {
	s := &KeySet{keys: keys, byID: make(map[string]int, len(keys))}
	for i, k := range keys {
		if k.ID == "" {
			if len(keys) > 1 {
				return nil, &KeyError{Index: i, Err: ErrInvalidJWKS, Detail: "a key without kid is only allowed in a set of one"}
			}
			continue
		}
		if _, dup := s.byID[k.ID]; dup {
			return nil, &KeyError{Index: i, KeyID: safe(k.ID), Err: ErrDuplicateKeyID}
		}
		s.byID[k.ID] = i
	}
	return s, nil
}

// checkKeyID returns why id is not a usable kid, or "".
func checkKeyID(id string) string {
	if len(id) > maxKeyID {
		return fmt.Sprintf("kid longer than %d bytes", maxKeyID)
	}
	if !utf8.ValidString(id) {
		return "kid is not UTF-8"
	}
	for _, r := range id {
		if r < 0x20 || r == 0x7f {
			return "kid contains control characters"
		}
	}
	return ""
}

// pinAlgorithm returns the one algorithm a key of kty/crv verifies: alg
// when it fits the key, the key's default when alg is "".
func pinAlgorithm(kty, crv, alg string) (string, error) {
	switch kty {
	case "RSA":
		switch alg {
		case "":
			return AlgRS256, nil
		case AlgRS256, AlgRS384, AlgRS512, AlgPS256, AlgPS384, AlgPS512:
			return alg, nil
		}
	case "EC":
		want := AlgES256
		if crv == "P-384" {
			want = AlgES384
		}
		if alg == "" || alg == want {
			return want, nil
		}
	case "OKP":
		// RFC 9864 names the fully specified algorithm "Ed25519"; golang-jwt
		// registers only the polymorphic "EdDSA", which for an Ed25519 key
		// is the same algorithm.
		if alg == "" || alg == AlgEdDSA || alg == "Ed25519" {
			return AlgEdDSA, nil
		}
	}
	return "", ErrKeyAlgorithm
}

func checkRSA(pub *rsa.PublicKey) (detail string, err error) {
	bits := pub.N.BitLen()
	if bits < minRSABits {
		return fmt.Sprintf("RSA modulus of %d bits, need at least %d", bits, minRSABits), ErrWeakKey
	}
	if bits > maxRSABits {
		return fmt.Sprintf("RSA modulus of %d bits, at most %d", bits, maxRSABits), ErrUnsupportedKey
	}
	if pub.N.Bit(0) == 0 {
		return "RSA modulus is even", ErrInvalidJWKS
	}
	if pub.E < 3 || pub.E%2 == 0 || pub.E > 1<<31-1 {
		return "RSA exponent must be odd, at least 3 and at most 2^31-1", ErrWeakKey
	}
	return "", nil
}

// privateMembers are the JWK members that carry secret material (RFC 7518
// §6.3.2 and §6.4, RFC 8037 §2).
var privateMembers = [...]string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// ParseJWKS parses a JWK Set (RFC 7517 §5) of public signature keys.
//
// It is strict, because a key set decides who may write events: the
// document must be UTF-8 JSON of at most MaxJWKSBytes with at most MaxKeys
// keys, no member may appear twice in an object (parsers disagree on which
// copy wins), every key must be a public signature key ("use" absent or
// "sig", "key_ops" absent or only "verify") of kty RSA (2048..8192 bits),
// EC (P-256, P-384; the point must be on the curve) or OKP (Ed25519), its
// "alg" must fit its type, and "kid" must be unique. Members it does not
// know ("x5c", "x5t", …) are ignored; certificates are never consulted.
// The first broken rule is returned, as a *KeyError when a key is at fault.
func ParseJWKS(doc []byte) (*KeySet, error) {
	if len(doc) > MaxJWKSBytes {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrJWKSTooLarge, len(doc), MaxJWKSBytes)
	}
	if !utf8.Valid(doc) {
		return nil, fmt.Errorf("%w: not UTF-8", ErrInvalidJWKS)
	}
	top, err := members(doc)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidJWKS, err)
	}
	rawKeys, ok := top["keys"]
	if !ok {
		return nil, fmt.Errorf("%w: no \"keys\" member", ErrInvalidJWKS)
	}
	var list []json.RawMessage
	if err := json.Unmarshal(rawKeys, &list); err != nil || list == nil {
		return nil, fmt.Errorf("%w: \"keys\" must be an array", ErrInvalidJWKS)
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("%w: no keys", ErrInvalidJWKS)
	}
	if len(list) > MaxKeys {
		return nil, fmt.Errorf("%w: %d keys, at most %d", ErrJWKSTooLarge, len(list), MaxKeys)
	}
	keys := make([]Key, 0, len(list))
	for i, raw := range list {
		k, err := parseJWK(raw)
		if err != nil {
			var ke *KeyError
			if errors.As(err, &ke) {
				ke.Index = i
			}
			return nil, err
		}
		keys = append(keys, k)
	}
	return index(keys)
}

// parseJWK parses one key; the caller sets KeyError.Index.
func parseJWK(raw json.RawMessage) (Key, error) {
	m, err := members(raw)
	if err != nil {
		return Key{}, &KeyError{Err: ErrInvalidJWKS, Detail: err.Error()}
	}
	var kid string
	keyErr := func(err error, detail string) error {
		return &KeyError{KeyID: safe(kid), Err: err, Detail: detail}
	}
	if kid, err = optString(m, "kid"); err != nil {
		return Key{}, keyErr(ErrInvalidJWKS, err.Error())
	}
	if why := checkKeyID(kid); why != "" {
		return Key{}, keyErr(ErrInvalidJWKS, why)
	}
	for _, p := range privateMembers {
		if _, ok := m[p]; ok {
			return Key{}, keyErr(ErrPrivateKey, "member "+quoteSafe(p)+" is present")
		}
	}
	kty, err := optString(m, "kty")
	if err != nil {
		return Key{}, keyErr(ErrInvalidJWKS, err.Error())
	}
	use, err := optString(m, "use")
	if err != nil {
		return Key{}, keyErr(ErrInvalidJWKS, err.Error())
	}
	if use != "" && use != "sig" {
		return Key{}, keyErr(ErrUnsupportedKey, "use "+quoteSafe(use)+", want \"sig\"")
	}
	if ops, ok := m["key_ops"]; ok {
		var list []string
		if err := json.Unmarshal(ops, &list); err != nil {
			return Key{}, keyErr(ErrInvalidJWKS, "key_ops must be an array of strings")
		}
		if len(list) == 0 {
			return Key{}, keyErr(ErrUnsupportedKey, "key_ops is empty")
		}
		for _, op := range list {
			if op != "verify" {
				return Key{}, keyErr(ErrUnsupportedKey, "key_ops "+quoteSafe(op)+", only \"verify\" is accepted")
			}
		}
	}
	alg, err := optString(m, "alg")
	if err != nil {
		return Key{}, keyErr(ErrInvalidJWKS, err.Error())
	}
	crv, err := optString(m, "crv")
	if err != nil {
		return Key{}, keyErr(ErrInvalidJWKS, err.Error())
	}

	var pub crypto.PublicKey
	switch kty {
	case "":
		return Key{}, keyErr(ErrInvalidJWKS, "kty is missing")
	case "RSA":
		n, err := b64Member(m, "n")
		if err != nil {
			return Key{}, keyErr(ErrInvalidJWKS, err.Error())
		}
		e, err := b64Member(m, "e")
		if err != nil {
			return Key{}, keyErr(ErrInvalidJWKS, err.Error())
		}
		if len(n) > maxRSABits/8+1 {
			return Key{}, keyErr(ErrUnsupportedKey, fmt.Sprintf("RSA modulus of more than %d bits", maxRSABits))
		}
		if len(e) > 4 {
			return Key{}, keyErr(ErrWeakKey, "RSA exponent above 2^31-1")
		}
		ev := 0
		for _, b := range e {
			ev = ev<<8 | int(b)
		}
		rk := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: ev}
		if detail, err := checkRSA(rk); err != nil {
			return Key{}, keyErr(err, detail)
		}
		pub = rk
	case "EC":
		var (
			curve elliptic.Curve
			size  int
		)
		switch crv {
		case "P-256":
			curve, size = elliptic.P256(), 32
		case "P-384":
			curve, size = elliptic.P384(), 48
		default:
			return Key{}, keyErr(ErrUnsupportedKey, "EC crv "+quoteSafe(crv)+", want P-256 or P-384")
		}
		x, err := b64Member(m, "x")
		if err != nil {
			return Key{}, keyErr(ErrInvalidJWKS, err.Error())
		}
		y, err := b64Member(m, "y")
		if err != nil {
			return Key{}, keyErr(ErrInvalidJWKS, err.Error())
		}
		// RFC 7518 §6.2.1.2: coordinates are full length, never trimmed.
		if len(x) != size || len(y) != size {
			return Key{}, keyErr(ErrInvalidJWKS, fmt.Sprintf("%s coordinates must be %d bytes each", crv, size))
		}
		point := make([]byte, 0, 1+2*size)
		point = append(append(append(point, 4), x...), y...)
		ek, err := ecdsa.ParseUncompressedPublicKey(curve, point)
		if err != nil {
			return Key{}, keyErr(ErrInvalidJWKS, "EC point is not on the curve")
		}
		pub = ek
	case "OKP":
		if crv != "Ed25519" {
			return Key{}, keyErr(ErrUnsupportedKey, "OKP crv "+quoteSafe(crv)+", want Ed25519")
		}
		x, err := b64Member(m, "x")
		if err != nil {
			return Key{}, keyErr(ErrInvalidJWKS, err.Error())
		}
		if len(x) != ed25519.PublicKeySize {
			return Key{}, keyErr(ErrInvalidJWKS, "Ed25519 x must be 32 bytes")
		}
		pub = ed25519.PublicKey(x)
	default:
		return Key{}, keyErr(ErrUnsupportedKey, "kty "+quoteSafe(kty)+", want RSA, EC or OKP")
	}
	pinned, err := pinAlgorithm(kty, crv, alg)
	if err != nil {
		return Key{}, keyErr(err, "alg "+quoteSafe(alg)+" cannot be used with a "+kty+" key")
	}
	return Key{ID: kid, Algorithm: pinned, Public: pub}, nil
}

// members reads one JSON object into its members, refusing repeated names
// (compared after unescaping) and anything after the object.
func members(raw []byte) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil {
		return nil, errors.New("not JSON")
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("not a JSON object")
	}
	m := make(map[string]json.RawMessage)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, errors.New("malformed JSON")
		}
		name, ok := tok.(string)
		if !ok {
			return nil, errors.New("malformed JSON")
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, errors.New("malformed JSON")
		}
		if _, dup := m[name]; dup {
			return nil, errors.New("member " + quoteSafe(name) + " appears more than once")
		}
		m[name] = v
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, errors.New("malformed JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the object")
	}
	return m, nil
}

// optString returns member name as a string, "" when absent.
func optString(m map[string]json.RawMessage, name string) (string, error) {
	v, ok := m[name]
	if !ok {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", errors.New(name + " must be a string")
	}
	return s, nil
}

// b64 is base64url without padding, with canonical trailing bits (RFC 7515
// §2): one value, one encoding.
var b64 = base64.RawURLEncoding.Strict()

// b64Member decodes a required base64url member.
func b64Member(m map[string]json.RawMessage, name string) ([]byte, error) {
	if _, ok := m[name]; !ok {
		return nil, errors.New(name + " is missing")
	}
	s, err := optString(m, name)
	if err != nil {
		return nil, err
	}
	b, err := b64.DecodeString(s)
	if err != nil || len(b) == 0 {
		return nil, errors.New(name + " is not non-empty base64url without padding")
	}
	return b, nil
}

// quoteSafe quotes an outside value for an error detail.
func quoteSafe(s string) string { return `"` + safe(s) + `"` }

// jwk is the published form of a public key.
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid,omitempty"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	Crv string `json:"crv,omitempty"`
	N   string `json:"n,omitempty"`
	E   string `json:"e,omitempty"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
}

// MarshalJSON writes the set as a JWKS document that ParseJWKS reads back
// to an equal set: what the auth service publishes. Every key carries its
// "kid" (when set), "use":"sig" and its pinned "alg", so relying parties
// need not guess.
func (s *KeySet) MarshalJSON() ([]byte, error) {
	out := struct {
		Keys []jwk `json:"keys"`
	}{Keys: make([]jwk, 0, len(s.keys))}
	for _, k := range s.keys {
		j := jwk{Kid: k.ID, Use: "sig", Alg: k.Algorithm}
		switch pub := k.Public.(type) {
		case *rsa.PublicKey:
			j.Kty = "RSA"
			j.N = b64.EncodeToString(pub.N.Bytes())
			j.E = b64.EncodeToString(big.NewInt(int64(pub.E)).Bytes())
		case *ecdsa.PublicKey:
			j.Kty = "EC"
			j.Crv = pub.Curve.Params().Name
			b, err := pub.Bytes()
			if err != nil {
				return nil, err
			}
			size := (len(b) - 1) / 2
			j.X = b64.EncodeToString(b[1 : 1+size])
			j.Y = b64.EncodeToString(b[1+size:])
		case ed25519.PublicKey:
			j.Kty, j.Crv = "OKP", "Ed25519"
			j.X = b64.EncodeToString(pub)
		}
		if j.Kty == "" {
			return nil, fmt.Errorf("%w: key type %T", ErrUnsupportedKey, k.Public)
		}
		out.Keys = append(out.Keys, j)
	}
	return json.Marshal(out)
}
