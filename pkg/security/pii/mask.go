package pii

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Masker replaces what a Detector finds. It is built once and is safe for
// concurrent use.
type Masker struct {
	d        *Detector
	strat    [numKinds]Strategy
	custom   map[string]Strategy // custom pattern names
	fallback Strategy            // a type the Masker's Config does not know
	hashKey  []byte
	aead     cipher.AEAD
	rand     io.Reader
	exclude  []pathGlob
}

// NewMasker validates cfg and prepares the strategies, keys and field
// exclusions. d does the detecting; usually it was built from the same
// cfg. The hash and encrypt strategies need cfg.Keys.
func NewMasker(d *Detector, cfg Config) (*Masker, error) {
	if d == nil {
		return nil, &ConfigError{Field: "Detector", Err: ErrInvalidConfig, Detail: "nil"}
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m := &Masker{d: d, custom: map[string]Strategy{}, fallback: StrategyRedact, rand: rand.Reader}
	all, hasAll := cfg.Strategies["*"]
	if hasAll {
		m.fallback = all
	}
	for k := kind(0); k < numKinds; k++ {
		m.strat[k] = defaultStrategy(k)
		if hasAll {
			m.strat[k] = all
		}
		if s, ok := cfg.Strategies[kindNames[k]]; ok {
			m.strat[k] = s
		}
	}
	for _, p := range cfg.Custom {
		s := StrategyRedact
		if p.Strategy != "" {
			s = p.Strategy
		} else if hasAll {
			s = all
		}
		if o, ok := cfg.Strategies[p.Name]; ok {
			s = o
		}
		m.custom[p.Name] = s
	}
	if len(cfg.Keys.Hash) > 0 {
		m.hashKey = append([]byte(nil), cfg.Keys.Hash...)
	}
	if len(cfg.Keys.Encrypt) > 0 {
		aead, err := newAEAD(cfg.Keys.Encrypt)
		if err != nil {
			return nil, &ConfigError{Field: "Keys.Encrypt", Err: ErrInvalidConfig, Detail: err.Error()}
		}
		m.aead = aead
	}
	for _, g := range cfg.Exclude {
		m.exclude = append(m.exclude, compileGlob(g))
	}
	return m, nil
}

// Detector returns the Detector the Masker uses.
func (m *Masker) Detector() *Detector { return m.d }

func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("%w: encryption key has %d bytes, need 32", ErrMissingKey, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// strategy returns the strategy of type t.
func (m *Masker) strategy(t string) Strategy {
	if k, ok := kindOf(t); ok {
		return m.strat[k]
	}
	if s, ok := m.custom[t]; ok {
		return s
	}
	return m.fallback
}

// MaskString scans s (key is the JSON key holding it, or "") and returns
// it with every match replaced, and the number of replacements per type.
// When nothing is found it returns s itself and nil. Encrypt-strategy
// tokens it writes are bound to no tenant (Reveal with tenant "").
func (m *Masker) MaskString(s, key string) (string, Counts) {
	var buf [8]Match
	ms := m.d.ScanWithContext(s, key, buf[:0])
	if len(ms) == 0 {
		return s, nil
	}
	var c Counts
	out := m.apply(make([]byte, 0, len(s)+16*len(ms)), s, ms, "", &c)
	return string(out), c
}

// apply appends s with matches ms replaced to dst; tenant is bound into
// encrypt-strategy tokens. A match nested in the one before it (the IP
// address that is a URL's host) is replaced as part of that one, never
// on its own, so no text is replaced twice; both are counted.
func (m *Masker) apply(dst []byte, s string, ms []Match, tenant string, c *Counts) []byte {
	last := 0
	for x := 0; x < len(ms); x++ {
		mt := ms[x]
		y := x + 1
		for y < len(ms) && ms[y].Start < mt.End {
			c.add(ms[y].Type, 1)
			y++
		}
		dst = append(dst, s[last:mt.Start]...)
		if y > x+1 && m.strategy(mt.Type) == StrategyMask {
			dst = m.replaceNested(dst, s, mt, ms[x+1:y], tenant)
		} else {
			dst = m.replace(dst, mt.Type, s[mt.Start:mt.End], tenant)
		}
		last = mt.End
		c.add(mt.Type, 1)
		x = y - 1
	}
	return append(dst, s[last:]...)
}

// replaceNested masks outer partially with the matches inside it replaced
// by their own strategies first: the host that the URL mask keeps is an
// IP address, and it must be masked as one.
func (m *Masker) replaceNested(dst []byte, s string, outer Match, inner []Match, tenant string) []byte {
	v := make([]byte, 0, outer.End-outer.Start+32)
	last := outer.Start
	for _, in := range inner {
		v = append(v, s[last:in.Start]...)
		v = m.replace(v, in.Type, s[in.Start:in.End], tenant)
		last = in.End
	}
	v = append(v, s[last:outer.End]...)
	return appendPartial(dst, outer.Type, string(v))
}

// replace appends the replacement of value v of type t to dst. If
// encryption fails (no randomness) the value is redacted: a value is
// never left in clear because a strategy could not run.
func (m *Masker) replace(dst []byte, t, v, tenant string) []byte {
	switch m.strategy(t) {
	case StrategyMask:
		return appendPartial(dst, t, v)
	case StrategyHash:
		if m.hashKey != nil {
			return appendHashToken(dst, m.hashKey, t, v)
		}
	case StrategyEncrypt:
		if m.aead != nil {
			if out, err := appendEncToken(dst, m.aead, m.rand, tenant, t, v); err == nil {
				return out
			}
		}
	}
	return append(append(append(dst, '<'), t...), '>')
}

// hashTokenBytes is how much of the HMAC a pseudonym keeps: 8 bytes, 16
// hex digits, so that pseudonyms of distinct values do not collide in
// practice (4 bytes collide after about 65,000 values).
const hashTokenBytes = 8

// appendHashToken appends <TYPE:xxxxxxxxxxxxxxxx>: the first
// hashTokenBytes of HMAC-SHA256(key, type NUL canonical value) in hex,
// where the canonical value is that of appendCanonical, so that one value
// written in different formats gets one pseudonym. This form must never
// change: joins across events and over time rely on it.
func appendHashToken(dst, key []byte, t, v string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(t))
	h.Write([]byte{0})
	var buf [96]byte
	h.Write(appendCanonical(buf[:0], t, v))
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	dst = append(append(append(dst, '<'), t...), ':')
	dst = hex.AppendEncode(dst, sum[:hashTokenBytes])
	return append(dst, '>')
}

// encPrefix marks encrypt-strategy tokens. v2 binds the tenant; v1 tokens
// (type only) are refused by Reveal, since nothing ties them to a tenant.
const encPrefix = ":enc:v2:"

// encAAD is the additional data of a token: its tenant and type, so that
// a token can be neither relabelled nor revealed as another tenant's.
// Neither may contain NUL (tenants are identifiers, types are names).
func encAAD(tenant, t string) []byte { return []byte("escai/pii/v2\x00" + tenant + "\x00" + t) }

// appendEncToken appends <TYPE:enc:v2:base64url(nonce||ciphertext)>.
func appendEncToken(dst []byte, aead cipher.AEAD, r io.Reader, tenant, t, v string) ([]byte, error) {
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(v)+aead.Overhead())
	if _, err := io.ReadFull(r, nonce); err != nil {
		return dst, err
	}
	sealed := aead.Seal(nonce, nonce, []byte(v), encAAD(tenant, t))
	dst = append(append(append(dst, '<'), t...), encPrefix...)
	dst = base64.RawURLEncoding.AppendEncode(dst, sealed)
	return append(dst, '>'), nil
}

