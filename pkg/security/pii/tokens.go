package pii

import "slices"

// Prefixed tokens: secrets whose format starts with a fixed prefix. The
// scanner looks them up by the first three bytes of a word (tokenTri),
// so a word that starts with no known prefix costs one bit test.

// token checks beyond prefix, alphabet and length.
const (
	chkNone       uint8 = iota
	chkGitHub           // CRC-32 checksum of classic GitHub tokens
	chkNPM              // the same checksum on npm tokens
	chkGitHubFine       // github_pat_<22>_<59>
	chkJWT              // header decodes to JSON with "alg"
	chkSegwit           // bech32 / bech32m checksum
	chkSendGrid         // SG.<22>.<43>
	chkMixed            // letters and digits both present (generic sk-)
	chkWWW              // www.<host>, URLs without scheme
)

type tokenRule struct {
	prefix    string
	k         kind
	body      *byteSet // bytes allowed after the prefix
	min, max  int      // length of the part after the prefix
	score     int      // in hundredths
	weak      int      // score when the checksum fails (chkGitHub, chkNPM)
	check     uint8
	highOnly  bool  // only when URL is enabled (www.)
	bodyID    uint8 // index of body among the distinct body sets
	alnumBody bool  // body holds every ASCII letter and digit
}

// maxBodySets bounds the distinct body sets of allTokenRules.
const maxBodySets = 16

var (
	b32Upper   = setOf("A-Z", "2-7")
	upperDigit = setOf("A-Z", "0-9")
	alnumDash  = setOf("a-z", "A-Z", "0-9", "-")
	alnumUnder = setOf("a-z", "A-Z", "0-9", "_")
	base64URL  = setOf("a-z", "A-Z", "0-9", "-_")
	jwtSet     = setOf("a-z", "A-Z", "0-9", "-_.")
	base64Set  = setOf("a-z", "A-Z", "0-9", "+/=")
	hexDash    = setOf("a-f", "0-9", "-")
)

