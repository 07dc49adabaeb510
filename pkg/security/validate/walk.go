package validate

import (
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/escai-framework/escai/pkg/events"
)

// The walker reads JSON with its own scanner and an explicit stack: no
// recursion on input, no allocation per value, and string values are
// viewed in place unless they hold escapes. It applies the limits, the
// field policy, the detectors and the custom rules as it goes, and stops at
// the first limit or syntax error (those reject the event anyway, and
// stopping bounds the work a hostile event can cause).

// frame is one open object or array.
type frame struct {
	array    bool
	count    int       // keys or elements so far
	pathLen  int       // len(c.path) at the container itself
	self     FieldKind // the container's own kind
	inherit  FieldKind // kind given to children without a mapping
	elem     keyEntry  // arrays: what the array's key says about elements
	hasElem  bool
	query    bool // inside a MongoDB query document
	nameCtx  bool // {"function": {"name": …}}: "name" is a tool name
	fileSib  bool // a sibling key names a file: "content" is file content
	defStart int  // first index in c.deferred that belongs to this frame
	docEnd   bool // the root of an embedded document: popping it resumes the outer one
}

// deferredStr is a text value whose kind depends on its siblings, checked
// when its object closes.
type deferredStr struct {
	keyStart, keyEnd int
	valStart, valEnd int
}

// doc is a suspended outer document while an embedded one (JSON inside a
// tool-arguments string) is walked.
type doc struct {
	buf []byte
	pos int
}

// maxEmbedded bounds JSON-in-a-string-in-JSON nesting.
const maxEmbedded = 2

