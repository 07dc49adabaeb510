package pii

import (
	"encoding/json"
	"net/netip"
	"regexp"
	"strings"
	"testing"

	"github.com/escai-framework/escai/pkg/security/config"
)

// Run with GOMAXPROCS=1:
//
//	GOMAXPROCS=1 go test -run XXX -bench . -benchmem ./pkg/security/pii
//
// BenchmarkScan* scan the whole labelled corpus once per op and report
// MB/s; BenchmarkNaiveRegexpPerType does the same the way a
// recognizer-per-type engine (Presidio's design) does it: one compiled
// regexp per type run over the whole text in turn, then the same
// validators on each candidate. It is the baseline the one-pass scanner
// is measured against.

func corpusTexts(b testing.TB) ([]string, int) {
	b.Helper()
	var texts []string
	n := 0
	for _, s := range loadCorpus(b) {
		texts = append(texts, s.Text)
		n += len(s.Text)
	}
	return texts, n
}

func benchScan(b *testing.B, sens config.Sensitivity) {
	texts, n := corpusTexts(b)
	d := detector(b, sens)
	dst := make([]Match, 0, 64)
	b.SetBytes(int64(n))
	b.ReportAllocs()
	for b.Loop() {
		for _, t := range texts {
			dst = d.Scan(t, dst[:0])
		}
	}
}

// BenchmarkScan is the headline number: the corpus at high sensitivity.
func BenchmarkScan(b *testing.B)       { benchScan(b, config.SensitivityHigh) }
func BenchmarkScanMedium(b *testing.B) { benchScan(b, config.SensitivityMedium) }
func BenchmarkScanLow(b *testing.B)    { benchScan(b, config.SensitivityLow) }

// BenchmarkScanNoPII is the common case: text with nothing to find.
func BenchmarkScanNoPII(b *testing.B) {
	d := detector(b, config.SensitivityHigh)
	dst := make([]Match, 0, 64)
	b.SetBytes(int64(len(noPII)))
	b.ReportAllocs()
	for b.Loop() {
		dst = d.Scan(noPII, dst[:0])
	}
}

// BenchmarkScanProse is plain English text, the bulk of prompts and
// model output.
func BenchmarkScanProse(b *testing.B) {
	prose := strings.Repeat("The user asked for a summary of last quarter's results; the assistant queried the analytics "+
		"replica, grouped revenue by region and wrote three short paragraphs with the main trends and risks. ", 50)
	d := detector(b, config.SensitivityHigh)
	dst := make([]Match, 0, 64)
	b.SetBytes(int64(len(prose)))
	b.ReportAllocs()
	for b.Loop() {
		dst = d.Scan(prose, dst[:0])
	}
}

