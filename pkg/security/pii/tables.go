package pii

import (
	"encoding/binary"
	"math/bits"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Byte classes of the scanner's main loop. Only a few bytes can start a
// candidate; everything else is skipped with one table lookup.
const (
	cNone   uint8 = iota // space, punctuation, UTF-8 bytes
	cLetter              // A-Z a-z: word start; prefixed tokens, IBAN, hex
	cDigit               // 0-9: numbers, IPv4, hex groups
	cWord                // '_': continues a word, starts nothing
	cAt                  // '@': e-mail
	cPlus                // '+': international phone
	cParen               // '(': (415) 555-2671
	cColon               // ':': "://" of URLs, "::" of IPv6
	cDash                // '-': "-----BEGIN"
	cCJK                 // lead byte of kana, CJK or Hangul: context words without spaces
)

var class = func() (t [256]uint8) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = cLetter
		t[c-'a'+'A'] = cLetter
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = cDigit
	}
	t['_'] = cWord
	t['@'] = cAt
	t['+'] = cPlus
	t['('] = cParen
	t[':'] = cColon
	t['-'] = cDash
	for c := 0xE3; c <= 0xED; c++ {
		t[c] = cCJK
	}
	return t
}()

// byteSet is a set of bytes.
type byteSet [256]bool

func setOf(ranges ...string) (s byteSet) {
	for _, r := range ranges {
		if len(r) == 3 && r[1] == '-' {
			for c := int(r[0]); c <= int(r[2]); c++ {
				s[c] = true
			}
			continue
		}
		for i := 0; i < len(r); i++ {
			s[r[i]] = true
		}
	}
	return s
}

var (
	wordByte    = setOf("a-z", "A-Z", "0-9", "_")
	alnumSet    = setOf("a-z", "A-Z", "0-9")
	hexSet      = setOf("a-f", "A-F", "0-9")
	hexLowerSet = setOf("a-f", "0-9")
	// localByte: e-mail local part (ASCII); the RFC allows more, but
	// quotes, slashes and braces are far more often delimiters in text.
	localByte = setOf("a-z", "A-Z", "0-9", "._%+-")
	// schemeByte: URI scheme characters (RFC 3986).
	schemeByte = setOf("a-z", "A-Z", "0-9", "+.-")
	// authByte: URL authority (userinfo, host, port), without the
	// parentheses, quotes and commas that end URLs in prose.
	authByte = setOf("a-z", "A-Z", "0-9", "-._~%!$&*+;=:@[]")
	// urlByte: the rest of a URL.
	urlByte = setOf("a-z", "A-Z", "0-9", "-._~:/?#[]@!$&'()*+,;=%")
	// pemBody: what may stand between BEGIN and END of a PEM block:
	// base64, header lines, whitespace and the escaped newlines of logs.
	pemBody = setOf("a-z", "A-Z", "0-9", "+/=:,.-_\\ \t\r\n")
)

func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isLetter(c byte) bool { return (c|0x20) >= 'a' && (c|0x20) <= 'z' }
func isAlnum(c byte) bool  { return alnumSet[c] }
func isHex(c byte) bool    { return hexSet[c] }
func isUpper(c byte) bool  { return c >= 'A' && c <= 'Z' }

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// gluing reports whether rune r joins the characters around it into one
// word: letters and digits of scripts written with spaces. Han, kana,
// Hangul and Thai are written without spaces between words, so a phone
// number directly after 电话 still stands on its own.
func gluing(r rune) bool {
	if r == utf8.RuneError || !(unicode.IsLetter(r) || unicode.IsDigit(r)) {
		return false
	}
	if r >= 0x1100 && (unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) ||
		unicode.Is(unicode.Katakana, r) || unicode.Is(unicode.Hangul, r)) {
		return false
	}
	return !unicode.Is(unicode.Thai, r)
}

// prevIsWord reports whether the character before t[i] continues a word,
// i.e. whether i is NOT a left word boundary.
func prevIsWord(t string, i int) bool {
	if i <= 0 {
		return false
	}
	if c := t[i-1]; c < utf8.RuneSelf {
		return wordByte[c]
	}
	r, _ := utf8.DecodeLastRuneInString(t[:i])
	return gluing(r)
}

