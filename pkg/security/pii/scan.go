package pii

import (
	"math/bits"
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Scores are kept in hundredths so that thresholds compare exactly.
const (
	ctxBoost  = 45 // a context word or key name raises a score by 0.45
	ctxBefore = 48 // bytes of text before a candidate searched for context
	ctxAfter  = 20 // and after it
	negReach  = 16 // a negative word must end this close before a candidate
	// negReachCJK is the same for words of scripts without spaces, whose
	// characters take three bytes: "订单号 " is ten.
	negReachCJK = 24
)

// emit flags.
const (
	flAlways     uint8 = 1 << iota // report even when the type is off (URL with credentials)
	flNegVersion                   // drop when a version word precedes it
	flNegID                        // lower by ctxBoost when an id word precedes it
	flBeforeOnly                   // only words before it count as context (a bare run of digits)
	flNoBoost                      // context does not raise the score (addresses that name no host)
)

// scanner is the state of one Scan; it lives on the caller's stack.
type scanner struct {
	d      *Detector
	t      string
	keyPos uint32 // context from the JSON key holding t
	keyNeg uint32
	cjk    bool // the main loop has passed a CJK character
	out    []Match

	// Memos that keep lookahead linear: a maximal run of one byte set
	// ends at the same place whichever of its positions it is measured
	// from, and the scan only moves forward, so each run and each gap
	// between dots is measured once however many candidates start in it.
	runs           [maxBodySets]struct{ start, end int } // per token body set
	dotFrom, dotAt int                                   // no '.' in t[dotFrom:dotAt]; t[dotAt] is '.' or dotAt == len(t)
	hiFrom, hiAt   int                                   // t[hiFrom:hiAt] is ASCII; t[hiAt] is not, or hiAt == len(t) (see findNonASCII)
	urlRunEnd      int                                   // "://" and "www." before this were examined as part of a URL
}

// bodyEnd returns the end of the maximal run of bytes of rule r's body
// set that contains position bs.
func (s *scanner) bodyEnd(r *tokenRule, bs int) int {
	m := &s.runs[r.bodyID]
	if bs >= m.start && bs < m.end {
		return m.end
	}
	t, body := s.t, r.body
	j := bs
	for {
		// Token bodies are mostly letters and digits: when the body
		// set holds them all, they are passed over eight at a time.
		for r.alnumBody && j+8 <= len(t) && swarAlnum(load64(t, j)) == swarHigh {
			j += 8
		}
		if j < len(t) && body[t[j]] {
			j++
			continue
		}
		break
	}
	m.start, m.end = bs, j
	return j
}

// nextDot returns the offset of the first '.' at or after from, or
// len(t).
func (s *scanner) nextDot(from int) int {
	if from >= s.dotFrom && from <= s.dotAt {
		return s.dotAt
	}
	at := len(s.t)
	if k := strings.IndexByte(s.t[from:], '.'); k >= 0 {
		at = from + k
	}
	s.dotFrom, s.dotAt = from, at
	return at
}

// findNonASCII sets hiFrom and hiAt for a window that starts at a: the
// first byte at or after a that is not ASCII is at hiAt, or hiAt ==
// len(t). Only a window that holds such a byte can hold CJK, and where
// the next one is is remembered: context windows overlap and move
// forward, so in text that is mostly ASCII the search costs about one
// quick pass over the text.
func (s *scanner) findNonASCII(a int) {
	if a > s.hiAt {
		s.hiFrom, s.hiAt = a, a+indexNonASCII(s.t[a:])
		return
	}
	if k := indexNonASCII(s.t[a:s.hiFrom]); a+k < s.hiFrom {
		s.hiAt = a + k
	}
	s.hiFrom = a
}

// indexNonASCII returns the offset of the first byte of s that is not
// ASCII, or len(s).
func indexNonASCII(s string) int {
	i := 0
	for ; i+32 <= len(s); i += 32 {
		w := s[i : i+32]
		if (load64(w, 0)|load64(w, 8)|load64(w, 16)|load64(w, 24))&swarHigh != 0 {
			break
		}
	}
	for ; i+8 <= len(s); i += 8 {
		if m := load64(s, i) & swarHigh; m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
	}
	for ; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return i
		}
	}
	return len(s)
}

// run is the single pass: each byte is classified by one table lookup,
// and only the few classes that can start a candidate call a handler.
// Handlers return the offset to continue from, past anything they
// consumed, so no byte is examined by the main loop twice.
func (s *scanner) run() {
	t := s.t
	n := len(t)
	for i := 0; i < n; {
		switch class[t[i]] {
		case cNone:
			i++
			for i < n && class[t[i]] == cNone {
				i++
			}
		case cLetter:
			// The common word (no prefix, nothing special after it) is
			// read here, from one load of its first eight bytes.
			if i+8 > n {
				i = s.word(i)
				break
			}
			v := load64(t, i)
			if tokenTri.has(uint32(v)) || (isUpper(byte(v)) && isUpper(byte(v>>8)) && isDigit(byte(v>>16)) && isDigit(byte(v>>24))) {
				i = s.word(i)
				break
			}
			e := i + 8
			if m := ^swarWordByte(v) & swarHigh; m != 0 {
				e = i + bits.TrailingZeros64(m)>>3
			} else {
				e = skipWord(t, e)
			}
			// wordEnd has something to do only for a long word, one
			// before '/' or '+', and a short hex word before ':', '-'
			// or '.'.
			if e-i < 15 && (e == n || !wordTail[t[e]] ||
				(t[e] != '/' && t[e] != '+' && (e-i > 4 || swarHex(v)&swarHigh&keepBytes[e-i] != swarHigh&keepBytes[e-i]))) {
				// and the spaces and punctuation after it, saving a
				// dispatch
				for i = e; i < n && class[t[i]] == cNone; i++ {
				}
				break
			}
			i = s.wordEnd(i, e)
		case cDigit:
			// A short number followed by nothing that could extend it
			// into a candidate is passed over here (see number and
			// digitRun: fewer than seven digits in one group is never
			// a candidate).
			j := i + 8
			if j > n {
				j = skipDigits(t, i+1)
			} else if m := ^swarDigit(load64(t, i)) & swarHigh; m != 0 {
				j = i + bits.TrailingZeros64(m)>>3
			} else {
				j = skipDigits(t, j)
			}
			if j-i < 7 && (j == n || numQuiet[t[j]] ||
				(j-i != 2 && j-i != 4 && numSep[t[j]] && (j+1 == n || !isAlnum(t[j+1])))) {
				for i = j; i < n && class[t[i]] == cNone; i++ {
				}
				break
			}
			i = s.number(i, j)
		case cWord:
			i = skipWord(t, i)
		case cAt:
			i = s.email(i)
		case cPlus:
			i = s.plus(i)
		case cParen:
			i = s.paren(i)
		case cColon:
			i = s.colon(i)
		case cDash:
			i = s.dash(i)
		case cCJK:
			s.cjk = true
			i++
		}
	}
}

// emit validates a candidate's score against context, the threshold and
// the allow-list, and appends it. It reports whether the match was kept.
func (s *scanner) emit(k kind, start, end, score int, fl uint8) bool {
	d := s.d
	if d.enabled&bit(k) == 0 && fl&flAlways == 0 {
		return false
	}
	if score < 100 {
		if score+ctxBoost < d.threshold || (fl&flNoBoost != 0 && score < d.threshold) {
			return false
		}
		found, neg := s.context(k, start, end, fl&flBeforeOnly == 0)
		if fl&flNegVersion != 0 && neg&negVersion != 0 {
			return false
		}
		if found && fl&flNoBoost == 0 {
			score += ctxBoost
		}
		if fl&flNegID != 0 && neg&negID != 0 {
			score -= ctxBoost
		}
		score = min(score, 100)
	}
	if score < d.threshold || end <= start {
		return false
	}
	if d.allowed(s.t[start:end]) {
		return false
	}
	// The match is written in place (a composite literal is built on the
	// stack and copied) and its score read from a table, not divided.
	s.out = append(s.out, Match{})
	m := &s.out[len(s.out)-1]
	m.Type, m.Start, m.End = kindNames[k], start, end
	if uint(score) < uint(len(scoreValue)) {
		m.Score = scoreValue[score]
	} else {
		m.Score = float64(score) / 100
	}
	return true
}

