package validate

import (
	"strings"

	libinjection "github.com/corazawaf/libinjection-go"
)

// Cross-site scripting.
//
// libinjection parses a value as HTML5 in five contexts (data, and inside
// unquoted, single-, double- and back-quoted attribute values) and flags
// anything that can run script: dangerous tags, on* handlers, javascript:
// URLs. It also flags tags that cannot run script but load or restyle
// content (<style>, <link>, <meta>, <iframe>), which ordinary HTML output
// is full of. The context rules:
//
//   - text and unknown fields: those load-only constructs are blanked out
//     and libinjection runs again; only what is left counts. Markdown code
//     is never scanned in text.
//   - structured fields: any hit counts; HTML has no business in a path or
//     a header.
//   - every non-text field is also checked URL-decoded, and for a
//     script-capable URL scheme (javascript:, vbscript:, data:text/html)
//     after removing the entity and whitespace tricks browsers forgive.
//   - code fields are not scanned.

// xssCandidate is the pre-filter: a tag, an attribute assignment, a URL
// scheme, or an encoding that can hide one.
func xssCandidate(s string, m classes) bool {
	if m.has(cLT) {
		return true
	}
	if m.has(cEq) && attrHint(s) {
		return true
	}
	if m.has(cColon) && schemeHint(s) {
		return true
	}
	return false
}

// attrHint reports an "on…=" or other script-capable attribute assignment.
func attrHint(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '=' {
			continue
		}
		k := i - 1
		for k >= 0 && isSpace(s[k]) {
			k--
		}
		e := k + 1
		for k >= 0 && (isAlnum(s[k]) || s[k] == '-' || s[k] == ':') {
			k--
		}
		name := s[k+1 : e]
		if len(name) > 2 && hasFoldPrefix(name, "on") {
			return true
		}
		for _, a := range [...]string{"style", "src", "href", "formaction", "action", "xmlns", "xlink:href", "background", "dynsrc", "lowsrc", "data", "srcdoc", "poster", "code", "codebase"} {
			if eqFold(name, a) {
				return true
			}
		}
	}
	return false
}

// schemeHint reports a script-capable URL scheme anywhere: it looks at
// the word before each ':'.
func schemeHint(s string) bool {
	for i := strings.IndexByte(s, ':'); i >= 0; {
		k := i - 1
		for k >= 0 && isSpace(s[k]) {
			k--
		}
		e := k + 1
		for k >= 0 && isAlpha(s[k]) {
			k--
		}
		w := s[k+1 : e]
		if eqFold(w, "javascript") || eqFold(w, "vbscript") || eqFold(w, "livescript") || eqFold(w, "data") || eqFold(w, "mocha") {
			return true
		}
		j := strings.IndexByte(s[i+1:], ':')
		if j < 0 {
			break
		}
		i += j + 1
	}
	// entity- or tab-split schemes ("jav&#x09;ascript:", "java\tscript:")
	return indexFold(s, "script", 0) >= 0 && strings.IndexByte(s, ':') >= 0
}

func (c *checker) xss(k FieldKind, s string, m classes) bool {
	if c.xssForm(k, s, m, "") {
		return true
	}
	if k != KindText && m.has(cQuote) && m.has(cParen|cBacktick) {
		if span := jsBreakout(s); span != "" {
			c.report(k, ThreatXSS, "xss.js_breakout", span, false)
			return true
		}
	}
	if m.has(cHigh) {
		// "＜script＞": full-width forms that an NFKC normaliser behind
		// the filter turns into markup.
		var changed bool
		if c.wide, changed = foldWidth(c.wide, s); changed {
			w := bstr(c.wide)
			if c.xssForm(k, w, classify(w), "_folded") {
				return true
			}
		}
		if k != KindText && c.usASCII(k, s) {
			return true
		}
	}
	if k == KindText || !m.has(cPct|cAmp|cBackslash) {
		return false
	}
	// Decoded forms: %3Cscript%3E, &#x3C;svg…, \x3c and \u003c.
	d, rounds := c.dec.canonical(s, k == KindURL)
	if rounds == 0 && m.has(cAmp|cBackslash) {
		d = append(c.dec.a[:0], s...)
	}
	d = decodeEntitiesAndEscapes(&c.mask, d)
	if string(d) == s {
		return false
	}
	ds := bstr(d)
	dm := classify(ds)
	if dm.has(cHigh) {
		if c.usASCII(k, ds) {
			return true
		}
		var changed bool
		if c.wide, changed = foldWidth(c.wide, ds); changed {
			ds = bstr(c.wide)
			dm = classify(ds)
		}
	}
	return c.xssForm(k, ds, dm, "_decoded")
}

