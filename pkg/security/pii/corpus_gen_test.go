package pii

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"strings"
)

// This file generates testdata/corpus.jsonl: realistic agent text with
// every PII span labelled. It is deterministic (a fixed PCG seed), so the
// corpus is reviewable and regenerated only on purpose:
//
//	go test -run TestGenerateCorpus -update ./pkg/security/pii
//
// Labels follow the package's definitions at high sensitivity: every URL
// is a URL span (a URL contains what is inside it), IP addresses that
// name no host are not labelled, and a value is labelled even when it is
// an obvious test value (4111 1111 1111 1111 is still a card number).
// Filler is full of hard negatives: ids, hashes, timestamps, versions,
// ports, Luhn-failing numbers, invalid SSNs, base64 that is not a JWT.

type span struct {
	Type  string `json:"type"`
	Start int    `json:"start"`
	End   int    `json:"end"`
}

type sample struct {
	Text  string `json:"text"`
	Spans []span `json:"spans"`
}

type gen struct{ r *rand.Rand }

type doc struct {
	b     strings.Builder
	spans []span
}

func (d *doc) s(parts ...string) {
	for _, p := range parts {
		d.b.WriteString(p)
	}
}

func (d *doc) p(typ, v string) {
	start := d.b.Len()
	d.b.WriteString(v)
	d.spans = append(d.spans, span{typ, start, d.b.Len()})
}

// url writes a URL labelled URL, and its host labelled IP_ADDRESS too
// when the host is an IP address (the detector reports both).
func (d *doc) url(v string) {
	start := d.b.Len()
	d.p(TypeURL, v)
	rest := v[strings.Index(v, "://")+3:]
	if k := strings.IndexAny(rest, "/?#"); k >= 0 {
		rest = rest[:k]
	}
	hs := start + len(v) - len(v[strings.Index(v, "://")+3:])
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		hs += at + 1
		rest = rest[at+1:]
	}
	host := rest
	if strings.HasPrefix(host, "[") {
		host = host[1:strings.IndexByte(host, ']')]
		hs++
	} else if k := strings.LastIndexByte(host, ':'); k >= 0 {
		host = host[:k]
	}
	if _, err := netip.ParseAddr(host); err == nil {
		d.spans = append(d.spans, span{TypeIPAddress, hs, hs + len(host)})
	}
}

func (g *gen) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }
func (g *gen) n(lo, hi int) int         { return lo + g.r.IntN(hi-lo+1) }
func (g *gen) chance(p float64) bool    { return g.r.Float64() < p }
func (g *gen) str(n int, alphabet string) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[g.r.IntN(len(alphabet))]
	}
	return string(b)
}
func (g *gen) digits(n int) string { return g.str(n, "0123456789") }

// ---- names ----

var (
	firstNames = []string{"jane", "john", "maria", "jürgen", "françois", "søren", "zoë", "aiko", "wei", "olga", "priya",
		"ahmed", "lucía", "mateo", "chloé", "björn", "siobhan", "kwame", "emma", "liam", "noah", "olivia", "yuki", "ivan"}
	lastNames = []string{"doe", "smith", "garcia", "müller", "dubois", "nielsen", "tanaka", "wang", "ivanova", "patel",
		"hassan", "rossi", "kowalski", "oconnor", "schmidt", "martin", "silva", "kim", "nguyen", "berg"}
	domains = []string{"example.com", "example.org", "acme.io", "mail.example.co.uk", "corp.example.net", "example.de",
		"example.fr", "example.jp", "startup.ai", "uni-example.edu", "bücher.de", "example.com.br", "shop.example"}
)

func title(s string) string {
	r := []rune(s)
	if len(r) > 0 && r[0] < 128 {
		r[0] = rune(strings.ToUpper(string(r[0]))[0])
	}
	return string(r)
}

func fold(s string) string {
	return strings.NewReplacer("ü", "ue", "ç", "c", "ø", "o", "ë", "e", "í", "i", "é", "e", "ö", "oe").Replace(s)
}

func (g *gen) name() (string, string) {
	return firstNames[g.r.IntN(len(firstNames))], lastNames[g.r.IntN(len(lastNames))]
}

func (g *gen) fullName() string {
	f, l := g.name()
	return title(f) + " " + title(l)
}

// ---- positives ----

func (g *gen) email() string {
	f, l := g.name()
	if g.chance(0.7) {
		f, l = fold(f), fold(l)
	}
	var local string
	switch g.r.IntN(7) {
	case 0:
		local = f + "." + l
	case 1:
		local = f + l
	case 2:
		local = f[:1] + "." + l
	case 3:
		local = f + "_" + l
	case 4:
		local = f + "+" + g.pick("billing", "news", "test", "work")
	case 5:
		local = l + "." + f + g.digits(2)
	default:
		local = f
	}
	return local + "@" + g.pick(domains...)
}

var areaCodes = []string{"201", "212", "213", "305", "312", "415", "425", "503", "617", "646", "702", "713", "808", "917", "206", "404"}

func (g *gen) nanp() (a, e, l string) {
	a = g.pick(areaCodes...)
	e = strconv.Itoa(g.n(2, 9)) + g.digits(2)
	if e[1:] == "11" {
		e = e[:2] + "2"
	}
	return a, e, g.digits(4)
}

