package validate

import (
	"strings"
)

// Script-capable shapes that libinjection's HTML5 tokenizer does not
// report, because they are not a finished tag, not HTML at all, or need a
// normaliser the browser does not have:
//
//   - an event handler inside a tag that is unfinished or unknown ("<x
//     onend=", "<x\nonxxx=1"), and a javascript: URL anywhere inside a
//     tag's attribute value ("href=\"\xE2\x80\xA9javascript:…\"").
//   - namespaced tags that switch the parser into SVG or VML ("<v:vmlframe
//     src=…>", "</svg:mask>").
//   - CSS that runs script: url(javascript:…), expression(…), -moz-binding.
//   - JavaScript where a value belongs: a call of a sink (alert(),
//     confirm(), prompt(), eval(…), atob(…), new Function(…)), tagged
//     templates ("${alert}", "alert`1`"), global objects indexed by
//     strings ("self[\"alert\"]", "self[\"\x24\"]"), DOM access
//     (document.cookie), an attribute break-out ("'formaction=", "\"
//     onfocus=alert(1)") and a handler appended to a URL (";onfocus=eval(").
//
// Text gets the unmistakable ones only (see xssShapes): prose says "alert
// the on-call team" and "confirm() the dialog", and a prompt may quote a
// payload; it is flagged, never rejected.

// xssShapes returns the rule and span of the first shape in s. Free text
// (k == KindText) gets the handler-in-tag, script-URL-in-tag and CSS
// rules, tagged templates, and sink calls whose argument is code.
func xssShapes(k FieldKind, s string, m classes) (string, string) {
	text := k == KindText
	// A search query may name a function it looks for ("how to use
	// confirm()"): its JavaScript gets the rules of text, and so does a
	// whole URL, whose query values are then checked one by one (see
	// urlValues). Markup in them gets the rules of other fields.
	js := text || k == KindQuery || k == KindURL
	if m.has(cLT) {
		if span := tagShape(s, text); span != "" {
			return "xss.tag", span
		}
		if !text {
			if span := spacedTag(s); span != "" {
				return "xss.spaced_tag", span
			}
		}
	}
	if m.has(cParen) || m.has(cColon) {
		if span := cssScript(s); span != "" {
			return "xss.css_script", span
		}
	}
	if m.has(cDollar) && m.has(cLBrace) || m.has(cBacktick) {
		if span := templateSink(s); span != "" {
			return "xss.js_template", span
		}
	}
	if m.has(cParen | cBacktick) {
		if span := sinkCall(s, sinkMode(k)); span != "" {
			return "xss.js_call", span
		}
	}
	if m.has(cDot) && m.has(cLetter) {
		if span := domAccess(s, text || k == KindQuery); span != "" {
			return "xss.dom_access", span
		}
	}
	if m.has(cBracket) {
		if span := globalIndex(s, js); span != "" {
			return "xss.js_index", span
		}
	}
	if m.has(cBracket) && (strings.Count(s, "![]") >= 2 || strings.Contains(s, "!![]") || strings.Contains(s, "[]+[]") || strings.Contains(s, "(![]")) {
		// JSFuck: ![], !![] and []+[] spell any program.
		return "xss.jsfuck", s[:min(len(s), 12)]
	}
	if m.has(cBacktick) && m.has(cDot) {
		// Reflect.apply.call`…`, [].sort.call`${alert}`: a function
		// called as a template tag.
		for _, w := range [...]string{".call`", ".apply`", ".bind`"} {
			if i := indexFold(s, w, 0); i >= 0 {
				return "xss.js_template", s[i:min(len(s), i+len(w)+4)]
			}
		}
	}
	if m.has(cDot|cBracket|cSlash) && len(s) <= 512 && (strings.Contains(s, "/*") || strings.Contains(s, " . ") || strings.Contains(s, "] .")) {
		// "document /*foo*/ . cookie", "self /*x*/ [ /*y*/ \"alert\"]":
		// comments and spaces JavaScript ignores between tokens.
		var buf [512]byte
		if t := jsCompact(buf[:0], s); len(t) < len(s) {
			ts := bstr(t)
			tm := classify(ts)
			// comments inside a member access are obfuscation wherever
			// they are: document/*foo*/./*bar*/cookie
			commented := strings.Contains(s, "/*")
			if domAccess(ts, (text || k == KindQuery) && !commented) != "" || sinkCall(ts, sinkMode(k)) != "" {
				return "xss.js_obfuscated", s[:min(len(s), 16)]
			}
			if tm.has(cBracket) && globalIndex(ts, js) != "" || tm.has(cDollar) && templateSink(ts) != "" {
				return "xss.js_obfuscated", s[:min(len(s), 16)]
			}
		}
	}
	if js {
		if m.has(cParen) {
			// A whole value that is a sink call ("prompt()",
			// "setInterval(code, 1)") is code, not a sentence.
			t := strings.TrimRight(strings.TrimSpace(s), ";")
			if len(t) < 64 && strings.HasSuffix(t, ")") && strings.Count(t, ")") == 1 {
				if span := sinkCall(t, sinkStrict); span != "" && strings.HasPrefix(t, span) {
					return "xss.js_call", span
				}
			}
		}
	}
	if m.has(cPlus) && m.has(cDash) {
		// "+ADw-script+AD4-": '<' and '>' in UTF-7, which old browsers
		// sniffed.
		if i := indexFold(s, "+adw-", 0); i >= 0 {
			return "xss.utf7", s[i : i+5]
		}
	}
	if m.has(cLT) && m.has(cEq) {
		// <meta charset="utf-7">: the page is decoded as UTF-7 and
		// "+ADw-script+AD4-" becomes markup.
		if i := indexFold(s, "<meta", 0); i >= 0 {
			if c := indexFold(s, "charset", i); c > 0 && (indexFold(s, "utf-7", c) > 0 || indexFold(s, "utf7", c) > 0) {
				return "xss.utf7", s[i:min(len(s), i+16)]
			}
		}
	}
	if span := encodedLT(s); span != "" {
		return "xss.encoded_probe", span
	}
	if text {
		return "", ""
	}
	if m.has(cLT) && m.has(cSlash) {
		// "</script>" where a value belongs closes the script block the
		// value was written into.
		if i := indexFold(s, "</script", 0); i >= 0 {
			return "xss.script_close", s[i:min(len(s), i+9)]
		}
	}
	if m.has(cLT) && m.has(cColon) {
		if i := indexFold(s, "xmlns:", 0); i > 0 && strings.LastIndexByte(s[:i], '<') >= 0 && strings.LastIndexByte(s[:i], '>') < strings.LastIndexByte(s[:i], '<') {
			// <HTML xmlns:xss>: a namespace declared inside a tag
			return "xss.namespace", s[i:min(len(s), i+10)]
		}
	}
	if m.has(cEq) {
		if span := handlerInjection(s); span != "" {
			return "xss.handler", span
		}
	}
	return "", ""
}