// xssForm runs the XSS checks on one form of a value (as given, decoded or
// folded); suffix marks the rule of a form other than the original.
func (c *checker) xssForm(k FieldKind, s string, m classes, suffix string) bool {
	return c.xssFormAs(k, k, s, m, suffix)
}

// xssFormAs checks with the rules of kind k and reports as kind rk (see
// sqliAs).
func (c *checker) xssFormAs(k, rk FieldKind, s string, m classes, suffix string) bool {
	if !xssCandidate(s, m) && !m.has(cParen|cBacktick|cBracket|cDot|cLT) && !(m.has(cAmp|cPct|cBackslash) && len(s) <= 20) && !(m.has(cPlus) && m.has(cDash)) {
		return false
	}
	if xssCandidate(s, m) {
		if libinjection.IsXSS(s) {
			if k.IsStructured() && k != KindQuery {
				c.report(rk, ThreatXSS, "xss.libinjection"+suffix, s, false)
				return true
			}
			// Text, query and unknown fields: ignore load-only markup.
			c.low = blankBenignMarkup(c.low, s)
			if libinjection.IsXSS(bstr(c.low)) {
				c.report(rk, ThreatXSS, "xss.libinjection"+suffix, s, false)
				return true
			}
		}
		if k != KindText && m.has(cColon) {
			if span := scriptScheme(s, k == KindURL); span != "" {
				c.report(rk, ThreatXSS, "xss.script_scheme", span, false)
				return true
			}
		}
		if m.has(cLT) {
			// "<scr<script>ipt>" and other malformed nestings that a
			// filter "repairs" into a script tag; libinjection's
			// tokenizer can lose its place in them.
			if i := scriptTag(s, k == KindText || k == KindUnknown || k == KindQuery); i >= 0 {
				c.report(rk, ThreatXSS, "xss.script_tag", s[i:min(len(s), i+8)], false)
				return true
			}
		}
		if k != KindText && m.has(cTab|cLF|cCR|cNUL) {
			// Browsers drop tabs, newlines and NULs inside URL schemes
			// and tag names: "jav\tascript:".
			c.low = stripControls(c.low, s)
			t := bstr(c.low)
			if libinjection.IsXSS(t) || scriptScheme(t, k == KindURL) != "" {
				c.report(rk, ThreatXSS, "xss.control_split", s, false)
				return true
			}
		}
	}
	if rule, span := xssShapes(k, s, m); rule != "" {
		c.report(rk, ThreatXSS, rule+suffix, span, false)
		return true
	}
	return false
}

// scriptScheme finds a javascript:, vbscript: or data:text/html URL. In a
// URL field it must start the value (after whitespace and control bytes,
// which browsers strip); elsewhere it must follow a quote, '=', '(' or the
// start, and be followed by something that runs.
func scriptScheme(s string, atStart bool) string {
	var buf [64]byte
	// Normalise the head: drop whitespace and controls inside the scheme
	// ("java\tscript:"), lowercase.
	n := 0
	start := 0
	for start < len(s) && (s[start] <= ' ') {
		start++
	}
	for i := start; i < len(s) && n < len(buf); i++ {
		c := s[i]
		if c <= ' ' {
			continue
		}
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[n] = c
		n++
	}
	head := string(buf[:n])
	if bad := dangerousScheme(head); bad != "" {
		return s[start:min(len(s), start+len(bad))]
	}
	if atStart {
		return ""
	}
	for _, w := range [...]string{"javascript:", "vbscript:", "livescript:"} {
		i := indexFold(s, w, 0)
		for i >= 0 {
			p := i - 1
			for p >= 0 && isSpace(s[p]) {
				p--
			}
			if p < 0 || s[p] == '"' || s[p] == '\'' || s[p] == '=' || s[p] == '(' || s[p] == '`' {
				rest := s[i+len(w):]
				if len(rest) > 0 && (indexFold(rest, "(", 0) >= 0 || indexFold(rest, "`", 0) >= 0 || indexFold(rest, "%28", 0) >= 0) {
					return s[i : i+len(w)]
				}
			}
			i = indexFold(s, w, i+1)
		}
	}
	return ""
}

