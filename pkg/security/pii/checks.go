package pii

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"hash/crc32"
	"math/bits"
	"strings"
)

// This file holds the validators: pure functions from a candidate's bytes
// to "is it really one". They run only on candidates the scanner found,
// never over whole texts, and none allocates.

// luhn reports whether the digits of s (other bytes are skipped) pass the
// Luhn mod-10 check.
func luhn(s string) bool {
	sum, n, dbl := 0, 0, false
	for i := len(s) - 1; i >= 0; i-- {
		c := s[i]
		if c < '0' || c > '9' {
			continue
		}
		d := int(c - '0')
		if dbl {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		dbl = !dbl
		n++
	}
	return n > 1 && sum%10 == 0
}

// luhnDigits is luhn on a number given as ASCII digits only.
func luhnDigits(d []byte) bool {
	sum := 0
	for i := len(d) - 1; i >= 0; i -= 2 {
		sum += int(d[i] - '0')
	}
	for i := len(d) - 2; i >= 0; i -= 2 {
		sum += int(luhnDouble[(d[i]-'0')%10])
	}
	return len(d) > 1 && sum%10 == 0
}

// luhnDouble is a doubled Luhn digit: 2d, less 9 when over 9.
var luhnDouble = [10]uint8{0, 2, 4, 6, 8, 1, 3, 5, 7, 9}

// prefixNum returns the number formed by the first k digits of d.
func prefixNum(d []byte, k int) int {
	v := 0
	for i := 0; i < k && i < len(d); i++ {
		v = v*10 + int(d[i]-'0')
	}
	return v
}

// card strength for cardIssuer.
const (
	cardNone = iota
	cardWeak // a valid but unusual length for the issuer (Visa 13/19, Maestro 12)
	cardStrong
)

// cardIssuer checks that digits d start with an issuer identification
// number whose card lengths include len(d). It returns cardStrong for the
// common lengths and cardWeak for lengths that are valid but rare, which
// need context to be reported.
func cardIssuer(d []byte) int {
	n := len(d)
	if n < 12 || n > 19 {
		return cardNone
	}
	p1, p2, p3, p4, p6 := prefixNum(d, 1), prefixNum(d, 2), prefixNum(d, 3), prefixNum(d, 4), prefixNum(d, 6)
	strongIf := func(ok bool, strong ...int) int {
		if !ok {
			return cardNone
		}
		for _, s := range strong {
			if n == s {
				return cardStrong
			}
		}
		return cardWeak
	}
	switch {
	case p1 == 4: // Visa
		return strongIf(n == 13 || n == 16 || n == 19, 16)
	case p2 >= 51 && p2 <= 55, p4 >= 2221 && p4 <= 2720: // Mastercard
		return strongIf(n == 16, 16)
	case p2 == 34, p2 == 37: // American Express
		return strongIf(n == 15, 15)
	case p4 >= 2200 && p4 <= 2204: // Mir
		return strongIf(n >= 16, 16)
	case p4 >= 3528 && p4 <= 3589: // JCB
		return strongIf(n >= 16, 16)
	case p3 >= 300 && p3 <= 305, p4 == 3095, p2 == 36, p2 == 38, p2 == 39: // Diners Club
		return strongIf(n >= 14, 14, 16)
	case p4 == 6011, p3 >= 644 && p3 <= 649, p2 == 65, p6 >= 622126 && p6 <= 622925: // Discover
		return strongIf(n >= 16, 16)
	case p2 == 62: // UnionPay
		return strongIf(n >= 16, 16)
	case p2 == 50, p2 >= 56 && p2 <= 69: // Maestro, Dankort, RuPay, InstaPayment
		return strongIf(true, 16)
	case p1 == 1: // UATP
		return strongIf(n == 15, 15)
	}
	return cardNone
}

// ssnValid applies the Social Security Administration's rules to nine
// digits: no area 000, 666 or 900-999 (never issued; 9xx are ITINs), no
// group 00, no serial 0000, and not one of the numbers that are known to
// be invalid because they were published (078-05-1120, the Woolworth
// wallet card; 219-09-9999, an SSA advertisement; 123-45-6789). A number
// of one repeated digit is refused too.
func ssnValid(d []byte) bool {
	if len(d) != 9 {
		return false
	}
	area, group, serial := prefixNum(d, 3), prefixNum(d[3:], 2), prefixNum(d[5:], 4)
	if area == 0 || area == 666 || area >= 900 || group == 0 || serial == 0 {
		return false
	}
	same := true
	for _, c := range d[1:] {
		if c != d[0] {
			same = false
			break
		}
	}
	if same {
		return false
	}
	switch string(d) {
	case "078051120", "219099999", "123456789":
		return false
	}
	return true
}

// nanpValid checks ten NANP digits: area code and exchange start with 2-9
// and are not N11 service codes (211, 411, 911…).
func nanpValid(d []byte) bool {
	if len(d) != 10 {
		return false
	}
	if d[0] < '2' || d[3] < '2' {
		return false
	}
	if d[1] == '1' && d[2] == '1' {
		return false
	}
	if d[4] == '1' && d[5] == '1' {
		return false
	}
	return true
}

// ibanLengths is the ISO 13616 registry: the total IBAN length of each
// country, indexed by its two letters.
var ibanLengths = func() (t [26 * 26]uint8) {
	for _, e := range strings.Fields(`AD24 AE23 AL28 AT20 AZ28 BA20 BE16 BG22 BH22 BI27 BR29 BY28 CH21 CR22 CY28
		CZ24 DE22 DJ27 DK18 DO28 EE20 EG29 ES24 FI18 FK18 FO18 FR27 GB22 GE22 GI23 GL18 GR27 GT28 HN28 HR21
		HU28 IE22 IL23 IQ23 IS26 IT27 JO30 KW30 KZ20 LB28 LC32 LI21 LT20 LU20 LV21 LY25 MC27 MD24 ME22 MK19
		MN20 MR27 MT31 MU30 NI28 NL18 NO15 OM23 PK24 PL28 PS29 PT25 QA29 RO24 RS22 RU33 SA24 SC31 SD18 SE24
		SI19 SK24 SM27 SO23 ST25 SV28 TL23 TN24 TR26 UA29 VA22 VG24 XK20 YE30`) {
		t[int(e[0]-'A')*26+int(e[1]-'A')] = uint8(int(e[2]-'0')*10 + int(e[3]-'0'))
	}
	return t
}()

// ibanLength returns the IBAN length of country code cc (two upper-case
// letters), 0 if the country has no IBAN.
func ibanLength(a, b byte) int {
	if a < 'A' || a > 'Z' || b < 'A' || b > 'Z' {
		return 0
	}
	return int(ibanLengths[int(a-'A')*26+int(b-'A')])
}

// mod97 computes the ISO 7064 mod 97-10 remainder of an IBAN-like string
// (letters A-Z count as 10..35; other bytes except digits and letters are
// skipped) after moving its first four characters to the end.
func mod97(s string) int {
	var head [4]byte
	h := 0
	// The number is accumulated exactly and reduced only when it reaches
	// 10^15, which keeps the chain of divisions short and cannot
	// overflow (10^15 * 100 + 35 < 2^63).
	var acc uint64
	step := func(c byte) {
		switch {
		case c >= '0' && c <= '9':
			acc = acc*10 + uint64(c-'0')
		case c >= 'A' && c <= 'Z':
			acc = acc*100 + uint64(c-'A') + 10
		case c >= 'a' && c <= 'z':
			acc = acc*100 + uint64(c-'a') + 10
		}
		if acc >= 1e15 {
			acc %= 97
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isAlnum(c) {
			continue
		}
		if h < 4 {
			head[h] = c
			h++
			continue
		}
		step(c)
	}
	for _, c := range head[:h] {
		step(c)
	}
	return int(acc % 97)
}

// ibanValid reports whether compact (letters and digits only, upper case)
// is an IBAN: known country, exact length, digits in the check position,
// mod 97 == 1.
func ibanValid(compact string) bool {
	if len(compact) < 15 || len(compact) > 34 {
		return false
	}
	if ibanLength(compact[0], compact[1]) != len(compact) || !isDigit(compact[2]) || !isDigit(compact[3]) {
		return false
	}
	return mod97(compact) == 1
}

// Country calling codes (ITU-T E.164) and the length range of national
// significant numbers behind them. One- and two-digit codes have their own
// ranges; three-digit codes share a generic range. E.164 codes are prefix
// free, so reading one, then two, then three digits finds the only match.
type ccInfo struct{ min, max uint8 }

var cc2 = func() (t [100]ccInfo) {
	for _, e := range strings.Fields(`20:8-10 27:9-9 30:10-10 31:9-9 32:8-9 33:9-9 34:9-9 36:8-9 39:6-11 40:9-9
		41:9-9 43:4-13 44:9-10 45:8-8 46:7-10 47:8-8 48:9-9 49:6-13 51:8-9 52:10-10 53:8-8 54:10-11 55:10-11
		56:9-9 57:10-10 58:10-10 60:8-10 61:9-9 62:8-12 63:8-10 64:8-10 65:8-8 66:8-9 81:9-10 82:8-10 84:9-10
		86:9-11 90:10-10 91:10-10 92:9-10 93:9-9 94:9-9 95:7-10 98:10-10`) {
		var code, lo, hi int
		parseRange(e, &code, &lo, &hi)
		t[code] = ccInfo{uint8(lo), uint8(hi)}
	}
	return t
}()

// cc3 marks the assigned three-digit country codes.
var cc3 = func() (t [1000]bool) {
	for _, e := range strings.Fields(`211 212 213 216 218 220-258 260-269 290 291 297-299 350-359 370-383 385-387
		389 420 421 423 500-509 590-599 670 672-692 850 852 853 855 856 880 886 960-968 970-977 992-996 998`) {
		lo, hi := e, e
		if a, b, ok := strings.Cut(e, "-"); ok {
			lo, hi = a, b
		}
		l, h := atoi(lo), atoi(hi)
		for c := l; c <= h; c++ {
			t[c] = true
		}
	}
	return t
}()

func atoi(s string) int {
	v := 0
	for i := 0; i < len(s); i++ {
		v = v*10 + int(s[i]-'0')
	}
	return v
}

func parseRange(e string, code, lo, hi *int) {
	c, r, _ := strings.Cut(e, ":")
	l, h, _ := strings.Cut(r, "-")
	*code, *lo, *hi = atoi(c), atoi(l), atoi(h)
}

// ccLen returns the length of the E.164 country code that digits d start
// with, or 0.
func ccLen(d []byte) int {
	switch {
	case len(d) < 3 || d[0] == '0':
		return 0
	case d[0] == '1' || d[0] == '7':
		return 1
	case cc2[prefixNum(d, 2)].max > 0:
		return 2
	case cc3[prefixNum(d, 3)]:
		return 3
	}
	return 0
}

// e164Valid reports whether digits d (country code first, no trunk
// prefix) form a plausible international number: an assigned country
// code and a national number of a length that country uses. For +1 the
// NANP rules apply.
func e164Valid(d []byte) bool {
	n := len(d)
	if n < 8 || n > 15 {
		return false
	}
	switch d[0] {
	case '1':
		return nanpValid(d[1:])
	case '7':
		return n-1 == 10
	case '0':
		return false
	}
	if c := cc2[prefixNum(d, 2)]; c.max > 0 {
		nsn := n - 2
		// Italian fixed lines keep their leading 0 after +39; elsewhere a
		// 0 after the country code is a trunk prefix that is not dialled.
		return nsn >= int(c.min) && nsn <= int(c.max) && (d[2] != '0' || prefixNum(d, 2) == 39)
	}
	if cc3[prefixNum(d, 3)] {
		nsn := n - 3
		return nsn >= 6 && nsn <= 12 && d[3] != '0'
	}
	return false
}

// notTLD lists common file extensions that are not top-level domains, so
// that "logo@2x.png" or "pkg@1.0.js" are not read as e-mail addresses.
// It is a table of words like ctxTable, of 1<<notTLDLog2 slots.
const notTLDLog2 = 8

var notTLD = func() (t [1 << notTLDLog2]ctxSlot) {
	for _, w := range strings.Fields(`png jpg jpeg gif svg webp bmp ico tif tiff js mjs cjs ts tsx jsx py pyc rb
		java class jar json yaml yml toml txt log csv htm html css scss sass less lock ini cfg conf xml pdf doc docx
		xls xlsx ppt pptx gz tgz tar bz2 xz zst exe dll dylib dat db sqlite sql wasm vue kt kts php lua dart exs erl
		hs scala clj swift cpp hpp cxx hxx proto tmpl tpl bak tmp swp orig patch diff env localhost invalid`) {
		addWord(t[:], notTLDLog2, w, 1)
	}
	return t
}()

// validTLD checks the last label of a domain: letters only (ASCII or
// not), or an xn-- punycode label, at least two characters, and not a
// file extension.
func validTLD(tld string) bool { return validTLDIn(tld, 0, len(tld)) }

// validTLDIn is validTLD on t[s:e]; with the whole text at hand, the
// label is packed for its table lookup with plain loads.
func validTLDIn(t string, s, e int) bool {
	tld := t[s:e]
	if len(tld) < 2 || len(tld) > 63 {
		return false
	}
	if strings.HasPrefix(tld, "xn--") || strings.HasPrefix(tld, "XN--") {
		return len(tld) > 4
	}
	ascii := true
	for i := 0; i < len(tld); i++ {
		c := tld[i]
		if c >= 0x80 {
			ascii = false
			continue
		}
		if !isLetter(c) {
			return false
		}
	}
	if !ascii {
		return true
	}
	if len(tld) > 24 {
		return false
	}
	if len(tld) > ctxMaxLen {
		return true // longer than any file extension
	}
	ka, kb := wordKey(t, s, e)
	return findWord(notTLD[:], notTLDLog2, lower8(ka), lower8(kb), len(tld)) == 0
}

// base58 alphabet of Bitcoin; base58Val maps a byte to its digit + 1
// (0 = not in the alphabet).
const base58Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

var base58Val = func() (t [256]uint8) {
	for i := 0; i < len(base58Alphabet); i++ {
		t[base58Alphabet[i]] = uint8(i + 1)
	}
	return t
}()

// base58Check decodes a legacy Bitcoin address (P2PKH "1…", P2SH "3…")
// and verifies its version byte and double-SHA-256 checksum.
func base58Check(s string) bool {
	if len(s) < 26 || len(s) > 35 {
		return false
	}
	// The number is built in 32-bit limbs, big-endian, from up to five
	// digits at a time (58^5 < 2^30): eight limbs leave room for one step
	// past 2^200, and a number past 2^200 (more than 25 bytes) stays past
	// it, so checking after each step is the same as after each digit.
	var limb [8]uint32
	for i := 0; i < len(s); {
		mul, add := uint64(1), uint64(0)
		for k := 0; k < 5 && i < len(s); k, i = k+1, i+1 {
			v := base58Val[s[i]]
			if v == 0 {
				return false
			}
			mul, add = mul*58, add*58+uint64(v-1)
		}
		carry := add
		for j := len(limb) - 1; j >= 0; j-- {
			carry += uint64(limb[j]) * mul
			limb[j] = uint32(carry)
			carry >>= 32
		}
		if limb[0] != 0 || limb[1] > 0xff {
			return false // more than 25 bytes
		}
	}
	var out [25]byte
	out[0] = byte(limb[1])
	for j := 2; j < len(limb); j++ {
		binary.BigEndian.PutUint32(out[1+4*(j-2):], limb[j])
	}
	// Each leading '1' encodes one leading zero byte; the number of zero
	// bytes must agree, or the string is a different encoding.
	ones := 0
	for ones < len(s) && s[ones] == '1' {
		ones++
	}
	zeros := 0
	for zeros < len(out) && out[zeros] == 0 {
		zeros++
	}
	if ones != zeros {
		return false
	}
	switch {
	case s[0] == '1' && out[0] == 0x00:
	case s[0] == '3' && out[0] == 0x05:
	default:
		return false
	}
	h1 := sha256.Sum256(out[:21])
	h2 := sha256.Sum256(h1[:])
	return h2[0] == out[21] && h2[1] == out[22] && h2[2] == out[23] && h2[3] == out[24]
}

// bech32 character set and reverse table (value + 1, 0 = invalid).
const bech32Charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"

var bech32Val = func() (t [256]uint8) {
	for i := 0; i < len(bech32Charset); i++ {
		c := bech32Charset[i]
		t[c] = uint8(i + 1)
		if c >= 'a' && c <= 'z' {
			t[c-'a'+'A'] = uint8(i + 1)
		}
	}
	return t
}()

const (
	bech32Const  = 1
	bech32mConst = 0x2bc830a3
)

func bech32Polymod(v uint32, b byte) uint32 {
	gen := [5]uint32{0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3}
	top := v >> 25
	v = (v&0x1ffffff)<<5 ^ uint32(b)
	for i := 0; i < 5; i++ {
		if (top>>uint(i))&1 == 1 {
			v ^= gen[i]
		}
	}
	return v
}

// bech32Checksum returns the polymod residue of a bech32 string "hrp1data"
// (BIP 173): 1 for bech32, bech32mConst for bech32m (BIP 350), anything
// else for an invalid string. Mixed case is invalid.
func bech32Checksum(s string) uint32 {
	sep := strings.LastIndexByte(s, '1')
	if sep < 1 || sep+7 > len(s) || len(s) > 90 {
		return 0
	}
	hasLower, hasUpper := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 33 || c > 126 {
			return 0
		}
		hasLower = hasLower || (c >= 'a' && c <= 'z')
		hasUpper = hasUpper || (c >= 'A' && c <= 'Z')
	}
	if hasLower && hasUpper {
		return 0
	}
	v := uint32(1)
	for i := 0; i < sep; i++ {
		v = bech32Polymod(v, lower(s[i])>>5)
	}
	v = bech32Polymod(v, 0)
	for i := 0; i < sep; i++ {
		v = bech32Polymod(v, lower(s[i])&31)
	}
	for i := sep + 1; i < len(s); i++ {
		d := bech32Val[s[i]]
		if d == 0 {
			return 0
		}
		v = bech32Polymod(v, d-1)
	}
	return v
}

// segwitValid checks a Bitcoin segwit address (bc1…, tb1…): bech32 for
// witness version 0, bech32m for versions 1-16 (BIP 350), and a program
// length that the version allows.
func segwitValid(s string) bool {
	if len(s) < 14 || len(s) > 74 {
		return false
	}
	sep := strings.LastIndexByte(s, '1')
	if sep != 2 {
		return false
	}
	ver := bech32Val[s[3]]
	if ver == 0 {
		return false
	}
	ver--
	c := bech32Checksum(s)
	switch {
	case ver == 0 && c == bech32Const:
		// program of 20 (P2WPKH) or 32 (P2WSH) bytes: 33 or 53 data chars
		// after the version, 6 of them checksum.
		n := len(s) - 4 - 6
		return n == 32 || n == 52
	case ver > 0 && ver <= 16 && c == bech32mConst:
		return true
	}
	return false
}

// githubChecksum verifies the CRC-32 of a GitHub-style token body: 30
// random base62 characters followed by 6 base62 characters ("0-9A-Za-z",
// big-endian, zero-padded) encoding the IEEE CRC-32 of those 30.
// GitHub's classic tokens (ghp_ and friends) and npm's npm_ tokens use it.
func githubChecksum(body string) bool {
	if len(body) != 36 {
		return false
	}
	var v uint64
	for i := 30; i < 36; i++ {
		d, ok := base62Digit(body[i])
		if !ok {
			return false
		}
		v = v*62 + uint64(d)
	}
	return v == uint64(crc32String(body[:30]))
}

// crc32String is crc32.ChecksumIEEE over a string; passing a slice to
// the crc32 package would make it escape and allocate.
func crc32String(s string) uint32 {
	c := ^uint32(0)
	for i := 0; i < len(s); i++ {
		c = crc32.IEEETable[byte(c)^s[i]] ^ c>>8
	}
	return ^c
}

func base62Digit(c byte) (int, bool) {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0'), true
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 10, true
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 36, true
	}
	return 0, false
}

