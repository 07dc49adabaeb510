package validate

import "strings"

// LDAP injection.
//
// RFC 4515 filters are parenthesised: (&(uid=alice)(objectClass=person)).
// An application builds one around a value, "(uid=" + value + ")", so an
// injected value closes the assertion and opens new ones: "*)(uid=*))(|(uid=*"
// or "admin)(&)". The detector, on the value URL-decoded once:
//
//   - in ldap fields, a complete filter (starts with '(' and balances) is
//     expected; only an escaped or raw NUL (\00, %00) is flagged. Anything
//     else with the filter specials ")(", "*)", "(|", "(&", "(!" is a
//     fragment breaking out, and unbalanced parentheses around an
//     assertion ('=' or '*') are too.
//   - in other non-code fields the fragment shapes must be unmistakable:
//     ")(" followed by an attribute assertion or an operator, "*)(", or
//     "(|(" / "(&(" with an assertion.

func ldapCandidate(m classes) bool {
	return m.has(cParen) || (m.has(cBackslash) && m.has(cDigit)) || m.has(cPct)
}

func (c *checker) ldap(k FieldKind, s string, m classes) {
	if !ldapCandidate(m) {
		return
	}
	if span := ldapSpecialsOnly(s, k == KindLDAP); span != "" {
		c.report(k, ThreatLDAPInjection, "ldap.specials", span, false)
		return
	}
	if m.has(cParen) && strings.IndexByte(s, '?') >= 0 {
		if span := ldapURLFilter(s); span != "" && k != KindURL {
			c.report(k, ThreatLDAPInjection, "ldap.url_filter", span, false)
			return
		}
	}
	t := s
	if m.has(cPct) {
		c.dec.b, _ = percentDecodeOnce(c.dec.b, sbytes(s), false)
		t = bstr(c.dec.b)
		m = classify(t)
		if !m.has(cParen) && !(m.has(cBackslash) && m.has(cDigit)) && !m.has(cNUL) {
			return
		}
	}
	if k == KindLDAP {
		if m.has(cNUL) || containsFold(t, `\00`) {
			c.report(k, ThreatLDAPInjection, "ldap.nul", t, false)
			return
		}
		if completeFilter(t) {
			return
		}
		if span := ldapFragment(t, true); span != "" {
			c.report(k, ThreatLDAPInjection, "ldap.breakout", span, false)
			return
		}
		if !parensBalanced(t) && (m.has(cEq) || m.has(cStar)) {
			c.report(k, ThreatLDAPInjection, "ldap.unbalanced", t, false)
		}
		return
	}
	if !m.has(cParen) {
		return
	}
	if m.has(cNUL) {
		// "admin)%00": close the assertion and cut the rest of the filter.
		for i := 1; i < len(t); i++ {
			if t[i] == 0 && (t[i-1] == ')' || t[i-1] == '*') {
				c.report(k, ThreatLDAPInjection, "ldap.nul", t[max(0, i-4):i], false)
				return
			}
		}
	}
	if span := ldapFragment(t, false); span != "" {
		c.report(k, ThreatLDAPInjection, "ldap.breakout", span, false)
	}
}

// completeFilter reports a value that starts with '(' , ends with ')' and
// balances, with every '(' followed by an operator or an attribute name.
func completeFilter(s string) bool {
	if len(s) < 3 || s[0] != '(' || s[len(s)-1] != ')' {
		return false
	}
	depth := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(':
			depth++
			if i+1 >= len(s) {
				return false
			}
			n := s[i+1]
			if !(n == '&' || n == '|' || n == '!' || isAlnum(n)) {
				return false
			}
		case ')':
			depth--
			if depth < 0 {
				return false
			}
			if depth == 0 && i != len(s)-1 {
				return false
			}
		case '\\':
			i += 2
		}
	}
	return depth == 0
}

func parensBalanced(s string) bool {
	depth, unmatched := parenDepth(s)
	return !unmatched && depth == 0
}

// parenDepth returns how many '(' are left open at the end of s, and
// whether a ')' came with none open (then depth counts up to it only).
func parenDepth(s string) (depth int, unmatched bool) {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(':
			depth++
		case ')':
			if depth == 0 {
				return 0, true
			}
			depth--
		}
	}
	return depth, false
}

