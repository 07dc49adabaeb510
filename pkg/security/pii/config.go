package pii

import (
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/escai-framework/escai/pkg/security/config"
)

// Strategy is how a detected value is replaced.
type Strategy string

// The masking strategies.
const (
	// StrategyMask keeps a little of the value so a human can still tell
	// values apart and spot errors: jo**@example.com, (5**) ***-**67,
	// ************1111, ***-**-6789, GB****************5432,
	// 192.***.***.***, 00:1A:2B:**:**:**, https://****:****@example.com/***.
	// Secrets keep only their well-known prefix (ghp_****, AKIA****).
	StrategyMask Strategy = "mask"
	// StrategyRedact replaces the value with its type: <EMAIL>.
	StrategyRedact Strategy = "redact"
	// StrategyHash replaces the value with a keyed pseudonym,
	// <EMAIL:3f9a1c2b5d7e9f01>: the first 8 bytes of HMAC-SHA256(Keys.Hash,
	// type NUL canonical value) in hex. The canonical value ignores format
	// (digits only for numbers, E.164 for phones, lower-case e-mail, netip
	// form for IP addresses; see the package documentation), so the same
	// value gives the same token under one key however it was written, and
	// events can still be joined on it; without the key the value cannot be
	// recovered or confirmed by guessing.
	StrategyHash Strategy = "hash"
	// StrategyEncrypt replaces the value with <EMAIL:enc:v2:…>, the
	// AES-256-GCM encryption of the value under Keys.Encrypt (random nonce,
	// the tenant and the type bound as additional data), base64url without
	// padding. Only Reveal with the same key and tenant turns it back.
	StrategyEncrypt Strategy = "encrypt"
)

func (s Strategy) valid() bool {
	switch s {
	case StrategyMask, StrategyRedact, StrategyHash, StrategyEncrypt:
		return true
	}
	return false
}

// defaultStrategy is what a type gets when Config.Strategies says nothing:
// personal data is partially masked so events stay readable, secrets are
// redacted outright because any part of a secret helps an attacker.
func defaultStrategy(k kind) Strategy {
	switch k {
	case kEmail, kPhone, kSSN, kCard, kIBAN, kIP, kMAC, kURL:
		return StrategyMask
	}
	return StrategyRedact
}

// Keys is the key material of the hash and encrypt strategies and of
// Reveal. Both fields print as [REDACTED].
type Keys struct {
	// Hash keys the HMAC-SHA256 pseudonyms of StrategyHash; at least 32
	// bytes.
	Hash config.Secret
	// Encrypt is the AES-256-GCM key of StrategyEncrypt and Reveal; exactly
	// 32 bytes.
	Encrypt config.Secret
}

// The HKDF info strings of KeysFromSecret. They, and the derivation, must
// never change: tokens written under one derivation must still hash and
// reveal the same way after an upgrade.
const (
	hkdfInfoHash    = "escai/pii/hash/v1"
	hkdfInfoEncrypt = "escai/pii/encrypt/v1"
)

// KeysFromSecret derives the hash and encryption keys from the master key
// (config.Config.SecretKey) with HKDF-SHA256, no salt, and a distinct info
// string per purpose ("escai/pii/hash/v1", "escai/pii/encrypt/v1"), so
// neither key reveals the other or the master key. The master key must
// have at least config.MinSecretKeyBytes bytes.
func KeysFromSecret(master config.Secret) (Keys, error) {
	if len(master) < config.MinSecretKeyBytes {
		return Keys{}, fmt.Errorf("%w: master key has %d bytes, need at least %d", ErrMissingKey, len(master), config.MinSecretKeyBytes)
	}
	h, err := hkdf.Key(sha256.New, master, nil, hkdfInfoHash, 32)
	if err != nil {
		return Keys{}, fmt.Errorf("%w: %w", ErrMissingKey, err)
	}
	e, err := hkdf.Key(sha256.New, master, nil, hkdfInfoEncrypt, 32)
	if err != nil {
		return Keys{}, fmt.Errorf("%w: %w", ErrMissingKey, err)
	}
	return Keys{Hash: h, Encrypt: e}, nil
}

