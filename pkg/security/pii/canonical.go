package pii

import (
	"net/netip"
	"strings"
)

// appendCanonical appends the canonical form of value v of type t to dst:
// what StrategyHash keys on, so that one value written in different ways
// gets one pseudonym and analysts can still join on it. These forms, like
// the token, must never change: pseudonyms written under them are
// compared across events and over time.
//
//	PHONE              "+" and the digits when the country is known (a
//	                   leading '+' or 00, or a valid NANP number, which
//	                   gets its +1), otherwise the digits; a trunk "(0)"
//	                   after the country code is dropped; an extension
//	                   becomes ";ext=" and its digits
//	SSN, CREDIT_CARD   the digits
//	IBAN               letters and digits, letters upper case
//	EMAIL              lower case (the whole address)
//	IP_ADDRESS         net/netip's text form (lower case, shortest IPv6),
//	                   then the zone and the prefix length as written
//	MAC_ADDRESS        twelve lower-case hex digits as aa:bb:cc:dd:ee:ff
//	CRYPTO             Ethereum (0x…) and bech32 addresses lower case:
//	                   their case is a checksum or carries nothing
//	anything else      unchanged
func appendCanonical(dst []byte, t, v string) []byte {
	k, ok := kindOf(t)
	if !ok {
		return append(dst, v...)
	}
	switch k {
	case kPhone:
		return appendCanonicalPhone(dst, v)
	case kSSN, kCard:
		for i := 0; i < len(v); i++ {
			if isDigit(v[i]) {
				dst = append(dst, v[i])
			}
		}
		return dst
	case kIBAN:
		for i := 0; i < len(v); i++ {
			if c := v[i]; isAlnum(c) {
				if c >= 'a' && c <= 'z' {
					c -= 'a' - 'A'
				}
				dst = append(dst, c)
			}
		}
		return dst
	case kEmail:
		return append(dst, strings.ToLower(v)...)
	case kIP:
		return appendCanonicalIP(dst, v)
	case kMAC:
		n := 0
		for i := 0; i < len(v); i++ {
			if isHex(v[i]) {
				if n > 0 && n%2 == 0 {
					dst = append(dst, ':')
				}
				dst = append(dst, lower(v[i]))
				n++
			}
		}
		return dst
	case kCrypto:
		if hasPrefixFold(v, "0x") || hasPrefixFold(v, "bc1") || hasPrefixFold(v, "tb1") {
			for i := 0; i < len(v); i++ {
				dst = append(dst, lower(v[i]))
			}
			return dst
		}
	}
	return append(dst, v...)
}

// appendCanonicalPhone writes a phone number as E.164 when its country is
// known, see appendCanonical.
func appendCanonicalPhone(dst []byte, v string) []byte {
	var d [24]byte
	nd := 0
	ext := len(v)
	plus := strings.HasPrefix(v, "+")
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == 'x' || c == 'X' || c == 'e' || c == 'E' || c == '#' {
			ext = i
			break
		}
		if plus && c == '(' && i+2 < len(v) && v[i+1] == '0' && v[i+2] == ')' {
			i += 2 // "(0)": a trunk prefix that is not dialled from abroad
			continue
		}
		if isDigit(c) && nd < len(d) {
			d[nd] = c
			nd++
		}
	}
	digits := d[:nd]
	switch {
	case plus:
		dst = append(append(dst, '+'), digits...)
	case nd > 2 && digits[0] == '0' && digits[1] == '0' && e164Valid(digits[2:]):
		dst = append(append(dst, '+'), digits[2:]...)
	case nd == 10 && nanpValid(digits):
		dst = append(append(dst, "+1"...), digits...)
	case nd == 11 && digits[0] == '1' && nanpValid(digits[1:]):
		dst = append(append(dst, '+'), digits...)
	default:
		dst = append(dst, digits...)
	}
	if ext < len(v) {
		dst = append(dst, ";ext="...)
		for i := ext; i < len(v); i++ {
			if isDigit(v[i]) {
				dst = append(dst, v[i])
			}
		}
	}
	return dst
}

// appendCanonicalIP writes netip's form of the address, then its zone and
// prefix length as written.
func appendCanonicalIP(dst []byte, v string) []byte {
	addr, prefix := v, ""
	if i := strings.LastIndexByte(addr, '/'); i >= 0 {
		addr, prefix = addr[:i], addr[i:]
	}
	zone := ""
	if i := strings.IndexByte(addr, '%'); i >= 0 {
		addr, zone = addr[:i], addr[i:]
	}
	a, err := netip.ParseAddr(addr)
	if err != nil {
		for i := 0; i < len(v); i++ {
			dst = append(dst, lower(v[i]))
		}
		return dst
	}
	dst = a.AppendTo(dst)
	return append(append(dst, zone...), prefix...)
}