// xssNamespaces switch an HTML parser into foreign content (SVG, MathML,
// VML, XHTML) where different rules let script through.
var xssNamespaces = [...]string{"v:", "svg:", "html:", "xhtml:", "xsl:", "math:", "vml:", "x:", "xml:"}

// tagShape walks the tags of s ("<name" or "</name"): an event handler
// inside an unfinished or unknown tag, a script URL inside any attribute,
// or (outside text) a namespaced tag.
func tagShape(s string, text bool) string {
	gt := -1 // the next '>' at or after the current tag, or len(s)
	tagEnd := func(from int) int {
		if gt < from {
			if k := strings.IndexByte(s[from:], '>'); k >= 0 {
				gt = from + k
			} else {
				gt = len(s)
			}
		}
		// Attributes beyond maxTagScan bytes are not looked at, so that a
		// value of many '<' and no '>' costs linear time.
		return min(gt, from+maxTagScan)
	}
	for i := strings.IndexByte(s, '<'); i >= 0 && i+1 < len(s); {
		j := i + 1
		if s[j] == '/' {
			j++
		}
		if !text && j < len(s) && !isAlpha(s[j]) && s[j] != '!' && s[j] != '?' {
			// "<\"onwebkit…=", "<:vmlframe src=": junk between '<' and a
			// handler or a namespace still makes a tag to some parser.
			if span := handlerAttr(s[j:min(tagEnd(j), j+64)]); span != "" {
				return s[i:min(len(s), j+len(span))]
			}
			if s[j] == ':' && j+1 < len(s) && isAlpha(s[j+1]) {
				return s[i:min(len(s), j+8)]
			}
		}
		if text && j+1 < len(s) && s[j] == ':' && (hasFoldPrefix(s[j+1:], "vmlframe") || hasFoldPrefix(s[j+1:], "imagedata")) {
			return s[i:min(len(s), j+9)]
		}
		if j < len(s) && isAlpha(s[j]) {
			n := j
			for n < len(s) && n-j < 64 && (isAlnum(s[n]) || s[n] == ':' || s[n] == '-' || s[n] == '_') {
				n++
			}
			name := s[j:n]
			if c := strings.IndexByte(name, ':'); c > 0 {
				local := name[c+1:]
				vml := eqFold(local, "vmlframe") || eqFold(local, "imagedata") || eqFold(local, "script")
				for _, ns := range xssNamespaces {
					if hasFoldPrefix(name, ns) && len(name) > len(ns) && (!text || vml) {
						return s[i:n]
					}
				}
			}
			end := tagEnd(n)
			if n < end && (isSpace(s[n]) || s[n] == '/' || s[n] < ' ') {
				if span := handlerAttr(s[n:end]); span != "" {
					return s[i:min(len(s), i+len(name)+2)]
				}
			}
			if n < end {
				if span := schemeInAttr(s[n:end]); span != "" {
					return span
				}
			}
		}
		k := strings.IndexByte(s[i+1:], '<')
		if k < 0 {
			break
		}
		i += 1 + k
	}
	return ""
}