// nextIsWord reports whether t[j] continues a word, i.e. whether j is NOT
// a right word boundary.
func nextIsWord(t string, j int) bool {
	if j >= len(t) {
		return false
	}
	if c := t[j]; c < utf8.RuneSelf {
		return wordByte[c]
	}
	r, _ := utf8.DecodeRuneInString(t[j:])
	return gluing(r)
}

// numLeftOK is the left boundary of a number: not inside a word, not
// glued to one by - . / \ (order ids, versions, paths, UUIDs), and not
// after a '+' (international numbers are read by the '+' rule only).
func numLeftOK(t string, i int) bool {
	if i == 0 {
		return true
	}
	if prevIsWord(t, i) {
		return false
	}
	switch t[i-1] {
	case '+':
		return false
	case '-', '.', '/', '\\':
		return i < 2 || !isAlnum(t[i-2])
	}
	return true
}

// numRightOK is the right boundary of a number: not followed by a word
// character, nor by - . : / + \ glued to a letter or digit (times,
// versions, ports, paths).
func numRightOK(t string, j int) bool {
	if j >= len(t) {
		return true
	}
	if nextIsWord(t, j) {
		return false
	}
	switch t[j] {
	case '-', '.', ':', '/', '+', '\\':
		return j+1 >= len(t) || !isAlnum(t[j+1])
	}
	return true
}

// skipWord returns the end of the run of word bytes starting at i.
func skipWord(t string, i int) int {
	for ; i+8 <= len(t); i += 8 {
		if m := ^swarWordByte(load64(t, i)) & swarHigh; m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
	}
	for i < len(t) && wordByte[t[i]] {
		i++
	}
	return i
}

// skipDigits returns the end of the run of ASCII digits starting at i.
func skipDigits(t string, i int) int {
	for ; i+8 <= len(t); i += 8 {
		if m := ^swarDigit(load64(t, i)) & swarHigh; m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
	}
	for i < len(t) && isDigit(t[i]) {
		i++
	}
	return i
}

// hasPrefixFold is strings.HasPrefix ignoring ASCII case; p is lower case.
func hasPrefixFold(s, p string) bool {
	if len(s) < len(p) {
		return false
	}
	for i := 0; i < len(p); i++ {
		if lower(s[i]) != p[i] {
			return false
		}
	}
	return true
}

// Context bits: one per kind, two negative signals and "number".
const (
	ctxNumber  uint32 = 1 << 29 // "number": a phone's context only when nothing else names the number
	negVersion uint32 = 1 << 30 // "version", "release", "v": a dotted quad is a version
	negID      uint32 = 1 << 31 // "order", "invoice", "id": a bare number is an identifier
	negBits           = negVersion | negID
	kindBits   uint32 = 1<<numKinds - 1
)

func bit(k kind) uint32 { return 1 << k }