// scoreValue[x] is float64(x) / 100.
var scoreValue = func() (v [101]float64) {
	for x := range v {
		v[x] = float64(x) / 100
	}
	return v
}()

// context reports whether a word near t[start:end] (or the JSON key)
// names kind k, and returns the negative signals of the two words just
// before it. Words are read backwards from the candidate, nearest first,
// and the search stops as soon as it has its answer, so a context word
// right before a value costs a few bytes of work.
//
// Context after the candidate counts only when after is set: the weakest
// candidates (a bare run of digits) take context from what precedes them
// alone, because "… = 449462656, invalid SSN 515-00-3719" names the
// number that follows the word, not the one before it.
func (s *scanner) context(k kind, start, end int, after bool) (bool, uint32) {
	t := s.t
	want := bit(k)
	found := s.keyPos&want != 0
	neg := s.keyNeg
	lo := max(0, start-ctxBefore)
	// The window is read through bit masks (see wordMask) rather than
	// byte by byte: word boundaries are then found without a branch per
	// byte, and only a word's first and last bytes are looked at before
	// its shape says it might be a context word.
	var m uint64
	if start >= ctxBefore {
		// The full window, in six loads.
		const _ = uint(ctxBefore-48) + uint(48-ctxBefore) // ctxBefore is 48
		w := t[lo:start]
		m = swarCtxWord(load64(w, 0)) | swarCtxWord(load64(w, 8))<<8 | swarCtxWord(load64(w, 16))<<16 |
			swarCtxWord(load64(w, 24))<<24 | swarCtxWord(load64(w, 32))<<32 | swarCtxWord(load64(w, 40))<<40
	} else {
		m = wordMask(t, lo, start)
	}
	words := 0
	for m != 0 {
		// The last word left in the mask: t[lo+ws:lo+we]. The mask has
		// at most 48 bits, so shifts need no check for 64.
		we := bits.Len64(m)
		ws := bits.Len64(^m & (1<<(we&63) - 1))
		m &= 1<<(ws&63) - 1
		// maskWordBits, inlined
		b, p, q := uint32(0), lo+ws, lo+we
		for p < q && isDigit(t[p]) {
			p++
		}
		if n := q - p; n > 0 && n <= ctxMaxLen && ctxShape[shapeKey(t[p], t[q-1])]&(1<<(n&31)) != 0 {
			b = ctxFind(t, p, q)
		}
		if words < 2 && lo+we+negReach >= start {
			neg |= b & negBits
		}
		words++
		if b&want != 0 {
			found = true
		}
		if b&ctxNumber != 0 && k == kPhone && words <= 3 {
			// "my number is …", but not "order number …"
			if m == 0 {
				found = true
			} else if pwe := bits.Len64(m); maskWordBits(t, lo+bits.Len64(^m&(1<<pwe-1)), lo+pwe) == 0 {
				found = true
			}
		}
		if found && (words >= 2 || lo+we+negReach < start) {
			break
		}
	}
	hi := end
	if after {
		hi = min(len(t), end+ctxAfter)
	}
	if !found && end < hi {
		fm := wordMask(t, end, hi)
		for fm != 0 {
			ws := bits.TrailingZeros64(fm)
			we := ws + bits.TrailingZeros64(^(fm >> ws))
			fm = fm >> we << we // the run is consumed
			// A word starts with a letter (of any script): leading
			// digits are skipped.
			for ws < we && isDigit(t[end+ws]) {
				ws++
			}
			if n := we - ws; n > 0 && n <= ctxMaxLen && ctxShape[shapeKey(t[end+ws], t[end+we-1])]&(1<<(n&31)) != 0 &&
				ctxFind(t, end+ws, end+we)&want != 0 {
				found = true
				break
			}
		}
	}
	// Words of scripts without spaces are searched for only when the
	// window holds such a script and the text has one at or before the
	// candidate's end (s.cjk: the main loop passed one).
	if start < s.hiFrom || start > s.hiAt {
		s.findNonASCII(start)
	}
	if cjkAfter := s.hiAt < hi && hasCJK(t[s.hiAt:hi]); (s.cjk || cjkAfter) && (cjkAfter || hasCJK(t[lo:start])) {
		for _, c := range cjkWords {
			if !found && c.bits&want != 0 && strings.Contains(t[lo:hi], c.w) {
				found = true
			}
			if c.bits&negBits != 0 && strings.Contains(t[max(lo, start-negReachCJK):start], c.w) {
				neg |= c.bits & negBits
			}
		}
	}
	return found, neg
}

// wordMask maps the bytes of t[lo:hi], at most 64 of them, to bits
// (bit x for t[lo+x]) that are set for the bytes of words as prevWord
// reads them: ASCII letters and digits, and every byte of a non-ASCII
// character. Eight bytes are classified at a time.
func wordMask(t string, lo, hi int) (word uint64) {
	x := lo
	for ; x+8 <= hi; x += 8 {
		word |= swarCtxWord(load64(t, x)) << ((x - lo) & 63)
	}
	if x >= hi {
		return word
	}
	if x+8 <= len(t) {
		return word | (swarCtxWord(load64(t, x))&(1<<((hi-x)&63)-1))<<((x-lo)&63)
	}
	for ; x < hi; x++ {
		if c := t[x]; isAlnum(c) || c >= utf8.RuneSelf {
			word |= 1 << ((x - lo) & 63)
		}
	}
	return word
}

// swarCtxWord classifies the eight bytes of v (little-endian) as
// wordMask does and gathers one bit per byte.
func swarCtxWord(v uint64) uint64 {
	y := v &^ swarHigh
	m := v&swarHigh | swarRange(y, '0', '9') | swarRange(y|0x20*swarOnes, 'a', 'z')
	return (m >> 7) * 0x0102040810204080 >> 56 // the high bits, gathered
}

// maskWordBits returns the context bits of the word t[ws:we] found on a
// wordMask, leading digits skipped as prevWord does.
func maskWordBits(t string, ws, we int) uint32 {
	for ws < we && isDigit(t[ws]) {
		ws++
	}
	if ws == we {
		return 0
	}
	return ctxWordAt(t, ws, we)
}

// prevWord finds the last word that ends at or before j and starts at or
// after lo: letters and digits of any script, leading digits skipped.
func prevWord(t string, lo, j int) (ws, we int, bits uint32) {
	for j > lo {
		c := t[j-1]
		if isAlnum(c) || c >= utf8.RuneSelf {
			break
		}
		j--
	}
	if j <= lo {
		return -1, -1, 0
	}
	we = j
	for j > lo && (isAlnum(t[j-1]) || t[j-1] >= utf8.RuneSelf) {
		j--
	}
	ws = j
	// A word starts with a letter: skip leading digits ("2x" is not "x").
	for j < we && isDigit(t[j]) {
		j++
	}
	if j == we {
		return ws, we, 0
	}
	return ws, we, lookupWord(t[j:we])
}

// hasCJK reports whether s holds a character of U+3000-U+DFFF (kana,
// CJK ideographs, Hangul): their UTF-8 lead bytes are 0xE3-0xED.
func hasCJK(s string) bool { return indexCJK(s) >= 0 }

// indexCJK returns the offset of the first CJK lead byte in s, or -1.
// ASCII text is passed over eight bytes at a time.
func indexCJK(s string) int {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		if load64(s, i)&swarHigh == 0 {
			continue
		}
		for k := i; k < i+8; k++ {
			if s[k]-0xE3 <= 0xED-0xE3 {
				return k
			}
		}
	}
	for ; i < len(s); i++ {
		if s[i]-0xE3 <= 0xED-0xE3 {
			return i
		}
	}
	return -1
}

// lookupWord returns the context bits of w, ignoring ASCII case.
func lookupWord(w string) uint32 {
	if len(w) == 0 {
		return 0
	}
	return ctxWordAt(w, 0, len(w))
}

// ---- letters: prefixed tokens, IBAN, hex groups ----