// Validator names a check that a custom pattern's match must pass.
type Validator string

// The custom pattern validators.
const (
	// ValidatorNone accepts every match of the regex.
	ValidatorNone Validator = ""
	// ValidatorLuhn requires the digits of the match to pass the Luhn
	// check (payment cards, IMEI, many national ids).
	ValidatorLuhn Validator = "luhn"
	// ValidatorMod97 requires the letters and digits of the match to pass
	// the ISO 7064 mod 97-10 check used by IBANs and RF references.
	ValidatorMod97 Validator = "mod97"
)

// CustomPattern is a named pattern from configuration, for identifiers
// the built-in types do not cover (employee ids, internal account
// numbers). Patterns run after the built-in scanner, one RE2 regex each.
type CustomPattern struct {
	// Name is the type name reported and counted, [A-Z][A-Z0-9_]{0,63},
	// not a built-in name.
	Name string `json:"name" yaml:"name"`
	// Regex is an RE2 regular expression (Go syntax).
	Regex string `json:"regex" yaml:"regex"`
	// Group, when positive, reports only that capture group of the regex,
	// so a pattern can require surrounding text without masking it.
	Group int `json:"group,omitempty" yaml:"group,omitempty"`
	// Validator is an extra check on each match: "", "luhn" or "mod97".
	Validator Validator `json:"validator,omitempty" yaml:"validator,omitempty"`
	// Context lists words that raise the score by 0.45 when they occur
	// shortly before or after the match or in the JSON key holding it;
	// compared case-insensitively.
	Context []string `json:"context,omitempty" yaml:"context,omitempty"`
	// Score is the confidence of a match without context, in (0,1];
	// 0 means 0.8.
	Score float64 `json:"score,omitempty" yaml:"score,omitempty"`
	// Strategy is how matches are replaced unless Config.Strategies names
	// this pattern; empty means redact.
	Strategy Strategy `json:"strategy,omitempty" yaml:"strategy,omitempty"`
}

// Config configures a Detector and a Masker. The zero value is usable:
// high sensitivity (fail closed), default strategies, no exclusions.
type Config struct {
	// Sensitivity sets the score threshold and the types reported: low,
	// medium or high (see the package documentation). Empty means high,
	// so a forgotten setting never masks less.
	Sensitivity config.Sensitivity
	// Strategies maps a type name (built-in or custom) to its strategy.
	// The key "*" sets the strategy of every type not listed. Types not
	// covered use the default: mask for personal data, redact for secrets.
	Strategies map[string]Strategy
	// Exclude lists paths in the event data that are neither scanned nor
	// masked, as dot-separated globs: "tool_args.sql", "metadata.*.id",
	// "**.trace_id". Array elements are addressed by index ("messages.0")
	// or "*". A leading "data." is ignored. Each segment follows
	// path.Match; "**" matches any number of segments.
	Exclude []string
	// Allow lists values that are never reported or masked, such as a
	// company support address. An entry is compared to the whole matched
	// value, ignoring ASCII case; an entry starting with "re:" is an RE2
	// regex that must match the whole value.
	Allow []string
	// Custom adds named patterns (see CustomPattern and LoadPatterns).
	Custom []CustomPattern
	// Keys is the key material of the hash and encrypt strategies;
	// required only when one of them is used. See KeysFromSecret.
	Keys Keys
}