// ctxWords maps a lower-case word to the kinds it makes more likely and
// the negative signals it carries. Words are looked up whole, so "tel"
// does not fire inside "hotel". Lists are short on purpose: a word that
// occurs everywhere ("security") would boost everything. "number" is
// one, and counts for PHONE only as one of the three words before a
// candidate and when the word before it names nothing else ("my number",
// "Japanese number", not "order number", "account number").
var ctxWords = func() map[string]uint32 {
	m := map[string]uint32{}
	add := func(bits uint32, words string) {
		for _, w := range strings.Fields(words) {
			m[w] |= bits
		}
	}
	add(bit(kEmail), `email emails mail mailto e-mail courriel correo contact kontakt contacto recipient
		sender reply cc bcc adresse dirección indirizzo メール 邮箱 邮件`)
	add(bit(kPhone), `phone phones telephone tel tél tlf telefon telefono teléfono téléphone telefone mobile
		mobil móvil movil cell cellphone celular portable handy call calls dial fax sms whatsapp hotline
		contact kontakt ruf rufnummer telefonnummer festnetz landline fixe fijo appel appelé appeler rappeler
		llamar llame ligar chiamare numéro número numero cellular mob telefonnr viber 电话 手机 電話 携帯 전화`)
	add(ctxNumber, `number`)
	add(bit(kSSN), `ssn ssns ss social socialsecurity taxpayer itin`)
	add(bit(kCard), `card cards credit debit visa mastercard amex discover jcb diners maestro unionpay
		cc ccn cvv cvc pan payment kreditkarte karte tarjeta carte cartão carta 卡号 信用卡`)
	add(bit(kIBAN), `iban bank account acct konto kontonummer bankverbindung sepa transfer wire compte
		cuenta conto rib bic swift überweisung virement`)
	add(bit(kIP), `ip ips ipv4 ipv6 addr address host hostname client remote server peer src dst source
		destination gateway gw dns resolver nameserver connect connecting connected connection listen
		listening origin forwarded proxy login logged from loopback localhost unspecified multicast broadcast
		subnet cidr`)
	add(bit(kMAC), `mac macs hwaddr hw ether ethernet bssid wifi wlan nic interface iface device address addr`)
	add(bit(kCrypto), `wallet wallets bitcoin btc eth ether ethereum crypto address send sent receive payout
		deposit withdraw withdrawal usdt usdc tx`)
	add(bit(kURL), `url urls link href uri endpoint webhook dsn callback redirect`)
	add(bit(kAWS), `aws access key akid amazon iam credentials secret`)
	add(bit(kGitHub), `github gh token pat`)
	add(bit(kJWT), `jwt bearer token authorization auth session`)
	add(bit(kAPIKey), `api apikey key token secret bearer authorization auth credentials`)
	add(negVersion, `version versions ver v release rel build firmware fw kernel patch sdk chrome firefox
		safari python node nodejs golang java ruby npm pip windows macos ios android ubuntu debian linux
		upgrade upgraded update updated downgrade bump bumped tag semver oid snmp`)
	add(negID, `order orders invoice id ids ticket ref reference tracking txn pid port count total sum size
		bytes timestamp ts epoch time ms duration line row offset seq sequence nonce job run issue pr
		commit sha hash checksum build amount qty quantity sku uuid guid serial case model batch lot
		订单 订单号 单号 编号 注文 注文番号 주문 주문번호`)
	return m
}()

// ctxTable is ctxWords as an open-addressing table keyed by the word
// itself packed into two machine words (wordKey), so that a lookup reads
// the word with at most four loads, hashes it with one multiplication
// and compares it with two, instead of a map access.
const (
	ctxLog2   = 10
	ctxSlots  = 1 << ctxLog2 // more than twice the words
	ctxMaxLen = 16           // the longest context word, in bytes, wordKey can pack
)

type ctxSlot struct {
	a, b uint64 // wordKey of the word
	bits uint32
	n    uint8 // its length; 0 for an empty slot
}

var ctxTable = func() (t [ctxSlots]ctxSlot) {
	if len(ctxWords)*2 > ctxSlots {
		panic("pii: ctxSlots too small")
	}
	for w, b := range ctxWords {
		addWord(t[:], ctxLog2, w, b)
	}
	return t
}()

// addWord puts w (at most ctxMaxLen bytes, not empty) with its bits in
// a table of 1<<log2 slots.
func addWord(t []ctxSlot, log2 uint, w string, bits uint32) {
	if len(w) > ctxMaxLen || len(w) == 0 {
		panic("pii: table word " + w + " empty or longer than ctxMaxLen")
	}
	ka, kb := wordKey(w, 0, len(w))
	j := wordHash(ka, kb, len(w), log2)
	for t[j].n != 0 {
		j = (j + 1) & (1<<log2 - 1)
	}
	t[j] = ctxSlot{a: ka, b: kb, bits: bits, n: uint8(len(w))}
}

// findWord returns the bits of the word whose wordKey is (ka, kb) and
// whose length is n in a table of 1<<log2 slots, or 0.
func findWord(t []ctxSlot, log2 uint, ka, kb uint64, n int) uint32 {
	for j := wordHash(ka, kb, n, log2); ; j = (j + 1) & (1<<log2 - 1) {
		e := &t[j]
		if e.n == 0 {
			return 0
		}
		if e.a == ka && e.b == kb && int(e.n) == n {
			return e.bits
		}
	}
}

