package validate

import (
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/escai-framework/escai/pkg/events"
	"github.com/escai-framework/escai/pkg/security/config"
)

type level int

const (
	levelStandard level = iota
	levelPermissive
	levelStrict
)

// Validator checks fields and events. Build it once with New (it compiles
// the field table, rules and roots); it is safe for concurrent use and
// keeps no state between calls.
type Validator struct {
	level    level
	limits   Limits
	skew     time.Duration
	now      func() time.Time
	keys     map[string]keyEntry
	prefixes []prefixEntry
	paths    []PathKind
	rules    []compiledRule
	roots    []string
	pool     sync.Pool
}

type prefixEntry struct {
	prefix string
	e      keyEntry
}

// New validates cfg (see Config.Validate) and builds a Validator.
func New(cfg Config) (*Validator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	v := &Validator{
		limits: cfg.Limits.effective(),
		skew:   cfg.MaxFutureSkew,
		now:    cfg.Now,
		paths:  slices.Clone(cfg.Fields.Paths),
	}
	switch cfg.Level {
	case config.LevelPermissive:
		v.level = levelPermissive
	case config.LevelStrict:
		v.level = levelStrict
	default:
		v.level = levelStandard
	}
	if v.skew == 0 {
		v.skew = DefaultMaxFutureSkew
	}
	if v.now == nil {
		v.now = time.Now
	}
	v.keys = make(map[string]keyEntry, len(defaultKeys)+len(cfg.Fields.Keys))
	var nb []byte
	if !cfg.Fields.NoDefaults {
		for k, e := range defaultKeys {
			if p, ok := strings.CutSuffix(k, "*"); ok {
				v.prefixes = append(v.prefixes, prefixEntry{string(normKey(nb, p)), e})
				continue
			}
			v.keys[string(normKey(nb, k))] = e
		}
	}
	for k, kind := range cfg.Fields.Keys {
		e := keyEntry{kind, kind}
		if p, ok := strings.CutSuffix(k, "*"); ok {
			v.prefixes = append(v.prefixes, prefixEntry{string(normKey(nb, p)), e})
			continue
		}
		v.keys[string(normKey(nb, k))] = e
	}
	// Longest prefix first, so a user's "http.request.header.x-*" beats
	// the default "http.request.header.*".
	slices.SortStableFunc(v.prefixes, func(a, b prefixEntry) int { return len(b.prefix) - len(a.prefix) })
	for _, r := range cfg.AllowedRoots {
		v.roots = append(v.roots, cleanRoot(r))
	}
	for i := range cfg.Rules {
		cr, err := cfg.Rules[i].compile()
		if err != nil {
			return nil, &ConfigError{Field: "Rules[" + itoa(i) + "]", Problem: err.Error(), Err: ErrInvalidConfig}
		}
		v.rules = append(v.rules, cr)
	}
	v.pool.New = func() any { return &checker{v: v, path: make([]byte, 0, 128)} }
	return v, nil
}

// Level returns the level the validator applies.
func (v *Validator) Level() config.ValidationLevel {
	switch v.level {
	case levelPermissive:
		return config.LevelPermissive
	case levelStrict:
		return config.LevelStrict
	}
	return config.LevelStandard
}

func (v *Validator) get() *checker {
	c := v.pool.Get().(*checker)
	c.res = Result{}
	c.path = c.path[:0]
	if len(v.rules) > 0 {
		c.seen = slices.Grow(c.seen[:0], len(v.rules))[:len(v.rules)]
		clear(c.seen)
	}
	return c
}

// put returns c to the pool; buffers that grew very large are dropped so
// one huge event does not pin memory.
func (v *Validator) put(c *checker) {
	const keep = 256 << 10
	if cap(c.unesc) > keep || cap(c.low) > keep || cap(c.mask) > keep || cap(c.dec.a) > keep || cap(c.dec.b) > keep {
		return
	}
	c.res = Result{}
	v.pool.Put(c)
}

// exactKey maps a whole key (normalised) or a configured prefix, without
// splitting compound keys.
func (v *Validator) exactKey(c *checker, key string) (keyEntry, bool) {
	c.kbuf = normKey(c.kbuf, key)
	if e, ok := v.keys[string(c.kbuf)]; ok {
		return e, true
	}
	for _, p := range v.prefixes {
		if strings.HasPrefix(bstr(c.kbuf), p.prefix) {
			return p.e, true
		}
	}
	return keyEntry{}, false
}

// lookupKey maps an object key to its entry: the whole normalised key,
// then a configured prefix, then the words of a compound key from the
// last ("output_dir" is a directory, "error_message" a message).
func (v *Validator) lookupKey(c *checker, key string) (keyEntry, bool) {
	if e, ok := v.exactKey(c, key); ok {
		return e, true
	}
	if len(key) > 64 {
		return keyEntry{}, false
	}
	var starts, ends [8]int
	n := keyTokens(key, &starts, &ends)
	if n < 2 {
		return keyEntry{}, false
	}
	for t := n - 1; t >= 0; t-- {
		c.tbuf = lowerASCII(c.tbuf, key[starts[t]:ends[t]])
		if e, ok := v.keys[string(c.tbuf)]; ok {
			return e, true
		}
	}
	return keyEntry{}, false
}

