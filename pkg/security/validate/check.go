package validate

import (
	"strings"
	"unicode/utf8"

	"github.com/escai-framework/escai/pkg/events"
)

// checker holds the per-call state: the result being built, the path of the
// current value and scratch buffers. Checkers are pooled, so a clean event
// allocates nothing once the pool is warm.
type checker struct {
	v   *Validator
	res Result

	path []byte // dotted JSON path of the current value

	dec  decoder
	qdec decoder // URL query values, decoded apart from dec
	low  []byte  // lower-cased or masked copies
	mask []byte
	wide []byte // full-width folded copies
	kbuf []byte // normalised keys
	jbuf []byte // joined path suffixes
	tbuf []byte // key tokens

	// walker state
	stack    []frame
	deferred []deferredStr
	unesc    []byte
	kunesc   []byte
	globBuf  []bool
	docs     []doc
	seen     []bool // per custom rule: matched at least once (required)

	asText bool // detectors run on free text: report as text findings
}

// report records a threat at the current path and, when the level says so,
// a rejection. span is the matched evidence; only its fingerprint is kept.
func (c *checker) report(kind FieldKind, typ, rule, span string, info bool) {
	if c.asText {
		kind = KindText
	}
	c.reportAt(string(c.path), kind, typ, rule, span, info, false)
}

func (c *checker) reportAt(path string, kind FieldKind, typ, rule, span string, info, custom bool) {
	field := safePath(path)
	c.res.addThreat(Threat{Type: typ, Field: field, Fingerprint: fingerprint(span), Rule: rule, Informational: info})
	if !info && c.v.rejects(kind, custom) {
		c.res.addReason(ReasonThreatPrefix+typ, field, typ+" ("+rule+") in a field of kind "+kind.String())
	}
}

func (c *checker) reason(code, detail string) {
	c.res.addReason(code, safePath(string(c.path)), detail)
}

// rejects applies the level table (see the package documentation).
func (v *Validator) rejects(kind FieldKind, custom bool) bool {
	switch {
	case v.level == levelPermissive:
		return false
	case custom:
		// An operator's deny rule says the value does not belong there,
		// whatever the kind.
		return true
	case v.level == levelStrict:
		return !kind.IsText() && !kind.IsCode()
	default:
		return kind.IsStructured()
	}
}

// controlAllowed reports whether a control byte may appear in a field of
// kind k. Free text may hold anything but NUL (terminal output carries ESC
// sequences); code and unknown fields tab, CR and LF; structured fields
// and identifiers nothing.
func controlAllowed(k FieldKind, c byte) bool {
	switch {
	case k == KindText:
		return c != 0
	case k.IsCode() || k == KindUnknown || k == KindArguments || k == KindMongoQuery:
		return c == '\t' || c == '\n' || c == '\r'
	}
	return false
}

// checkString runs everything that applies to one string value of kind k
// found at c.path.
func (c *checker) checkString(k FieldKind, s string) {
	lim := &c.v.limits
	if len(s) > lim.MaxStringBytes {
		c.reason(ReasonStringLength, "longer than "+itoa(lim.MaxStringBytes)+" bytes")
		return
	}
	m := classify(s)
	if m.has(cHigh) && !utf8.ValidString(s) {
		c.reason(ReasonInvalidUTF8, "not valid UTF-8")
		return
	}
	if m.has(cNUL|cCtrl|cCR|cLF|cTab|cHigh) && !c.controlsOK(k, s, m) {
		c.reason(ReasonControlChars, "control characters are not allowed in a field of kind "+k.String())
		// Keep going: a CR/LF in a header is also a crlf threat, a NUL in
		// a path is also traversal, and the findings say which.
	}
	switch k {
	case KindIdentifier:
		if !events.ValidIdentifier(s) {
			c.reason(ReasonInvalidIdentifier, "must match [a-z0-9][a-z0-9_-]{0,63}")
		}
		return
	case KindName:
		if !validName(s) {
			c.reason(ReasonInvalidIdentifier, "must match [A-Za-z0-9_][A-Za-z0-9_.:/-]{0,127}")
		}
		return
	case KindSource:
		return
	case KindSQL:
		c.sqlCode(s, m)
		return
	case KindShell:
		c.shellCode(s, m)
		return
	case KindText:
		c.text(s, m)
		return
	case KindArguments, KindMongoQuery:
		k = KindUnknown
	}
	c.detectAll(k, s, m)
}

