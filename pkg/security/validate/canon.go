package validate

import (
	"unicode/utf8"
)

// maxDecodeRounds bounds repeated URL decoding. Attackers stack encodings
// (%252e is %2e is '.') to pass a filter that decodes once; three rounds
// undo every layer seen in practice, and the bound keeps a value of nested
// %25 from costing more than a few passes.
const maxDecodeRounds = 4

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// percentDecodeOnce decodes %XX and IIS-style %uXXXX escapes (and '+' as a
// space when plus is set) into dst. Malformed escapes stay as they are,
// like browsers and most servers leave them. It reports whether anything
// was decoded.
func percentDecodeOnce(dst []byte, s []byte, plus bool) ([]byte, bool) {
	dst = dst[:0]
	changed := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '+' && plus {
			dst = append(dst, ' ')
			changed = true
			continue
		}
		if c != '%' {
			dst = append(dst, c)
			continue
		}
		if i+2 < len(s) {
			if h, ok := unhex(s[i+1]); ok {
				if l, ok := unhex(s[i+2]); ok {
					dst = append(dst, h<<4|l)
					i += 2
					changed = true
					continue
				}
				// "%2%e", what "%%32%%65" leaves after one round: IIS
				// read the two hex digits across the stray '%'.
				if i+3 < len(s) && s[i+2] == '%' {
					if l, ok := unhex(s[i+3]); ok {
						dst = append(dst, h<<4|l)
						i += 3
						changed = true
						continue
					}
				}
			}
		}
		if i+5 < len(s) && (s[i+1] == 'u' || s[i+1] == 'U') {
			var r rune
			ok := true
			for j := i + 2; j < i+6; j++ {
				v, good := unhex(s[j])
				if !good {
					ok = false
					break
				}
				r = r<<4 | rune(v)
			}
			if ok {
				dst = utf8.AppendRune(dst, r)
				i += 5
				changed = true
				continue
			}
		}
		dst = append(dst, c)
	}
	return dst, changed
}

