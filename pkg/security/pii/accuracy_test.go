package pii

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/escai-framework/escai/pkg/security/config"
)

var update = flag.Bool("update", false, "rewrite testdata/corpus.jsonl from the generator")

const (
	corpusPath  = "testdata/corpus.jsonl"
	corpusSize  = 760
	minTypeF1   = 0.95
	minOverallF = 0.97
)

func encodeCorpus(samples []sample) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	for _, s := range samples {
		if err := enc.Encode(s); err != nil {
			panic(err)
		}
	}
	return b.Bytes()
}

// TestGenerateCorpus keeps testdata/corpus.jsonl equal to what the
// generator writes; with -update it rewrites the file.
func TestGenerateCorpus(t *testing.T) {
	got := encodeCorpus(generateCorpus(corpusSize))
	if *update {
		if err := os.WriteFile(corpusPath, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(corpusPath)
	if errors.Is(err, fs.ErrNotExist) {
		t.Skip("testdata/corpus.jsonl is absent; the accuracy tests use the generator directly")
	}
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("testdata/corpus.jsonl is stale: run go test -run TestGenerateCorpus -update")
	}
}

func loadCorpus(t testing.TB) []sample {
	t.Helper()
	s, err := readCorpus()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// readCorpus reads testdata/corpus.jsonl. When the file is absent (a
// repository that keeps token-shaped test data out of version control),
// the generator's output is used instead: it is the same corpus.
func readCorpus() ([]sample, error) {
	f, err := os.Open(corpusPath)
	if errors.Is(err, fs.ErrNotExist) {
		return generateCorpus(corpusSize), nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []sample
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var s sample
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, sc.Err()
}

type prf struct{ tp, fp, fn int }

func (c prf) precision() float64 { return ratio(c.tp, c.tp+c.fp) }
func (c prf) recall() float64    { return ratio(c.tp, c.tp+c.fn) }
func (c prf) f1() float64 {
	p, r := c.precision(), c.recall()
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

// TestAccuracy scores the detector at high sensitivity against the
// generated corpus. A match counts only if type, start and end are all
// exactly those of a label; anything else is a false positive, and an
// unmatched label a false negative.
func TestAccuracy(t *testing.T) {
	samples := loadCorpus(t)
	per, all, labels, misses := score(t, samples)
	if labels < 1000 {
		t.Errorf("corpus has %d labelled spans, want at least 1000", labels)
	}
	t.Log("\n" + table("generated corpus", len(samples), labels, per, all))
	for typ, c := range per {
		if c.tp+c.fn < 20 {
			t.Errorf("%s: only %d labels; every type needs enough to measure", typ, c.tp+c.fn)
		}
		if c.f1() < minTypeF1 {
			t.Errorf("%s: F1 %.4f below %.2f", typ, c.f1(), minTypeF1)
		}
	}
	if all.f1() < minOverallF {
		t.Errorf("overall F1 %.4f below %.2f", all.f1(), minOverallF)
	}
	logMisses(t, misses)
}

// TestAccuracyHandwritten scores the hand-labelled samples of
// testdata/handwritten.txt the same way. They were written as text an
// agent would see, not from the detector's rules, so they show what the
// generated corpus cannot: formats the scanner does not know. The bar is
// therefore lower and is on the overall score only.
func TestAccuracyHandwritten(t *testing.T) {
	for _, path := range []string{"testdata/handwritten.txt", "testdata/heldout.txt"} {
		t.Run(strings.TrimSuffix(strings.TrimPrefix(path, "testdata/"), ".txt"), func(t *testing.T) {
			samples := loadHandwritten(t, path)
			per, all, labels, misses := score(t, samples)
			t.Log("\n" + table(path, len(samples), labels, per, all))
			if all.f1() < 0.9 {
				t.Errorf("overall F1 %.4f below 0.90", all.f1())
			}
			logMisses(t, misses)
		})
	}
}

func score(t *testing.T, samples []sample) (map[string]*prf, prf, int, []string) {
	d := detector(t, config.SensitivityHigh)
	per := map[string]*prf{}
	get := func(typ string) *prf {
		if per[typ] == nil {
			per[typ] = &prf{}
		}
		return per[typ]
	}
	var misses []string
	labels := 0
	for _, s := range samples {
		want := map[span]bool{}
		for _, sp := range s.Spans {
			want[sp] = true
			labels++
			get(sp.Type)
		}
		for _, m := range d.Scan(s.Text, nil) {
			sp := span{m.Type, m.Start, m.End}
			if want[sp] {
				get(m.Type).tp++
				delete(want, sp)
				continue
			}
			get(m.Type).fp++
			misses = append(misses, fmt.Sprintf("FP %s %q in %q", m.Type, s.Text[m.Start:m.End], clip(s.Text)))
		}
		for sp := range want {
			get(sp.Type).fn++
			misses = append(misses, fmt.Sprintf("FN %s %q in %q", sp.Type, s.Text[sp.Start:sp.End], clip(s.Text)))
		}
	}
	var all prf
	for _, c := range per {
		all.tp, all.fp, all.fn = all.tp+c.tp, all.fp+c.fp, all.fn+c.fn
	}
	slices.Sort(misses)
	return per, all, labels, misses
}

func table(title string, samples, labels int, per map[string]*prf, all prf) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d samples, %d labelled spans, exact span match, high sensitivity\n", title, samples, labels)
	fmt.Fprintf(&b, "%-16s %6s %5s %5s %9s %7s %6s\n", "type", "labels", "fp", "fn", "precision", "recall", "F1")
	for _, typ := range slices.Sorted(maps.Keys(per)) {
		c := per[typ]
		fmt.Fprintf(&b, "%-16s %6d %5d %5d %9.4f %7.4f %6.4f\n", typ, c.tp+c.fn, c.fp, c.fn, c.precision(), c.recall(), c.f1())
	}
	fmt.Fprintf(&b, "%-16s %6d %5d %5d %9.4f %7.4f %6.4f\n", "overall", all.tp+all.fn, all.fp, all.fn, all.precision(), all.recall(), all.f1())
	return b.String()
}

func logMisses(t *testing.T, misses []string) {
	if !t.Failed() && !testing.Verbose() {
		return
	}
	for i, m := range misses {
		if i == 60 {
			t.Logf("… %d more", len(misses)-60)
			break
		}
		t.Log(m)
	}
}

func clip(s string) string {
	if len(s) > 160 {
		return s[:160] + "…"
	}
	return s
}

// handwrittenSecrets replaces placeholders of testdata/handwritten.txt
// with token-shaped values generated here, so that the file holds nothing
// a secret scanner would flag.
func handwrittenSecrets() *strings.Replacer {
	return strings.NewReplacer(
		"ghp_GHTOKEN1", githubToken("ghp_", 101),
		"sk_live_STRIPEKEY1", cat("sk_live_", rnd(102, 24, alnum)),
		"sk-proj-OPENAIKEY1", cat("sk-proj-", rnd(103, 120, b64urlAlp)),
		"sk-ant-api03-ANTHROPICKEY1", cat("sk-ant-api03-", rnd(104, 93, b64urlAlp), "AA"),
		"glpat-GITLABKEY1", cat("glpat-", rnd(105, 20, b64urlAlp)),
		"hvs.VAULTTOKEN1", cat("hvs.", rnd(106, 24, b64urlAlp)),
		"npm_NPMTOKEN1", githubToken("npm_", 107),
	)
}

// loadHandwritten reads testdata/handwritten.txt (see its header).
func loadHandwritten(t testing.TB, path string) []sample {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	secrets := handwrittenSecrets()
	var out []sample
	var cur strings.Builder
	flush := func() {
		text := strings.TrimSuffix(cur.String(), "\n")
		cur.Reset()
		if strings.TrimSpace(text) == "" {
			return
		}
		// Labels nest: an IP address that is a URL's host is labelled
		// inside the URL, [[URL http://[[IP_ADDRESS 10.0.0.1]]/x]].
		var s sample
		var b strings.Builder
		type open struct {
			typ   string
			start int
		}
		var stack []open
		text = secrets.Replace(text)
		for text != "" {
			if strings.HasPrefix(text, "[[") {
				if sp := strings.IndexByte(text, ' '); sp > 2 && customName.MatchString(text[2:sp]) {
					stack = append(stack, open{text[2:sp], b.Len()})
					text = text[sp+1:]
					continue
				}
			}
			if strings.HasPrefix(text, "]]") && len(stack) > 0 {
				o := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				s.Spans = append(s.Spans, span{o.typ, o.start, b.Len()})
				text = text[2:]
				continue
			}
			b.WriteByte(text[0])
			text = text[1:]
		}
		if len(stack) > 0 {
			t.Fatalf("unclosed label %s in %q", stack[len(stack)-1].typ, clip(b.String()))
		}
		s.Text = b.String()
		out = append(out, s)
	}
	for _, line := range strings.SplitAfter(string(raw), "\n") {
		switch {
		case strings.HasPrefix(line, "#") && cur.Len() == 0:
		case strings.TrimRight(line, "\n") == "====":
			flush()
		default:
			cur.WriteString(line)
		}
	}
	flush()
	return out
}