// controlsOK checks control characters more precisely than the class mask:
// C1 controls (U+0080..U+009F) count too.
func (c *checker) controlsOK(k FieldKind, s string, m classes) bool {
	if m.has(cNUL | cCtrl | cCR | cLF | cTab) {
		for i := 0; i < len(s); i++ {
			b := s[i]
			if (b < 0x20 || b == 0x7f) && !controlAllowed(k, b) {
				return false
			}
		}
	}
	if m.has(cHigh) && k != KindText {
		for i := 0; i+1 < len(s); i++ {
			if s[i] == 0xc2 && s[i+1] >= 0x80 && s[i+1] <= 0x9f {
				return false
			}
		}
	}
	return true
}

// validName is the tool-name allow-list: what OpenAI, Anthropic and MCP
// accept, plus '.', ':' and '/' for namespaced names.
func validName(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case isAlnum(ch) || ch == '_':
		case i > 0 && (ch == '.' || ch == ':' || ch == '/' || ch == '-'):
		default:
			return false
		}
	}
	return true
}

// detectAll runs every detector, at the strictness of kind k, on a field
// that is not code, text or an identifier.
func (c *checker) detectAll(k FieldKind, s string, m classes) {
	sq := c.sqli(k, s, m)
	xs := c.xss(k, s, m)
	if k == KindURL && !(sq && xs) && m.has(cEq) {
		c.urlValues(s, !sq, !xs)
	}
	c.pathTraversal(k, s, m)
	c.cmdInjection(k, s, m)
	c.ldap(k, s, m)
	c.nosqlString(k, s, m)
	c.template(k, s, m)
	c.crlf(k, s, m)
}

// text scans free text with the high-confidence rules only, outside
// Markdown code spans and fenced blocks.
func (c *checker) text(s string, m classes) {
	if frontMatter(s) {
		// A Markdown file with YAML front matter (Jekyll, Hugo, Astro) is
		// file content an agent reads or writes, not a message: its HTML
		// is the author's.
		return
	}
	t, raw := s, m
	if m.has(cBacktick) || (m.has(cLetter) && indexFold(s, "~~~", 0) >= 0) {
		c.mask = maskCode(c.mask, s)
		t = bstr(c.mask)
		m = classify(t)
	}
	if t != s && raw.has(cDollar) && strings.Contains(s, "${") {
		// A sink in a template substitution ("`${alert}`") is script even
		// inside a code span.
		if span := templateSink(s); span != "" {
			c.report(KindText, ThreatXSS, "xss.js_template", span, false)
		}
	}
	c.sqliText(t, m)
	c.xss(KindText, t, m)
	c.template(KindText, t, m)
	if payloadShaped(t) {
		// A one-line text value that starts the way payloads do ("; cat
		// /etc/passwd", "../../etc/passwd", "*)(uid=*", "admin'--") gets
		// every detector at unknown-field precision; findings stay text
		// findings: flagged, never rejected.
		c.asText = true
		c.detectAll(KindUnknown, t, m)
		c.asText = false
	}
}

