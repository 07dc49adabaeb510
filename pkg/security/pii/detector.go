package pii

import (
	"math"
	"regexp"
	"slices"
	"strings"

	"github.com/escai-framework/escai/pkg/security/config"
)

// Sensitivity thresholds, in hundredths of a score.
const (
	thresholdLow    = 75
	thresholdMedium = 50
	thresholdHigh   = 40
)

// Detector finds PII in text. It is built once from a Config and is safe
// for concurrent use; a scan allocates nothing unless it finds something
// and dst is too small.
type Detector struct {
	sens      config.Sensitivity
	threshold int
	enabled   uint32 // bit per kind
	allowLit  map[string]struct{}
	allowRe   []*regexp.Regexp
	custom    []customRule
}

// customRule is a compiled CustomPattern.
type customRule struct {
	name      string
	re        *regexp.Regexp
	group     int
	validator Validator
	words     []string // lower case
	score     int
}

// NewDetector validates cfg and compiles everything a scan needs: the
// sensitivity's threshold and types, the allow-list and the custom
// patterns. Errors are those of Config.Validate.
func NewDetector(cfg Config) (*Detector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	d := &Detector{sens: cfg.Sensitivity}
	all := uint32(1)<<numKinds - 1
	switch cfg.Sensitivity {
	case config.SensitivityLow:
		d.threshold, d.enabled = thresholdLow, all&^bit(kURL)
	case config.SensitivityMedium:
		d.threshold, d.enabled = thresholdMedium, all&^bit(kURL)
	default:
		d.sens = config.SensitivityHigh
		d.threshold, d.enabled = thresholdHigh, all
	}
	for _, a := range cfg.Allow {
		if expr, ok := strings.CutPrefix(a, "re:"); ok {
			d.allowRe = append(d.allowRe, regexp.MustCompile(`^(?:`+expr+`)$`))
			continue
		}
		if d.allowLit == nil {
			d.allowLit = make(map[string]struct{}, len(cfg.Allow))
		}
		d.allowLit[asciiLower(a)] = struct{}{}
	}
	for _, p := range cfg.Custom {
		r := customRule{
			name:      p.Name,
			re:        regexp.MustCompile(p.Regex),
			group:     p.Group,
			validator: p.Validator,
			score:     80,
		}
		if p.Score > 0 {
			r.score = int(math.Round(p.Score * 100))
		}
		for _, w := range p.Context {
			r.words = append(r.words, asciiLower(strings.TrimSpace(w)))
		}
		d.custom = append(d.custom, r)
	}
	return d, nil
}

// Sensitivity returns the sensitivity the detector applies (high when the
// Config left it empty).
func (d *Detector) Sensitivity() config.Sensitivity { return d.sens }

// Scan appends the PII found in text to dst and returns it. Matches are
// sorted by Start and do not overlap; when two candidates overlap, the
// one that contains the other wins, otherwise the higher score. The one
// exception: an IP address that is the host of a reported URL is
// reported too, right after the URL and inside it (the URL mask keeps
// the host; Masker replaces the pair once). With no match and no custom
// pattern matching, Scan does not allocate.
func (d *Detector) Scan(text string, dst []Match) []Match {
	return d.ScanWithContext(text, "", dst)
}

// ScanWithContext is Scan for a value found under a JSON key: the key
// counts as context ("email", "phone_number", "cardNumber" raise the
// matching types' scores, "order_id" or "version" lower bare numbers),
// which is how an unformatted SSN or phone number in a field named for it
// is found.
func (d *Detector) ScanWithContext(text, key string, dst []Match) []Match {
	// Fields are set one by one: a composite literal of this size is
	// built in a temporary and copied.
	var s scanner
	s.d, s.t, s.out, s.dotAt, s.hiAt = d, text, dst, -1, -1
	base := len(dst)
	if key != "" {
		s.keyPos, s.keyNeg = keyContext(key)
	}
	s.run()
	for i := range d.custom {
		s.custom(&d.custom[i], key)
	}
	return normalize(s.out, base)
}