func dangerousScheme(head string) string {
	switch {
	case hasFoldPrefix(head, "javascript:"):
		return "javascript:"
	case hasFoldPrefix(head, "vbscript:"):
		return "vbscript:"
	case hasFoldPrefix(head, "livescript:"):
		return "livescript:"
	case hasFoldPrefix(head, "data:text/html"), hasFoldPrefix(head, "data:image/svg+xml"),
		hasFoldPrefix(head, "data:application/xhtml"), hasFoldPrefix(head, "data:text/xml"),
		hasFoldPrefix(head, "data:application/javascript"), hasFoldPrefix(head, "data:text/javascript"):
		return "data:"
	}
	return ""
}

// blankBenignMarkup copies s into dst with the markup that cannot run
// script replaced by spaces: <!DOCTYPE> without an internal subset, <style> blocks without expression(),
// behaviours, bindings, imports or script URLs; <link> and <meta> tags
// without script URLs or refresh; <iframe> tags of http(s) pages without
// srcdoc or handlers.
func blankBenignMarkup(dst []byte, s string) []byte {
	dst = append(dst[:0], s...)
	for i := 0; i < len(dst); i++ {
		if dst[i] != '<' {
			continue
		}
		rest := bstr(dst[i+1:])
		switch {
		case hasFoldPrefix(rest, "style") && (len(rest) == 5 || rest[5] == '>' || isSpace(rest[5])):
			end := indexFold(rest, "</style", 0)
			if end < 0 {
				end = len(rest)
			} else {
				end += 7
				if gt := indexFold(rest, ">", end); gt >= 0 {
					end = gt + 1
				}
			}
			block := rest[:end]
			if !riskyCSS(block) {
				blank(dst[i : i+1+end])
				i += end
			}
		case hasFoldPrefix(rest, "script") && inertScript(rest[:min(len(rest), 4096)]):
			end := strings.IndexByte(rest, '>')
			blank(dst[i : i+2+end])
			i += end + 1
		case hasFoldPrefix(rest, "head>") || hasFoldPrefix(rest, "/head>"):
			// libinjection flags <head> after an inert <script>; it holds
			// nothing of its own.
		case hasFoldPrefix(rest, "!doctype"):
			end := indexFold(rest, ">", 0)
			if end >= 0 && strings.IndexByte(rest[:end], '[') < 0 {
				blank(dst[i : i+2+end])
				i += end + 1
			}
		case hasFoldPrefix(rest, "link") || hasFoldPrefix(rest, "meta") || hasFoldPrefix(rest, "iframe"):
			end := indexFold(rest, ">", 0)
			if end < 0 {
				end = len(rest)
			} else {
				end++
			}
			tag := rest[:end]
			if safeLoadTag(tag) {
				blank(dst[i : i+1+end])
				i += end
			}
		}
	}
	return dst
}

func blank(b []byte) {
	for i := range b {
		if b[i] != '\n' {
			b[i] = ' '
		}
	}
}

func riskyCSS(b string) bool {
	for _, w := range [...]string{"expression", "javascript", "vbscript", "behavior", "binding", "@import", "<script", "</style><", "onload", "onerror"} {
		if indexFold(b, w, 0) >= 0 {
			return true
		}
	}
	return false
}