// allTokenRules is the table of prefixed formats. Scores: a distinctive
// prefix with an exact length is 0.9-0.95, a checksum makes it 1.0, a
// generic prefix or a failed checksum needs context.
var allTokenRules = []tokenRule{
	// AWS access key ids: four-letter type prefix and 16 base32 characters.
	{prefix: "AKIA", k: kAWS, body: &b32Upper, min: 16, max: 16, score: 90},
	{prefix: "ASIA", k: kAWS, body: &b32Upper, min: 16, max: 16, score: 90},
	{prefix: "AGPA", k: kAWS, body: &b32Upper, min: 16, max: 16, score: 90},
	{prefix: "AIDA", k: kAWS, body: &b32Upper, min: 16, max: 16, score: 90},
	{prefix: "AROA", k: kAWS, body: &b32Upper, min: 16, max: 16, score: 90},
	{prefix: "AIPA", k: kAWS, body: &b32Upper, min: 16, max: 16, score: 90},
	{prefix: "ANPA", k: kAWS, body: &b32Upper, min: 16, max: 16, score: 90},
	{prefix: "ANVA", k: kAWS, body: &b32Upper, min: 16, max: 16, score: 90},
	{prefix: "APKA", k: kAWS, body: &b32Upper, min: 16, max: 16, score: 90},
	{prefix: "ABIA", k: kAWS, body: &b32Upper, min: 16, max: 16, score: 90},
	{prefix: "ACCA", k: kAWS, body: &b32Upper, min: 16, max: 16, score: 90},

	// GitHub: classic tokens carry a CRC-32; fine-grained ones do not.
	{prefix: "ghp_", k: kGitHub, body: &alnumSet, min: 36, max: 36, score: 100, weak: 45, check: chkGitHub},
	{prefix: "gho_", k: kGitHub, body: &alnumSet, min: 36, max: 36, score: 100, weak: 45, check: chkGitHub},
	{prefix: "ghu_", k: kGitHub, body: &alnumSet, min: 36, max: 36, score: 100, weak: 45, check: chkGitHub},
	{prefix: "ghs_", k: kGitHub, body: &alnumSet, min: 36, max: 36, score: 100, weak: 45, check: chkGitHub},
	{prefix: "ghr_", k: kGitHub, body: &alnumSet, min: 36, max: 36, score: 100, weak: 45, check: chkGitHub},
	{prefix: "github_pat_", k: kGitHub, body: &alnumUnder, min: 82, max: 82, score: 95, check: chkGitHubFine},

	// JSON Web Tokens: a JSON header always encodes to "eyJ".
	{prefix: "eyJ", k: kJWT, body: &jwtSet, min: 20, max: 16 << 10, score: 95, check: chkJWT},

	// Bitcoin segwit addresses (mainnet and testnet).
	{prefix: "bc1", k: kCrypto, body: &alnumSet, min: 11, max: 71, score: 95, check: chkSegwit},
	{prefix: "BC1", k: kCrypto, body: &alnumSet, min: 11, max: 71, score: 95, check: chkSegwit},
	{prefix: "tb1", k: kCrypto, body: &alnumSet, min: 11, max: 71, score: 95, check: chkSegwit},

	// age secret keys are private keys too.
	{prefix: "AGE-SECRET-KEY-1", k: kPrivateKey, body: &upperDigit, min: 58, max: 58, score: 100},

	// Slack.
	{prefix: "xoxb-", k: kAPIKey, body: &alnumDash, min: 10, max: 250, score: 95},
	{prefix: "xoxp-", k: kAPIKey, body: &alnumDash, min: 10, max: 250, score: 95},
	{prefix: "xoxa-", k: kAPIKey, body: &alnumDash, min: 10, max: 250, score: 95},
	{prefix: "xoxo-", k: kAPIKey, body: &alnumDash, min: 10, max: 250, score: 95},
	{prefix: "xoxs-", k: kAPIKey, body: &alnumDash, min: 10, max: 250, score: 95},
	{prefix: "xoxr-", k: kAPIKey, body: &alnumDash, min: 10, max: 250, score: 95},
	{prefix: "xoxe-", k: kAPIKey, body: &alnumDash, min: 10, max: 250, score: 95},
	{prefix: "xapp-", k: kAPIKey, body: &alnumDash, min: 10, max: 250, score: 95},
	// Stripe: live keys; test keys reach only test data but are secrets.
	{prefix: "sk_live_", k: kAPIKey, body: &alnumSet, min: 20, max: 250, score: 95},
	{prefix: "rk_live_", k: kAPIKey, body: &alnumSet, min: 20, max: 250, score: 95},
	{prefix: "pk_live_", k: kAPIKey, body: &alnumSet, min: 20, max: 250, score: 90},
	{prefix: "sk_test_", k: kAPIKey, body: &alnumSet, min: 20, max: 250, score: 70},
	{prefix: "rk_test_", k: kAPIKey, body: &alnumSet, min: 20, max: 250, score: 70},
	{prefix: "whsec_", k: kAPIKey, body: &alnumSet, min: 24, max: 100, score: 90},
	// Google.
	{prefix: "AIza", k: kAPIKey, body: &base64URL, min: 35, max: 35, score: 95},
	{prefix: "ya29.", k: kAPIKey, body: &base64URL, min: 20, max: 2048, score: 85},
	{prefix: "GOCSPX-", k: kAPIKey, body: &base64URL, min: 28, max: 28, score: 95},
	// Anthropic and OpenAI; the generic sk- form also covers other
	// providers that copied it, and needs letters and digits.
	{prefix: "sk-ant-", k: kAPIKey, body: &base64URL, min: 20, max: 250, score: 95},
	{prefix: "sk-proj-", k: kAPIKey, body: &base64URL, min: 20, max: 250, score: 95},
	{prefix: "sk-svcacct-", k: kAPIKey, body: &base64URL, min: 20, max: 250, score: 95},
	{prefix: "sk-admin-", k: kAPIKey, body: &base64URL, min: 20, max: 250, score: 95},
	{prefix: "sk-", k: kAPIKey, body: &alnumSet, min: 32, max: 200, score: 80, check: chkMixed},
	// GitLab.
	{prefix: "glpat-", k: kAPIKey, body: &base64URL, min: 20, max: 100, score: 95},
	{prefix: "gldt-", k: kAPIKey, body: &base64URL, min: 20, max: 100, score: 95},
	{prefix: "glrt-", k: kAPIKey, body: &base64URL, min: 20, max: 100, score: 95},
	{prefix: "glptt-", k: kAPIKey, body: &base64URL, min: 20, max: 100, score: 95},
	{prefix: "glcbt-", k: kAPIKey, body: &base64URL, min: 20, max: 100, score: 95},
	// npm (same checksum as GitHub), PyPI.
	{prefix: "npm_", k: kAPIKey, body: &alnumSet, min: 36, max: 36, score: 95, weak: 50, check: chkNPM},
	{prefix: "pypi-AgEIcHlwaS5vcmc", k: kAPIKey, body: &base64URL, min: 50, max: 500, score: 95},
	// SendGrid, Twilio API key SIDs.
	{prefix: "SG.", k: kAPIKey, body: &jwtSet, min: 66, max: 66, score: 95, check: chkSendGrid},
	{prefix: "SK", k: kAPIKey, body: &hexLowerSet, min: 32, max: 32, score: 65},
	// Hugging Face, Groq, xAI, Linear.
	{prefix: "hf_", k: kAPIKey, body: &alnumSet, min: 34, max: 34, score: 90},
	{prefix: "gsk_", k: kAPIKey, body: &alnumSet, min: 52, max: 52, score: 90},
	{prefix: "xai-", k: kAPIKey, body: &alnumSet, min: 80, max: 80, score: 90},
	{prefix: "lin_api_", k: kAPIKey, body: &alnumSet, min: 40, max: 40, score: 95},
	// Shopify, DigitalOcean, Databricks, Postman, New Relic, Square.
	{prefix: "shpat_", k: kAPIKey, body: &hexSet, min: 32, max: 32, score: 95},
	{prefix: "shpss_", k: kAPIKey, body: &hexSet, min: 32, max: 32, score: 95},
	{prefix: "shpca_", k: kAPIKey, body: &hexSet, min: 32, max: 32, score: 95},
	{prefix: "shppa_", k: kAPIKey, body: &hexSet, min: 32, max: 32, score: 95},
	{prefix: "dop_v1_", k: kAPIKey, body: &hexLowerSet, min: 64, max: 64, score: 95},
	{prefix: "doo_v1_", k: kAPIKey, body: &hexLowerSet, min: 64, max: 64, score: 95},
	{prefix: "dor_v1_", k: kAPIKey, body: &hexLowerSet, min: 64, max: 64, score: 95},
	{prefix: "dapi", k: kAPIKey, body: &hexLowerSet, min: 32, max: 32, score: 90},
	{prefix: "PMAK-", k: kAPIKey, body: &hexDash, min: 59, max: 59, score: 95},
	{prefix: "NRAK-", k: kAPIKey, body: &upperDigit, min: 27, max: 27, score: 95},
	{prefix: "sq0atp-", k: kAPIKey, body: &base64URL, min: 22, max: 22, score: 95},
	{prefix: "sq0csp-", k: kAPIKey, body: &base64URL, min: 43, max: 43, score: 95},
	// HashiCorp Vault, Grafana, Doppler.
	{prefix: "hvs.", k: kAPIKey, body: &base64URL, min: 24, max: 300, score: 90},
	{prefix: "hvb.", k: kAPIKey, body: &base64URL, min: 24, max: 300, score: 90},
	{prefix: "glsa_", k: kAPIKey, body: &alnumUnder, min: 41, max: 41, score: 95},
	{prefix: "glc_", k: kAPIKey, body: &base64Set, min: 32, max: 400, score: 90},
	{prefix: "dp.pt.", k: kAPIKey, body: &alnumSet, min: 43, max: 43, score: 95},

	// URLs without a scheme; only at high sensitivity.
	{prefix: "www.", k: kURL, body: &urlByte, min: 4, max: 2048, score: 55, check: chkWWW, highOnly: true},
}

