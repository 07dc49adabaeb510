package validate

import "strings"

// A class mask summarises which bytes of interest a string holds. It is
// computed in one pass, and each detector first asks it whether the string
// can matter at all: most fields of real events are clean, and a clean
// field should cost one table-driven pass and no allocation.
type classes uint32

const (
	cQuote     classes = 1 << iota // ' "
	cBacktick                      // `
	cLT                            // <
	cGT                            // >
	cPct                           // %
	cBackslash                     // \
	cDot                           // .
	cSlash                         // /
	cSemi                          // ;
	cPipe                          // |
	cAmp                           // &
	cDollar                        // $
	cLBrace                        // {
	cRBrace                        // }
	cParen                         // ( )
	cStar                          // *
	cHash                          // #
	cDash                          // -
	cEq                            // =
	cColon                         // :
	cAt                            // @
	cCR                            // \r
	cLF                            // \n
	cNUL                           // 0x00
	cCtrl                          // other C0 controls and DEL
	cTab                           // \t
	cHigh                          // any byte >= 0x80
	cComma                         // ,
	cBracket                       // [ ]
	cPlus                          // +
	cLetter                        // A-Z a-z
	cDigit                         // 0-9
)

var classTable = func() (t [256]classes) {
	for c := 0; c < 0x20; c++ {
		t[c] = cCtrl
	}
	t[0] = cNUL
	t['\t'] = cTab
	t['\r'] = cCR
	t['\n'] = cLF
	t[0x7f] = cCtrl
	for c := 0x80; c < 0x100; c++ {
		t[c] = cHigh
	}
	t['\''] = cQuote
	t['"'] = cQuote
	t['`'] = cBacktick
	t['<'] = cLT
	t['>'] = cGT
	t['%'] = cPct
	t['\\'] = cBackslash
	t['.'] = cDot
	t['/'] = cSlash
	t[';'] = cSemi
	t['|'] = cPipe
	t['&'] = cAmp
	t['$'] = cDollar
	t['{'] = cLBrace
	t['}'] = cRBrace
	t['('] = cParen
	t[')'] = cParen
	t['*'] = cStar
	t['#'] = cHash
	t['-'] = cDash
	t['='] = cEq
	t[':'] = cColon
	t['@'] = cAt
	t[','] = cComma
	t['['] = cBracket
	t[']'] = cBracket
	t['+'] = cPlus
	for c := 'a'; c <= 'z'; c++ {
		t[c] = cLetter
		t[c-'a'+'A'] = cLetter
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = cDigit
	}
	return t
}()

func classify(s string) classes {
	var m classes
	for i := 0; i < len(s); i++ {
		m |= classTable[s[i]]
	}
	return m
}

func (m classes) has(c classes) bool { return m&c != 0 }

// lower returns the ASCII-lowercased form of s in dst.
func lowerASCII(dst []byte, s string) []byte {
	dst = dst[:0]
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

func isAlpha(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlnum(c byte) bool { return isAlpha(c) || isDigit(c) }
func isWordByte(c byte) bool {
	return isAlnum(c) || c == '_'
}
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// hasFoldPrefix reports whether s starts with the lower-case ASCII word w,
// ignoring case.
func hasFoldPrefix(s, w string) bool {
	if len(s) < len(w) {
		return false
	}
	for i := 0; i < len(w); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != w[i] {
			return false
		}
	}
	return true
}

// indexFold finds the lower-case ASCII needle in s ignoring case, from
// offset from. Candidate positions are found with strings.IndexByte (which
// is vectorised) for the lower- and upper-case first byte.
func indexFold(s, needle string, from int) int {
	n := len(needle)
	if n == 0 {
		return from
	}
	first := needle[0]
	upper := first
	if first >= 'a' && first <= 'z' {
		upper = first - ('a' - 'A')
	}
	for from+n <= len(s) {
		rest := s[from : len(s)-n+1]
		i := strings.IndexByte(rest, first)
		if upper != first {
			lim := rest
			if i >= 0 {
				lim = rest[:i]
			}
			if j := strings.IndexByte(lim, upper); j >= 0 {
				i = j
			}
		}
		if i < 0 {
			return -1
		}
		if hasFoldPrefix(s[from+i:], needle) {
			return from + i
		}
		from += i + 1
	}
	return -1
}

// containsFold reports whether s contains needle (lower-case ASCII),
// ignoring case.
func containsFold(s, needle string) bool { return indexFold(s, needle, 0) >= 0 }

// wordAt reports whether the lower-case word w occurs at s[i:] as a whole
// word (not preceded or followed by a letter, digit or underscore).
func wordAt(s string, i int, w string) bool {
	if !hasFoldPrefix(s[i:], w) {
		return false
	}
	if i > 0 && isWordByte(s[i-1]) {
		return false
	}
	j := i + len(w)
	return j >= len(s) || !isWordByte(s[j])
}

// indexWordFold finds w as a whole word, ignoring case.
func indexWordFold(s, w string, from int) int {
	for {
		i := indexFold(s, w, from)
		if i < 0 {
			return -1
		}
		if wordAt(s, i, w) {
			return i
		}
		from = i + 1
	}
}

func skipSpace(s string, i int) int {
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	return i
}