// wordKey packs the word t[ws:we], at most 16 bytes, into two machine
// words: its first eight bytes and the rest, little-endian, zero-padded.
// With the length, the pair is the word.
func wordKey(t string, ws, we int) (a, b uint64) {
	n := we - ws
	if ws+16 <= len(t) {
		return load64(t, ws) & keepBytes[min(n, 8)], load64(t, ws+8) & keepBytes[max(n-8, 0)]
	}
	var buf [16]byte
	copy(buf[:], t[ws:we])
	return binary.LittleEndian.Uint64(buf[:8]), binary.LittleEndian.Uint64(buf[8:])
}

// keepBytes[n] keeps the first n bytes of a little-endian word.
var keepBytes = [9]uint64{0, 0xff, 0xffff, 0xffffff, 0xffffffff, 0xffffffffff, 0xffffffffffff, 0xffffffffffffff, ^uint64(0)}

// wordHash is the slot of a wordKey in a table of 1<<log2 slots.
func wordHash(a, b uint64, n int, log2 uint) uint64 {
	return (a ^ b*0x9e3779b97f4a7c15 ^ uint64(n)) * 0xbf58476d1ce4e5b9 >> (64 - log2)
}

// ctxShape is a prefilter in front of ctxTable: bit len(w) of
// ctxShape[shapeKey(first, last)] is set when some context word has that
// first byte, last byte and length. Most words of a text fail it, so
// they are never hashed.
var ctxShape = func() (t [1024]uint32) {
	for w := range ctxWords {
		if len(w) < 32 {
			t[shapeKey(w[0], w[len(w)-1])] |= 1 << len(w)
		}
	}
	return t
}()

// shapeKey combines the low five bits of a word's first and last bytes,
// which are those of their lower case too.
func shapeKey(first, last byte) int { return int(first&31)<<5 | int(last&31) }

// ctxWordAt returns the context bits of the word t[ws:we] (not empty),
// ignoring ASCII case. Most words fail the ctxShape prefilter and are
// never packed.
func ctxWordAt(t string, ws, we int) uint32 {
	if n := we - ws; n > ctxMaxLen || ctxShape[shapeKey(t[ws], t[we-1])]&(1<<(n&31)) == 0 {
		return 0
	}
	return ctxFind(t, ws, we)
}

// ctxFind is ctxWordAt after the prefilter.
func ctxFind(t string, ws, we int) uint32 {
	ka, kb := wordKey(t, ws, we)
	return findWord(ctxTable[:], ctxLog2, lower8(ka), lower8(kb), we-ws)
}

// Word-at-a-time (SWAR) byte tests on eight bytes in a uint64. Each
// reports a byte by setting its high bit.
const (
	swarOnes = 0x0101010101010101
	swarHigh = 0x80 * swarOnes
)

// swarRange marks the bytes of y in [lo, hi]; y's high bits must be clear.
func swarRange(y uint64, lo, hi byte) uint64 {
	return (y + uint64(0x80-lo)*swarOnes) &^ (y + uint64(0x7f-hi)*swarOnes) & swarHigh
}

// swarEq marks the bytes of y equal to c; y's high bits must be clear.
func swarEq(y uint64, c byte) uint64 {
	return ^((y ^ uint64(c)*swarOnes) + 0x7f*swarOnes) & swarHigh
}

// lower8 is lower on each of the eight bytes of v.
func lower8(v uint64) uint64 {
	return v | swarRange(v&^swarHigh, 'A', 'Z')&^v>>2
}

// swarWordByte marks the bytes of v that are in wordByte.
func swarWordByte(v uint64) uint64 {
	y := v &^ swarHigh
	return (swarRange(y, '0', '9') | swarRange(y|0x20*swarOnes, 'a', 'z') | swarEq(y, '_')) &^ v
}

// swarAlnum marks the ASCII letters and digits of v.
func swarAlnum(v uint64) uint64 {
	y := v &^ swarHigh
	return (swarRange(y, '0', '9') | swarRange(y|0x20*swarOnes, 'a', 'z')) &^ v
}

// swarHex marks the ASCII hex digits of v.
func swarHex(v uint64) uint64 {
	y := v &^ swarHigh
	return (swarRange(y, '0', '9') | swarRange(y|0x20*swarOnes, 'a', 'f')) &^ v
}