// maxTagScan bounds how far into a tag its attributes are read.
const maxTagScan = 2048

// handlerAttr finds "on<event>=" in the attribute part of a tag, after a
// separator the HTML tokenizer accepts between attributes (whitespace,
// '/', a control byte or a quote).
func handlerAttr(a string) string {
	for i := 0; i+3 < len(a); i++ {
		if a[i]|0x20 != 'o' || a[i+1]|0x20 != 'n' {
			continue
		}
		if p := a[max(0, i-1)]; i > 0 && !(isSpace(p) || p == '/' || p == '"' || p == '\'' || p < ' ') {
			continue
		}
		e := i + 2
		for e < len(a) && isAlpha(a[e]) {
			e++
		}
		if e-i-2 < 3 {
			continue
		}
		k := e
		for k < len(a) && (isSpace(a[k]) || a[k] < ' ') {
			k++
		}
		if k < len(a) && a[k] == '=' {
			return a[i:e]
		}
	}
	return ""
}

// schemeInAttr finds javascript: or vbscript: after an '=' in the
// attribute part of a tag, whatever junk precedes it inside the value
// ("\xE2\x80\xA9javascript:", " javascript:").
func schemeInAttr(a string) string {
	eq := strings.IndexByte(a, '=')
	if eq < 0 {
		return ""
	}
	for _, w := range [...]string{"javascript:", "vbscript:"} {
		if i := indexFold(a[eq:], w, 0); i >= 0 {
			return a[eq+i : eq+i+len(w)]
		}
	}
	return ""
}

// cssScript finds CSS that runs script: url(javascript:…), an
// expression(…) property value, -moz-binding or behavior:url(…).
func cssScript(s string) string {
	for k := strings.IndexByte(s, '('); k >= 0; {
		j := k
		for j > 0 && isSpace(s[j-1]) {
			j--
		}
		i := j
		for i > 0 && isAlpha(s[i-1]) && j-i <= 10 {
			i--
		}
		switch w := s[i:j]; {
		case eqFold(w, "url"):
			t := k + 1
			for t < len(s) && (isSpace(s[t]) || s[t] == '\'' || s[t] == '"') {
				t++
			}
			if hasFoldPrefix(s[t:], "javascript") || hasFoldPrefix(s[t:], "vbscript") {
				return s[i:min(len(s), t+10)]
			}
		case eqFold(w, "expression"):
			p := i - 1
			for p >= 0 && isSpace(s[p]) {
				p--
			}
			if p >= 0 && s[p] == ':' {
				return s[i : k+1]
			}
		}
		n := strings.IndexByte(s[k+1:], '(')
		if n < 0 {
			break
		}
		k += 1 + n
	}
	if strings.IndexByte(s, ':') < 0 {
		return ""
	}
	if i := indexFold(s, "-moz-binding", 0); i >= 0 {
		return s[i : i+12]
	}
	if i := indexFold(s, "behavior", 0); i >= 0 {
		if k := skipSpace(s, i+8); k < len(s) && s[k] == ':' && hasFoldPrefix(s[skipSpace(s, k+1):], "url(") {
			return s[i : k+1]
		}
	}
	return ""
}