// custom runs one custom pattern over the text.
func (s *scanner) custom(r *customRule, key string) {
	d := s.d
	if r.score+ctxBoost < d.threshold {
		return
	}
	for _, loc := range r.re.FindAllStringSubmatchIndex(s.t, -1) {
		start, end := loc[2*r.group], loc[2*r.group+1]
		if start < 0 || end <= start {
			continue
		}
		v := s.t[start:end]
		switch r.validator {
		case ValidatorLuhn:
			if !luhn(v) {
				continue
			}
		case ValidatorMod97:
			if mod97(v) != 1 {
				continue
			}
		}
		score := r.score
		if score < 100 && len(r.words) > 0 && s.customContext(r, start, end, key) {
			score = min(100, score+ctxBoost)
		}
		if score < d.threshold || d.allowed(v) {
			continue
		}
		s.out = append(s.out, Match{Type: r.name, Start: start, End: end, Score: float64(score) / 100})
	}
}

// customContext reports whether one of r's words occurs near the match or
// in the key.
func (s *scanner) customContext(r *customRule, start, end int, key string) bool {
	lo, hi := max(0, start-ctxBefore), min(len(s.t), end+ctxAfter)
	for _, w := range r.words {
		if containsFold(s.t[lo:start], w) || containsFold(s.t[end:hi], w) || containsFold(key, w) {
			return true
		}
	}
	return false
}

// containsFold reports whether s contains w (lower case) ignoring ASCII
// case.
func containsFold(s, w string) bool {
	if w == "" {
		return false
	}
	for i := 0; i+len(w) <= len(s); i++ {
		if lower(s[i]) == w[0] && hasPrefixFold(s[i:], w) {
			return true
		}
	}
	return false
}

// allowed reports whether v is on the allow-list.
func (d *Detector) allowed(v string) bool {
	if len(d.allowLit) > 0 && len(v) <= 256 {
		var buf [256]byte
		for i := 0; i < len(v); i++ {
			buf[i] = lower(v[i])
		}
		if _, ok := d.allowLit[string(buf[:len(v)])]; ok {
			return true
		}
	}
	for _, re := range d.allowRe {
		if re.MatchString(v) {
			return true
		}
	}
	return false
}

func asciiLower(s string) string {
	b := []byte(s)
	for i := range b {
		b[i] = lower(b[i])
	}
	return string(b)
}

// normalize sorts dst[base:] by Start (longer first on ties) and removes
// overlaps: a match inside another is dropped, and of two that partly
// overlap the higher score stays (the earlier one on a tie). The one
// exception is an IP address inside a URL (its host, see hostIP): it is
// kept, right after the URL. Handlers emit almost in order (only e-mail
// local parts look back), so the sort is usually a no-op check.
func normalize(dst []Match, base int) []Match {
	m := dst[base:]
	if len(m) < 2 {
		return dst
	}
	less := func(a, b Match) int {
		if a.Start != b.Start {
			return a.Start - b.Start
		}
		return b.End - a.End
	}
	for i := 1; i < len(m); i++ {
		if less(m[i], m[i-1]) < 0 {
			slices.SortStableFunc(m, less)
			break
		}
	}
	out, outer := 0, -1 // outer: the last match not nested in another
	for i := range m {
		if outer >= 0 {
			last := &m[outer]
			if m[i].Start < last.End {
				if m[i].End <= last.End && last.Type == TypeURL && m[i].Type == TypeIPAddress &&
					(out-1 == outer || m[out-1].End <= m[i].Start) {
					m[out] = m[i]
					out++
				} else if m[i].End > last.End && m[i].Score > last.Score {
					*last = m[i]
					out = outer + 1 // what was nested in the old one goes with it
				}
				continue
			}
		}
		if out != i {
			m[out] = m[i]
		}
		outer = out
		out++
	}
	return dst[:base+out]
}