// phone returns a number that stands on its own (formatted NANP or
// international).
func (g *gen) phone() string {
	var p string
	if g.chance(0.5) {
		a, e, l := g.nanp()
		p = fmt.Sprintf(g.pick("(%s) %s-%s", "%s-%s-%s", "%s.%s.%s", "+1 %s %s %s", "+1 (%s) %s-%s", "+1-%s-%s-%s", "1-%s-%s-%s", "+1%s%s%s"), a, e, l)
	} else {
		switch g.r.IntN(16) {
		case 0:
			p = "+44 20 7946 " + g.digits(4)
		case 1:
			p = "+44 7700 900" + g.digits(3)
		case 2:
			p = "+49 30 " + strconv.Itoa(g.n(2, 9)) + g.digits(5)
		case 3:
			p = "+49 151 " + g.digits(8)
		case 4:
			p = fmt.Sprintf("+33 %d %s %s %s %s", g.n(1, 7), g.digits(2), g.digits(2), g.digits(2), g.digits(2))
		case 5:
			p = "+34 6" + g.digits(2) + " " + g.digits(3) + " " + g.digits(3)
		case 6:
			p = "+39 06 " + g.digits(4) + " " + g.digits(4)
		case 7:
			p = "+31 20 " + strconv.Itoa(g.n(2, 9)) + g.digits(2) + " " + g.digits(4)
		case 8:
			p = "+41 44 " + strconv.Itoa(g.n(2, 9)) + g.digits(2) + " " + g.digits(2) + " " + g.digits(2)
		case 9:
			p = "+91 9" + g.digits(4) + " " + g.digits(5)
		case 10:
			p = "+86 13" + g.digits(1) + " " + g.digits(4) + " " + g.digits(4)
		case 11:
			p = "+81 3-" + g.digits(4) + "-" + g.digits(4)
		case 12:
			p = "+61 2 " + strconv.Itoa(g.n(2, 9)) + g.digits(3) + " " + g.digits(4)
		case 13:
			p = "+55 11 9" + g.digits(4) + "-" + g.digits(4)
		case 14:
			p = "+7 495 " + strconv.Itoa(g.n(2, 9)) + g.digits(2) + "-" + g.digits(2) + "-" + g.digits(2)
		default:
			p = "+49 (0)30 " + strconv.Itoa(g.n(2, 9)) + g.digits(5)
		}
	}
	if g.chance(0.1) {
		p += g.pick(" ext. ", " x", " ext ") + g.digits(g.n(2, 4))
	}
	return p
}

// weakPhone returns a number that needs a context word.
func (g *gen) weakPhone() string {
	a, e, l := g.nanp()
	switch g.r.IntN(5) {
	case 0:
		return a + e + l
	case 1:
		return "1" + a + e + l
	case 2:
		return "030 " + strconv.Itoa(g.n(2, 9)) + g.digits(5)
	case 3:
		return "07700 900" + g.digits(3)
	default:
		return fmt.Sprintf("06 %s %s %s %s", g.digits(2), g.digits(2), g.digits(2), g.digits(2))
	}
}

func (g *gen) ssnDigits() string {
	for {
		area := g.n(1, 899)
		if area == 666 {
			continue
		}
		s := fmt.Sprintf("%03d%02d%04d", area, g.n(1, 99), g.n(1, 9999))
		if ssnValid([]byte(s)) {
			return s
		}
	}
}

func (g *gen) ssn() string {
	s := g.ssnDigits()
	sep := g.pick("-", "-", "-", " ")
	return s[:3] + sep + s[3:5] + sep + s[5:]
}

func luhnComplete(prefix string, n int) string {
	for len(prefix) < n-1 {
		prefix += "0"
	}
	for c := byte('0'); c <= '9'; c++ {
		if luhn(prefix + string(c)) {
			return prefix + string(c)
		}
	}
	panic("unreachable")
}

func (g *gen) cardNumber() string {
	var prefix string
	n := 16
	switch g.r.IntN(8) {
	case 0, 1:
		prefix = "4"
	case 2:
		prefix = strconv.Itoa(g.n(51, 55))
	case 3:
		prefix = strconv.Itoa(g.n(2221, 2720))
	case 4:
		prefix, n = g.pick("34", "37"), 15
	case 5:
		prefix = "6011"
	case 6:
		prefix = strconv.Itoa(g.n(3528, 3589))
	default:
		prefix, n = "36", 14
	}
	return luhnComplete(prefix+g.digits(n-1-len(prefix)), n)
}

func (g *gen) card() string {
	c := g.cardNumber()
	switch {
	case len(c) == 15 && g.chance(0.5):
		return c[:4] + " " + c[4:10] + " " + c[10:]
	case len(c) == 16 && g.chance(0.6):
		sep := g.pick(" ", "-")
		return c[:4] + sep + c[4:8] + sep + c[8:12] + sep + c[12:]
	}
	return c
}

var ibanBBAN = map[string]string{ // country: BBAN shape, A = letter, 9 = digit
	"DE": "999999999999999999", "GB": "AAAA99999999999999", "FR": "99999999999999999999999", "ES": "99999999999999999999",
	"IT": "A9999999999999999999999", "NL": "AAAA9999999999", "BE": "999999999999", "CH": "99999999999999999",
	"AT": "9999999999999999", "PL": "999999999999999999999999", "SE": "99999999999999999999", "NO": "99999999999",
	"DK": "99999999999999", "IE": "AAAA99999999999999", "PT": "999999999999999999999",
}

var ibanCountries = []string{"DE", "GB", "FR", "ES", "IT", "NL", "BE", "CH", "AT", "PL", "SE", "NO", "DK", "IE", "PT"}

func (g *gen) iban() string {
	cc := g.pick(ibanCountries...)
	var b strings.Builder
	for _, c := range ibanBBAN[cc] {
		if c == 'A' {
			b.WriteByte(byte('A' + g.r.IntN(26)))
		} else {
			b.WriteByte(byte('0' + g.r.IntN(10)))
		}
	}
	bban := b.String()
	check := 98 - mod97(cc+"00"+bban)
	iban := fmt.Sprintf("%s%02d%s", cc, check, bban)
	if g.chance(0.4) {
		var out []string
		for i := 0; i < len(iban); i += 4 {
			out = append(out, iban[i:min(i+4, len(iban))])
		}
		return strings.Join(out, " ")
	}
	return iban
}