// Modes of sinkCall: what counts as a call depends on the field.
const (
	sinkStrict = iota // a value where no code belongs
	sinkQuery         // a search query or a whole URL: may name a function
	sinkText          // prose: the argument must be code
)

func sinkMode(k FieldKind) int {
	switch k {
	case KindText:
		return sinkText
	case KindQuery, KindURL:
		return sinkQuery
	}
	return sinkStrict
}

// isJSSink reports the functions payloads call to prove execution or to
// run a decoded string (lower case).
func isJSSink(w string) bool {
	switch w {
	case "alert", "confirm", "prompt", "eval", "atob", "settimeout", "setinterval", "execscript", "fromcharcode", "function", "import", "fetch":
		return true
	}
	return false
}

// sinkCall finds a call of a sink at a word boundary. Outside text any
// call of alert, confirm or prompt counts ("alert()"); eval, atob,
// setTimeout, setInterval, execScript and fromCharCode count with any
// argument; Function only after "new" or with a string; import and fetch
// only with a string. In text the argument must be code: a number, a
// string, a template, a regex, or document/window/String access
// ("alert(1)", "prompt('x')"), so "confirm() the dialog" stays prose.
func sinkCall(s string, mode int) string {
	text := mode == sinkText
	// One pass over the calls: each '(' or '`' and the word before it.
	for k := 0; k < len(s); k++ {
		if s[k] != '(' && s[k] != '`' {
			continue
		}
		j := k
		for j > 0 && k-j < 4 && (s[j-1] == ' ' || s[j-1] == '\t') {
			j--
		}
		i := j
		for i > 0 && j-i <= 12 && isAlpha(s[i-1]) {
			i--
		}
		if i == j || j-i > 12 || i > 0 && (isWordByte(s[i-1]) || s[i-1] == '$') {
			continue
		}
		var buf [12]byte
		sink := string(lowerASCII(buf[:0], s[i:j]))
		if !isJSSink(sink) {
			continue
		}
		if s[k] == '`' {
			if k+1 < len(s) && s[k+1] != ' ' && s[k+1] != '`' && sink != "function" && sink != "import" && sink != "fetch" {
				return s[i:min(len(s), k+2)]
			}
			continue
		}
		a := skipSpace(s, k+1)
		codeArg := a < len(s) && (isDigit(s[a]) || s[a] == '\'' || s[a] == '"' || s[a] == '`' || s[a] == '/' ||
			hasFoldPrefix(s[a:], "document.") || hasFoldPrefix(s[a:], "string.") || hasFoldPrefix(s[a:], "atob(") || hasGlobalArg(s[a:]))
		switch sink {
		case "alert", "confirm", "prompt":
			// "alert()", "alert(1)", "prompt(self)"; "confirm(order)"
			// calls an application's function with its data, and
			// "confirm() the dialog" is a sentence.
			if codeArg || mode == sinkStrict && a < len(s) && s[a] == ')' {
				return s[i:min(len(s), k+1)]
			}
		case "eval", "atob", "settimeout", "setinterval", "execscript":
			if mode != sinkText || codeArg {
				return s[i:min(len(s), k+1)]
			}
		case "fromcharcode":
			if i > 0 && s[i-1] == '.' {
				return s[i:min(len(s), k+1)]
			}
		case "function":
			p := i - 1
			for p >= 0 && s[p] == ' ' {
				p--
			}
			isNew := p >= 2 && hasFoldPrefix(s[p-2:], "new") && (p < 3 || !isWordByte(s[p-3]))
			if (isNew && !text) || (a < len(s) && (s[a] == '\'' || s[a] == '"' || s[a] == '`') && s[i] == 'F') {
				return s[i:min(len(s), k+1)]
			}
		case "import", "fetch":
			if !text && a < len(s) && (s[a] == '\'' || s[a] == '"' || s[a] == '`') && i > 0 && strings.IndexByte("=;({[,+-!&|? ", s[i-1]) >= 0 {
				return s[i:min(len(s), k+1)]
			}
		}
	}
	return ""
}