// word handles a word that starts with a letter. It reads the word once
// and calls a handler only when the word's first bytes or the byte after
// it make a candidate possible.
func (s *scanner) word(i int) int {
	t := s.t
	n := len(t)
	c := t[i]
	if i+2 < n && tokenTri.has(uint32(t[i])|uint32(t[i+1])<<8|uint32(t[i+2])<<16) {
		if end, ok := s.tokens(i); ok {
			return end
		}
	}
	if isUpper(c) && i+3 < n && isUpper(t[i+1]) && isDigit(t[i+2]) && isDigit(t[i+3]) {
		if end, ok := s.iban(i); ok {
			return end
		}
	}
	return s.wordEnd(i, skipWord(t, i+1))
}

// wordTail holds the bytes after a word that make it a candidate's start
// (see wordEnd).
var wordTail = setOf(":-./+")

// wordEnd handles the word t[i:e] by its length and the byte after it.
func (s *scanner) wordEnd(i, e int) int {
	t := s.t
	n := len(t)
	if e < n {
		switch t[e] {
		case ':', '-', '.':
			// 2001:db8::…, de:ad:be:ef:00:01, dead.beef.cafe
			if e-i <= 4 && isHexWord(t[i:e]) {
				if end, ok := s.hexColon(i); ok {
					return end
				}
			}
		case '/', '+':
			if e-i < 40 {
				if end, ok := s.awsSecret(i); ok {
					return end
				}
			}
		}
	}
	if e-i >= 15 {
		return s.longWord(i, e)
	}
	return e
}

// longWord handles a word of 15 bytes or more that no prefix claimed: a
// lower-case IBAN (read in its compact form only) or an AWS secret key.
func (s *scanner) longWord(i, e int) int {
	t := s.t
	if !isUpper(t[i]) && isDigit(t[i+2]) && isDigit(t[i+3]) && t[i+1] >= 'a' && t[i+1] <= 'z' {
		if end, ok := s.iban(i); ok {
			return end
		}
	}
	if e-i == 40 {
		if end, ok := s.awsSecret(i); ok {
			return end
		}
	}
	return e
}

func isHexWord(w string) bool {
	for i := 0; i < len(w); i++ {
		if !isHex(w[i]) {
			return false
		}
	}
	return true
}

// b64Body is the base64 alphabet without padding.
var b64Body = setOf("a-z", "A-Z", "0-9", "+/")

// awsSecret reads 40 base64 characters at t[i], the shape of an AWS
// secret access key. Any base64 blob can have that shape, so it takes a
// context word (aws, secret, access key) or key name to be reported.
func (s *scanner) awsSecret(i int) (int, bool) {
	t := s.t
	st := i
	for st > 0 && i-st < 2 && (t[st-1] == '/' || t[st-1] == '+') {
		st--
	}
	if st > 0 && (b64Body[t[st-1]] || prevIsWord(t, st)) {
		return 0, false
	}
	if st+40 > len(t) {
		return 0, false
	}
	// The 40 bytes are classified eight at a time: any byte outside the
	// alphabet fails, and upper case, lower case and digits must all
	// occur.
	var up, lo, dg uint64
	for k := st; k < st+40; k += 8 {
		v := load64(t, k)
		y := v &^ swarHigh
		u, l, d := swarRange(y, 'A', 'Z')&^v, swarRange(y, 'a', 'z')&^v, swarRange(y, '0', '9')&^v
		if u|l|d|(swarEq(y, '/')|swarEq(y, '+'))&^v != swarHigh {
			return 0, false
		}
		up, lo, dg = up|u, lo|l, dg|d
	}
	end := st + 40
	if up == 0 || lo == 0 || dg == 0 || (end < len(t) && (b64Body[t[end]] || t[end] == '_' || t[end] == '-')) {
		return 0, false
	}
	if s.emit(kAWS, st, end, 35, flBeforeOnly) {
		return end, true
	}
	return 0, false
}

// tokens tries the prefixed-token rules whose prefix starts at t[i].
func (s *scanner) tokens(i int) (int, bool) {
	t := s.t
	bounded := !prevIsWord(t, i)
	c2 := t[i+1]
	for ri := range tokenRules[t[i]] {
		r := &tokenRules[t[i]][ri]
		if r.prefix[1] != c2 || !strings.HasPrefix(t[i:], r.prefix) || !bounded {
			continue
		}
		if r.highOnly && s.d.enabled&bit(kURL) == 0 {
			continue
		}
		bs := i + len(r.prefix)
		j := s.bodyEnd(r, bs)
		switch r.check {
		case chkJWT:
			if j = s.jwtEnd(bs, j); j < 0 {
				continue
			}
		case chkWWW:
			if i < s.urlRunEnd {
				continue
			}
			s.urlRunEnd = j
			j = trimURLEnd(t, i, j)
		}
		l := j - bs
		if l < r.min || l > r.max || nextIsWord(t, j) {
			continue
		}
		score := r.score
		switch r.check {
		case chkGitHub, chkNPM:
			if !githubChecksum(t[bs:j]) {
				score = r.weak
			}
		case chkGitHubFine:
			if t[bs+22] != '_' {
				continue
			}
		case chkJWT:
			if !jwtValid(t[i:j]) {
				continue
			}
		case chkSegwit:
			if !segwitValid(t[i:j]) {
				continue
			}
		case chkSendGrid:
			if t[bs+22] != '.' {
				continue
			}
		case chkMixed:
			if !hasDigitAndLetter(t[bs:j]) {
				continue
			}
		case chkWWW:
			if strings.IndexByte(t[bs:j], '.') < 0 {
				continue
			}
		}
		if s.emit(r.k, i, j, score, 0) {
			return j, true
		}
		return j, true // a token that is not reported is still one token
	}
	return 0, false
}

func hasDigitAndLetter(s string) bool {
	d, l := false, false
	for i := 0; i < len(s); i++ {
		d = d || isDigit(s[i])
		l = l || isLetter(s[i])
	}
	return d && l
}

// jwtEnd finds the end of header.payload.signature in a run of
// base64url and dots that starts at bs (after "eyJ") and ends at runEnd,
// or returns -1. A dot after the signature is punctuation; a header is
// at most 1 KiB.
func (s *scanner) jwtEnd(bs, runEnd int) int {
	d1 := s.nextDot(bs)
	if d1 >= runEnd || d1-bs > 1024 {
		return -1
	}
	d2 := s.nextDot(d1 + 1)
	if d2 >= runEnd {
		return -1
	}
	return min(s.nextDot(d2+1), runEnd)
}

// jwtValid checks header.payload.signature: the header decodes to a JSON
// object with "alg", the payload is non-empty base64url, the signature
// may be empty (alg "none").
func jwtValid(tok string) bool {
	h, rest, ok := strings.Cut(tok, ".")
	if !ok {
		return false
	}
	p, sig, ok := strings.Cut(rest, ".")
	if !ok || len(p) < 4 || strings.IndexByte(sig, '.') >= 0 {
		return false
	}
	return jwtHeaderOK(h)
}

// iban reads an IBAN at t[i] (two letters, two digits already seen),
// compact or in groups of four separated by single spaces or dashes.
// Letters are all upper case or, scored lower, all lower case. Text that
// has an IBAN's shape but fails its checks (a typo, a made-up number) is
// consumed without a match, so that its groups are not reported as a
// card or phone number.
func (s *scanner) iban(i int) (int, bool) {
	t := s.t
	n := len(t)
	up := isUpper(t[i])
	want := ibanLength(upper(t[i]), upper(t[i+1]))
	if want == 0 || prevIsWord(t, i) {
		return 0, false
	}
	body := func(c byte) bool { return isDigit(c) || (up && isUpper(c)) || (!up && c >= 'a' && c <= 'z') }
	var buf [34]byte
	for k := 0; k < 4; k++ {
		buf[k] = upper(t[i+k])
	}
	nb := 4
	j := i + 4
	ok := true
	grouped := j+1 < n && (t[j] == ' ' || t[j] == '-') && body(t[j+1])
	if grouped {
		sep := t[j]
		for nb < want && j+1 < n && t[j] == sep && body(t[j+1]) {
			g := j + 1
			k := g
			for k < n && k-g < 4 && body(t[k]) && nb < want {
				buf[nb] = upper(t[k])
				nb++
				k++
			}
			j = k
			if k-g < 4 && nb < want {
				ok = false
				break
			}
		}
	} else {
		for j < n && body(t[j]) && nb < want {
			buf[nb] = upper(t[j])
			nb++
			j++
		}
	}
	if ok && nb == want && !nextIsWord(t, j) && ibanValid(string(buf[:nb])) {
		score := 95
		if !up {
			score = 55 // gb82west12345698765432: rare, and hex ids look alike
		}
		s.emit(kIBAN, i, j, score, 0)
		return j, true
	}
	return s.ibanShape(i, want, grouped, body)
}