func (g *gen) ipv4() string {
	switch g.r.IntN(6) {
	case 0:
		return fmt.Sprintf("10.%d.%d.%d", g.n(0, 255), g.n(0, 255), g.n(1, 254))
	case 1:
		return fmt.Sprintf("192.168.%d.%d", g.n(0, 255), g.n(1, 254))
	case 2:
		return fmt.Sprintf("172.%d.%d.%d", g.n(16, 31), g.n(0, 255), g.n(1, 254))
	case 3:
		return fmt.Sprintf("203.0.113.%d", g.n(1, 254))
	case 4:
		return fmt.Sprintf("198.51.100.%d", g.n(1, 254))
	}
	return fmt.Sprintf("%s.%d.%d.%d", g.pick("8", "23", "34", "52", "81", "93", "104", "142", "185"), g.n(0, 255), g.n(0, 255), g.n(1, 254))
}

func (g *gen) ipv6() string {
	h := func() string { return strconv.FormatInt(int64(g.n(1, 0xffff)), 16) }
	switch g.r.IntN(3) {
	case 0:
		return "2001:db8:" + h() + ":" + h() + "::" + h()
	case 1:
		return "fe80::" + h() + ":" + h() + ":" + h() + ":" + h()
	}
	parts := []string{"2a01", h(), h(), h(), h(), h(), h(), h()}
	return strings.Join(parts, ":")
}

func (g *gen) ip() string {
	if g.chance(0.25) {
		return g.ipv6()
	}
	return g.ipv4()
}

func (g *gen) mac() string {
	b := make([]string, 6)
	for i := range b {
		b[i] = fmt.Sprintf("%02x", g.n(0, 255))
	}
	if b[0] == "00" && b[1] == "00" {
		b[0] = "3c"
	}
	s := strings.Join(b, g.pick(":", ":", "-"))
	if g.chance(0.4) {
		s = strings.ToUpper(s)
	}
	return s
}

func (g *gen) bytesN(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(g.r.IntN(256))
	}
	return b
}