// payloadShaped reports a short single-line value that does not start like
// prose: it starts with punctuation other than an opening bracket or
// quote followed by a letter, or its first word has punctuation glued to
// it ("admin'--", "127.0.0.1;id").
func payloadShaped(s string) bool {
	s = strings.TrimSpace(s)
	if len(s) < 2 || len(s) > 256 || strings.ContainsAny(s, "\n\r") {
		return false
	}
	c := s[0]
	if !isAlnum(c) && c < 0x80 {
		switch c {
		case '_':
			return false
		case '(', '[', '"', '\'', '*', '-', '#', '>', '@', '!', '?', ':', ',', '~':
			// Markdown and chat punctuation, unless what follows is
			// punctuation again ("')", "*)(", "--", "'||").
			return !isAlnum(s[1]) && s[1] != ' ' && s[1] < 0x80
		}
		return true
	}
	end := strings.IndexByte(s, ' ')
	if end < 0 {
		end = len(s)
	}
	for i := 1; i < end; i++ {
		switch s[i] {
		case ';', '|', '`', '$', '<', '>':
			return true
		case '\'', '"':
			if i+1 < end && !isAlpha(s[i+1]) || i+1 == end && end < len(s) {
				return true
			}
		}
	}
	return false
}

// shellCode tags dangerous shell constructs in a command an agent runs;
// they stay informational because running commands is what the field is
// for.
func (c *checker) shellCode(s string, m classes) {
	if rule, span := shellDanger(s, m); rule != "" {
		c.report(KindShell, ThreatCmdInjection, rule, span, true)
	}
}

// urlValues checks each query value of a URL on its own, decoded: the
// application puts one value, not the URL, into its SQL or its page, and
// the rules anchored at the start of a fragment ("' or…", "-- -",
// "javascript:…", "select …;") only see it alone. Findings are the URL's.
func (c *checker) urlValues(s string, sqli, xss bool) {
	q := strings.IndexByte(s, '?')
	if q < 0 {
		return
	}
	rest := s[q+1:]
	for rest != "" {
		var part string
		part, rest, _ = strings.Cut(rest, "&")
		key, val, ok := strings.Cut(part, "=")
		if !ok || val == "" || len(val) > 4096 {
			continue
		}
		// "?q=SELECT * FROM docs": a parameter named like a query field
		// holds a query; one named like code or text is not checked.
		k, xk := KindUnknown, KindUnknown
		if len(key) <= 64 {
			if e, found := c.v.lookupKey(c, key); found {
				switch {
				case e.str == KindQuery || e.str == KindSQL:
					// a search: SQL statements are expected, and it may
					// name a function ("q=how to use confirm()"), but what
					// it echoes back into a page is checked as in a URL
					k, xk = KindQuery, KindURL
				case e.str.IsCode() || e.str.IsText():
					continue
				}
			}
		}
		if !classify(val).has(cPct | cPlus | cQuote | cBacktick | cParen | cSemi | cLT | cColon | cHash | cAt | cPipe | cStar | cDash | cBracket | cBackslash) {
			continue
		}
		d, _ := c.qdec.canonical(val, true)
		v := bstr(d)
		vm := classify(v)
		if sqli && c.sqliAs(k, KindURL, v, vm) {
			sqli = false
		}
		if xss && c.xssFormAs(xk, KindURL, v, vm, "_query") {
			xss = false
		}
		if !sqli && !xss {
			return
		}
	}
}

// frontMatter reports text that starts with a YAML front matter block:
// "---" on the first line, "key: value" lines, and a closing "---".
func frontMatter(s string) bool {
	if !strings.HasPrefix(s, "---\n") && !strings.HasPrefix(s, "---\r\n") {
		return false
	}
	end := strings.Index(s[3:min(len(s), 4096)], "\n---")
	if end < 0 {
		return false
	}
	body := s[4 : 3+end]
	for _, line := range strings.Split(body, "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" || line[0] == ' ' || line[0] == '-' || line[0] == '#' {
			continue
		}
		if k := strings.IndexByte(line, ':'); k <= 0 || strings.ContainsAny(line[:k], " <>\"'") {
			return false
		}
	}
	return true
}