// jwtHeaderOK decodes the first part of a JWT (base64url, no padding) and
// checks that it is a JSON object naming an "alg".
func jwtHeaderOK(part string) bool {
	if len(part) < 8 || len(part) > 1024 {
		return false
	}
	var buf [768]byte
	n, ok := decodeBase64URL(buf[:], part)
	if !ok {
		return false
	}
	h := buf[:n]
	i := 0
	for i < len(h) && (h[i] == ' ' || h[i] == '\t' || h[i] == '\r' || h[i] == '\n') {
		i++
	}
	j := len(h)
	for j > i && (h[j-1] == ' ' || h[j-1] == '\t' || h[j-1] == '\r' || h[j-1] == '\n') {
		j--
	}
	if j-i < 2 || h[i] != '{' || h[j-1] != '}' {
		return false
	}
	return bytes.Contains(h[i:j], []byte(`"alg"`))
}

// b64url maps a base64url byte to its value + 1 (0 = not in the alphabet).
var b64url = func() (t [256]uint8) {
	const a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := 0; i < len(a); i++ {
		t[a[i]] = uint8(i + 1)
	}
	return t
}()

// decodeBase64URL decodes unpadded base64url s into dst without
// allocating; it fails on bad characters, a dangling sixth bit group or
// a dst that is too small.
func decodeBase64URL(dst []byte, s string) (int, bool) {
	if len(s)%4 == 1 || len(s)/4*3+2 > len(dst) {
		return 0, false
	}
	n := 0
	var acc uint32
	bitsHeld := 0
	for i := 0; i < len(s); i++ {
		v := b64url[s[i]]
		if v == 0 {
			return 0, false
		}
		acc = acc<<6 | uint32(v-1)
		bitsHeld += 6
		if bitsHeld >= 8 {
			bitsHeld -= 8
			dst[n] = byte(acc >> uint(bitsHeld))
			n++
		}
	}
	return n, true
}