// walk checks the JSON value in data, found at the current c.path, whose
// own kind (from its key) is given by entry/mapped, with the enclosing
// inherited kind inherit.
func (c *checker) walk(data []byte, entry keyEntry, mapped bool, inherit FieldKind, query bool) {
	c.stack = c.stack[:0]
	c.deferred = c.deferred[:0]
	c.docs = c.docs[:0]
	buf := data
	pos := 0
	depth := 0
	lim := &c.v.limits

	// The value about to be read: its key entry and whether mapped.
	curEntry, curMapped := entry, mapped
	curKeyNorm := ""
	var keyStart, keyEnd int
	inObject := false

	fail := func(detail string) {
		c.reason(ReasonMalformedJSON, detail)
	}

value:
	pos = skipWS(buf, pos)
	if pos >= len(buf) {
		fail("unexpected end of input")
		return
	}
	{
		ch := buf[pos]
		var top *frame
		if len(c.stack) > 0 {
			top = &c.stack[len(c.stack)-1]
		}
		switch {
		case ch == '{' || ch == '[':
			depth++
			if depth > lim.MaxDepth {
				c.reason(ReasonDepth, "nesting deeper than "+itoa(lim.MaxDepth))
				return
			}
			self := c.containerKind(top, curEntry, curMapped, inherit)
			f := frame{array: ch == '[', pathLen: len(c.path), self: self, defStart: len(c.deferred)}
			f.inherit = KindUnknown
			if self.inherits() {
				f.inherit = self
			}
			if top != nil {
				f.query = top.query
			} else {
				f.query = query
			}
			if self == KindMongoQuery {
				f.query = true
			}
			if f.array {
				if curMapped {
					f.elem, f.hasElem = curEntry, true
				} else if top != nil && top.array && top.hasElem {
					f.elem, f.hasElem = top.elem, true
				}
			}
			f.nameCtx = nameParents[curKeyNorm]
			c.ruleValue(self, jsonTypeOf(ch), "", false)
			c.stack = append(c.stack, f)
			pos++
			if ch == '{' {
				goto firstKey
			}
			pos = skipWS(buf, pos)
			if pos < len(buf) && buf[pos] == ']' {
				pos++
				goto closed
			}
			c.path = appendIndex(c.path[:f.pathLen], 0)
			c.stack[len(c.stack)-1].count = 1
			curEntry, curMapped, curKeyNorm = f.elem, f.hasElem, ""
			inObject = false
			goto value
		case ch == '"':
			start := pos
			s, end, _, ok := c.readString(buf, pos)
			if !ok {
				fail("bad string at byte offset " + itoa(pos))
				return
			}
			pos = end
			kind := c.stringKind(top, curEntry, curMapped, curKeyNorm, inherit)
			if kind == KindText && inObject && contentKeys[curKeyNorm] && top != nil {
				c.deferred = append(c.deferred, deferredStr{keyStart: keyStart, keyEnd: keyEnd, valStart: start, valEnd: end})
				goto after
			}
			if kind == KindArguments && len(c.docs) < maxEmbedded {
				if inner := embeddedJSON(s); inner != nil {
					c.docs = append(c.docs, doc{buf: buf, pos: pos})
					buf = inner
					pos = 0
					c.stack = append(c.stack, frame{docEnd: true, pathLen: len(c.path), self: KindArguments, defStart: len(c.deferred)})
					curEntry, curMapped = keyEntry{KindArguments, KindArguments}, true
					goto value
				}
				kind = KindUnknown
			}
			c.ruleValue(kind, "string", s, true)
			c.checkString(kind, s)
			if c.stopped() {
				return
			}
			goto after
		case ch == '-' || (ch >= '0' && ch <= '9'):
			end, ok := scanNumber(buf, pos)
			if !ok {
				fail("bad number at byte offset " + itoa(pos))
				return
			}
			if len(c.v.rules) > 0 {
				c.ruleValue(KindUnknown, "number", bstr(buf[pos:end]), true)
			}
			pos = end
			goto after
		case ch == 't' || ch == 'f' || ch == 'n':
			lit := "null"
			typ := "null"
			if ch == 't' {
				lit, typ = "true", "boolean"
			} else if ch == 'f' {
				lit, typ = "false", "boolean"
			}
			if len(buf)-pos < len(lit) || string(buf[pos:pos+len(lit)]) != lit {
				fail("bad literal at byte offset " + itoa(pos))
				return
			}
			if len(c.v.rules) > 0 {
				c.ruleValue(KindUnknown, typ, "", false)
			}
			pos += len(lit)
			goto after
		default:
			fail("unexpected byte at offset " + itoa(pos))
			return
		}
	}

firstKey:
	pos = skipWS(buf, pos)
	if pos < len(buf) && buf[pos] == '}' {
		pos++
		goto closed
	}
	goto key

key:
	{
		pos = skipWS(buf, pos)
		if pos >= len(buf) || buf[pos] != '"' {
			fail("expected a key at byte offset " + itoa(pos))
			return
		}
		top := &c.stack[len(c.stack)-1]
		top.count++
		if top.count > lim.MaxObjectKeys {
			c.path = c.path[:top.pathLen]
			c.reason(ReasonObjectKeys, "more than "+itoa(lim.MaxObjectKeys)+" keys")
			return
		}
		keyStart = pos
		k, end, ok := c.readKey(buf, pos)
		if !ok {
			fail("bad key at byte offset " + itoa(pos))
			return
		}
		keyEnd = end
		pos = skipWS(buf, end)
		if pos >= len(buf) || buf[pos] != ':' {
			fail("expected ':' at byte offset " + itoa(pos))
			return
		}
		pos++
		c.path = appendKey(c.path[:top.pathLen], k)
		if !c.checkKey(top, k) {
			return
		}
		curEntry, curMapped = c.v.lookupKey(c, k)
		curKeyNorm = ""
		if curMapped || len(k) <= 16 {
			curKeyNorm = c.normKeyString(k)
		}
		if curMapped && (curEntry.str == KindPath || curEntry.str == KindFilename) {
			top.fileSib = true
		}
		inObject = true
		goto value
	}

after:
	if len(c.stack) == 0 {
		pos = skipWS(buf, pos)
		if pos != len(buf) {
			fail("trailing data at byte offset " + itoa(pos))
		}
		return
	}
	{
		top := &c.stack[len(c.stack)-1]
		if top.docEnd {
			// the embedded document's root value is done
			pos = skipWS(buf, pos)
			if pos != len(buf) {
				fail("trailing data in embedded JSON")
				return
			}
			c.stack = c.stack[:len(c.stack)-1]
			d := c.docs[len(c.docs)-1]
			c.docs = c.docs[:len(c.docs)-1]
			buf, pos = d.buf, d.pos
			goto after
		}
		pos = skipWS(buf, pos)
		if pos >= len(buf) {
			fail("unexpected end of input")
			return
		}
		ch := buf[pos]
		switch {
		case ch == ',':
			pos++
			if !top.array {
				goto key
			}
			top.count++
			if top.count > lim.MaxArrayLen {
				c.path = c.path[:top.pathLen]
				c.reason(ReasonArrayLength, "more than "+itoa(lim.MaxArrayLen)+" elements")
				return
			}
			c.path = appendIndex(c.path[:top.pathLen], top.count-1)
			curEntry, curMapped, curKeyNorm = top.elem, top.hasElem, ""
			inObject = false
			goto value
		case ch == '}' && !top.array, ch == ']' && top.array:
			pos++
			goto closed
		default:
			fail("expected ',' or a close at byte offset " + itoa(pos))
			return
		}
	}

closed:
	{
		top := c.stack[len(c.stack)-1]
		c.path = c.path[:top.pathLen]
		if len(c.deferred) > top.defStart {
			c.flushDeferred(buf, &top)
			c.path = c.path[:top.pathLen]
		}
		c.stack = c.stack[:len(c.stack)-1]
		depth--
		if c.stopped() {
			return
		}
		goto after
	}
}