// ibanShape measures the run of IBAN characters at t[i], in groups of one
// to four when grouped, and consumes it when its length is within two of
// the country's IBAN length.
func (s *scanner) ibanShape(i, want int, grouped bool, body func(byte) bool) (int, bool) {
	t := s.t
	n := len(t)
	j, nb := i+4, 4
	if grouped {
		sep := t[j]
		for j+1 < n && t[j] == sep && body(t[j+1]) && nb <= want+2 {
			k := j + 1
			for k < n && k-j <= 4 && body(t[k]) {
				k++
			}
			if k < n && body(t[k]) {
				break // a group of five: not an IBAN's
			}
			nb += k - j - 1
			j = k
		}
	} else {
		for j < n && body(t[j]) && nb <= want+2 {
			j++
			nb++
		}
	}
	if nb < want-2 || nb > want+2 || nextIsWord(t, j) {
		return 0, false
	}
	return j, true
}

func upper(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - ('a' - 'A')
	}
	return c
}

// hexColon looks for a MAC address or an IPv6 address starting at t[i],
// a hex digit or letter.
func (s *scanner) hexColon(i int) (int, bool) {
	t := s.t
	n := len(t)
	j := i
	for j < n && j-i < 5 && isHex(t[j]) {
		j++
	}
	if j >= n || j-i > 4 {
		return 0, false
	}
	sep := t[j]
	if sep != ':' && sep != '-' && sep != '.' {
		return 0, false
	}
	if prevIsWord(t, i) || (i > 0 && (t[i-1] == ':' || t[i-1] == '.' || t[i-1] == '-')) {
		return 0, false
	}
	if j-i == 2 && sep != '.' && i+17 <= n && macAt(t[i:i+17], sep) {
		end := i + 17
		if nextIsWord(t, end) || (end+1 < n && t[end] == sep && isHex(t[end+1])) {
			return 0, false
		}
		if v := t[i:end]; !strings.EqualFold(v, "ff:ff:ff:ff:ff:ff") && !strings.EqualFold(v, "ff-ff-ff-ff-ff-ff") &&
			v != "00:00:00:00:00:00" && v != "00-00-00-00-00-00" {
			s.emit(kMAC, i, end, 70, 0)
		}
		return end, true
	}
	if j-i == 4 && sep == '.' && i+14 <= n && ciscoMAC(t[i:i+14]) && !nextIsWord(t, i+14) &&
		!(i+15 < n && t[i+14] == '.' && isAlnum(t[i+15])) {
		s.emit(kMAC, i, i+14, 50, 0)
		return i + 14, true
	}
	if sep == ':' {
		return s.ipv6(i)
	}
	return 0, false
}

// macAt checks hh:hh:hh:hh:hh:hh with one separator throughout.
func macAt(v string, sep byte) bool {
	for k := 0; k < 17; k++ {
		if k%3 == 2 {
			if v[k] != sep {
				return false
			}
		} else if !isHex(v[k]) {
			return false
		}
	}
	return true
}

// ciscoMAC checks hhhh.hhhh.hhhh.
func ciscoMAC(v string) bool {
	for k := 0; k < 14; k++ {
		if k%5 == 4 {
			if v[k] != '.' {
				return false
			}
		} else if !isHex(v[k]) {
			return false
		}
	}
	return true
}

// ipv6 reads an IPv6 address at t[i] (hex digit or ':' of "::") and
// validates it with net/netip. Short compressed forms such as "1::2"
// need three groups, or a first group of three or more digits, so that
// slices and scope operators in code are not addresses.
func (s *scanner) ipv6(i int) (int, bool) {
	t := s.t
	n := len(t)
	j := i
	colons, groups, first := 0, 0, -1
	gl := 0
	for j < n && j-i <= 45 {
		c := t[j]
		switch {
		case isHex(c):
			gl++
		case c == ':':
			colons++
			if gl > 0 {
				groups++
				if first < 0 {
					first = gl
				}
			}
			gl = 0
		case c == '.' && j+1 < n && isDigit(t[j+1]) && colons >= 2:
			gl = 0
			groups++ // embedded IPv4 counts as (two) groups
		default:
			goto done
		}
		j++
	}
done:
	if gl > 0 {
		groups++
		if first < 0 {
			first = gl
		}
	}
	end := j
	if end-i > 45 {
		return skipHexRun(t, i), true
	}
	if end > i+1 && t[end-1] == ':' && t[end-2] != ':' {
		end-- // "fe80::1:" ends a sentence
		colons--
	}
	if colons < 2 || nextIsWord(t, end) || (end < n && t[end] == '.' && end+1 < n && isAlnum(t[end+1])) {
		return 0, false
	}
	short := t[i] == ':' && groups <= 1 // "::", "::1"
	if groups < 3 && !(groups == 2 && first >= 3) && !short &&
		!(groups == 1 && first >= 3 && t[end-1] == ':' && cidrEnd(t, end, 128) > end) { // fe80::/10
		return 0, false
	}
	// netip allocates its error, so the syntax is checked first and netip
	// only classifies addresses that parse.
	if !ipv6Syntax(t[i:end]) {
		return 0, false
	}
	a, err := netip.ParseAddr(t[i:end])
	if err != nil || !a.Is6() {
		return 0, false
	}
	// A zone ("%eth0") and a prefix length ("/64") are part of the match.
	e := end
	if e+1 < n && t[e] == '%' && isAlnum(t[e+1]) {
		k := e + 1
		for k < n && k-e <= 32 && (isAlnum(t[k]) || t[k] == '_' || t[k] == '-' || t[k] == '.') {
			k++
		}
		for t[k-1] == '.' || t[k-1] == '-' {
			k--
		}
		if !nextIsWord(t, k) {
			e = k
		}
	}
	e = cidrEnd(t, e, 128)
	if short && !s.shortIPv6(i, end, e) {
		return 0, false
	}
	if a.IsUnspecified() || a.IsLoopback() || a.IsMulticast() {
		s.emit(kIP, i, e, ipSpecialScore, flNegVersion|flNoBoost)
		return e, true
	}
	s.emit(kIP, i, e, 60, flNegVersion)
	return e, true
}

// shortIPv6 decides whether "::" or "::1" at t[i:end], matched with its
// zone and prefix length up to t[:e], is an address. Both are also scope
// operators, type signatures and slices in code (std::, f :: Int,
// a[::2]), so they take a prefix length ("::/0"), brackets and a port
// ("[::1]:8080"), an IP context word as one of the two words right before
// them ("src=::", "my ip: ::1") or an IP key.
func (s *scanner) shortIPv6(i, end, e int) bool {
	t := s.t
	if strings.IndexByte(t[end:e], '/') >= 0 {
		return true
	}
	if i > 0 && t[i-1] == '[' {
		return end+2 < len(t) && t[end] == ']' && t[end+1] == ':' && isDigit(t[end+2])
	}
	if i > 0 {
		switch t[i-1] {
		case '.', '/', '\\', '-', '<', '>', '*', '&', '$', '%':
			return false
		}
	}
	if end == i+2 && i > 0 && t[i-1] == ' ' && end+1 < len(t) && t[end] == ' ' && isLetter(t[end+1]) {
		return false // "name :: Type", a Haskell signature
	}
	if s.keyPos&bit(kIP) != 0 {
		return true
	}
	// An IP word right before it: "src=::", "my ip: ::1", "loopback ::1".
	j := i
	for w := 0; w < 2; w++ {
		ws, _, b := prevWord(t, max(0, i-24), j)
		if ws < 0 || b&negVersion != 0 {
			return false
		}
		if b&bit(kIP) != 0 {
			return true
		}
		j = ws
	}
	return false
}