// keccakRC are the round constants of Keccak-f[1600].
var keccakRC = [24]uint64{
	0x0000000000000001, 0x0000000000008082, 0x800000000000808A, 0x8000000080008000,
	0x000000000000808B, 0x0000000080000001, 0x8000000080008081, 0x8000000000008009,
	0x000000000000008A, 0x0000000000000088, 0x0000000080008009, 0x000000008000000A,
	0x000000008000808B, 0x800000000000008B, 0x8000000000008089, 0x8000000000008003,
	0x8000000000008002, 0x8000000000000080, 0x000000000000800A, 0x800000008000000A,
	0x8000000080008081, 0x8000000000008080, 0x0000000080000001, 0x8000000080008008,
}

// keccakF is the Keccak-f[1600] permutation on lanes a[x+5y]. The 25
// lanes live in variables for all 24 rounds, and theta, rho, pi and chi
// are written out lane by lane, so no round indexes an array.
func keccakF(st *[25]uint64) {
	a00, a10, a20, a30, a40 := st[0], st[1], st[2], st[3], st[4]
	a01, a11, a21, a31, a41 := st[5], st[6], st[7], st[8], st[9]
	a02, a12, a22, a32, a42 := st[10], st[11], st[12], st[13], st[14]
	a03, a13, a23, a33, a43 := st[15], st[16], st[17], st[18], st[19]
	a04, a14, a24, a34, a44 := st[20], st[21], st[22], st[23], st[24]
	for round := range keccakRC {
		// theta
		c0 := a00 ^ a01 ^ a02 ^ a03 ^ a04
		c1 := a10 ^ a11 ^ a12 ^ a13 ^ a14
		c2 := a20 ^ a21 ^ a22 ^ a23 ^ a24
		c3 := a30 ^ a31 ^ a32 ^ a33 ^ a34
		c4 := a40 ^ a41 ^ a42 ^ a43 ^ a44
		d0 := c4 ^ bits.RotateLeft64(c1, 1)
		d1 := c0 ^ bits.RotateLeft64(c2, 1)
		d2 := c1 ^ bits.RotateLeft64(c3, 1)
		d3 := c2 ^ bits.RotateLeft64(c4, 1)
		d4 := c3 ^ bits.RotateLeft64(c0, 1)
		a00, a10, a20, a30, a40 = a00^d0, a10^d1, a20^d2, a30^d3, a40^d4
		a01, a11, a21, a31, a41 = a01^d0, a11^d1, a21^d2, a31^d3, a41^d4
		a02, a12, a22, a32, a42 = a02^d0, a12^d1, a22^d2, a32^d3, a42^d4
		a03, a13, a23, a33, a43 = a03^d0, a13^d1, a23^d2, a33^d3, a43^d4
		a04, a14, a24, a34, a44 = a04^d0, a14^d1, a24^d2, a34^d3, a44^d4
		// rho and pi: lane (x, y) moves to (y, 2x+3y)
		b00 := a00
		b13 := bits.RotateLeft64(a01, 36)
		b21 := bits.RotateLeft64(a02, 3)
		b34 := bits.RotateLeft64(a03, 41)
		b42 := bits.RotateLeft64(a04, 18)
		b02 := bits.RotateLeft64(a10, 1)
		b10 := bits.RotateLeft64(a11, 44)
		b23 := bits.RotateLeft64(a12, 10)
		b31 := bits.RotateLeft64(a13, 45)
		b44 := bits.RotateLeft64(a14, 2)
		b04 := bits.RotateLeft64(a20, 62)
		b12 := bits.RotateLeft64(a21, 6)
		b20 := bits.RotateLeft64(a22, 43)
		b33 := bits.RotateLeft64(a23, 15)
		b41 := bits.RotateLeft64(a24, 61)
		b01 := bits.RotateLeft64(a30, 28)
		b14 := bits.RotateLeft64(a31, 55)
		b22 := bits.RotateLeft64(a32, 25)
		b30 := bits.RotateLeft64(a33, 21)
		b43 := bits.RotateLeft64(a34, 56)
		b03 := bits.RotateLeft64(a40, 27)
		b11 := bits.RotateLeft64(a41, 20)
		b24 := bits.RotateLeft64(a42, 39)
		b32 := bits.RotateLeft64(a43, 8)
		b40 := bits.RotateLeft64(a44, 14)
		// chi
		a00, a10, a20, a30, a40 = b00^(^b10&b20), b10^(^b20&b30), b20^(^b30&b40), b30^(^b40&b00), b40^(^b00&b10)
		a01, a11, a21, a31, a41 = b01^(^b11&b21), b11^(^b21&b31), b21^(^b31&b41), b31^(^b41&b01), b41^(^b01&b11)
		a02, a12, a22, a32, a42 = b02^(^b12&b22), b12^(^b22&b32), b22^(^b32&b42), b32^(^b42&b02), b42^(^b02&b12)
		a03, a13, a23, a33, a43 = b03^(^b13&b23), b13^(^b23&b33), b23^(^b33&b43), b33^(^b43&b03), b43^(^b03&b13)
		a04, a14, a24, a34, a44 = b04^(^b14&b24), b14^(^b24&b34), b24^(^b34&b44), b34^(^b44&b04), b44^(^b04&b14)
		// iota
		a00 ^= keccakRC[round]
	}
	st[0], st[1], st[2], st[3], st[4] = a00, a10, a20, a30, a40
	st[5], st[6], st[7], st[8], st[9] = a01, a11, a21, a31, a41
	st[10], st[11], st[12], st[13], st[14] = a02, a12, a22, a32, a42
	st[15], st[16], st[17], st[18], st[19] = a03, a13, a23, a33, a43
	st[20], st[21], st[22], st[23], st[24] = a04, a14, a24, a34, a44
}

