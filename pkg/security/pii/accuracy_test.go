package pii

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
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

func readCorpus() ([]sample, error) {
	f, err := os.Open(corpusPath)
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
// labelled corpus. A match counts only if type, start and end are all
// exactly those of a label; anything else is a false positive, and an
// unmatched label a false negative.
func TestAccuracy(t *testing.T) {
	samples := loadCorpus(t)
	d := detector(t, config.SensitivityHigh)
	per := map[string]*prf{}
	get := func(typ string) *prf {
		if per[typ] == nil {
			per[typ] = &prf{}
		}
		return per[typ]
	}
	for _, typ := range Types() {
		get(typ)
	}
	var misses []string
	labels := 0
	for _, s := range samples {
		want := map[span]bool{}
		for _, sp := range s.Spans {
			want[sp] = true
			labels++
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
	if labels < 1000 {
		t.Errorf("corpus has %d labelled spans, want at least 1000", labels)
	}
	var all prf
	var b strings.Builder
	fmt.Fprintf(&b, "%d samples, %d labelled spans, exact span match, high sensitivity\n", len(samples), labels)
	fmt.Fprintf(&b, "%-16s %6s %5s %5s %9s %7s %6s\n", "type", "labels", "fp", "fn", "precision", "recall", "F1")
	types := slices.Sorted(func(yield func(string) bool) {
		for k := range per {
			if !yield(k) {
				return
			}
		}
	})
	for _, typ := range types {
		c := per[typ]
		all.tp, all.fp, all.fn = all.tp+c.tp, all.fp+c.fp, all.fn+c.fn
		fmt.Fprintf(&b, "%-16s %6d %5d %5d %9.4f %7.4f %6.4f\n", typ, c.tp+c.fn, c.fp, c.fn, c.precision(), c.recall(), c.f1())
		if c.tp+c.fn < 20 {
			t.Errorf("%s: only %d labels; every type needs enough to measure", typ, c.tp+c.fn)
		}
		if c.f1() < minTypeF1 {
			t.Errorf("%s: F1 %.4f below %.2f", typ, c.f1(), minTypeF1)
		}
	}
	fmt.Fprintf(&b, "%-16s %6d %5d %5d %9.4f %7.4f %6.4f\n", "overall", all.tp+all.fn, all.fp, all.fn, all.precision(), all.recall(), all.f1())
	t.Log("\n" + b.String())
	if all.f1() < minOverallF {
		t.Errorf("overall F1 %.4f below %.2f", all.f1(), minOverallF)
	}
	if t.Failed() || testing.Verbose() {
		for i, m := range misses {
			if i == 40 {
				t.Logf("… %d more", len(misses)-40)
				break
			}
			t.Log(m)
		}
	}
}

func clip(s string) string {
	if len(s) > 160 {
		return s[:160] + "…"
	}
	return s
}