// ipv6Syntax reports whether s is an IPv6 address in text form (RFC 4291
// section 2.2, no zone): eight groups of one to four hex digits, or fewer
// with one "::", optionally ending in a dotted IPv4 address.
func ipv6Syntax(s string) bool {
	groups, dbl, i := 0, false, 0
	if strings.HasPrefix(s, "::") {
		dbl, i = true, 2
	}
	for i < len(s) {
		j := i
		for j < len(s) && isHex(s[j]) && j-i <= 4 {
			j++
		}
		if j < len(s) && s[j] == '.' {
			if !ipv4Syntax(s[i:]) {
				return false
			}
			groups += 2
			break
		}
		if j == i || j-i > 4 {
			return false
		}
		groups++
		i = j
		if i == len(s) {
			break
		}
		if s[i] != ':' || i+1 == len(s) {
			return false
		}
		i++
		if s[i] == ':' {
			if dbl {
				return false
			}
			dbl = true
			i++
		}
	}
	if dbl {
		return groups < 8
	}
	return groups == 8
}

// ipv4Syntax reports whether s is a dotted quad without leading zeros.
func ipv4Syntax(s string) bool {
	parts := 0
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		if j == i || j-i > 3 || (j-i > 1 && s[i] == '0') || atoi(s[i:j]) > 255 {
			return false
		}
		parts++
		if j == len(s) {
			break
		}
		if s[j] != '.' {
			return false
		}
		i = j + 1
		if i == len(s) {
			return false
		}
	}
	return parts == 4
}

// ipSpecialScore is the score of an address that names no host
// (0.0.0.0, 127.0.0.1, ::1, multicast, broadcast): enough for medium
// sensitivity, never for low.
const ipSpecialScore = thresholdMedium

// netmask reports whether the octets are a contiguous run of one bits
// followed by zero bits.
func netmask(oct [4]int) bool {
	inv := ^(uint32(oct[0])<<24 | uint32(oct[1])<<16 | uint32(oct[2])<<8 | uint32(oct[3]))
	return inv&(inv+1) == 0
}

// cidrEnd extends an address that ends at t[j] over a prefix length
// ("/24", at most max, no leading zero) and returns the new end, or j.
func cidrEnd(t string, j, max int) int {
	if j+1 >= len(t) || t[j] != '/' || !isDigit(t[j+1]) {
		return j
	}
	k := j + 1
	for k < len(t) && isDigit(t[k]) && k-j <= 4 {
		k++
	}
	l := k - j - 1
	if l > 3 || (l > 1 && t[j+1] == '0') || atoi(t[j+1:k]) > max || !numRightOK(t, k) {
		return j
	}
	return k
}

func skipHexRun(t string, i int) int {
	for i < len(t) && (isHex(t[i]) || t[i] == ':' || t[i] == '.') {
		i++
	}
	return i
}

// ---- digits ----

// numQuiet holds the bytes that end a number and give it no meaning:
// not a letter or '_' (hex, base58), ':' (IPv6, MAC) or one of numSep.
// numSep holds those that may join it to a following letter or digit
// (groups, dotted quads, MAC, AWS secrets).
var (
	numQuiet = func() (q byteSet) {
		for c := range 256 {
			q[c] = !wordByte[c] && c != ':' && !numSep[c]
		}
		return q
	}()
	numSep = setOf("-./+ ")
)

// number handles a word that starts with a digit; t[i:j] is its run of
// digits.
func (s *scanner) number(i, j int) int {
	t := s.t
	n := len(t)
	if j < n {
		c := t[j]
		switch {
		case isLetter(c) || c == '_':
			if end, ok := s.alnumFromDigit(i, j); ok {
				return end
			}
			e := skipWord(t, j)
			if e-i == 40 || (e-i < 40 && e < n && (t[e] == '/' || t[e] == '+')) {
				if end, ok := s.awsSecret(i); ok {
					return end
				}
			}
			return e
		case c == ':' || (c == '-' && j-i == 2) || (c == '.' && j-i == 4):
			if end, ok := s.hexColon(i); ok {
				return end
			}
		case (c == '/' || c == '+') && j-i < 40 && j+1 < n && isAlnum(t[j+1]):
			// "5+oLNQ…/T": an AWS secret access key may start with digits.
			if end, ok := s.awsSecret(i); ok {
				return end
			}
		}
	}
	return s.digitRun(i, j)
}

// alnumFromDigit handles words like 0x…, 1A1zP1…, 2001:db8:… and 0a:1b:….
func (s *scanner) alnumFromDigit(i, j int) (int, bool) {
	t := s.t
	n := len(t)
	if prevIsWord(t, i) {
		return 0, false
	}
	if t[i] == '0' && j == i+1 && (t[j] == 'x' || t[j] == 'X') {
		k := j + 1
		for k < n && k-j <= 41 && isHex(t[k]) {
			k++
		}
		if k-j-1 == 40 && !nextIsWord(t, k) {
			hex := t[j+1 : k]
			score := 70
			if hasUpperLower(hex) {
				if !eip55Valid(hex) {
					return k, true
				}
				score = 95
			}
			s.emit(kCrypto, i, k, score, 0)
			return k, true
		}
		return 0, false
	}
	if t[i] == '1' || t[i] == '3' {
		k := i
		for k < n && k-i <= 35 && base58Val[t[k]] != 0 {
			k++
		}
		if k-i >= 26 && k-i <= 35 && !nextIsWord(t, k) && base58Check(t[i:k]) {
			s.emit(kCrypto, i, k, 95, 0)
			return k, true
		}
	}
	return s.hexColon(i)
}

func hasUpperLower(s string) bool {
	u, l := false, false
	for i := 0; i < len(s); i++ {
		u = u || isUpper(s[i])
		l = l || (s[i] >= 'a' && s[i] <= 'z')
	}
	return u && l
}

// group is one run of digits inside a number such as 4111 1111 1111 1111.
type group struct {
	start, end int
	sep        byte // the separator before this group; 0 for the first
}

const maxGroups = 12

// digitRun reads digit groups separated by single spaces, dashes or dots
// and tries, from the longest window of groups to the shortest, the
// numeric types: IPv4, SSN, payment card, NANP and other phone numbers.
// Trying windows lets "room 12 415-555-2671" or a card followed by a
// year still be found, while a window may only start or end at a space
// or at the run's edge, so a dash-joined order id is never cut into a
// phone number.
func (s *scanner) digitRun(i, j int) int {
	t := s.t
	n := len(t)
	// A first pass only counts: most runs that come here (versions,
	// dates, times) are too short to be anything, and are done with
	// before the group table is set up.
	ng, digits, k := 1, j-i, j
	for ng < maxGroups && k+1 < n {
		c := t[k]
		if (c != ' ' && c != '-' && c != '.') || !isDigit(t[k+1]) {
			break
		}
		m := k + 1
		for m < n && isDigit(t[m]) {
			m++
		}
		digits += m - k - 1
		ng++
		k = m
	}
	if digits < 7 && ng < 4 {
		return k
	}
	if i > 0 && t[i-1] == '+' {
		return k // the '+' rule has read this number; it is not a national one
	}
	return s.digitGroups(i, j, ng, k)
}