// keyTokens splits a key at '_', '-', '.', spaces and camelCase
// boundaries into at most len(starts) words.
func keyTokens(key string, starts, ends *[8]int) int {
	n, i := 0, 0
	for i < len(key) && n < len(starts) {
		for i < len(key) && isKeySep(key[i]) {
			i++
		}
		if i >= len(key) {
			break
		}
		s := i
		i++
		for i < len(key) && !isKeySep(key[i]) {
			if key[i] >= 'A' && key[i] <= 'Z' && key[i-1] >= 'a' && key[i-1] <= 'z' {
				break
			}
			i++
		}
		starts[n], ends[n] = s, i
		n++
	}
	return n
}

// pathKind resolves the kind of the value at a dotted path, the way the
// walker would have on the way down: CheckField and CheckJSON start there.
// It returns the key entry of the last key, whether it is mapped, the kind
// inherited from above and whether a query document encloses it.
func (c *checker) pathKind(p string) (keyEntry, bool, FieldKind, bool) {
	v := c.v
	switch p {
	case "tenant", "agentid", "sessionid":
		return keyEntry{KindIdentifier, KindIdentifier}, true, KindUnknown, false
	case "source":
		return keyEntry{KindURL, KindURL}, true, KindUnknown, false
	}
	if k, ok := c.globKind(); ok {
		return keyEntry{k, k}, true, KindUnknown, false
	}
	// Split into keys, dropping array indexes.
	var segs [32]string
	n := 0
	rest := p
	for rest != "" && n < len(segs) {
		seg, tail, _ := strings.Cut(rest, ".")
		rest = tail
		if i := strings.IndexByte(seg, '['); i >= 0 {
			seg = seg[:i]
		}
		if seg != "" {
			segs[n] = seg
			n++
		}
	}
	if n == 0 {
		return keyEntry{}, false, KindUnknown, false
	}
	// The last key: try the longest dotted suffix first, for attribute
	// names with dots ("gen_ai.tool.name").
	var last keyEntry
	lastMapped := false
	lastStart := n - 1
	for m := min(5, n); m >= 2 && !lastMapped; m-- {
		c.jbuf = c.jbuf[:0]
		for i := n - m; i < n; i++ {
			if i > n-m {
				c.jbuf = append(c.jbuf, '.')
			}
			c.jbuf = append(c.jbuf, segs[i]...)
		}
		if e, ok := v.exactKey(c, bstr(c.jbuf)); ok {
			last, lastMapped, lastStart = e, true, n-m
		}
	}
	if !lastMapped {
		last, lastMapped = v.lookupKey(c, segs[n-1])
	}
	inherit, query := KindUnknown, false
	nameCtx := false
	for i := 0; i < lastStart; i++ {
		e, ok := v.lookupKey(c, segs[i])
		kind := inherit
		if ok {
			kind = e.obj
		}
		if kind == KindMongoQuery {
			query = true
		}
		if kind.inherits() {
			inherit = kind
		} else {
			inherit = KindUnknown
		}
		nameCtx = nameParents[c.normKeyString(segs[i])]
	}
	if nameCtx && c.normKeyString(segs[n-1]) == "name" {
		return keyEntry{KindName, KindName}, true, inherit, query
	}
	return last, lastMapped, inherit, query
}

// CheckField checks one value found at a dotted JSON path
// ("data.arguments.sql", "data.messages[0].content", "tenant"): the kind
// comes from the path, the limits on strings and the custom rules that
// match the path apply (except required), and a tool-arguments field
// holding JSON is walked. It is what `escai validate` runs per line.
func (v *Validator) CheckField(path, value string) Result {
	c := v.get()
	defer v.put(c)
	c.path = append(c.path[:0], path...)
	e, mapped, inherit, query := c.pathKind(path)
	kind := e.str
	if !mapped {
		kind = inherit
		if !kind.inherits() {
			kind = KindUnknown
		}
	}
	if kind == KindArguments {
		if inner := embeddedJSON(value); inner != nil && len(value) <= v.limits.MaxEventBytes {
			c.walk(inner, keyEntry{KindArguments, KindArguments}, true, KindUnknown, query)
			return c.result()
		}
		kind = KindUnknown
	}
	c.ruleValue(kind, "string", value, true)
	c.checkString(kind, value)
	return c.result()
}

// CheckJSON checks a JSON value (object, array or scalar) found at a dotted
// path, as CheckEvent checks data: limits, field policy from the path
// down, detectors and rules (except required).
func (v *Validator) CheckJSON(path string, raw []byte) Result {
	c := v.get()
	defer v.put(c)
	if len(raw) > v.limits.MaxEventBytes {
		c.res.addReason(ReasonEventSize, safePath(path), "larger than "+itoa(v.limits.MaxEventBytes)+" bytes")
		return c.result()
	}
	c.path = append(c.path[:0], path...)
	e, mapped, inherit, query := c.pathKind(path)
	c.path = append(c.path[:0], path...)
	c.walk(raw, e, mapped, inherit, query)
	return c.result()
}