// Reveal decrypts one token written by the encrypt strategy,
// <TYPE:enc:v2:…>, for tenant (the tenant of the event the token was
// masked in: MaskEnvelope binds the envelope's tenant, MaskData and
// MaskString bind none, ""), with keys.Encrypt. It fails with
// ErrInvalidToken for anything else, ErrMissingKey without a 32-byte key,
// and ErrDecrypt when the key or the tenant is not the one that encrypted
// it or the token was altered (including a changed TYPE). Callers record
// every reveal as a security event; Reveal itself has no side effects.
func Reveal(token, tenant string, keys Keys) (string, error) {
	t, payload, ok := parseEncToken(token)
	if !ok {
		return "", ErrInvalidToken
	}
	aead, err := newAEAD(keys.Encrypt)
	if err != nil {
		return "", err
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(payload)
	if err != nil || len(raw) < aead.NonceSize()+aead.Overhead() {
		return "", ErrInvalidToken
	}
	n := aead.NonceSize()
	pt, err := aead.Open(nil, raw[:n], raw[n:], encAAD(tenant, t))
	if err != nil {
		return "", ErrDecrypt
	}
	return string(pt), nil
}

// parseEncToken splits <TYPE:enc:v2:payload>.
func parseEncToken(tok string) (t, payload string, ok bool) {
	if len(tok) < 2 || tok[0] != '<' || tok[len(tok)-1] != '>' {
		return "", "", false
	}
	body := tok[1 : len(tok)-1]
	i := strings.Index(body, encPrefix)
	if i <= 0 || !customName.MatchString(body[:i]) {
		return "", "", false
	}
	payload = body[i+len(encPrefix):]
	if payload == "" {
		return "", "", false
	}
	return body[:i], payload, true
}

// ---- partial masks ----

// appendPartial appends the StrategyMask form of v.
func appendPartial(dst []byte, t, v string) []byte {
	k, builtin := kindOf(t)
	if !builtin {
		return maskKeepLast(dst, v, keepForCustom(v))
	}
	switch k {
	case kEmail:
		at := strings.LastIndexByte(v, '@')
		if at < 0 {
			return maskKeepLast(dst, v, 0)
		}
		local := v[:at]
		keep := 0
		switch n := utf8.RuneCountInString(local); {
		case n >= 4:
			keep = 2
		case n >= 2:
			keep = 1
		}
		for _, r := range local {
			if keep > 0 {
				dst = utf8.AppendRune(dst, r)
				keep--
				continue
			}
			dst = append(dst, '*')
		}
		return append(dst, v[at:]...)
	case kPhone:
		return maskDigits(dst, v, 1, 2)
	case kSSN, kCard:
		return maskDigits(dst, v, 0, 4)
	case kIBAN:
		return maskAlnum(dst, v, 2, 4)
	case kIP:
		if i := strings.IndexByte(v, '.'); i > 0 && strings.IndexByte(v, ':') < 0 {
			return append(append(dst, v[:i]...), ".***.***.***"...)
		}
		i := strings.IndexByte(v, ':')
		if i < 0 {
			i = 0
		}
		return append(append(dst, v[:i]...), ":****:****"...)
	case kMAC:
		keep := 8 // 00:1A:2B, the vendor part
		if len(v) == 14 {
			keep = 7 // 0011.22
		}
		dst = append(dst, v[:keep]...)
		for i := keep; i < len(v); i++ {
			if isHex(v[i]) {
				dst = append(dst, '*')
			} else {
				dst = append(dst, v[i])
			}
		}
		return dst
	case kURL:
		return maskURL(dst, v)
	case kPrivateKey:
		if strings.HasPrefix(v, "-----BEGIN ") {
			le := strings.Index(v[5:], "-----")
			if le >= 0 {
				head := v[:le+10]
				dst = append(dst, head...)
				dst = append(dst, "****"...)
				if e := strings.LastIndex(v, "-----END "); e > len(head) {
					dst = append(dst, v[e:]...)
				}
				return dst
			}
		}
	}
	return append(append(dst, secretPrefix(k, v)...), "****"...)
}

// secretPrefix is the part of a secret that names its kind and nothing
// more: the matching token prefix, or a few characters of an address.
func secretPrefix(k kind, v string) string {
	if k == kCrypto {
		return v[:min(4, len(v))]
	}
	best := ""
	if len(v) > 0 {
		for _, r := range tokenRules[v[0]] {
			if strings.HasPrefix(v, r.prefix) && len(r.prefix) > len(best) && r.prefix != "www." {
				best = r.prefix
			}
		}
	}
	return best
}

func keepForCustom(v string) int {
	if len(v) >= 8 {
		return 4
	}
	return 0
}

// maskDigits masks every digit except the first keepFirst and the last
// keepLast, keeping the layout: (5**) ***-**67.
func maskDigits(dst []byte, v string, keepFirst, keepLast int) []byte {
	total := 0
	for i := 0; i < len(v); i++ {
		if isDigit(v[i]) {
			total++
		}
	}
	seen := 0
	for i := 0; i < len(v); i++ {
		c := v[i]
		if isDigit(c) {
			if seen >= keepFirst && seen < total-keepLast {
				c = '*'
			}
			seen++
		}
		dst = append(dst, c)
	}
	return dst
}

// maskAlnum is maskDigits over letters and digits.
func maskAlnum(dst []byte, v string, keepFirst, keepLast int) []byte {
	total := 0
	for i := 0; i < len(v); i++ {
		if isAlnum(v[i]) {
			total++
		}
	}
	seen := 0
	for i := 0; i < len(v); i++ {
		c := v[i]
		if isAlnum(c) {
			if seen >= keepFirst && seen < total-keepLast {
				c = '*'
			}
			seen++
		}
		dst = append(dst, c)
	}
	return dst
}

// maskKeepLast masks every letter and digit except the last keep.
func maskKeepLast(dst []byte, v string, keep int) []byte {
	return maskAlnum(dst, v, 0, keep)
}

// maskURL keeps scheme and host (and port) and masks credentials and
// everything after the host: https://****:****@db.example.com:5432/***.
func maskURL(dst []byte, v string) []byte {
	rest := v
	if i := strings.Index(v, "://"); i >= 0 {
		dst = append(dst, v[:i+3]...)
		rest = v[i+3:]
	}
	auth := rest
	tail := ""
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		auth, tail = rest[:i], rest[i:]
	}
	if at := strings.LastIndexByte(auth, '@'); at >= 0 {
		if strings.IndexByte(auth[:at], ':') >= 0 {
			dst = append(dst, "****:****@"...)
		} else {
			dst = append(dst, "****@"...)
		}
		auth = auth[at+1:]
	}
	dst = append(dst, auth...)
	if tail != "" && tail != "/" {
		dst = append(append(dst, tail[0]), "***"...)
	} else {
		dst = append(dst, tail...)
	}
	return dst
}