// safeLoadTag accepts a <link>, <meta> or <iframe> tag with no handler, no
// script URL, no srcdoc and no refresh.
func safeLoadTag(tag string) bool {
	for _, w := range [...]string{"javascript", "vbscript", "data:", "srcdoc", "refresh", "<", "`", "&#", "\\"} {
		if indexFold(tag, w, 1) >= 0 {
			return false
		}
	}
	if attrHint(tag) {
		// src/href are fine on these tags; handlers are not.
		for i := 0; i < len(tag); i++ {
			if tag[i] == '=' {
				k := i - 1
				for k >= 0 && isSpace(tag[k]) {
					k--
				}
				e := k + 1
				for k >= 0 && (isAlnum(tag[k]) || tag[k] == '-') {
					k--
				}
				name := tag[k+1 : e]
				if len(name) > 2 && hasFoldPrefix(name, "on") {
					return false
				}
			}
		}
	}
	if hasFoldPrefix(tag, "iframe") {
		i := indexFold(tag, "src", 0)
		if i < 0 {
			return true
		}
		j := skipSpace(tag, i+3)
		if j >= len(tag) || tag[j] != '=' {
			return false
		}
		j = skipSpace(tag, j+1)
		if j < len(tag) && (tag[j] == '"' || tag[j] == '\'') {
			j++
		}
		return hasFoldPrefix(tag[j:], "https://") || hasFoldPrefix(tag[j:], "http://")
	}
	return true
}

// decodeEntitiesAndEscapes decodes HTML character references (&#60;,
// &#x3c;, &lt; and a few named ones) and JavaScript/JSON escapes (\x3c,
// \u003c) in d, using *tmp as scratch, and returns the result.
func decodeEntitiesAndEscapes(tmp *[]byte, d []byte) []byte {
	out := (*tmp)[:0]
	changed := false
	for i := 0; i < len(d); i++ {
		c := d[i]
		if c == '&' {
			if r, n := htmlEntity(d[i:]); n > 0 {
				out = append(out, r)
				i += n - 1
				changed = true
				continue
			}
		}
		if c == '\\' && i+1 < len(d) {
			if (d[i+1] == 'x' || d[i+1] == 'X') && i+3 < len(d) {
				h, ok1 := unhex(d[i+2])
				l, ok2 := unhex(d[i+3])
				if ok1 && ok2 && h < 8 {
					out = append(out, h<<4|l)
					i += 3
					changed = true
					continue
				}
				if v := (h<<4 | l) & 0x7f; ok1 && ok2 && (v == '<' || v == '>' || v == '"' || v == '\'') {
					// "\xbcscript\xbe": a byte with the high bit set that a
					// 7-bit (US-ASCII) reader takes for markup.
					out = append(out, v)
					i += 3
					changed = true
					continue
				}
			}
			if d[i+1] == 'u' && i+5 < len(d) && d[i+2] == '0' && d[i+3] == '0' {
				h, ok1 := unhex(d[i+4])
				l, ok2 := unhex(d[i+5])
				if ok1 && ok2 && h < 8 {
					out = append(out, h<<4|l)
					i += 5
					changed = true
					continue
				}
			}
		}
		out = append(out, c)
	}
	*tmp = out
	if !changed {
		return d
	}
	return out
}

// htmlEntity decodes one ASCII character reference at the start of b,
// returning the byte and the length consumed (0 when none). The trailing
// ';' is optional, as browsers allow for numeric references.
func htmlEntity(b []byte) (byte, int) {
	if len(b) < 3 {
		return 0, 0
	}
	if b[1] == '#' {
		i := 2
		v := 0
		digits := 0
		if b[i] == 'x' || b[i] == 'X' {
			i++
			for i < len(b) && b[i] == '0' && i < 32 {
				i++ // "&#X000003c;": leading zeros are allowed
			}
			for i < len(b) && digits < 8 {
				h, ok := unhex(b[i])
				if !ok {
					break
				}
				v = v<<4 | int(h)
				i++
				digits++
			}
		} else {
			for i < len(b) && b[i] == '0' && i < 32 {
				i++
			}
			for i < len(b) && digits < 8 && isDigit(b[i]) {
				v = v*10 + int(b[i]-'0')
				i++
				digits++
			}
		}
		if digits == 0 || v >= 0x80 || v == 0 {
			return 0, 0
		}
		if i < len(b) && b[i] == ';' {
			i++
		}
		return byte(v), i
	}
	for _, e := range [...]struct {
		name string
		r    byte
	}{{"lt;", '<'}, {"gt;", '>'}, {"quot;", '"'}, {"apos;", '\''}, {"colon;", ':'}, {"lpar;", '('}, {"rpar;", ')'}, {"tab;", '\t'}, {"newline;", '\n'}, {"sol;", '/'}, {"amp;", '&'}} {
		if hasFoldPrefix(bstr(b[1:]), e.name) {
			return e.r, 1 + len(e.name)
		}
	}
	return 0, 0
}