// CheckEvent checks an envelope: the event size, the identifiers (tenant,
// agentid, sessionid), the source, the event time against the allowed
// future skew, then data and every extension attribute with the field
// policy, detectors, limits and custom rules (including required). Data is
// walked iteratively; nothing recurses on input. A nil envelope is
// rejected.
func (v *Validator) CheckEvent(e *events.Envelope) Result {
	c := v.get()
	defer v.put(c)
	if e == nil {
		c.res.addReason(ReasonMalformedJSON, "", "no event")
		return c.result()
	}
	size := 200 + len(e.ID) + len(e.Source) + len(e.Type) + len(e.DataContentType) + len(e.Tenant) +
		len(e.AgentID) + len(e.SessionID) + len(e.TraceParent) + len(e.Data)
	for k, x := range e.Extensions {
		size += len(k) + len(x) + 4
	}
	if size > v.limits.MaxEventBytes {
		c.res.addReason(ReasonEventSize, "", "larger than "+itoa(v.limits.MaxEventBytes)+" bytes")
		return c.result()
	}
	c.attr("tenant", KindIdentifier, e.Tenant)
	c.attr("agentid", KindIdentifier, e.AgentID)
	if e.SessionID != "" {
		c.attr("sessionid", KindIdentifier, e.SessionID)
	}
	if e.Source != "" {
		c.attr("source", KindURL, e.Source)
	}
	if !e.Time.IsZero() && e.Time.After(v.now().Add(v.skew)) {
		c.res.addReason(ReasonFutureTime, "time", "more than "+v.skew.String()+" in the future")
	}
	if len(e.Data) > 0 {
		c.path = append(c.path[:0], "data"...)
		c.walk(e.Data, keyEntry{}, false, KindUnknown, false)
	}
	if len(e.Extensions) > 0 && !c.stopped() {
		names := make([]string, 0, len(e.Extensions))
		for k := range e.Extensions {
			names = append(names, k)
		}
		slices.Sort(names)
		for _, k := range names {
			if c.stopped() {
				break
			}
			c.path = append(c.path[:0], k...)
			ent, mapped := v.lookupKey(c, k)
			c.path = append(c.path[:0], k...)
			c.walk(e.Extensions[k], ent, mapped, KindUnknown, false)
		}
	}
	for i := range v.rules {
		if v.rules[i].Required && !c.seen[i] {
			c.res.addReason(ReasonRuleRequired, safePath(v.rules[i].Field), "rule "+v.rules[i].ID+": no value matches")
		}
	}
	return c.result()
}

func (c *checker) attr(name string, k FieldKind, s string) {
	c.path = append(c.path[:0], name...)
	c.ruleValue(k, "string", s, true)
	c.checkString(k, s)
}

// result finishes and copies out the result (the checker is reused).
func (c *checker) result() Result {
	c.res.finish()
	r := c.res
	if r.Threats == nil {
		r.Threats = []Threat{}
	}
	c.res = Result{}
	return r
}

// ruleValue applies the custom rules whose pattern matches the current
// path to one value of JSON type typ; text is the string or number text
// when hasText.
func (c *checker) ruleValue(kind FieldKind, typ, text string, hasText bool) {
	if len(c.v.rules) == 0 {
		return
	}
	p := bstr(c.path)
	for i := range c.v.rules {
		r := &c.v.rules[i]
		if !globMatch(r.Field, p, &c.globBuf) {
			continue
		}
		if i < len(c.seen) {
			c.seen[i] = true
		}
		if r.Type != "" && !typeMatches(r.Type, typ, text) {
			c.reason(ReasonRuleType, "rule "+r.ID+": want "+r.Type+", got "+typ)
			continue
		}
		if !hasText {
			continue
		}
		if r.MaxLength > 0 && typ == "string" && utf8.RuneCountInString(text) > r.MaxLength {
			c.reason(ReasonRuleMaxLength, "rule "+r.ID+": longer than "+itoa(r.MaxLength)+" characters")
		}
		if r.allow != nil && !r.allow.MatchString(text) {
			c.reason(ReasonRuleAllow, "rule "+r.ID+": does not match the allow-list")
		}
		if r.deny != nil {
			if loc := r.deny.FindStringIndex(text); loc != nil {
				c.reportAt(string(c.path), kind, r.threat, r.ID, text[loc[0]:loc[1]], false, true)
			}
		}
	}
}

func typeMatches(want, got, text string) bool {
	switch want {
	case got:
		return true
	case "integer":
		return got == "number" && !strings.ContainsAny(text, ".eE")
	case "number":
		return got == "number"
	}
	return false
}