// ldapFragment finds the shapes of a value closing one assertion and
// opening others. loose is for ldap fields, where any ")(" or "*)" that
// is not part of a complete filter counts.
func ldapFragment(s string, loose bool) string {
	for i := 0; i+1 < len(s); i++ {
		switch {
		case s[i] == ')' && s[i+1] == '(':
			if loose {
				return s[max(0, i-1):min(len(s), i+4)]
			}
			// ")(" then an operator, or an attribute assertion "(cn=",
			// "(objectClass=*".
			j := i + 2
			if j < len(s) && (s[j] == '|' || s[j] == '&' || s[j] == '!') {
				return s[i:min(len(s), i+4)]
			}
			if attrAssertion(s, j) {
				// code such as f(a)(b=1) needs the breakout context: a '*'
				// or a ')' right before, or a leading close.
				if i > 0 && (s[i-1] == '*' || s[i-1] == ')') || beforeIsValue(s, i) {
					return s[max(0, i-1):min(len(s), i+6)]
				}
			}
		case s[i] == '*' && s[i+1] == ')' && (i == 0 || s[i-1] != '('):
			// ("(*)" is COUNT(*) in a WHERE-style filter; RFC 4515 has
			// no assertion without an attribute.)
			if loose {
				return s[i:min(len(s), i+4)]
			}
			if i+2 < len(s) && (s[i+2] == '(' || s[i+2] == ')' || s[i+2] == '*' || s[i+2] == '|' || s[i+2] == '&' || s[i+2] == 0) {
				// "*)(", "*))", "*)*", "*)|": the wildcard closed and
				// something other than the end after it.
				return s[i:min(len(s), i+4)]
			}
		case s[i] == '(' && (s[i+1] == '|' || s[i+1] == '&') && i+2 < len(s) && s[i+2] == '(':
			if attrAssertion(s, i+3) {
				return s[i:min(len(s), i+6)]
			}
		case s[i] == '(' && s[i+1] == '&' && i+2 < len(s) && s[i+2] == ')':
			// "(&)" is the absolute true filter (RFC 4526).
			if i > 0 && s[i-1] == ')' {
				return s[i-1 : i+3]
			}
		}
	}
	return ""
}

// attrAssertion reports "name=" or "name~=", "name>=", "name<=", with an
// LDAP attribute name (letters, digits, '-', ';', '.') at s[j:].
func attrAssertion(s string, j int) bool {
	k := j
	for k < len(s) && k-j < 64 && (isAlnum(s[k]) || s[k] == '-' || s[k] == ';' || s[k] == '.') {
		k++
	}
	if k == j || k >= len(s) {
		return false
	}
	if s[k] == '=' {
		return true
	}
	return k+1 < len(s) && (s[k] == '~' || s[k] == '>' || s[k] == '<') && s[k+1] == '='
}

// beforeIsValue reports a value before ")(" that does not look like a
// function call: the value starts with the text before it and holds no
// '(' of its own ("admin)(uid=*" versus "f(a)(b=1)").
func beforeIsValue(s string, i int) bool {
	for k := 0; k < i; k++ {
		if s[k] == '(' {
			return false
		}
	}
	return true
}

// ldapSpecials are the bytes RFC 4515 gives a meaning in a filter.
func ldapSpecial(c byte) bool {
	switch c {
	case '(', ')', '*', '|', '&', '!', '\\', '=', '<', '>', '~', '\'', 0:
		return true
	}
	return false
}

// ldapSpecialsOnly finds a value made only of filter specials, written
// plainly, percent-encoded or as RFC 4515 escapes ("*()|&'", "%28",
// "%2A%7C", "\29"): the probes a scanner sends one by one to learn which
// break the filter. In ldap fields any such value with an operator or a
// parenthesis counts; elsewhere it must have been encoded, since a plain
// ")" or "*" alone is punctuation.
func ldapSpecialsOnly(s string, filter bool) string {
	t := strings.TrimSpace(s)
	if t == "" || len(t) > 48 {
		return ""
	}
	encoded, strong := false, false
	for i := 0; i < len(t); i++ {
		c := t[i]
		if (c == '%' || c == '\\') && i+2 < len(t) {
			if h, ok := unhex(t[i+1]); ok {
				if l, ok := unhex(t[i+2]); ok {
					c = h<<4 | l
					encoded = true
					i += 2
				}
			}
		}
		if !ldapSpecial(c) {
			return ""
		}
		switch c {
		case '(', ')', '|', '&', '!', 0:
			strong = true
		}
	}
	if strong && (filter || encoded) {
		return t[:min(len(t), 8)]
	}
	if strong && len(t) >= 4 && strings.ContainsAny(t, "()") && strings.ContainsAny(t, "|&") {
		// "*()|&'": a fuzzing string of every filter special at once
		return t[:min(len(t), 8)]
	}
	return ""
}

// ldapURLFilter finds the filter part of an LDAP URL (RFC 4516):
// "ldap://host/dc=x??sub?(objectClass=*)", "?base??(uid=*)".
func ldapURLFilter(s string) string {
	for _, sep := range [...]string{"??(", "?sub?(", "?base?(", "?one?(", "?sub??(", "?base??(", "?one??("} {
		if i := indexFold(s, sep, 0); i >= 0 && attrAssertion(s, i+len(sep)) {
			return s[i:min(len(s), i+len(sep)+8)]
		}
	}
	return ""
}