// scriptTag finds "<script" followed by '>', '/', or whitespace. With
// skipInert, a tag that cannot run anything is passed over (see
// inertScript).
func scriptTag(s string, skipInert bool) int {
	for i := indexFold(s, "<script", 0); i >= 0; i = indexFold(s, "<script", i+1) {
		j := i + 7
		if j >= len(s) || s[j] == '>' || s[j] == '/' || isSpace(s[j]) {
			if skipInert && inertScript(s[i:]) {
				continue
			}
			return i
		}
	}
	return -1
}

// inertScript reports a "<script>" that prose mentions rather than uses:
// no src attribute, never closed, and no call in what follows it ("The
// <script> element embeds JavaScript."). Anything closed, loading a source
// or calling a function is a script.
func inertScript(t string) bool {
	gt := strings.IndexByte(t, '>')
	if gt < 0 {
		return false
	}
	if indexFold(t[:gt], "src", 0) >= 0 || indexFold(t, "</script", 0) >= 0 {
		return false
	}
	body := t[gt+1:]
	for i := 1; i < len(body); i++ {
		if (body[i] == '(' || body[i] == '`') && isWordByte(body[i-1]) {
			return false
		}
		if body[i] == '=' || body[i] == ';' {
			return false
		}
	}
	return true
}

// stripControls copies s without tab, CR, LF and NUL.
func stripControls(dst []byte, s string) []byte {
	dst = dst[:0]
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != '\t' && c != '\n' && c != '\r' && c != 0 {
			dst = append(dst, c)
		}
	}
	return dst
}

// jsBreakout finds a value closing a JavaScript string and calling a sink:
// "';alert(1);//", "\"-alert(1)-\"", "'+prompt(1)+'". The quote must be
// followed only by operators or separators before the call.
func jsBreakout(s string) string {
	for _, sink := range [...]string{"alert", "prompt", "confirm", "eval", "fetch", "import", "settimeout", "setinterval", "function"} {
		for i := indexFold(s, sink, 0); i >= 0; i = indexFold(s, sink, i+1) {
			j := i + len(sink)
			if j >= len(s) || (s[j] != '(' && s[j] != '`') {
				continue
			}
			p := i - 1
			ops := 0
			for p >= 0 && ops < 4 && strings.IndexByte(" +-*/;,|&(!~^", s[p]) >= 0 {
				if s[p] != ' ' {
					ops++
				}
				p--
			}
			if ops == 0 || p < 0 {
				continue
			}
			if s[p] == '\'' || s[p] == '"' || s[p] == '`' {
				return s[p:min(len(s), j+1)]
			}
		}
	}
	return ""
}

// usASCII checks s with '¼', '¾' and '¢' read as '<', '>' and '"': the
// US-ASCII XSS ("¼script¾alert(¢XSS¢)¼/script¾"), for a server that
// serves the page as US-ASCII and a browser that drops the high bit.
// Prose with fractions ("¼ cup") makes no tag.
func (c *checker) usASCII(k FieldKind, s string) bool {
	if !strings.Contains(s, "\u00bc") {
		return false
	}
	b := c.wide[:0]
	for i := 0; i < len(s); i++ {
		if s[i] == 0xc2 && i+1 < len(s) {
			switch s[i+1] {
			case 0xbc:
				b = append(b, '<')
				i++
				continue
			case 0xbe:
				b = append(b, '>')
				i++
				continue
			case 0xa2:
				b = append(b, '"')
				i++
				continue
			}
		}
		b = append(b, s[i])
	}
	c.wide = b
	t := bstr(b)
	if scriptTag(t, false) >= 0 || tagShape(t, false) != "" {
		c.report(k, ThreatXSS, "xss.us_ascii", s[:min(len(s), 16)], false)
		return true
	}
	return false
}