// digitGroups is digitRun for a run of ng groups, the first t[i:j],
// that ends at k.
func (s *scanner) digitGroups(i, j, ng, k int) int {
	t := s.t
	var gs [maxGroups]group
	// cum[x] is the number of digits in groups before x.
	var cum [maxGroups + 1]int
	gs[0] = group{start: i, end: j}
	cum[1] = j - i
	for x, e := 1, j; x < ng; x++ {
		m := e + 1
		for m < len(t) && isDigit(t[m]) {
			m++
		}
		gs[x] = group{start: e + 1, end: m, sep: t[e]}
		cum[x+1] = cum[x] + m - e - 1
		e = m
	}
	for a := 0; a < ng; {
		if (a == 0 && !numLeftOK(t, gs[0].start)) || (a > 0 && gs[a].sep != ' ') {
			a++
			continue
		}
		next := a + 1
		for b := min(ng, a+6); b > a; b-- {
			if b < ng && gs[b].sep != ' ' {
				continue
			}
			// Only an IPv4 address has fewer than 9 digits; nothing has
			// more than 19.
			if nd := cum[b] - cum[a]; (nd < 9 && (b-a != 4 || gs[a+1].sep != '.')) || nd > 19 {
				continue
			}
			var nx *group
			if b < ng {
				nx = &gs[b]
			}
			if end, ok := s.classify(gs[a:b], nx); ok {
				next = b
				for next < ng && gs[next].start < end {
					next++
				}
				k = max(k, end)
				break
			}
		}
		a = next
	}
	return k
}

// classify tries the numeric types on one window of groups. nx is the
// group after the window (a space before it), nil when the window ends
// where the run ends; then the text after it must be a boundary.
func (s *scanner) classify(gs []group, nx *group) (int, bool) {
	t := s.t
	atEdge := nx == nil
	start, end := gs[0].start, gs[len(gs)-1].end
	var d [24]byte
	nd := 0
	sep := byte(0)
	sameSep := true
	for x, g := range gs {
		if g.end-g.start+nd > len(d) {
			return 0, false
		}
		for k := g.start; k < g.end; k++ { // groups are short: no memmove call
			d[nd] = t[k]
			nd++
		}
		if x == 1 {
			sep = g.sep
		} else if x > 1 && g.sep != sep {
			sameSep = false
		}
	}
	digits := d[:nd]
	lens := func(want ...int) bool {
		if len(want) != len(gs) {
			return false
		}
		for x, w := range want {
			if gs[x].end-gs[x].start != w {
				return false
			}
		}
		return true
	}

	// IPv4: four dotted octets. A port (":8080") may follow, and a prefix
	// length ("/24") is part of the match; more dotted numbers may not
	// follow (192.168.1.1.1 is read as a version or an OID, not as an
	// address and a stray number).
	if len(gs) == 4 && sep == '.' && sameSep {
		if atEdge && end < len(t) && (wordByte[t[end]] || (t[end] == '.' && end+1 < len(t) && isAlnum(t[end+1]))) {
			return 0, false
		}
		var oct [4]int
		for x, g := range gs {
			l := g.end - g.start
			if l > 3 || (l > 1 && t[g.start] == '0') {
				return 0, false
			}
			oct[x] = atoi(t[g.start:g.end])
			if oct[x] > 255 {
				return 0, false
			}
		}
		score, fl := 60, flNegVersion
		switch {
		case oct[0] == 255 && netmask(oct) && oct[3] != 255:
			return end, true // 255.255.255.0: a netmask, never an address
		case oct[0] == 0 || oct[0] == 127 || oct[0] >= 224:
			// unspecified, loopback, multicast, reserved and broadcast
			// addresses name no host: reported, but not at low
			// sensitivity, whatever the context.
			score, fl = ipSpecialScore, flNegVersion|flNoBoost
		}
		e := cidrEnd(t, end, 32)
		s.emit(kIP, start, e, score, fl)
		return e, true
	}
	if atEdge && !numRightOK(t, end) {
		return 0, false
	}
	switch {
	case nd == 9 && lens(3, 2, 4) && sameSep:
		if !ssnValid(digits) {
			return 0, false
		}
		score := 65
		switch sep {
		case ' ':
			score = 45
		case '.':
			score = 40
		}
		return end, s.emit(kSSN, start, end, score, 0) || true
	case nd == 9 && len(gs) == 1:
		if ssnValid(digits) && s.emit(kSSN, start, end, 5, flNegID|flBeforeOnly) {
			return end, true
		}
		return 0, false
	}
	if nd >= 12 && nd <= 19 && (len(gs) == 1 || (sameSep && sep != '.' && cardGrouping(gs) && !groupContinues(t, gs, nx, nd))) {
		if st := cardIssuer(digits); st != cardNone && luhnDigits(digits) {
			score, fl := 90, uint8(0)
			if len(gs) == 1 {
				score, fl = 70, flNegID|flBeforeOnly
			}
			if st == cardWeak {
				score -= 40
			}
			if s.emit(kCard, start, end, score, fl) {
				return end, true
			}
			return 0, false
		}
	}
	// NANP
	score, fl := 0, uint8(0)
	nanp := digits
	switch {
	case nd == 10 && lens(3, 3, 4):
		score = 60
		switch {
		case !sameSep:
			score = 50
		case sep == '.':
			score = 55
		case sep == ' ':
			score = 50
		}
	case nd == 11 && lens(1, 3, 3, 4) && digits[0] == '1' && sameSep && sep != '.':
		score, nanp = 65, digits[1:]
	case nd == 10 && len(gs) == 1:
		score, fl = 30, flNegID|flBeforeOnly
	case nd == 11 && len(gs) == 1 && digits[0] == '1':
		score, fl, nanp = 30, flNegID|flBeforeOnly, digits[1:]
	}
	if score > 0 && nanpValid(nanp) {
		e := phoneExt(t, end)
		if s.emit(kPhone, start, e, score, fl) {
			return e, true
		}
		return 0, false
	}
	// A Chinese mobile number, 1[3-9] and nine digits, in one run or 3-4-4
	// (13812345678, 138 1234 5678): ids look the same, so context is
	// required.
	if nd == 11 && digits[0] == '1' && digits[1] >= '3' && (len(gs) == 1 || (lens(3, 4, 4) && sameSep && sep != '.')) {
		score, fl := 30, flNegID|flBeforeOnly
		if len(gs) > 1 {
			score, fl = 25, flNegID
		}
		e := phoneExt(t, end)
		if s.emit(kPhone, start, e, score, fl) {
			return e, true
		}
		return 0, false
	}
	// 00 + country code: an international number dialled from Europe.
	if nd >= 10 && digits[0] == '0' && digits[1] == '0' && e164Valid(digits[2:]) {
		e := phoneExt(t, end)
		if s.emit(kPhone, start, e, 40, 0) {
			return e, true
		}
		return 0, false
	}
	// A national number with a trunk 0 (020 7946 0958, 06 12 34 56 78,
	// 0151 23456789): common, but so are other zero-led numbers, so
	// context is required.
	if nd >= 9 && nd <= 12 && digits[0] == '0' && digits[1] != '0' {
		score, fl := 15, flNegID|flBeforeOnly
		if len(gs) >= 2 && gs[0].end-gs[0].start <= 5 {
			score, fl = 25, flNegID
		}
		e := phoneExt(t, end)
		if s.emit(kPhone, start, e, score, fl) {
			return e, true
		}
		return 0, false
	}
	// A country code without its '+' as the first group (91-415-555-0132,
	// 44 20 7946 0958): the shape of many other numbers too, so context is
	// required.
	if len(gs) >= 3 && sameSep && sep != '.' && ccLen(digits) == gs[0].end-gs[0].start && e164Valid(digits) {
		e := phoneExt(t, end)
		if s.emit(kPhone, start, e, 20, flNegID) {
			return e, true
		}
	}
	return 0, false
}

// groupContinues reports whether the group nx after a grouped card
// number gs (nd digits) continues the number rather than starting
// another: "4111 1111 1111 1111 22" is one 18-digit number that fails
// Luhn, not a card and a 22, while "… 1111 2027" (a year) and "… 1111
// 12/27" (an expiry) follow a card.
func groupContinues(t string, gs []group, nx *group, nd int) bool {
	if nx == nil || nx.sep != gs[len(gs)-1].sep || (nx.end < len(t) && t[nx.end] == '/') {
		return false
	}
	nl := nx.end - nx.start
	return nl < 4 || (nl == 4 && nd+nl <= 19 && gs[len(gs)-1].end-gs[len(gs)-1].start == 4)
}

