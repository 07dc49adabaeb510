package validate

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/escai-framework/escai/pkg/security/config"
)

// corpusLine is one line of testdata/corpus/*.jsonl.
type corpusLine struct {
	Family string          `json:"family"`
	Field  string          `json:"field"`
	Value  json.RawMessage `json:"value"`
}

// corpusTargets are the minimum detection rates per family; families not
// listed are measured and logged but have no target.
var corpusTargets = map[string]float64{
	ThreatSQLi:          0.90,
	ThreatXSS:           0.90,
	ThreatPathTraversal: 0.80,
	ThreatCmdInjection:  0.80,
	ThreatLDAPInjection: 0.80,
}

// maxFalsePositiveRate bounds benign lines whose verdict is not clean.
const maxFalsePositiveRate = 0.02

func readCorpus(t testing.TB, path string) []corpusLine {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []corpusLine
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, MaxLineBytes)
	n := 0
	for sc.Scan() {
		n++
		var l corpusLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("%s:%d: %v", path, n, err)
		}
		if l.Field == "" || len(l.Value) == 0 {
			t.Fatalf("%s:%d: field and value are required", path, n)
		}
		out = append(out, l)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// checkCorpusLine runs a line the way `escai validate` does.
func checkCorpusLine(v *Validator, l corpusLine) Result {
	var s string
	if json.Unmarshal(l.Value, &s) == nil {
		return v.CheckField(l.Field, s)
	}
	return v.CheckJSON(l.Field, l.Value)
}

// detected: a threat of the family's own type that is not informational.
// Finding something else (a traversal payload flagged as cmd_injection)
// does not count.
func detected(r Result, family string) bool {
	for _, th := range r.Threats {
		if th.Type == family && !th.Informational {
			return r.Verdict != VerdictClean
		}
	}
	return false
}

// TestCorpusDetection measures every attack family of testdata/corpus and
// the false-positive rate on the benign corpus at the standard level, logs
// the table and fails below the targets. CORPUS_VERBOSE=1 lists the misses
// and false positives. CORPUS_DIR points it at another corpus (the hidden
// one) with the same layout.
func TestCorpusDetection(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("testdata", "corpus")
	if d := os.Getenv("CORPUS_DIR"); d != "" {
		dir = d
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus in %s: %v", dir, err)
	}
	v, err := New(DefaultConfig(config.LevelStandard))
	if err != nil {
		t.Fatal(err)
	}
	verbose := os.Getenv("CORPUS_VERBOSE") != ""

	type stat struct{ total, hit int }
	stats := map[string]*stat{}
	var misses []string
	for _, file := range files {
		for _, l := range readCorpus(t, file) {
			st := stats[l.Family]
			if st == nil {
				st = &stat{}
				stats[l.Family] = st
			}
			st.total++
			r := checkCorpusLine(v, l)
			if l.Family == "benign" {
				if r.Verdict != VerdictClean {
					st.hit++
					misses = append(misses, fmt.Sprintf("FP   %-40s %.100q %s", l.Field, string(l.Value), describe(r)))
				}
				continue
			}
			if detected(r, l.Family) {
				st.hit++
			} else {
				misses = append(misses, fmt.Sprintf("MISS %-14s %-36s %.100q %s", l.Family, l.Field, string(l.Value), describe(r)))
			}
		}
	}

	names := make([]string, 0, len(stats))
	for k := range stats {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	fmt.Fprintf(&b, "\n%-20s %6s %6s %8s %8s\n", "family", "lines", "hits", "rate", "target")
	var failures []string
	for _, name := range names {
		st := stats[name]
		rate := float64(st.hit) / float64(st.total)
		switch {
		case name == "benign":
			fmt.Fprintf(&b, "%-20s %6d %6d %7.2f%% %7s  (false positives)\n", name, st.total, st.hit, 100*rate, fmt.Sprintf("<=%.0f%%", 100*maxFalsePositiveRate))
			if rate > maxFalsePositiveRate {
				failures = append(failures, fmt.Sprintf("benign false-positive rate %.2f%% > %.0f%%", 100*rate, 100*maxFalsePositiveRate))
			}
		default:
			target, ok := corpusTargets[name]
			ts := "-"
			if ok {
				ts = fmt.Sprintf(">=%.0f%%", 100*target)
			}
			fmt.Fprintf(&b, "%-20s %6d %6d %7.2f%% %7s\n", name, st.total, st.hit, 100*rate, ts)
			if ok && rate < target {
				failures = append(failures, fmt.Sprintf("%s detection %.2f%% < %.0f%%", name, 100*rate, 100*target))
			}
		}
	}
	for name := range corpusTargets {
		if stats[name] == nil {
			failures = append(failures, name+": no corpus lines")
		}
	}
	if stats["benign"] == nil {
		failures = append(failures, "benign: no corpus lines")
	}
	t.Log(b.String())
	if verbose {
		sort.Strings(misses)
		t.Log("\n" + strings.Join(misses, "\n"))
	}
	for _, f := range failures {
		t.Error(f)
	}
}

func describe(r Result) string {
	var parts []string
	for _, th := range r.Threats {
		s := th.Type + "/" + th.Rule
		if th.Informational {
			s += "(i)"
		}
		parts = append(parts, s)
	}
	for _, re := range r.Reasons {
		if !strings.HasPrefix(re.Code, ReasonThreatPrefix) {
			parts = append(parts, "reason:"+re.Code)
		}
	}
	return string(r.Verdict) + " [" + strings.Join(parts, " ") + "]"
}