// templateSink finds a sink inside a template substitution ("${alert}",
// "${eval}") or called as a tag ("alert`1`" is found by sinkCall).
func templateSink(s string) string {
	for i := strings.Index(s, "${"); i >= 0; {
		k := skipSpace(s, i+2)
		for _, sink := range [...]string{"alert", "eval", "confirm", "prompt", "atob", "function", "constructor", "document", "window", "self", "top"} {
			if hasFoldPrefix(s[k:], sink) {
				e := skipSpace(s, k+len(sink))
				if e < len(s) && (s[e] == '}' || s[e] == '(' || s[e] == '.' || s[e] == '[' || s[e] == '`') {
					return s[i:min(len(s), e+1)]
				}
			}
		}
		j := strings.Index(s[i+2:], "${")
		if j < 0 {
			break
		}
		i += 2 + j
	}
	return ""
}

// domMembers are the document members XSS payloads read or call.
var domMembers = [...]string{"cookie", "domain", "location", "write", "writeln", "body", "createelement",
	"documentelement", "getelementbyid", "getelementsby", "queryselector", "url", "referrer", "baseuri",
	"defaultview", "execcommand", "forms", "images", "scripts", "head"}

// domAccess finds document.cookie and its kin. Outside text any such
// access counts, as do window.location, .innerHTML/.outerHTML assignments
// and String.fromCharCode; in text only when it is an argument or an
// operand glued to code ("(document.domain)", "+document.cookie").
func domAccess(s string, text bool) string {
	for i := indexFold(s, "document.", 0); i >= 0; i = indexFold(s, "document.", i+1) {
		if i > 0 && isWordByte(s[i-1]) {
			continue
		}
		rest := s[i+9:]
		member := false
		for _, d := range domMembers {
			if hasFoldPrefix(rest, d) && (len(rest) == len(d) || !isWordByte(rest[len(d)]) || d == "getelementsby") {
				member = true
				break
			}
		}
		if !member {
			continue
		}
		if !text {
			return s[i:min(len(s), i+16)]
		}
		if i > 0 && strings.IndexByte("(=+,[", s[i-1]) >= 0 {
			return s[i:min(len(s), i+16)]
		}
	}
	if text {
		return ""
	}
	for _, w := range [...]string{".innerhtml", ".outerhtml"} {
		if i := indexFold(s, w, 0); i >= 0 {
			if k := skipSpace(s, i+len(w)); k < len(s) && (s[k] == '=' || s[k] == '+') {
				return s[i:min(len(s), k+1)]
			}
		}
	}
	if i := indexFold(s, "window.location", 0); i >= 0 {
		return s[i : i+15]
	}
	return ""
}