// cardGrouping accepts the ways card numbers are printed: groups of four
// with a shorter last group, 4-6-5 (American Express), 4-6-4 (Diners).
func cardGrouping(gs []group) bool {
	l := func(x int) int { return gs[x].end - gs[x].start }
	if len(gs) == 3 && l(0) == 4 && l(1) == 6 && (l(2) == 5 || l(2) == 4) {
		return true
	}
	for x := range gs {
		if x < len(gs)-1 && l(x) != 4 {
			return false
		}
	}
	return l(len(gs)-1) >= 1 && l(len(gs)-1) <= 4
}

// phoneExt extends a phone number over an extension: " x123",
// " ext. 123", " extension 123", " #123".
func phoneExt(t string, j int) int {
	n := len(t)
	k := j
	for k < n && k-j < 2 && (t[k] == ' ' || t[k] == ',') {
		k++
	}
	switch {
	case hasPrefixFold(t[k:], "extension"):
		k += 9
	case hasPrefixFold(t[k:], "ext."):
		k += 4
	case hasPrefixFold(t[k:], "ext"):
		k += 3
	case k < n && (t[k] == 'x' || t[k] == 'X' || t[k] == '#'):
		k++
	default:
		return j
	}
	for m := 0; m < 2 && k < n && (t[k] == ' ' || t[k] == ':'); m++ {
		k++
	}
	ds := k
	for k < n && k-ds <= 6 && isDigit(t[k]) {
		k++
	}
	if k == ds || k-ds > 6 || !numRightOK(t, k) {
		return j
	}
	return k
}

// plus reads an international number: '+', country code, national
// number in groups separated by spaces, dashes, dots or parentheses, with
// an optional trunk "(0)" that is not dialled.
func (s *scanner) plus(i int) int {
	t := s.t
	n := len(t)
	if i+1 >= n || !isDigit(t[i+1]) || prevIsWord(t, i) {
		return i + 1
	}
	var d [20]byte
	nd := 0
	var ends, counts [10]int
	ng := 0
	j := i + 1
	for ng < len(ends) {
		paren := false
		if t[j] == '(' {
			paren = true
			j++
		}
		gs := j
		for j < n && isDigit(t[j]) {
			j++
		}
		if j == gs {
			break
		}
		if paren {
			if j >= n || t[j] != ')' {
				break
			}
			j++
		}
		if !(paren && j-gs == 2 && t[gs] == '0') { // "(0)" is a trunk prefix
			for x := gs; x < j; x++ {
				if isDigit(t[x]) && nd < len(d) {
					d[nd] = t[x]
					nd++
				}
			}
		}
		ends[ng], counts[ng] = j, nd
		ng++
		if j+1 < n && (t[j] == ' ' || t[j] == '-' || t[j] == '.') && (isDigit(t[j+1]) || t[j+1] == '(') {
			j++
			continue
		}
		if j < n && (t[j] == '(' || (paren && isDigit(t[j]))) {
			continue
		}
		break
	}
	for g := ng; g >= 1; g-- {
		if counts[g-1] > 15 || !numRightOK(t, ends[g-1]) {
			continue
		}
		if e164Valid(d[:counts[g-1]]) {
			e := phoneExt(t, ends[g-1])
			s.emit(kPhone, i, e, 80, 0)
			return e
		}
	}
	return i + 1
}

// paren reads a NANP number written (415) 555-2671, optionally after a
// "1 " long-distance prefix.
func (s *scanner) paren(i int) int {
	t := s.t
	n := len(t)
	if i+13 > n || prevIsWord(t, i) || !isDigit(t[i+1]) || !isDigit(t[i+2]) || !isDigit(t[i+3]) || t[i+4] != ')' {
		return i + 1
	}
	j := i + 5
	if t[j] == ' ' || t[j] == '-' || t[j] == '.' {
		j++
	}
	if j+8 > n || !isDigit(t[j]) || !isDigit(t[j+1]) || !isDigit(t[j+2]) ||
		(t[j+3] != '-' && t[j+3] != '.' && t[j+3] != ' ') ||
		!isDigit(t[j+4]) || !isDigit(t[j+5]) || !isDigit(t[j+6]) || !isDigit(t[j+7]) {
		return i + 1
	}
	end := j + 8
	if !numRightOK(t, end) {
		return i + 1
	}
	var d [10]byte
	copy(d[:3], t[i+1:i+4])
	copy(d[3:6], t[j:j+3])
	copy(d[6:], t[j+4:j+8])
	if !nanpValid(d[:]) {
		return i + 1
	}
	start := i
	if i >= 2 && t[i-2] == '1' && (t[i-1] == ' ' || t[i-1] == '-') && numLeftOK(t, i-2) {
		start = i - 2
	}
	e := phoneExt(t, end)
	s.emit(kPhone, start, e, 65, 0)
	return e
}

// ---- e-mail ----

// email reads an address around the '@' at t[at]: the local part
// backwards, the domain forwards. Local parts and domains may be
// internationalised (jürgen@müller.de).
func (s *scanner) email(at int) int {
	t := s.t
	n := len(t)
	st := at
	for st > 0 && at-st < 64 {
		c := t[st-1]
		if c < utf8.RuneSelf {
			if !localByte[c] {
				break
			}
			st--
			continue
		}
		r, sz := utf8.DecodeLastRuneInString(t[:st])
		if !gluing(r) {
			break
		}
		st -= sz
	}
	for st < at && (t[st] == '.' || t[st] == '-' || t[st] == '+') {
		st++
	}
	if st == at || t[at-1] == '.' || prevIsWord(t, st) {
		return at + 1
	}
	j := at + 1
	labelStart := j
	lastDot := -1
	for j < n && j-at <= 254 {
		c := t[j]
		if c < utf8.RuneSelf {
			if isAlnum(c) || c == '-' {
				j++
				continue
			}
			if c == '.' && j > labelStart && t[j-1] != '-' && j+1 < n && (isAlnum(t[j+1]) || t[j+1] >= utf8.RuneSelf) {
				lastDot = j
				j++
				labelStart = j
				continue
			}
			break
		}
		r, sz := utf8.DecodeRuneInString(t[j:])
		if !gluing(r) && !unicode.IsMark(r) {
			break
		}
		j += sz
	}
	end := j
	if lastDot < 0 || t[at+1] == '-' || t[end-1] == '-' || !validTLDIn(t, lastDot+1, end) || nextIsWord(t, end) {
		return at + 1
	}
	// user@host:path is an scp/git remote and user@host:port a server, not
	// a mailbox.
	if end+1 < n && t[end] == ':' && t[end+1] != ' ' && t[end+1] != '\n' && t[end+1] != '"' {
		return end
	}
	s.emit(kEmail, st, end, 90, 0)
	return end
}

// ---- ':' and '-' ----

func (s *scanner) colon(i int) int {
	t := s.t
	if i+2 < len(t) && t[i+1] == '/' && t[i+2] == '/' && i >= s.urlRunEnd {
		if end, ok := s.url(i); ok {
			return end
		}
		return i + 3
	}
	if i+1 < len(t) && t[i+1] == ':' && !prevIsWord(t, i) && (i == 0 || t[i-1] != ':') &&
		(i+2 == len(t) || !wordByte[t[i+2]] || isHex(t[i+2])) {
		if end, ok := s.ipv6(i); ok {
			return end
		}
		return i + 2
	}
	return i + 1
}

