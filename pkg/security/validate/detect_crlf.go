package validate

// CRLF injection (HTTP response splitting, header and log injection).
//
//   - header fields: any CR or LF, raw or encoded (%0d, %0a, double
//     encoded %250a, the UTF-8 "嘊嘍" pair %E5%98%8A%E5%98%8D that some
//     servers truncate to LF CR, and a literal \r\n escape).
//   - URL fields: a CR or LF after decoding.
//   - other non-code fields: an encoded CR or LF followed by a header
//     ("%0d%0aSet-Cookie:") or by a blank line, or a raw one followed by a
//     known response header or an HTTP status line. Multi-line values are
//     normal there.

func crlfCandidate(m classes) bool {
	return m.has(cCR | cLF | cPct | cBackslash | cHigh)
}

func (c *checker) crlf(k FieldKind, s string, m classes) {
	if !crlfCandidate(m) {
		return
	}
	switch k {
	case KindHeader:
		if m.has(cCR | cLF) {
			c.report(k, ThreatCRLF, "crlf.raw", crlfSpan(s), false)
			return
		}
	case KindURL:
		if m.has(cCR | cLF) {
			c.report(k, ThreatCRLF, "crlf.raw", crlfSpan(s), false)
			return
		}
	default:
		if m.has(cCR|cLF) && rawHeaderInjection(s) {
			c.report(k, ThreatCRLF, "crlf.header", crlfSpan(s), false)
			return
		}
	}
	if !m.has(cPct | cBackslash | cHigh) {
		return
	}
	d, rounds := c.dec.canonical(s, false)
	t := d
	dm := classify(bstr(d))
	// Literal "\r\n" escapes count in headers and URLs, and elsewhere only
	// when they were themselves encoded (%5cr%5cn): code and JSON in an
	// unknown field are full of them.
	if dm.has(cBackslash) && (k == KindHeader || k == KindURL || !m.has(cBackslash)) {
		n := len(t)
		t = unescapeCRLF(&c.mask, t)
		if len(t) != n {
			rounds++
		}
	}
	if dm.has(cHigh) {
		n := len(t)
		t = foldUnicodeNewlines(&c.low, t)
		if len(t) != n {
			rounds++
		}
	}
	if rounds == 0 {
		return
	}
	ts := bstr(t)
	tm := classify(ts)
	if !tm.has(cCR | cLF) {
		return
	}
	if k == KindHeader || k == KindURL || rawHeaderInjection(ts) || encodedBreak(ts) {
		c.report(k, ThreatCRLF, "crlf.encoded", s, false)
	}
}

func crlfSpan(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == '\r' || s[i] == '\n' {
			return s[i:min(len(s), i+16)]
		}
	}
	return s
}

// responseHeaders are what response splitting injects.
var responseHeaders = [...]string{
	"set-cookie", "location", "content-type", "content-length", "refresh", "x-xss-protection",
	"access-control-allow-origin", "access-control-allow-credentials", "content-security-policy",
	"transfer-encoding", "cache-control", "x-forwarded-for", "x-forwarded-host", "host",
	"cookie", "content-disposition", "link", "x-frame-options", "strict-transport-security",
	"bcc",
}

// rawHeaderInjection reports a line break followed by a response header
// name and ':' or by an HTTP status line.
func rawHeaderInjection(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '\r' && s[i] != '\n' {
			continue
		}
		j := i + 1
		for j < len(s) && (s[j] == '\r' || s[j] == '\n' || s[j] == ' ' || s[j] == '\t') {
			j++
		}
		if hasFoldPrefix(s[j:], "http/1.") {
			return true
		}
		k := j
		for k < len(s) && k-j < 64 && (isAlnum(s[k]) || s[k] == '-') {
			k++
		}
		if name := s[j:k]; name != "" {
			if c := skipSpace(s, k); c < len(s) && s[c] == ':' {
				if len(name) > 2 && hasFoldPrefix(name, "x-") {
					return true
				}
				for _, h := range responseHeaders {
					if eqFold(name, h) {
						return true
					}
				}
			}
		}
		if j < len(s) && s[j] == '<' && j > i+1 && (s[j-1] == '\n' && (s[j-2] == '\n' || s[j-2] == '\r')) {
			return true // body injection after a blank line
		}
	}
	return false
}

// encodedBreak: an encoded line break followed by a header-shaped
// "Name:" or a second line break.
func encodedBreak(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '\r' && s[i] != '\n' {
			continue
		}
		j := i + 1
		if j < len(s) && (s[j] == '\r' || s[j] == '\n') {
			return true
		}
		for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
			j++
		}
		k := j
		for k < len(s) && (isAlnum(s[k]) || s[k] == '-' || s[k] == '_') {
			k++
		}
		if k > j && k < len(s) && s[k] == ':' {
			return true
		}
		if j >= len(s) {
			return true
		}
	}
	return false
}

// unescapeCRLF turns literal "\r" and "\n" escapes into CR and LF.
func unescapeCRLF(tmp *[]byte, d []byte) []byte {
	out := (*tmp)[:0]
	for i := 0; i < len(d); i++ {
		if d[i] == '\\' && i+1 < len(d) && (d[i+1] == 'r' || d[i+1] == 'n') {
			if d[i+1] == 'r' {
				out = append(out, '\r')
			} else {
				out = append(out, '\n')
			}
			i++
			continue
		}
		out = append(out, d[i])
	}
	*tmp = out
	return out
}

// foldUnicodeNewlines maps U+560A and U+560D (嘊 嘍, whose low bytes are
// LF and CR: some servers truncate code points to bytes) and the Unicode
// line separators to LF/CR.
func foldUnicodeNewlines(tmp *[]byte, d []byte) []byte {
	out := (*tmp)[:0]
	for i := 0; i < len(d); i++ {
		if i+2 < len(d) && d[i] == 0xe5 && d[i+1] == 0x98 && (d[i+2] == 0x8a || d[i+2] == 0x8d) {
			if d[i+2] == 0x8a {
				out = append(out, '\n')
			} else {
				out = append(out, '\r')
			}
			i += 2
			continue
		}
		if i+2 < len(d) && d[i] == 0xe2 && d[i+1] == 0x80 && (d[i+2] == 0xa8 || d[i+2] == 0xa9) {
			out = append(out, '\n')
			i += 2
			continue
		}
		if i+1 < len(d) && d[i] == 0xc2 && d[i+1] == 0x85 {
			out = append(out, '\n')
			i++
			continue
		}
		out = append(out, d[i])
	}
	*tmp = out
	return out
}