// stopped reports whether enough has been found to stop early: a full
// reasons list.
func (c *checker) stopped() bool { return len(c.res.Reasons) >= MaxReasons }

// flushDeferred checks the text values of a closing object now that its
// siblings are known.
func (c *checker) flushDeferred(buf []byte, f *frame) {
	kind := KindText
	if f.fileSib {
		kind = KindSource
	}
	for _, d := range c.deferred[f.defStart:] {
		k, _, ok := c.readKey(buf, d.keyStart)
		if !ok {
			continue
		}
		c.path = appendKey(c.path[:f.pathLen], k)
		s, _, _, ok := c.readString(buf, d.valStart)
		if !ok {
			continue
		}
		c.ruleValue(kind, "string", s, true)
		c.checkString(kind, s)
	}
	c.deferred = c.deferred[:f.defStart]
}

// containerKind is the kind of an object or array value.
func (c *checker) containerKind(top *frame, e keyEntry, mapped bool, inherit FieldKind) FieldKind {
	if k, ok := c.globKind(); ok {
		return k
	}
	if mapped {
		return e.obj
	}
	if top != nil {
		return top.inherit
	}
	if inherit.inherits() {
		return inherit
	}
	return KindUnknown
}

// stringKind is the kind of a string value.
func (c *checker) stringKind(top *frame, e keyEntry, mapped bool, keyNorm string, inherit FieldKind) FieldKind {
	if k, ok := c.globKind(); ok {
		return k
	}
	if top != nil && top.nameCtx && keyNorm == "name" {
		return KindName
	}
	if mapped {
		return e.str
	}
	if top != nil {
		return top.inherit
	}
	if inherit.inherits() {
		return inherit
	}
	return KindUnknown
}

// globKind applies the configured full-path patterns.
func (c *checker) globKind() (FieldKind, bool) {
	if len(c.v.paths) == 0 {
		return 0, false
	}
	p := bstr(c.path)
	for i := range c.v.paths {
		if globMatch(c.v.paths[i].Pattern, p, &c.globBuf) {
			return c.v.paths[i].Kind, true
		}
	}
	return 0, false
}

// checkKey applies the limits to an object key and tags operator keys.
func (c *checker) checkKey(top *frame, k string) bool {
	lim := &c.v.limits
	if len(k) > lim.MaxStringBytes {
		c.reason(ReasonStringLength, "key longer than "+itoa(lim.MaxStringBytes)+" bytes")
		return !c.stopped()
	}
	m := classify(k)
	if m.has(cHigh) && !utf8.ValidString(k) {
		c.reason(ReasonInvalidUTF8, "key is not valid UTF-8")
	}
	if m.has(cNUL | cCtrl | cCR | cLF | cTab) {
		c.reason(ReasonControlChars, "control characters in a key")
	}
	if m.has(cDollar) {
		c.nosqlKey(top.self, k, top.query)
	}
	return !c.stopped()
}

func (c *checker) normKeyString(k string) string {
	c.kbuf = normKey(c.kbuf, k)
	return bstr(c.kbuf)
}

func jsonTypeOf(ch byte) string {
	if ch == '{' {
		return "object"
	}
	return "array"
}