// url reads scheme://authority/path?query#fragment around the "://" at
// t[colon]. Credentials (user:password@, a secret query parameter, a
// webhook URL) are reported at every sensitivity; other URLs only when
// URL is enabled. When a URL is not reported the scan continues inside
// it, so hosts and parameters are still examined.
func (s *scanner) url(colon int) (int, bool) {
	t := s.t
	n := len(t)
	st := colon
	for st > 0 && colon-st < 32 && schemeByte[t[st-1]] {
		st--
	}
	for st < colon && !isLetter(t[st]) {
		st++
	}
	if colon-st < 2 || prevIsWord(t, st) {
		return 0, false
	}
	a := colon + 3
	// The last '@' before the path or query ends the userinfo, even when a
	// password holds a byte it should have percent-encoded ('#', '[').
	at := -1
	for k := a; k < n && k-a < 256 && urlByte[t[k]] && t[k] != '/' && t[k] != '?'; k++ {
		if t[k] == '@' {
			at = k
		}
	}
	host := a
	if at >= 0 {
		host = at + 1
	}
	j := host
	for j < n && authByte[t[j]] {
		j++
	}
	if host >= j || !isAlnum(t[host]) && t[host] != '[' {
		return 0, false
	}
	authEnd := j
	for j < n && urlByte[t[j]] {
		j++
	}
	// Everything up to j is examined here, nested URLs included, so the
	// main loop does not start another URL inside this one.
	s.urlRunEnd = j
	end := trimURLEnd(t, st, j)
	if end <= host {
		return 0, false
	}
	he := min(hostEnd(t, host, authEnd), end)
	creds := at >= 0 && at < end && hasPassword(t[a:at])
	creds = creds || secretQuery(t[a:end]) || webhookURL(t[host:end]) || nestedCreds(t[host:end])
	switch {
	case creds:
		if s.emit(kURL, st, end, 95, flAlways) {
			s.hostIP(host, he)
		}
		return end, true
	case s.d.enabled&bit(kURL) != 0 && (t[host] == '[' || strings.IndexByte(t[host:he], '.') > 0):
		// A host without a dot (http://localhost, http://microsoft) is
		// a name on a private network or a placeholder, not a link.
		if s.emit(kURL, st, end, 60, 0) {
			s.hostIP(host, he)
		}
		return end, true
	}
	return 0, false
}

// hostEnd returns the end of the host that starts at t[host] in an
// authority ending at authEnd: before the port, or after the ']' of an
// IPv6 literal.
func hostEnd(t string, host, authEnd int) int {
	if t[host] == '[' {
		if k := strings.IndexByte(t[host:authEnd], ']'); k > 0 {
			return host + k + 1
		}
		return authEnd
	}
	if k := strings.IndexByte(t[host:authEnd], ':'); k >= 0 {
		return host + k
	}
	return authEnd
}

// hostIP reports the host of a reported URL, t[hs:he], when it is an IP
// address: the URL mask keeps the host, so the address inside it is a
// match of its own, nested in the URL's (see normalize).
func (s *scanner) hostIP(hs, he int) {
	t := s.t
	h := t[hs:he]
	if len(h) > 2 && h[0] == '[' && h[len(h)-1] == ']' {
		hs, h = hs+1, h[1:len(h)-1]
		zone := len(h)
		if k := strings.IndexByte(h, '%'); k > 0 {
			zone = k
		}
		if !ipv6Syntax(h[:zone]) {
			return
		}
		a, err := netip.ParseAddr(h[:zone])
		if err != nil {
			return
		}
		s.emitIP(a, hs, hs+len(h))
		return
	}
	if !ipv4Syntax(h) {
		return
	}
	if a, err := netip.ParseAddr(h); err == nil {
		s.emitIP(a, hs, he)
	}
}

// emitIP reports address a at t[start:end] with the score of its kind.
func (s *scanner) emitIP(a netip.Addr, start, end int) {
	if a.IsUnspecified() || a.IsLoopback() || a.IsMulticast() || (a.Is4() && a.As4()[0] >= 224) || (a.Is4() && a.As4()[0] == 0) {
		s.emit(kIP, start, end, ipSpecialScore, flNegVersion|flNoBoost)
		return
	}
	s.emit(kIP, start, end, 60, flNegVersion)
}

// trimURLEnd drops trailing punctuation that belongs to the sentence, and
// a closing parenthesis or bracket that has no opening one in the URL.
func trimURLEnd(t string, st, j int) int {
	for j > st {
		switch c := t[j-1]; c {
		case '.', ',', ';', ':', '!', '?', '\'', '*':
			j--
			continue
		case ')', ']':
			open := byte('(')
			if c == ']' {
				open = '['
			}
			if countByte(t[st:j], open) < countByte(t[st:j], c) {
				j--
				continue
			}
		}
		break
	}
	return j
}

func countByte(s string, c byte) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			n++
		}
	}
	return n
}

// hasPassword reports whether URL userinfo holds a non-empty password.
func hasPassword(userinfo string) bool {
	k := strings.IndexByte(userinfo, ':')
	return k >= 0 && k+1 < len(userinfo)
}

// nestedCreds finds user:password@ in URLs nested in a URL
// (…?next=https://u:p@host/…), which the main loop does not visit.
func nestedCreds(u string) bool {
	for {
		k := strings.Index(u, "://")
		if k < 0 {
			return false
		}
		u = u[k+3:]
		a := 0
		at := -1
		for a < len(u) && authByte[u[a]] {
			if u[a] == '@' {
				at = a
			}
			a++
		}
		if at >= 0 && hasPassword(u[:at]) {
			return true
		}
	}
}

// secretQueryKeys are query parameters whose value is a credential.
var secretQueryKeys = []string{"password", "passwd", "pwd", "pass", "secret", "client_secret", "token",
	"access_token", "refresh_token", "id_token", "api_key", "apikey", "api-key", "key", "sig", "signature",
	"x-amz-signature", "x-amz-credential", "x-amz-security-token", "auth", "authorization", "private_key"}

// secretQuery reports whether a URL (after the scheme) has a query
// parameter from secretQueryKeys with a non-empty value.
func secretQuery(u string) bool {
	q := strings.IndexByte(u, '?')
	if q < 0 {
		return false
	}
	rest := u[q+1:]
	for rest != "" {
		// Parameters of nested URLs count too, so split at '?' and '#' as
		// well as '&'.
		var kv string
		if k := strings.IndexAny(rest, "&?#;"); k >= 0 {
			kv, rest = rest[:k], rest[k+1:]
		} else {
			kv, rest = rest, ""
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok || v == "" || len(k) > 24 {
			continue
		}
		for _, sk := range secretQueryKeys {
			if len(k) == len(sk) && hasPrefixFold(k, sk) {
				return true
			}
		}
	}
	return false
}

// webhookURL reports URLs whose path is itself the secret.
func webhookURL(hostPath string) bool {
	for _, p := range []string{"hooks.slack.com/services/", "discord.com/api/webhooks/",
		"discordapp.com/api/webhooks/", "outlook.office.com/webhook/", "hooks.zapier.com/hooks/"} {
		if hasPrefixFold(hostPath, p) {
			return true
		}
	}
	return false
}

func (s *scanner) dash(i int) int {
	t := s.t
	if i+10 < len(t) && t[i+1] == '-' && strings.HasPrefix(t[i:], "-----BEGIN ") {
		return s.pem(i)
	}
	return i + 1
}

// pem reads a PEM private key block, BEGIN to the matching END. A block
// cut off before its END (a truncated log line) is reported to the end
// of its body. Searching for END only over body characters keeps the
// whole scan linear however many BEGIN lines the text holds.
func (s *scanner) pem(i int) int {
	t := s.t
	n := len(t)
	ls := i + len("-----BEGIN ")
	le := ls
	for le < n && le-ls < 40 && (isUpper(t[le]) || isDigit(t[le]) || t[le] == ' ') {
		le++
	}
	label := t[ls:le]
	if !strings.HasPrefix(t[le:], "-----") || !(strings.HasSuffix(label, "PRIVATE KEY") || strings.HasSuffix(label, "PRIVATE KEY BLOCK")) {
		return le
	}
	j := le + 5
	for j < n && j-i < 1<<16 {
		// Base64 lines are passed over eight bytes at a time.
		if j+8 <= n && j+8-i <= 1<<16 && swarBase64(load64(t, j)) == swarHigh {
			j += 8
			continue
		}
		c := t[j]
		if c == '-' && strings.HasPrefix(t[j:], "-----END ") {
			p := j + len("-----END ")
			if strings.HasPrefix(t[p:], label) && strings.HasPrefix(t[p+len(label):], "-----") {
				end := p + len(label) + 5
				s.emit(kPrivateKey, i, end, 100, 0)
				return end
			}
			j = p
			continue
		}
		if !pemBody[c] {
			break
		}
		j++
	}
	for j > le+5 && (t[j-1] == ' ' || t[j-1] == '\n' || t[j-1] == '\r' || t[j-1] == '\t') {
		j--
	}
	s.emit(kPrivateKey, i, j, 100, 0)
	return j
}