var customName = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,63}$`)

// Validate reports every problem of c at once: errors.Join of
// *ConfigError (each wrapping ErrInvalidConfig), in field order, or nil.
func (c Config) Validate() error {
	var errs []error
	add := func(field, detail string) {
		errs = append(errs, &ConfigError{Field: field, Err: ErrInvalidConfig, Detail: detail})
	}
	switch c.Sensitivity {
	case "", config.SensitivityLow, config.SensitivityMedium, config.SensitivityHigh:
	default:
		add("Sensitivity", fmt.Sprintf("unknown sensitivity %q; use low, medium or high", string(c.Sensitivity)))
	}
	names := map[string]bool{}
	for i, p := range c.Custom {
		f := fmt.Sprintf("Custom[%d]", i)
		switch {
		case !customName.MatchString(p.Name):
			add(f+".Name", fmt.Sprintf("%q must match [A-Z][A-Z0-9_]{0,63}", p.Name))
		case isBuiltin(p.Name):
			add(f+".Name", fmt.Sprintf("%q is a built-in type", p.Name))
		case names[p.Name]:
			add(f+".Name", fmt.Sprintf("%q is defined twice", p.Name))
		}
		names[p.Name] = true
		re, err := regexp.Compile(p.Regex)
		switch {
		case p.Regex == "":
			add(f+".Regex", "empty")
		case err != nil:
			add(f+".Regex", "does not compile: "+regexErr(err))
		case re.MatchString(""):
			add(f+".Regex", "matches the empty string")
		case p.Group < 0 || p.Group > re.NumSubexp():
			add(f+".Group", fmt.Sprintf("%d is not a capture group of the regex (it has %d)", p.Group, re.NumSubexp()))
		}
		switch p.Validator {
		case ValidatorNone, ValidatorLuhn, ValidatorMod97:
		default:
			add(f+".Validator", fmt.Sprintf("unknown validator %q; use luhn or mod97", string(p.Validator)))
		}
		if p.Score < 0 || p.Score > 1 {
			add(f+".Score", fmt.Sprintf("%v is outside (0,1]", p.Score))
		}
		if p.Strategy != "" && !p.Strategy.valid() {
			add(f+".Strategy", fmt.Sprintf("unknown strategy %q", string(p.Strategy)))
		}
		for j, w := range p.Context {
			if strings.TrimSpace(w) == "" {
				add(fmt.Sprintf("%s.Context[%d]", f, j), "empty word")
			}
		}
	}
	needHash, needEnc := false, false
	use := func(s Strategy) {
		needHash = needHash || s == StrategyHash
		needEnc = needEnc || s == StrategyEncrypt
	}
	for _, t := range sortedKeys(c.Strategies) {
		s := c.Strategies[t]
		f := "Strategies[" + t + "]"
		if t != "*" && !isBuiltin(t) && !names[t] {
			add(f, fmt.Sprintf("%q is neither a built-in type nor a custom pattern", t))
		}
		if !s.valid() {
			add(f, fmt.Sprintf("unknown strategy %q; use mask, redact, hash or encrypt", string(s)))
		}
		use(s)
	}
	for _, p := range c.Custom {
		use(p.Strategy)
	}
	for i, g := range c.Exclude {
		if err := checkGlob(g); err != nil {
			add(fmt.Sprintf("Exclude[%d]", i), err.Error())
		}
	}
	for i, a := range c.Allow {
		if a == "" {
			add(fmt.Sprintf("Allow[%d]", i), "empty entry")
			continue
		}
		if expr, ok := strings.CutPrefix(a, "re:"); ok {
			if _, err := regexp.Compile(expr); err != nil {
				add(fmt.Sprintf("Allow[%d]", i), "does not compile: "+regexErr(err))
			}
		}
	}
	if len(c.Keys.Hash) > 0 && len(c.Keys.Hash) < 32 {
		add("Keys.Hash", fmt.Sprintf("%d bytes; need at least 32", len(c.Keys.Hash)))
	} else if needHash && len(c.Keys.Hash) == 0 {
		add("Keys.Hash", "required by the hash strategy; derive it with KeysFromSecret")
	}
	if len(c.Keys.Encrypt) > 0 && len(c.Keys.Encrypt) != 32 {
		add("Keys.Encrypt", fmt.Sprintf("%d bytes; need exactly 32 (AES-256)", len(c.Keys.Encrypt)))
	} else if needEnc && len(c.Keys.Encrypt) == 0 {
		add("Keys.Encrypt", "required by the encrypt strategy; derive it with KeysFromSecret")
	}
	return errors.Join(errs...)
}

func isBuiltin(t string) bool {
	_, ok := kindOf(t)
	return ok
}

// regexErr shortens a regexp error to its reason; the package's own
// prefix ("error parsing regexp: ") says nothing the field name does not.
func regexErr(err error) string {
	return strings.TrimPrefix(err.Error(), "error parsing regexp: ")
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