// globalIndex finds a global object indexed by a string or a comment:
// self["alert"], window['ev'+'al'], top[/*x*/"alert"], self["\x24"]. In
// text ("read it from window['config']") the key must be a sink or a DOM
// member, or hidden (an escape, a comment, a concatenation).
func globalIndex(s string, text bool) string {
	for i := strings.IndexByte(s, '['); i >= 0; {
		k := i + 1
		for k < len(s) && s[k] == ' ' {
			k++
		}
		if k < len(s) && (s[k] == '\'' || s[k] == '"' || s[k] == '`' || hasFoldPrefix(s[k:], "/*")) {
			p := i
			for p > 0 && s[p-1] == ' ' {
				p--
			}
			if p > 0 && s[p-1] == ')' {
				// (document)["cookie"]
				p--
			}
			b := p
			for b > 0 && isWordByte(s[b-1]) {
				b--
			}
			if b == 0 || !isWordByte(s[b-1]) && s[b-1] != '.' {
				w := s[b:p]
				for _, g := range [...]string{"self", "window", "top", "parent", "this", "globalthis", "frames", "content", "opener", "document"} {
					// window['config'] and this['x'] are code reading its
					// own data; self, top and frames indexed by a string
					// are payload idioms.
					plain := eqFold(w, "window") || eqFold(w, "this") || eqFold(w, "document")
					if eqFold(w, g) && (!text && !plain || hiddenKey(s[k:min(len(s), k+40)])) {
						return s[b:min(len(s), k+1)]
					}
				}
			}
		}
		j := strings.IndexByte(s[i+1:], '[')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return ""
}

// handlerInjection finds an attribute appended where a value ends: a
// quote (or, in URLs and parameters, ';' or whitespace) followed by an
// event handler whose value runs code (" onfocus=alert(1)",
// ";onfocus=eval(…)"), or a quote followed by formaction=, srcdoc= or
// style= ("'formaction=").
func handlerInjection(s string) string {
	for i := strings.IndexByte(s, '='); i >= 0; {
		e := i
		for e > 0 && isSpace(s[e-1]) {
			e--
		}
		b := e
		for b > 0 && isAlpha(s[b-1]) {
			b--
		}
		name := s[b:e]
		sep := byte(0)
		if b > 0 {
			sep = s[b-1]
		}
		switch {
		case len(name) >= 5 && hasFoldPrefix(name, "on") && (b == 0 || isSpace(sep) || sep == '"' || sep == '\'' || sep == '/' || sep == ';' || sep == '+'):
			v := skipSpace(s, i+1)
			if v < len(s) && (s[v] == '"' || s[v] == '\'') {
				v++
			}
			if jsValue(s, v) {
				return s[b:min(len(s), v+8)]
			}
		case (sep == '"' || sep == '\'' || sep == '`') && (eqFold(name, "formaction") || eqFold(name, "srcdoc") || eqFold(name, "style") || eqFold(name, "autofocus")):
			return s[b-1 : i+1]
		}
		j := strings.IndexByte(s[i+1:], '=')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return ""
}

// jsValue reports a handler value that runs code: a call or a tagged
// template ("alert(1)", "eval(atob(…))", "alert`1`") or a javascript: URL.
func jsValue(s string, v int) bool {
	e := v
	for e < len(s) && (isWordByte(s[e]) || s[e] == '.' || s[e] == '$') {
		e++
	}
	if e > v && e < len(s) && (s[e] == '(' || s[e] == '`') {
		return true
	}
	return hasFoldPrefix(s[v:], "javascript:")
}

// foldWidth maps full-width ASCII (U+FF01..U+FF5E) and the small form
// variants of '<' and '>' (U+FE64, U+FE65) to ASCII, as NFKC does, into
// dst. Servers that normalise input turn "＜script＞" into "<script>"
// after the filter has looked. It reports whether anything changed.
func foldWidth(dst []byte, s string) ([]byte, bool) {
	return foldRunes(dst, s, func(r rune) (byte, bool) {
		switch {
		case r >= 0xff01 && r <= 0xff5e:
			return byte(r - 0xfee0), true
		case r == 0xfe64:
			return '<', true
		case r == 0xfe65:
			return '>', true
		}
		return 0, false
	})
}

// jsCompact copies s into dst without /* */ comments and without the
// spaces around '.', '[', ']', '(' and ')', where JavaScript ignores them.
func jsCompact(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '/' && i+1 < len(s) && s[i+1] == '*' {
			e := strings.Index(s[i+2:], "*/")
			if e < 0 {
				break
			}
			i += e + 3
			continue
		}
		if c == ' ' || c == '\t' {
			prev := byte('.')
			if len(dst) > 0 {
				prev = dst[len(dst)-1]
			}
			k := i
			for k < len(s) && (s[k] == ' ' || s[k] == '\t') {
				k++
			}
			next := byte('.')
			if k < len(s) {
				next = s[k]
			}
			if k+1 < len(s) && s[k] == '/' && s[k+1] == '*' {
				next = '.'
			}
			if strings.IndexByte(".[]()", prev) >= 0 || strings.IndexByte(".[]()", next) >= 0 {
				i = k - 1
				continue
			}
		}
		dst = append(dst, c)
	}
	return dst
}

// hiddenKey reports a bracket key (from its opening quote or comment) that
// names a sink or DOM member, or hides its name.
func hiddenKey(k string) bool {
	if strings.HasPrefix(k, "/*") || strings.Contains(k, "\\x") || strings.Contains(k, "\\u") {
		return true
	}
	if e := strings.IndexAny(k[1:], "'\"`"); e >= 0 && e+2 < len(k) && (k[e+2] == '+' || k[e+2] == ' ' && e+3 < len(k) && k[e+3] == '+') {
		return true // 'ev'+'al'
	}
	for _, w := range [...]string{"alert", "eval", "prompt", "confirm", "cookie", "domain", "location", "atob", "constructor", "function"} {
		if hasFoldPrefix(k[1:], w) {
			return true
		}
	}
	return false
}

// hasGlobalArg reports an argument naming a browser global: alert(self),
// prompt(origin), confirm(top.name).
func hasGlobalArg(a string) bool {
	for _, g := range [...]string{"self", "this", "top", "window", "origin", "location", "parent", "frames", "globalthis"} {
		if hasFoldPrefix(a, g) && (len(a) == len(g) || !isWordByte(a[len(g)])) {
			return true
		}
	}
	return false
}

// encodedLT finds a value that is only an encoded '<' or '>' ("&#X3C;",
// "&#0000060;", "&LT", "%3C", "\x3c", "\u003c"): the probe a scanner
// sends to learn which encodings come back decoded.
func encodedLT(s string) string {
	t := strings.TrimSpace(s)
	if len(t) < 3 || len(t) > 16 {
		return ""
	}
	lt := t
	switch {
	case t[0] == '&':
		lt = strings.TrimSuffix(t, ";")
		if eqFold(lt, "&lt") || eqFold(lt, "&gt") {
			return t
		}
		if len(lt) > 2 && lt[1] == '#' {
			var buf [20]byte
			b := append(append(buf[:0], lt...), ';')
			if r, n := htmlEntity(b); n == len(b) && (r == '<' || r == '>') {
				return t
			}
		}
	case t[0] == '%' && len(t) == 3:
		if eqFold(t, "%3c") || eqFold(t, "%3e") {
			return t
		}
	case t[0] == '\\':
		if eqFold(t, "\\x3c") || eqFold(t, "\\u003c") || eqFold(t, "\\x3e") || eqFold(t, "\\u003e") {
			return t
		}
	}
	return ""
}

// spacedTags are the tag names a filter bypass spells out letter by
// letter ("<f o r m", "<d i a l o g"), hoping that a later step strips
// the spaces.
var spacedTags = map[string]bool{
	"script": true, "svg": true, "img": true, "iframe": true, "body": true, "form": true,
	"dialog": true, "input": true, "object": true, "embed": true, "video": true, "audio": true,
	"details": true, "marquee": true, "style": true, "link": true, "meta": true, "base": true,
	"frame": true, "frameset": true, "button": true, "textarea": true, "math": true,
	"applet": true, "isindex": true, "keygen": true, "select": true, "template": true,
	"image": true, "xmp": true, "noscript": true, "portal": true, "animate": true,
}

// spacedTag finds '<' followed by single letters separated by single
// spaces that spell a tag name of three letters or more.
func spacedTag(s string) string {
	for i := strings.IndexByte(s, '<'); i >= 0 && i+1 < len(s); {
		var buf [12]byte
		b := buf[:0]
		j := i + 1
		for j < len(s) && isAlpha(s[j]) && len(b) < len(buf) {
			if j+1 < len(s) && isAlpha(s[j+1]) {
				break // a letter glued to the next: not spelled out
			}
			b = append(b, s[j]|0x20)
			if j+1 < len(s) && s[j+1] == ' ' {
				j += 2
				continue
			}
			j++
			break
		}
		if len(b) >= 3 && spacedTags[string(b)] {
			return s[i:min(len(s), j)]
		}
		k := strings.IndexByte(s[i+1:], '<')
		if k < 0 {
			break
		}
		i += 1 + k
	}
	return ""
}