// tokenRules indexes allTokenRules by the first byte of the prefix,
// longest prefix first.
var tokenRules = func() (r [256][]tokenRule) {
	var sets []*byteSet
	for _, tr := range allTokenRules {
		id := slices.Index(sets, tr.body)
		if id < 0 {
			id = len(sets)
			sets = append(sets, tr.body)
		}
		if id >= maxBodySets {
			panic("pii: too many token body sets")
		}
		tr.bodyID = uint8(id)
		tr.alnumBody = true
		for c := range 256 {
			if alnumSet[c] && !tr.body[c] {
				tr.alnumBody = false
			}
		}
		c := tr.prefix[0]
		r[c] = append(r[c], tr)
	}
	for c := range r {
		rs := r[c]
		for i := 1; i < len(rs); i++ {
			for j := i; j > 0 && len(rs[j].prefix) > len(rs[j-1].prefix); j-- {
				rs[j], rs[j-1] = rs[j-1], rs[j]
			}
		}
	}
	return r
}()

// tokenTri holds the first three bytes of every prefix (for "SK", the
// two bytes and each byte its body may start with). A word whose first
// three bytes are not in it starts no token, whatever tokenRules holds
// for its first byte; most words that share a prefix's first two bytes
// ("short", "do") fail here.
var tokenTri = func() (f triFilter) {
	for _, r := range allTokenRules {
		if len(r.prefix) >= 3 {
			f.set(r.prefix[0], r.prefix[1], r.prefix[2])
			continue
		}
		for c := range 256 {
			if r.body[c] {
				f.set(r.prefix[0], r.prefix[1], byte(c))
			}
		}
	}
	return f
}()

// triFilter is a Bloom filter (one hash) of three-byte strings.
type triFilter [64]uint64

// triHash hashes three bytes given little-endian in the low 24 bits of
// k.
func triHash(k uint32) uint32 { return k * 0x9e3779b1 >> (32 - 12) }

func (f *triFilter) set(a, b, c byte) {
	h := triHash(uint32(a) | uint32(b)<<8 | uint32(c)<<16)
	f[h>>6] |= 1 << (h & 63)
}

// has reports whether the three bytes in the low 24 bits of k may be in
// the filter.
func (f *triFilter) has(k uint32) bool {
	h := triHash(k & 0xffffff)
	return f[h>>6]&(1<<(h&63)) != 0
}