func base58Encode(b []byte) string {
	zeros := 0
	for zeros < len(b) && b[zeros] == 0 {
		zeros++
	}
	num := append([]byte(nil), b...)
	var out []byte
	for len(num) > 0 {
		rem := 0
		var q []byte
		for _, c := range num {
			acc := rem*256 + int(c)
			if d := acc / 58; len(q) > 0 || d > 0 {
				q = append(q, byte(d))
			}
			rem = acc % 58
		}
		out = append(out, base58Alphabet[rem])
		num = q
	}
	for i := 0; i < zeros; i++ {
		out = append(out, '1')
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return string(out)
}

func (g *gen) crypto() string {
	switch g.r.IntN(5) {
	case 0, 1:
		ver := byte(0)
		if g.chance(0.3) {
			ver = 5
		}
		payload := append([]byte{ver}, g.bytesN(20)...)
		h1 := sha256.Sum256(payload)
		h2 := sha256.Sum256(h1[:])
		return base58Encode(append(payload, h2[:4]...))
	case 2:
		if g.chance(0.5) {
			return segwitAddr(0, 20, g.r.Uint64())
		}
		return segwitAddr(1, 32, g.r.Uint64())
	}
	addr := hex.EncodeToString(g.bytesN(20))
	if g.chance(0.7) {
		h := keccak256([]byte(addr))
		b := []byte(addr)
		for i := range b {
			nib := h[i/2] >> 4
			if i%2 == 1 {
				nib = h[i/2] & 0xf
			}
			if b[i] >= 'a' && nib >= 8 {
				b[i] -= 'a' - 'A'
			}
		}
		addr = string(b)
	}
	return "0x" + addr
}

func (g *gen) url() string {
	return g.pick(
		"https://docs.example.com/guide/install#linux",
		"https://github.com/acme/app/pull/"+strconv.Itoa(g.n(100, 9999)),
		"http://127.0.0.1:"+g.pick("3000", "8080", "5173")+"/api/health?verbose=1",
		"https://api.example.com/v1/users/"+strconv.Itoa(g.n(1, 99999)),
		"https://cdn.example.net/img/logo@2x.png",
		"https://status.example.io/incidents/"+g.str(12, "abcdefghijklmnopqrstuvwxyz0123456789"),
		"https://en.wikipedia.org/wiki/Luhn_algorithm",
		"https://example.com/search?q=pii+masking&page=2",
		"https://registry.npmjs.org/lodash/-/lodash-4.17.21.tgz",
		"https://acme-logs.s3.amazonaws.com/2024/01/15/app.log.gz",
		"https://grafana.internal:3000/d/"+g.str(9, "abcdefghijklmnopqrstuvwxyz0123456789")+"/latency?orgId=1&from=now-6h",
	)
}

func (g *gen) urlCreds() string {
	return g.pick(
		"postgres://app:"+g.str(12, alnum)+"@db.internal:5432/orders",
		"redis://:"+g.str(16, alnum)+"@cache.internal:6379/0",
		"mongodb+srv://admin:"+g.str(10, alnum)+"@cluster0.ab1cd.mongodb.net/prod?retryWrites=true",
		"amqp://guest:guest@rabbitmq:5672/",
		"https://deploy:"+g.str(20, alnum)+"@git.example.com/acme/app.git",
		"https://api.example.com/export?format=csv&token="+g.str(24, alnum),
		"https://hooks.slack.com/services/T"+g.str(8, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")+"/B"+g.str(10, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")+"/"+g.str(24, alnum),
		"mysql://root:"+g.str(8, alnum)+"@127.0.0.1:3306/shop",
		"https://storage.example.com/bucket/report.pdf?X-Amz-Signature="+g.str(64, "0123456789abcdef")+"&X-Amz-Expires=3600",
	)
}

func (g *gen) aws() string {
	return g.pick("AKIA", "AKIA", "ASIA") + g.str(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
}

func (g *gen) awsSecret() string {
	for {
		k := g.str(40, alnum+"/+")
		if hasUpperLower(k) && strings.ContainsAny(k, "0123456789") && !strings.ContainsAny(k[:1], "/+") {
			return k
		}
	}
}

func (g *gen) github() string {
	if g.chance(0.2) {
		return "github_pat_11" + g.str(20, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") + "_" + g.str(59, alnum)
	}
	body := g.str(30, alnum)
	return g.pick("ghp_", "ghp_", "gho_", "ghu_", "ghs_", "ghr_") + body + base62CRC(body)
}

func b64u(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func (g *gen) jwt() string {
	header := g.pick(`{"alg":"HS256","typ":"JWT"}`, `{"alg":"RS256","kid":"`+g.str(8, "abcdef0123456789")+`","typ":"JWT"}`, `{"typ":"JWT","alg":"ES256"}`)
	payload := fmt.Sprintf(`{"sub":"%d","name":"%s","iat":%d,"exp":%d}`, g.n(1, 99999), g.fullName(), 1718000000+g.n(0, 99999), 1718090000+g.n(0, 99999))
	return b64u(header) + "." + b64u(payload) + "." + g.str(g.n(43, 86), b64urlAlp)
}

func (g *gen) pem(escaped bool) string {
	label := g.pick("RSA PRIVATE KEY", "EC PRIVATE KEY", "PRIVATE KEY", "OPENSSH PRIVATE KEY", "ENCRYPTED PRIVATE KEY")
	nl := "\n"
	if escaped {
		nl = `\n`
	}
	var b strings.Builder
	b.WriteString("-----BEGIN " + label + "-----" + nl)
	for i := 0; i < g.n(2, 5); i++ {
		b.WriteString(g.str(64, alnum+"+/") + nl)
	}
	b.WriteString(g.str(g.n(8, 40), alnum+"+/") + "==" + nl)
	b.WriteString("-----END " + label + "-----")
	return b.String()
}

func (g *gen) apiKey() string {
	switch g.r.IntN(14) {
	case 0:
		return "xoxb-" + g.digits(11) + "-" + g.digits(13) + "-" + g.str(24, alnum)
	case 1:
		return "xoxp-" + g.digits(11) + "-" + g.digits(11) + "-" + g.digits(13) + "-" + g.str(32, "0123456789abcdef")
	case 2:
		return g.pick("sk_live_", "rk_live_", "pk_live_") + g.str(g.n(24, 99), alnum)
	case 3:
		return "AIza" + g.str(35, b64urlAlp)
	case 4:
		return "sk-proj-" + g.str(g.n(48, 156), b64urlAlp)
	case 5:
		return "sk-ant-api03-" + g.str(93, b64urlAlp) + "AA"
	case 6:
		return "glpat-" + g.str(20, b64urlAlp)
	case 7:
		body := g.str(30, alnum)
		return "npm_" + body + base62CRC(body)
	case 8:
		return "SG." + g.str(22, b64urlAlp) + "." + g.str(43, b64urlAlp)
	case 9:
		return "hf_" + g.str(34, alnum)
	case 10:
		return "shpat_" + g.str(32, "0123456789abcdef")
	case 11:
		return "dop_v1_" + g.str(64, "0123456789abcdef")
	case 12:
		return "sk-" + g.str(20, alnum) + "T3BlbkFJ" + g.str(20, alnum)
	}
	return "hvs." + g.str(g.n(24, 90), b64urlAlp)
}

// ---- hard negatives ----

func (g *gen) uuid() string {
	h := g.str(32, "0123456789abcdef")
	return h[:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:]
}
func (g *gen) sha() string    { return g.str(40, "0123456789abcdef") }
func (g *gen) sha256() string { return "sha256:" + g.str(64, "0123456789abcdef") }
func (g *gen) iso() string {
	return fmt.Sprintf("2024-%02d-%02dT%02d:%02d:%02d.%03dZ", g.n(1, 12), g.n(1, 28), g.n(0, 23), g.n(0, 59), g.n(0, 59), g.n(0, 999))
}
func (g *gen) epochMs() string { return "17" + g.digits(11) }
func (g *gen) semver() string {
	return fmt.Sprintf("%s%d.%d.%d", g.pick("", "v"), g.n(0, 12), g.n(0, 40), g.n(0, 99))
}
func (g *gen) orderID() string {
	return g.pick("ORD-2024-"+g.digits(6), "INV-"+g.digits(8), "#"+g.digits(g.n(5, 8)), "PO"+g.digits(7), "order "+g.digits(g.n(5, 8)))
}

func (g *gen) luhnFail() string {
	for {
		c := "4" + g.digits(15)
		if !luhn(c) {
			return c
		}
	}
}

func (g *gen) badSSN() string {
	return g.pick("078-05-1120", "000-"+g.digits(2)+"-"+g.digits(4), "666-"+g.digits(2)+"-1234", "9"+g.digits(2)+"-12-3456", "123-45-6789", g.digits(3)+"-00-"+g.digits(4))
}

// negative returns one hard negative, with its own few words around it.
func (g *gen) negative() string {
	switch g.r.IntN(26) {
	case 0:
		return "request_id=" + g.uuid()
	case 1:
		return "commit " + g.sha()
	case 2:
		return "image digest " + g.sha256()
	case 3:
		return "at " + g.iso()
	case 4:
		return "ts=" + g.epochMs()
	case 5:
		return "upgraded to " + g.semver()
	case 6:
		return "Windows 10.0." + strconv.Itoa(g.n(17763, 22631)) + "." + strconv.Itoa(g.n(1, 3000))
	case 7:
		return g.orderID()
	case 8:
		return "declined: " + g.luhnFail()
	case 9:
		return "invalid SSN " + g.badSSN()
	case 10:
		return fmt.Sprintf("%d * %d = %d", g.n(100000, 999999), g.n(1000, 9999), g.n(100000000, 999999999))
	case 11:
		return "listening on :" + g.pick("8080", "3000", "5432", "9090", "6379")
	case 12:
		return "payload " + base64.StdEncoding.EncodeToString(g.bytesN(g.n(12, 40)))
	case 13:
		return "version " + fmt.Sprintf("%d.%d.%d.%d", g.n(1, 9), g.n(0, 20), g.n(0, 20), g.n(0, 99))
	case 14:
		return fmt.Sprintf("took %dm%d.%03ds", g.n(0, 9), g.n(0, 59), g.n(0, 999))
	case 15:
		return fmt.Sprintf("%d.%d%% cpu, %d.%d GiB", g.n(0, 99), g.n(0, 9), g.n(0, 64), g.n(0, 9))
	case 16:
		return "Chrome/" + strconv.Itoa(g.n(100, 125)) + ".0." + strconv.Itoa(g.n(1000, 6999)) + "." + strconv.Itoa(g.n(1, 200))
	case 17:
		return "at main.go:" + strconv.Itoa(g.n(1, 900)) + ":" + strconv.Itoa(g.n(1, 80))
	case 18:
		return "tx 0x" + g.str(64, "0123456789abcdef")
	case 19:
		return "remote git@github.com:acme/" + g.pick("app", "infra", "web") + ".git"
	case 20:
		return "asset logo@2x.png, pkg lodash@4.17.21"
	case 21:
		return "localhost:" + g.pick("6379", "5432") + ", http://localhost:8080/health, s3://acme-logs/app.log, netmask 255.255.255.0"
	case 22:
		return "account " + strconv.Itoa(g.n(1, 3)) + g.digits(11)
	case 23:
		return "ISBN 978-" + strconv.Itoa(g.n(0, 9)) + "-" + g.digits(2) + "-" + g.digits(6) + "-" + strconv.Itoa(g.n(0, 9))
	case 24:
		return "eyJ" + g.str(g.n(20, 60), b64urlAlp) // base64 without dots: not a JWT
	}
	return fmt.Sprintf("%02d:%02d:%02d", g.n(0, 23), g.n(0, 59), g.n(0, 59))
}

func (g *gen) filler(d *doc) {
	for i := g.n(1, 3); i > 0; i-- {
		d.s(" ", g.negative(), ";")
	}
	d.s(" ")
}

// ---- templates: one realistic piece of agent traffic each ----

type template func(g *gen, d *doc)

var templates = []template{
	// Tool call JSON: send an e-mail.
	func(g *gen, d *doc) {
		d.s(`{"tool":"send_email","call_id":"call_`, g.str(12, "abcdef0123456789"), `","arguments":{"to":"`)
		d.p(TypeEmail, g.email())
		d.s(`","cc":["`)
		d.p(TypeEmail, g.email())
		d.s(`"],"subject":"Re: `, g.orderID(), `","body":"Hi `, title(g.pick(firstNames...)), `, please call me back at `)
		d.p(TypePhone, g.phone())
		d.s(`. Ref `, g.uuid(), `"}}`)
	},
	// Tool arguments as JSON in a string.
	func(g *gen, d *doc) {
		d.s(`{"name":"crm.update_contact","arguments":"{\"contact_id\":`, strconv.Itoa(g.n(1000, 99999)), `,\"email\":\"`)
		d.p(TypeEmail, g.email())
		d.s(`\",\"phone\":\"`)
		d.p(TypePhone, g.phone())
		d.s(`\",\"updated_at\":\"`, g.iso(), `\"}"}`)
	},
	// Customer prompt with a card and an SSN.
	func(g *gen, d *doc) {
		d.s("User: Hi, I'm ", g.fullName(), ". My card ")
		d.p(TypeCreditCard, g.card())
		d.s(" was charged twice on 2024-0", strconv.Itoa(g.n(1, 9)), "-1", strconv.Itoa(g.n(0, 9)), " (", g.orderID(), "). My SSN is ")
		d.p(TypeSSN, g.ssn())
		d.s(" if you need to verify. You can reach me at ")
		d.p(TypeEmail, g.email())
		d.s(".")
		g.filler(d)
	},
	// Python traceback with a secret and a Luhn-failing number.
	func(g *gen, d *doc) {
		d.s("Traceback (most recent call last):\n  File \"/srv/app/billing/charge.py\", line ", strconv.Itoa(g.n(10, 400)), ", in charge\n    resp = stripe.Charge.create(amount=", strconv.Itoa(g.n(100, 99999)), ", currency=\"usd\", api_key=\"")
		d.p(TypeAPIKey, g.apiKey())
		d.s("\")\n  File \"/usr/lib/python3.11/site-packages/stripe/api_requestor.py\", line 142, in request\nstripe.error.CardError: Your card number ", g.luhnFail(), " is incorrect. (request id req_", g.str(14, alnum), ")\n")
	},
	// Go panic with a dial error.
	func(g *gen, d *doc) {
		d.s("panic: dial tcp ")
		d.p(TypeIPAddress, g.ipv4())
		d.s(":5432: connect: connection refused\n\ngoroutine 1 [running]:\nmain.main()\n\t/app/cmd/api/main.go:", strconv.Itoa(g.n(10, 300)), " +0x1d\nexit status 2")
		g.filler(d)
	},
	// Java exception.
	func(g *gen, d *doc) {
		d.s("Exception in thread \"main\" com.acme.UserNotFoundException: no user with email ")
		d.p(TypeEmail, g.email())
		d.s("\n\tat com.acme.UserService.find(UserService.java:", strconv.Itoa(g.n(10, 300)), ")\n\tat com.acme.Api.handle(Api.java:", strconv.Itoa(g.n(10, 300)), ")")
		g.filler(d)
	},
	// SQL insert.
	func(g *gen, d *doc) {
		d.s("INSERT INTO customers (id, name, email, phone, ssn, created_at) VALUES (", strconv.Itoa(g.n(1, 99999)), ", '", g.fullName(), "', '")
		d.p(TypeEmail, g.email())
		d.s("', '")
		d.p(TypePhone, g.phone())
		d.s("', '")
		d.p(TypeSSN, g.ssn())
		d.s("', '", g.iso(), "');")
	},
	// SQL query on payments.
	func(g *gen, d *doc) {
		d.s("SELECT id, amount, created_at FROM payments WHERE iban = '")
		d.p(TypeIBAN, g.iban())
		d.s("' AND status = 'settled' AND amount > ", strconv.Itoa(g.n(10, 9999)), " ORDER BY created_at DESC LIMIT 50; -- ", g.negative())
	},
	// Access log line.
	func(g *gen, d *doc) {
		d.p(TypeIPAddress, g.ipv4())
		d.s(" - - [15/Jan/2024:", fmt.Sprintf("%02d:%02d:%02d", g.n(0, 23), g.n(0, 59), g.n(0, 59)), " +0000] \"GET /api/v1/users/", strconv.Itoa(g.n(1, 99999)), "?session=", g.uuid(), " HTTP/1.1\" ", g.pick("200", "404", "500"), " ", strconv.Itoa(g.n(100, 99999)), " \"-\" \"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.109 Safari/537.36\"")
	},
	// Structured JSON log.
	func(g *gen, d *doc) {
		d.s(`{"level":"info","ts":`, g.epochMs()[:10], ".", g.digits(3), `,"msg":"login ok","user":"`)
		d.p(TypeEmail, g.email())
		d.s(`","client_ip":"`)
		d.p(TypeIPAddress, g.ip())
		d.s(`","trace_id":"`, g.str(32, "0123456789abcdef"), `","latency_ms":`, strconv.Itoa(g.n(1, 900)), `,"version":"`, g.semver(), `"}`)
	},
	// Shell session with credentials.
	func(g *gen, d *doc) {
		d.s("$ export AWS_ACCESS_KEY_ID=")
		d.p(TypeAWSAccessKey, g.aws())
		if g.chance(0.6) {
			d.s("\n$ export AWS_SECRET_ACCESS_KEY=")
			d.p(TypeAWSAccessKey, g.awsSecret())
		}
		d.s("\n$ export GITHUB_TOKEN=")
		d.p(TypeGitHubToken, g.github())
		d.s("\n$ curl -s -H \"Authorization: Bearer ")
		d.p(TypeJWT, g.jwt())
		d.s("\" ")
		d.p(TypeURL, "https://api.example.com/v1/me")
		d.s("\n{\"id\":", strconv.Itoa(g.n(1, 9999)), ",\"created\":\"", g.iso(), "\"}")
	},
	// Shell: ssh and docker.
	func(g *gen, d *doc) {
		d.s("$ ssh -i ~/.ssh/id_ed25519 deploy@")
		d.p(TypeIPAddress, g.ipv4())
		d.s(" -p 2222\n$ docker run -p 8080:8080 -e DATABASE_URL=")
		d.url(g.urlCreds())
		d.s(" acme/app:", g.semver()[1:], "\n")
		g.filler(d)
	},
	// .env file.
	func(g *gen, d *doc) {
		d.s("# production\nSLACK_BOT_TOKEN=")
		d.p(TypeAPIKey, g.apiKey())
		d.s("\nOPENAI_API_KEY=")
		d.p(TypeAPIKey, g.apiKey())
		d.s("\nLOG_LEVEL=info\nPORT=8080\nSENTRY_DSN=")
		d.p(TypeURL, "https://"+g.str(32, "0123456789abcdef")+"@o"+g.digits(6)+".ingest.sentry.io/"+g.digits(7))
		d.s("\nRELEASE=", g.semver(), "\n")
	},
	// git log.
	func(g *gen, d *doc) {
		d.s("commit ", g.sha(), "\nAuthor: ", g.fullName(), " <")
		d.p(TypeEmail, g.email())
		d.s(">\nDate:   Mon Jan 15 10:30:45 2024 +0100\n\n    fix: bump version to ", g.semver(), " (#", strconv.Itoa(g.n(100, 9999)), ")\n")
	},
	// Refund by bank transfer.
	func(g *gen, d *doc) {
		d.s("Thanks! Please wire the refund to IBAN ")
		d.p(TypeIBAN, g.iban())
		d.s(" (BIC DEUTDEFF). Invoice INV-2024-", g.digits(5), " totals 1.234,56 EUR.")
		g.filler(d)
	},
	// Crypto payment.
	func(g *gen, d *doc) {
		d.s("Send 0.0", strconv.Itoa(g.n(1, 9)), " to ")
		d.p(TypeCrypto, g.crypto())
		d.s(" or to ")
		d.p(TypeCrypto, g.crypto())
		d.s(". ", g.negative(), " confirmed in block ", g.digits(8), ".")
	},
	// ip addr output.
	func(g *gen, d *doc) {
		d.s("2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UP\n    link/ether ")
		d.p(TypeMACAddress, strings.ToLower(g.mac()))
		d.s(" brd ff:ff:ff:ff:ff:ff\n    inet ")
		d.p(TypeIPAddress, fmt.Sprintf("192.168.%d.%d/24", g.n(0, 254), g.n(2, 254)))
		d.s(" scope global eth0\n    inet6 ")
		d.p(TypeIPAddress, "fe80::"+strconv.FormatInt(int64(g.n(1, 0xffff)), 16)+":"+strconv.FormatInt(int64(g.n(1, 0xffff)), 16)+":"+strconv.FormatInt(int64(g.n(1, 0xffff)), 16)+":"+strconv.FormatInt(int64(g.n(1, 0xffff)), 16)+"/64")
		d.s(" scope link\n")
	},
	// DHCP log.
	func(g *gen, d *doc) {
		d.s("Jan 15 ", fmt.Sprintf("%02d:%02d:%02d", g.n(0, 23), g.n(0, 59), g.n(0, 59)), " gw dhcpd[", strconv.Itoa(g.n(100, 9999)), "]: DHCPACK on ")
		d.p(TypeIPAddress, g.ipv4())
		d.s(" to ")
		d.p(TypeMACAddress, g.mac())
		d.s(" (", g.pick("laptop", "printer", "iphone"), ") via eth0")
	},
	// kubectl output.
	func(g *gen, d *doc) {
		d.s("NAME                      READY   STATUS    RESTARTS   AGE    IP            NODE\napi-7d9f8b6c5-", g.str(5, "abcdefghijklmnopqrstuvwxyz0123456789"), "   1/1     Running   0          3d4h   ")
		d.p(TypeIPAddress, fmt.Sprintf("10.244.%d.%d", g.n(0, 9), g.n(2, 250)))
		d.s("   node-", strconv.Itoa(g.n(1, 9)), "\n")
	},
	// HTTP request dump.
	func(g *gen, d *doc) {
		d.s("POST /v1/charges HTTP/1.1\nHost: api.stripe.com\nAuthorization: Bearer ")
		d.p(TypeAPIKey, "sk_live_"+g.str(24, alnum))
		d.s("\nContent-Type: application/x-www-form-urlencoded\nX-Forwarded-For: ")
		d.p(TypeIPAddress, g.ipv4())
		d.s(", ")
		d.p(TypeIPAddress, g.ipv4())
		d.s("\nContent-Length: ", strconv.Itoa(g.n(10, 999)), "\n\namount=2000&currency=usd&source=tok_visa")
	},
	// Private key in a tool result.
	func(g *gen, d *doc) {
		d.s("cat ~/.ssh/deploy_key\n")
		d.p(TypePrivateKey, g.pem(false))
		d.s("\n")
		g.filler(d)
	},
	// Private key inside a JSON log line (escaped newlines).
	func(g *gen, d *doc) {
		d.s(`{"level":"error","msg":"bad key","key":"`)
		d.p(TypePrivateKey, g.pem(true))
		d.s(`","ts":"`, g.iso(), `"}`)
	},
	// Phone numbers that need their context word.
	func(g *gen, d *doc) {
		d.s(g.pick("Customer phone: ", "Tel.: ", "Mobile ", "Please call ", "Telefon: ", "WhatsApp: "))
		d.p(TypePhone, g.weakPhone())
		d.s(g.pick(" (evenings)", ".", "", " — thanks"))
		g.filler(d)
	},
	// SSN without separators, with its context word.
	func(g *gen, d *doc) {
		d.s(g.pick("ssn=", "SSN: ", "social security number ", "SSN#"))
		d.p(TypeSSN, g.ssnDigits())
		d.s(g.pick(" verified", ", dob 1985-03-02", "."))
		g.filler(d)
	},
	// Links in chat.
	func(g *gen, d *doc) {
		d.s(g.pick("See ", "Docs: ", "PR is up: ", "Logs at "))
		d.url(g.url())
		d.s(g.pick(" for details.", ".", " — can you review?", ""))
		if g.chance(0.3) {
			d.s(" Also www.")
			d.b.WriteString("")
			start := d.b.Len() - 4
			host := g.pick("example.org", "acme.io/docs", "example.com/pricing")
			d.s(host)
			d.spans = append(d.spans, span{TypeURL, start, d.b.Len()})
		}
		g.filler(d)
	},
	// CSV export.
	func(g *gen, d *doc) {
		d.s("order_id,customer,card,amount\n")
		for i := g.n(1, 3); i > 0; i-- {
			d.s(strconv.Itoa(g.n(100000, 999999)), ",", g.fullName(), ",")
			d.p(TypeCreditCard, g.cardNumber())
			d.s(",", strconv.Itoa(g.n(1, 999)), ".", g.digits(2), "\n")
		}
	},
	// YAML config with a connection string.
	func(g *gen, d *doc) {
		d.s("database:\n  url: ")
		d.url(g.urlCreds())
		d.s("\n  pool: ", strconv.Itoa(g.n(1, 50)), "\n  timeout: 30s\nimage: acme/api@", g.sha256(), "\n")
	},
	// German.
	func(g *gen, d *doc) {
		d.s("Bitte überweisen Sie den Betrag auf IBAN ")
		d.p(TypeIBAN, g.iban())
		d.s(". Rückfragen unter Tel. ")
		d.p(TypePhone, "+49 30 "+strconv.Itoa(g.n(2, 9))+g.digits(5))
		d.s(" oder per E-Mail an ")
		d.p(TypeEmail, g.email())
		d.s(". Grüße, ", g.fullName())
	},
	// French.
	func(g *gen, d *doc) {
		d.s("Bonjour, mon numéro est le ")
		d.p(TypePhone, fmt.Sprintf("+33 6 %s %s %s %s", g.digits(2), g.digits(2), g.digits(2), g.digits(2)))
		d.s(" et mon adresse e-mail est ")
		d.p(TypeEmail, g.email())
		d.s(". Référence dossier ", g.orderID(), ".")
	},
	// Spanish.
	func(g *gen, d *doc) {
		d.s("Hola, mi tarjeta es ")
		d.p(TypeCreditCard, g.card())
		d.s(" y mi correo ")
		d.p(TypeEmail, g.email())
		d.s(". Pedido ", g.orderID(), ", gracias.")
	},
	// Japanese.
	func(g *gen, d *doc) {
		d.s("お問い合わせはメール")
		d.p(TypeEmail, g.email())
		d.s("または電話")
		d.p(TypePhone, "+81 3-"+g.digits(4)+"-"+g.digits(4))
		d.s("までお願いします。注文番号：", g.digits(8), "。")
	},
	// Chinese.
	func(g *gen, d *doc) {
		d.s("请联系", g.fullName(), "，邮箱：")
		d.p(TypeEmail, g.email())
		d.s("，电话：")
		d.p(TypePhone, "+86 13"+g.digits(1)+" "+g.digits(4)+" "+g.digits(4))
		d.s("，订单号 ", g.digits(10), "。")
	},
	// Russian.
	func(g *gen, d *doc) {
		d.s("Позвоните мне: ")
		d.p(TypePhone, "+7 495 "+strconv.Itoa(g.n(2, 9))+g.digits(2)+"-"+g.digits(2)+"-"+g.digits(2))
		d.s(", почта ")
		d.p(TypeEmail, g.email())
		d.s(". Версия приложения ", g.semver(), ".")
	},
	// Model response summarising an account.
	func(g *gen, d *doc) {
		d.s("Assistant: I found the account. Owner: ", g.fullName(), ", e-mail ")
		d.p(TypeEmail, g.email())
		d.s(", payout wallet ")
		d.p(TypeCrypto, g.crypto())
		d.s(", last login from ")
		d.p(TypeIPAddress, g.ip())
		d.s(" at ", g.iso(), ".")
		g.filler(d)
	},
	// Secrets in a config dump.
	func(g *gen, d *doc) {
		d.s(`{"aws":{"access_key_id":"`)
		d.p(TypeAWSAccessKey, g.aws())
		d.s(`","secret_access_key":"`)
		d.p(TypeAWSAccessKey, g.awsSecret())
		d.s(`","region":"eu-west-1"},"github":{"token":"`)
		d.p(TypeGitHubToken, g.github())
		d.s(`"},"stripe":{"key":"`)
		d.p(TypeAPIKey, g.apiKey())
		d.s(`"},"build":"`, g.sha()[:12], `"}`)
	},
	// JWT in a cookie header.
	func(g *gen, d *doc) {
		d.s("Set-Cookie: session=")
		d.p(TypeJWT, g.jwt())
		d.s("; Path=/; HttpOnly; Secure; Max-Age=", strconv.Itoa(g.n(60, 86400)), "\n")
		g.filler(d)
	},
	// Pure hard negatives: a CI log.
	func(g *gen, d *doc) {
		d.s("Step 4/9 : RUN go build -o /out/app ./cmd/app\n ---> Running in ", g.str(12, "0123456789abcdef"), "\n")
		for i := g.n(3, 6); i > 0; i-- {
			d.s(g.negative(), "\n")
		}
		d.s("Successfully built ", g.str(12, "0123456789abcdef"), "\n")
	},
	// Pure hard negatives: metrics.
	func(g *gen, d *doc) {
		d.s("http_requests_total{code=\"200\",method=\"GET\"} ", g.digits(g.n(3, 9)), " ", g.epochMs(), "\nprocess_resident_memory_bytes ", g.digits(g.n(7, 10)), "\ngo_info{version=\"go1.", strconv.Itoa(g.n(18, 26)), ".", strconv.Itoa(g.n(0, 9)), "\"} 1\n")
		g.filler(d)
	},
	// MAC and IPv6 in a firewall log.
	func(g *gen, d *doc) {
		d.s("kernel: [UFW BLOCK] IN=eth0 OUT= MAC=")
		d.p(TypeMACAddress, strings.ToLower(g.mac()))
		d.s(" SRC=")
		d.p(TypeIPAddress, g.ip())
		d.s(" DST=")
		d.p(TypeIPAddress, g.ipv4())
		d.s(" LEN=", strconv.Itoa(g.n(40, 1500)), " TTL=", strconv.Itoa(g.n(30, 128)), " PROTO=TCP SPT=", strconv.Itoa(g.n(1024, 65535)), " DPT=22")
	},
	// Network configuration: CIDR blocks, a zone, wildcard and loopback
	// addresses; a dotless URL host and a netmask are not PII.
	func(g *gen, d *doc) {
		h := func() string { return strconv.FormatInt(int64(g.n(1, 0xffff)), 16) }
		d.s("resource \"aws_security_group_rule\" \"ingress\" {\n  cidr_blocks      = [\"")
		d.p(TypeIPAddress, fmt.Sprintf("10.%d.0.0/16", g.n(0, 255)))
		d.s("\", \"")
		d.p(TypeIPAddress, "0.0.0.0/0")
		d.s("\"]\n  ipv6_cidr_blocks = [\"")
		d.p(TypeIPAddress, "2001:db8:"+h()+"::/48")
		d.s("\"]\n}\n# netmask 255.255.", g.pick("255.0", "240.0", "0.0"), ", health http://localhost:", g.pick("8080", "9090"), "/healthz\nlisten ")
		d.p(TypeIPAddress, g.pick("0.0.0.0", "127.0.0.1"))
		d.s(":", g.pick("8080", "5432", "6379"), "; peer ")
		d.p(TypeIPAddress, "fe80::"+h()+":"+h()+"%"+g.pick("eth0", "en0", "wlan0"))
		d.s(g.pick(" up", ", state UP", "."), "\n")
	},
	// Support chat: numbers named only by "number", an SSN and a lower-case
	// IBAN with their words, and look-alikes that are not PII.
	func(g *gen, d *doc) {
		d.s(g.pick("My ", "Her ", "Customer's "), g.pick("Japanese", "mobile", "new", "CN"), " number is ")
		switch g.r.IntN(3) {
		case 0:
			d.p(TypePhone, "090-"+g.digits(4)+"-"+g.digits(4))
		case 1:
			d.p(TypePhone, "13"+strconv.Itoa(g.n(0, 9))+g.digits(8))
		default:
			d.p(TypePhone, "0"+strconv.Itoa(g.n(2, 9))+"-"+strconv.Itoa(g.n(2, 9))+g.digits(6))
		}
		d.s(g.pick(", ", ". "), g.pick("order number ", "ticket number ", "account number "), g.digits(10), ". ")
		ssn, sep := g.ssnDigits(), g.pick(" ", ".")
		d.s(g.pick("SSN ", "Social security number: "))
		d.p(TypeSSN, ssn[:3]+sep+ssn[3:5]+sep+ssn[5:])
		d.s(", refund to IBAN ")
		d.p(TypeIBAN, strings.ToLower(strings.ReplaceAll(g.iban(), " ", "")))
		c := luhnComplete("4"+g.digits(14), 16)
		d.s(". Ref ", c[:4], " ", c[4:8], " ", c[8:12], " ", c[12:], " ", g.digits(2), "; old IBAN ",
			g.pick("RS35 2600 0560 1001 6113 70", "HR12 1001 0051 8630 0016 1", "SM86 0032 2509 8000 0000 0270 100"), ".")
	},
}

// generateCorpus builds the corpus: every template in turn, with fresh
// random values, until n samples.
func generateCorpus(n int) []sample {
	g := &gen{r: rand.New(rand.NewPCG(20240115, 42))}
	out := make([]sample, 0, n)
	for i := 0; i < n; i++ {
		var d doc
		templates[i%len(templates)](g, &d)
		out = append(out, sample{Text: d.b.String(), Spans: d.spans})
	}
	return out
}