func BenchmarkMaskData(b *testing.B) {
	data := json.RawMessage(`{"tool":"send_email","call_id":"call_7f3a9c","arguments":"{\"to\":\"jane.doe@example.com\",\"subject\":\"Invoice ORD-2024-000123\",\"body\":\"Hi Jane, please call me back at +1 415 555 2671. Ref 550e8400-e29b-41d4-a716-446655440000\"}",` +
		`"reasoning":"The user asked for the most recent active customers in EMEA; querying the analytics replica keeps load off the primary.",` +
		`"context":{"step":4,"plan":["understand request","find table","query","summarise"],"model":"gpt-4o-2024-08-06","temperature":0.2,"tokens":{"prompt":1832,"completion":96}},` +
		`"client_ip":"203.0.113.7","policy":{"allow_write":false,"max_rows":1000,"redact":["email","phone"]},"attachments":[],"retry":0}`)
	m := masker(b, Config{})
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := m.MaskData(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAdversarial scans inputs built to trigger re-scanning; every
// one must run at a speed of the same order as ordinary text.
func BenchmarkAdversarial(b *testing.B) {
	d := detector(b, config.SensitivityHigh)
	for name, in := range adversarialInputs() {
		b.Run(strings.ReplaceAll(name, " ", "_"), func(b *testing.B) {
			dst := make([]Match, 0, 1024)
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				dst = d.Scan(in, dst[:0])
			}
		})
	}
}

// naive is the recognizer-per-type baseline.
type naive struct {
	res []naiveRule
}

type naiveRule struct {
	typ   string
	re    *regexp.Regexp
	valid func(string) bool
}

func newNaive() *naive {
	digitsOf := func(s string) []byte {
		var d []byte
		for i := 0; i < len(s); i++ {
			if isDigit(s[i]) {
				d = append(d, s[i])
			}
		}
		return d
	}
	compact := func(s string) string { return strings.NewReplacer(" ", "", "-", "").Replace(s) }
	ok := func(string) bool { return true }
	return &naive{res: []naiveRule{
		{TypeEmail, regexp.MustCompile(`[\p{L}\p{N}._%+-]+@[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)*\.\p{L}{2,}`), func(s string) bool {
			return validTLD(s[strings.LastIndexByte(s, '.')+1:])
		}},
		{TypePhone, regexp.MustCompile(`(?:\+\d{1,3}[ .-]?)?(?:\(\d{3}\)|\d{3})[ .-]?\d{3}[ .-]?\d{4}\b`), func(s string) bool {
			d := digitsOf(s)
			return nanpValid(d) || (len(d) == 11 && d[0] == '1' && nanpValid(d[1:])) || (strings.HasPrefix(s, "+") && e164Valid(d))
		}},
		{TypeSSN, regexp.MustCompile(`\b\d{3}[- .]\d{2}[- .]\d{4}\b`), func(s string) bool { return ssnValid(digitsOf(s)) }},
		{TypeCreditCard, regexp.MustCompile(`\b(?:\d[ -]?){12,18}\d\b`), func(s string) bool {
			d := digitsOf(s)
			return luhn(string(d)) && cardIssuer(d) != cardNone
		}},
		{TypeIBAN, regexp.MustCompile(`\b[A-Z]{2}\d{2}(?:[ -]?[A-Z0-9]{4}){2,7}(?:[ -]?[A-Z0-9]{1,4})?\b`), func(s string) bool { return ibanValid(compact(s)) }},
		{TypeIPAddress, regexp.MustCompile(`\b(?:\d{1,3}\.){3}\d{1,3}\b`), func(s string) bool { _, err := netip.ParseAddr(s); return err == nil }},
		{TypeIPAddress, regexp.MustCompile(`(?i)\b(?:[0-9a-f]{1,4}:){2,7}[0-9a-f]{0,4}\b|(?i)\b(?:[0-9a-f]{1,4}:)+:[0-9a-f:]*\b`), func(s string) bool { _, err := netip.ParseAddr(s); return err == nil }},
		{TypeMACAddress, regexp.MustCompile(`(?i)\b(?:[0-9a-f]{2}[:-]){5}[0-9a-f]{2}\b`), ok},
		{TypeCrypto, regexp.MustCompile(`\b[13][a-km-zA-HJ-NP-Z1-9]{25,34}\b`), base58Check},
		{TypeCrypto, regexp.MustCompile(`\b(?:bc|tb)1[a-z0-9]{11,71}\b`), segwitValid},
		{TypeCrypto, regexp.MustCompile(`\b0x[0-9a-fA-F]{40}\b`), func(s string) bool { return !hasUpperLower(s[2:]) || eip55Valid(s[2:]) }},
		{TypeURL, regexp.MustCompile(`\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s"'<>]+`), ok},
		{TypeAWSAccessKey, regexp.MustCompile(`\b(?:AKIA|ASIA)[A-Z2-7]{16}\b`), ok},
		{TypeGitHubToken, regexp.MustCompile(`\b(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{82})\b`), ok},
		{TypeJWT, regexp.MustCompile(`\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*`), func(s string) bool { return jwtValid(s) }},
		{TypePrivateKey, regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY(?: BLOCK)?-----`), ok},
		{TypeAPIKey, regexp.MustCompile(`\b(?:xox[abposr]-[A-Za-z0-9-]{10,}|[sr]k_live_[A-Za-z0-9]{20,}|AIza[A-Za-z0-9_-]{35}|sk-(?:ant-|proj-)?[A-Za-z0-9_-]{20,}|glpat-[A-Za-z0-9_-]{20,}|npm_[A-Za-z0-9]{36}|SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}|hf_[A-Za-z0-9]{34})`), ok},
	}}
}

func (n *naive) scan(text string, dst []Match) []Match {
	for _, r := range n.res {
		for _, loc := range r.re.FindAllStringIndex(text, -1) {
			if r.valid(text[loc[0]:loc[1]]) {
				dst = append(dst, Match{Type: r.typ, Start: loc[0], End: loc[1], Score: 1})
			}
		}
	}
	return normalize(dst, 0)
}

func BenchmarkNaiveRegexpPerType(b *testing.B) {
	texts, n := corpusTexts(b)
	nv := newNaive()
	dst := make([]Match, 0, 64)
	b.SetBytes(int64(n))
	b.ReportAllocs()
	for b.Loop() {
		for _, t := range texts {
			dst = nv.scan(t, dst[:0])
		}
	}
}