// keccak256 is the original Keccak-256 (the 0x01 padding Ethereum uses,
// not SHA3-256) of a message shorter than one 136-byte block. Ethereum
// needs it only for EIP-55; a private copy keeps it allocation-free.
func keccak256(msg []byte) (out [32]byte) {
	const rate = 136
	if len(msg) >= rate {
		panic("pii: keccak256 input longer than one block")
	}
	var block [rate]byte
	copy(block[:], msg)
	block[len(msg)] ^= 0x01
	block[rate-1] ^= 0x80
	var a [25]uint64
	for i := 0; i < rate/8; i++ {
		a[i] ^= binary.LittleEndian.Uint64(block[i*8:])
	}
	keccakF(&a)
	for i := 0; i < 4; i++ {
		binary.LittleEndian.PutUint64(out[i*8:], a[i])
	}
	return out
}

// eip55Valid checks the mixed-case checksum of an Ethereum address (the
// 40 hex digits after 0x): a letter is upper case exactly when the
// matching nibble of keccak256(lower-case hex) is 8 or more.
func eip55Valid(hex40 string) bool {
	var low [40]byte
	for i := 0; i < 40; i++ {
		low[i] = lower(hex40[i])
	}
	h := keccak256(low[:])
	for i := 0; i < 40; i++ {
		c := hex40[i]
		if c <= '9' {
			continue
		}
		nib := h[i/2] >> 4
		if i%2 == 1 {
			nib = h[i/2] & 0x0f
		}
		if (nib >= 8) != (c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}