// foldRunes writes s into dst with every code point that fold maps to an
// ASCII byte replaced by it, and reports whether any was. ASCII bytes and
// invalid UTF-8 are copied as they are.
func foldRunes(dst []byte, s string, fold func(rune) (byte, bool)) ([]byte, bool) {
	dst = dst[:0]
	changed := false
	for i := 0; i < len(s); {
		if s[i] < utf8.RuneSelf {
			dst = append(dst, s[i])
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if b, ok := fold(r); ok {
			dst = append(dst, b)
			changed = true
		} else {
			dst = append(dst, s[i:i+n]...)
		}
		i += n
	}
	return dst, changed
}

// lookalikes maps code points that some file systems, frameworks or
// Unicode normalisers turn into path punctuation.
func lookalike(r rune) (byte, bool) {
	switch r {
	case 0x2215, 0x2044, 0xff0f, 0x29f8: // ∕ ⁄ ／ ⧸
		return '/', true
	case 0x2216, 0xff3c, 0xfe68, 0x29f9: // ∖ ＼ ﹨ ⧹
		return '\\', true
	case 0xff0e, 0x2024, 0xfe52, 0x3002: // ． ․ ﹒ 。
		return '.', true
	case 0xff05: // ％
		return '%', true
	}
	return 0, false
}

// foldBytes rewrites, in place into dst, overlong UTF-8 encodings of ASCII
// (C0 AE is '.', E0 80 AF is '/') and look-alike punctuation to their ASCII
// byte. Decoders that accept overlong forms were the classic way past
// "../" filters (the IIS Unicode bug). Other bytes are kept as they are.
func foldBytes(dst []byte, s []byte) ([]byte, bool) {
	dst = dst[:0]
	changed := false
	for i := 0; i < len(s); {
		c := s[i]
		if c < 0x80 {
			dst = append(dst, c)
			i++
			continue
		}
		// Overlong two-byte forms of ASCII: C0/C1 followed by a
		// continuation byte.
		if (c == 0xc0 || c == 0xc1) && i+1 < len(s) && s[i+1]&0xc0 == 0x80 {
			dst = append(dst, (c&0x1f)<<6|(s[i+1]&0x3f))
			i += 2
			changed = true
			continue
		}
		// IIS also took C0/C1 with a non-continuation second byte
		// (%c1%1c is '\\', %c0%2f is '/', %c0%ee is '.': only the low six
		// bits count); only path punctuation is recovered from those.
		if (c == 0xc0 || c == 0xc1) && i+1 < len(s) && (s[i+1] < 0x80 || s[i+1] >= 0xc0) {
			v := (c&0x1f)<<6 | (s[i+1] & 0x3f)
			if v == '/' || v == '\\' || v == '.' {
				dst = append(dst, v)
				i += 2
				changed = true
				continue
			}
		}
		// Overlong three-byte forms: E0 80..9F xx.
		if c == 0xe0 && i+2 < len(s) && s[i+1]&0xe0 == 0x80 && s[i+2]&0xc0 == 0x80 {
			v := rune(s[i+1]&0x3f)<<6 | rune(s[i+2]&0x3f)
			if v < 0x80 {
				dst = append(dst, byte(v))
				i += 3
				changed = true
				continue
			}
		}
		// Overlong four-byte forms: F0 80..8F xx xx.
		if c == 0xf0 && i+3 < len(s) && s[i+1]&0xf0 == 0x80 && s[i+2]&0xc0 == 0x80 && s[i+3]&0xc0 == 0x80 {
			v := rune(s[i+1]&0x3f)<<12 | rune(s[i+2]&0x3f)<<6 | rune(s[i+3]&0x3f)
			if v < 0x80 {
				dst = append(dst, byte(v))
				i += 4
				changed = true
				continue
			}
		}
		// Five- and six-byte forms (F8 80 80 80 AF, FC 80 80 80 80 AE),
		// which RFC 2279 still allowed.
		if (c == 0xf8 && i+4 < len(s) || c == 0xfc && i+5 < len(s)) && s[i+1] == 0x80 {
			n := 5
			if c == 0xfc {
				n = 6
			}
			ok := true
			for k := i + 1; k < i+n; k++ {
				if s[k]&0xc0 != 0x80 || k < i+n-1 && s[k] != 0x80 {
					ok = false
					break
				}
			}
			if v := s[i+n-1] & 0x3f; ok && (v == '.' || v == '/' || v == '\\') {
				dst = append(dst, v)
				i += n
				changed = true
				continue
			}
		}
		r, n := utf8.DecodeRune(s[i:])
		if b, ok := lookalike(r); ok && n > 1 {
			dst = append(dst, b)
			i += n
			changed = true
			continue
		}
		dst = append(dst, s[i:i+n]...)
		i += n
	}
	return dst, changed
}

// decoder holds two buffers so that canonicalisation ping-pongs between
// them without allocating once they have grown.
type decoder struct {
	a, b []byte
}

// canonical decodes s up to maxDecodeRounds times (percent escapes, then
// overlong UTF-8 and look-alikes, each round) until it stops changing. It
// returns the result (valid until the next call) and how many rounds
// changed something.
func (d *decoder) canonical(s string, plus bool) ([]byte, int) {
	d.a = append(d.a[:0], s...)
	rounds := 0
	for r := 0; r < maxDecodeRounds; r++ {
		var c1, c2 bool
		d.b, c1 = percentDecodeOnce(d.b, d.a, plus && r == 0)
		d.a, c2 = foldBytes(d.a, d.b)
		if !c1 && !c2 {
			break
		}
		rounds++
	}
	return d.a, rounds
}

// pathInfo is what the traversal detector needs to know about a path.
type pathInfo struct {
	abs          bool // starts at a root: "/", "\", "C:", "\\host"
	ups          int  // number of ".." segments
	leadingUps   int  // ".." segments before any name
	maxRun       int  // longest run of consecutive ".." segments
	aboveStart   int  // how far the path climbs above where it starts
	obfuscated   bool // "....", "..;", ".. ", "..." segments
	nul          bool // a NUL byte
	mixedSlashes bool // "..\/" or "../\"
	depthAtEnd   int
}

// analyzePath walks the segments of p, treating '/' and '\' alike (Windows
// accepts both, and so do many frameworks). It does not allocate.
func analyzePath(p []byte) pathInfo {
	var pi pathInfo
	if len(p) > 0 && (p[0] == '/' || p[0] == '\\') {
		pi.abs = true
	}
	if len(p) > 1 && isAlpha(p[0]) && p[1] == ':' {
		pi.abs = true
	}
	depth, minDepth, run := 0, 0, 0
	named := false
	i := 0
	for i <= len(p) {
		j := i
		for j < len(p) && p[j] != '/' && p[j] != '\\' {
			if p[j] == 0 {
				pi.nul = true
			}
			j++
		}
		seg := p[i:j]
		switch {
		case len(seg) == 0 || (len(seg) == 1 && seg[0] == '.'):
			// empty or current directory
		case isDotDot(seg):
			pi.ups++
			run++
			if run > pi.maxRun {
				pi.maxRun = run
			}
			if !named {
				pi.leadingUps++
			}
			depth--
			if depth < minDepth {
				minDepth = depth
			}
			if len(seg) > 2 {
				pi.obfuscated = true
			}
		case onlyDotsSpaces(seg) && countDots(seg) >= 2 && j < len(p):
			// (not the last segment: "./..." is Go's package wildcard)
			// "...." (survives a one-pass "../" strip), ". ." and ".. "
			// (Windows trims trailing dots and spaces).
			pi.obfuscated = true
			pi.ups++
			run++
			if run > pi.maxRun {
				pi.maxRun = run
			}
			depth--
			if depth < minDepth {
				minDepth = depth
			}
		default:
			run = 0
			named = true
			depth++
		}
		if j < len(p) && j+1 < len(p) && j >= 2 && p[j-1] == '.' && p[j-2] == '.' {
			if (p[j] == '/' && p[j+1] == '\\') || (p[j] == '\\' && p[j+1] == '/') {
				pi.mixedSlashes = true
			}
		}
		i = j + 1
	}
	pi.aboveStart = -minDepth
	pi.depthAtEnd = depth
	return pi
}

// isDotDot is ".." or ".." followed by ';' (Tomcat and Jetty path
// parameters: "..;/" is ".." to them and a name to a proxy).
func isDotDot(seg []byte) bool {
	if len(seg) < 2 || seg[0] != '.' || seg[1] != '.' {
		return false
	}
	if len(seg) == 2 {
		return true
	}
	return seg[2] == ';'
}

// onlyDotsSpaces reports dots followed only by trailing spaces ("..",
// ".. ", "...."), which Windows reads as a parent reference.
func onlyDotsSpaces(seg []byte) bool {
	i := 0
	for i < len(seg) && seg[i] == '.' {
		i++
	}
	for ; i < len(seg); i++ {
		if seg[i] != ' ' {
			return false
		}
	}
	return true
}

func countDots(seg []byte) int {
	n := 0
	for _, c := range seg {
		if c == '.' {
			n++
		}
	}
	return n
}

// junkView copies p into dst with what some servers drop or treat as a
// separator written as '/': bytes of no character (left by a malformed or
// private-use escape: "%c1%8s", "%uEFC8") and percent signs that start no
// escape. Payloads put those between ".." and the next name
// ("..%c0%9vetc%c0%9vpasswd") for a decoder that skips them.
func junkView(dst []byte, p []byte) ([]byte, bool) {
	dst = dst[:0]
	changed := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c < 0x20 && c != 0:
			// a control byte: "..%01%uEFC8etc"
		case c >= 0x80:
			r, n := utf8.DecodeRune(p[i:])
			if r != utf8.RuneError && !(r >= 0xe000 && r <= 0xf8ff) {
				dst = append(dst, p[i:i+n]...)
				i += n - 1
				continue
			}
		case c == '%':
			if i+2 < len(p) {
				if _, ok := unhex(p[i+1]); ok {
					if _, ok := unhex(p[i+2]); ok {
						dst = append(dst, c)
						continue
					}
				}
			}
			for k := 0; k < 2 && i+1 < len(p) && isAlnum(p[i+1]); k++ {
				i++
			}
		default:
			dst = append(dst, c)
			continue
		}
		changed = true
		if len(dst) == 0 || dst[len(dst)-1] != '/' {
			dst = append(dst, '/')
		}
	}
	return dst, changed
}