// swarBase64 marks the bytes of v in the base64 alphabet, without '='.
func swarBase64(v uint64) uint64 {
	y := v &^ swarHigh
	return (swarRange(y, '0', '9') | swarRange(y|0x20*swarOnes, 'a', 'z') | swarEq(y, '+') | swarEq(y, '/')) &^ v
}

// swarDigit marks the ASCII digits of v.
func swarDigit(v uint64) uint64 {
	return swarRange(v&^swarHigh, '0', '9') &^ v
}

// load64 reads t[i:i+8] as a little-endian word.
func load64(t string, i int) uint64 {
	t = t[i : i+8]
	return uint64(t[0]) | uint64(t[1])<<8 | uint64(t[2])<<16 | uint64(t[3])<<24 |
		uint64(t[4])<<32 | uint64(t[5])<<40 | uint64(t[6])<<48 | uint64(t[7])<<56
}

// cjkWords are context words of scripts without spaces; they are found
// by substring search instead of by word.
var cjkWords = func() (ws []struct {
	w    string
	bits uint32
}) {
	for w, b := range ctxWords {
		r, _ := utf8.DecodeRuneInString(w)
		if r >= 0x1100 && !gluing(r) {
			ws = append(ws, struct {
				w    string
				bits uint32
			}{w, b})
		}
	}
	return ws
}()

// keyCompounds are key names written as one word that token splitting
// cannot take apart ("phonenumber", "emailaddress").
var keyCompounds = map[string]uint32{
	"emailaddress": bit(kEmail), "emailaddr": bit(kEmail), "useremail": bit(kEmail),
	"phonenumber": bit(kPhone), "phoneno": bit(kPhone), "mobilenumber": bit(kPhone), "msisdn": bit(kPhone),
	"telno": bit(kPhone), "faxnumber": bit(kPhone),
	"socialsecuritynumber": bit(kSSN), "ssnumber": bit(kSSN),
	"cardnumber": bit(kCard), "creditcard": bit(kCard), "ccnumber": bit(kCard), "cardno": bit(kCard),
	"creditcardnumber": bit(kCard), "pan": bit(kCard),
	"bankaccount": bit(kIBAN), "accountnumber": bit(kIBAN), "ibannumber": bit(kIBAN),
	"ipaddress": bit(kIP), "ipaddr": bit(kIP), "clientip": bit(kIP), "remoteaddr": bit(kIP), "remoteip": bit(kIP),
	"sourceip": bit(kIP), "srcip": bit(kIP), "dstip": bit(kIP), "xforwardedfor": bit(kIP),
	"macaddress": bit(kMAC), "macaddr": bit(kMAC), "hwaddr": bit(kMAC),
	"walletaddress": bit(kCrypto), "btcaddress": bit(kCrypto), "ethaddress": bit(kCrypto),
	"apikey": bit(kAPIKey), "accesstoken": bit(kJWT) | bit(kAPIKey) | bit(kGitHub), "idtoken": bit(kJWT),
	"secretkey": bit(kAPIKey) | bit(kAWS), "privatekey": bit(kPrivateKey), "accesskeyid": bit(kAWS),
	"secretaccesskey": bit(kAWS), "awssecretaccesskey": bit(kAWS),
}

// keyContext derives context bits from a JSON key such as
// "customerEmail", "phone_number" or "X-Forwarded-For": the key is split
// at separators and lower-to-upper case changes, each word is looked up,
// and the whole key with separators removed is looked up as a compound.
func keyContext(key string) (pos, neg uint32) {
	var whole [48]byte
	nw := 0
	var w [32]byte
	n := 0
	flush := func() {
		if n > 0 && n <= len(w) {
			b := lookupWord(string(w[:n]))
			pos |= b & kindBits
			neg |= b & negBits
		}
		n = 0
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case isAlnum(c) || c >= utf8.RuneSelf:
			if isUpper(c) && i > 0 && !isUpper(key[i-1]) && isAlnum(key[i-1]) {
				flush()
			}
			if n < len(w) {
				w[n] = lower(c)
			}
			n++
			if nw < len(whole) {
				whole[nw] = lower(c)
			}
			nw++
		default:
			flush()
		}
	}
	flush()
	if nw <= len(whole) {
		pos |= keyCompounds[string(whole[:nw])]
	}
	return pos, neg
}