// embeddedJSON returns a copy of s when it holds a JSON object or array.
func embeddedJSON(s string) []byte {
	i := skipSpace(s, 0)
	if i >= len(s) || (s[i] != '{' && s[i] != '[') {
		return nil
	}
	if !events.ValidJSON(sbytes(s)) {
		return nil
	}
	return []byte(s)
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

func appendKey(p []byte, k string) []byte {
	if len(p) > 0 {
		p = append(p, '.')
	}
	return append(p, k...)
}

func appendIndex(p []byte, i int) []byte {
	p = append(p, '[')
	p = strconv.AppendInt(p, int64(i), 10)
	return append(p, ']')
}

// readString reads the JSON string starting at b[i] == '"'. Without
// escapes the result views b; with escapes it is unescaped into c.unesc
// (valid until the next call). end is the offset after the closing quote.
func (c *checker) readString(b []byte, i int) (s string, end int, escaped, ok bool) {
	j := i + 1
	for j < len(b) {
		ch := b[j]
		if ch == '"' {
			return bstr(b[i+1 : j]), j + 1, false, true
		}
		if ch == '\\' {
			c.unesc, end, ok = unescapeJSON(c.unesc[:0], b, i+1)
			return bstr(c.unesc), end, true, ok
		}
		if ch < 0x20 {
			return "", j, false, false
		}
		j++
	}
	return "", j, false, false
}

// readKey is readString into a separate buffer, so a key survives the
// reading of its value.
func (c *checker) readKey(b []byte, i int) (string, int, bool) {
	j := i + 1
	for j < len(b) {
		ch := b[j]
		if ch == '"' {
			return bstr(b[i+1 : j]), j + 1, true
		}
		if ch == '\\' {
			var end int
			var ok bool
			c.kunesc, end, ok = unescapeJSON(c.kunesc[:0], b, i+1)
			return bstr(c.kunesc), end, ok
		}
		if ch < 0x20 {
			return "", j, false
		}
		j++
	}
	return "", j, false
}

// unescapeJSON decodes the string body starting at b[i] into dst, up to
// and including the closing quote, like encoding/json: invalid surrogates
// become U+FFFD.
func unescapeJSON(dst []byte, b []byte, i int) ([]byte, int, bool) {
	for i < len(b) {
		ch := b[i]
		switch {
		case ch == '"':
			return dst, i + 1, true
		case ch < 0x20:
			return dst, i, false
		case ch != '\\':
			dst = append(dst, ch)
			i++
			continue
		}
		if i+1 >= len(b) {
			return dst, i, false
		}
		switch b[i+1] {
		case '"', '\\', '/':
			dst = append(dst, b[i+1])
			i += 2
		case 'b':
			dst = append(dst, '\b')
			i += 2
		case 'f':
			dst = append(dst, '\f')
			i += 2
		case 'n':
			dst = append(dst, '\n')
			i += 2
		case 'r':
			dst = append(dst, '\r')
			i += 2
		case 't':
			dst = append(dst, '\t')
			i += 2
		case 'u':
			r, ok := hex4(b, i+2)
			if !ok {
				return dst, i, false
			}
			i += 6
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if i+1 < len(b) && b[i] == '\\' && b[i+1] == 'u' {
					if v, ok := hex4(b, i+2); ok {
						r2 = v
					}
				}
				if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
					r = d
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			dst = utf8.AppendRune(dst, r)
		default:
			return dst, i, false
		}
	}
	return dst, i, false
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for j := i; j < i+4; j++ {
		v, ok := unhex(b[j])
		if !ok {
			return 0, false
		}
		r = r<<4 | rune(v)
	}
	return r, true
}

// scanNumber checks the JSON number grammar at b[i] and returns its end.
func scanNumber(b []byte, i int) (int, bool) {
	if i < len(b) && b[i] == '-' {
		i++
	}
	if i >= len(b) {
		return i, false
	}
	switch {
	case b[i] == '0':
		i++
	case b[i] >= '1' && b[i] <= '9':
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	default:
		return i, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		s := i
		for i < len(b) && isDigit(b[i]) {
			i++
		}
		if i == s {
			return i, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		s := i
		for i < len(b) && isDigit(b[i]) {
			i++
		}
		if i == s {
			return i, false
		}
	}
	return i, true
}
