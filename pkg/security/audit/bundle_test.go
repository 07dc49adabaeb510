package audit

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func bundleOf(t testing.TB, recs [][]byte) []byte {
	t.Helper()
	entries := make([]BundleEntry, len(recs))
	for i, r := range recs {
		entries[i] = BundleEntry{Record: r, EventTime: 1767323045600 + int64(i), Source: "ESCAI_CLEAN_acme", SourceSeq: uint64(100 + i)}
	}
	b, err := AppendBundle(nil, entries)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBundleRoundTrip(t *testing.T) {
	l := standardLog(t)
	b := bundleOf(t, l.records[:5])
	if !IsBundle(b) {
		t.Fatal("IsBundle(bundle) = false")
	}
	entries, err := SplitBundle(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 5 {
		t.Fatalf("%d entries, want 5", len(entries))
	}
	for i, e := range entries {
		if !bytes.Equal(e.Record, l.records[i]) || e.EventTime != 1767323045600+int64(i) || e.Source != "ESCAI_CLEAN_acme" || e.SourceSeq != uint64(100+i) {
			t.Fatalf("entry %d = %+v", i, e)
		}
	}
	again, err := AppendBundle(nil, entries)
	if err != nil || !bytes.Equal(again, b) {
		t.Fatalf("re-encoded bundle differs (%v)", err)
	}
	// The records inside verify as if stored alone.
	v, err := NewVerifier(VerifierConfig{Origin: l.origin, Partition: l.part, Trusted: l.trusted(t), IntegrityKey: l.keys.Integrity, Keys: l.ring})
	if err != nil {
		t.Fatal(err)
	}
	recs, err := RecordsOf(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := v.Feed(r, 7); err != nil {
			t.Fatal(err)
		}
	}
	if rep := v.Finish(); rep.Finding != nil || rep.NextPSeq != 5 {
		t.Fatalf("report %+v", rep)
	}
	// A message that is not a bundle is one record.
	single, err := RecordsOf(l.records[0])
	if err != nil || len(single) != 1 || !bytes.Equal(single[0], l.records[0]) {
		t.Fatalf("RecordsOf(record) = %d records, %v", len(single), err)
	}
}

// TestBundleGolden pins the wire form: stored bundles must stay readable.
func TestBundleGolden(t *testing.T) {
	entries := []BundleEntry{
		{Record: []byte("escai-audit-leaf:first"), EventTime: 1767323045600, Source: "ESCAI_CLEAN_acme", SourceSeq: 1},
		{Record: []byte("escai-audit-leaf:second"), Source: "ESCAI_SECURITY", SourceSeq: 1 << 40},
	}
	b, err := AppendBundle(nil, entries)
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "bundle-v1.golden")
	if *update {
		if err := os.WriteFile(golden, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update once to create it)", err)
	}
	if !bytes.Equal(b, want) {
		t.Fatalf("bundle wire form changed:\n got %q\nwant %q", b, want)
	}
}

func TestBundleRejects(t *testing.T) {
	l := standardLog(t)
	good := bundleOf(t, l.records[:3])
	countAt := len(bundleTag) + 5 + 4 // the count's 8 bytes
	cases := map[string][]byte{
		"empty":          {},
		"record":         l.records[0],
		"tag only":       []byte(bundleTag),
		"truncated":      good[:len(good)-1],
		"trailing":       append(bytes.Clone(good), 0),
		"version 2":      func() []byte { b := bytes.Clone(good); b[len(bundleTag)+4] = 2; return b }(),
		"count zero":     func() []byte { b := bytes.Clone(good); clear(b[countAt : countAt+8]); return b }(),
		"count too big":  func() []byte { b := bytes.Clone(good); b[countAt] = 0x7f; return b }(),
		"count one more": func() []byte { b := bytes.Clone(good); b[countAt+7]++; return b }(),
		"source not ascii": func() []byte {
			b, _ := AppendBundle(nil, []BundleEntry{{Record: l.records[0], Source: "x"}})
			i := bytes.Index(b, []byte{0, 0, 0, 1, 'x'})
			b[i+4] = 0xff
			return b
		}(),
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := SplitBundle(b); !errors.Is(err, ErrMalformed) {
				t.Fatalf("SplitBundle: %v, want ErrMalformed", err)
			}
		})
	}
	if _, err := AppendBundle(nil, nil); err == nil {
		t.Fatal("empty bundle written")
	}
	if _, err := AppendBundle(nil, []BundleEntry{{Record: l.records[0], Source: "bad\nsource"}}); err == nil {
		t.Fatal("bundle with a control character in its source written")
	}
	if _, err := AppendBundle(nil, make([]BundleEntry, MaxBundleRecords+1)); err == nil {
		t.Fatal(fmt.Sprint("bundle of ", MaxBundleRecords+1, " records written"))
	}
}

// FuzzSplitBundle: stored messages are outside input to the verifier and
// the index rebuild. SplitBundle never panics, accepts only what
// AppendBundle writes (re-encoding gives the same bytes), and never
// promises more entries than the bytes hold.
func FuzzSplitBundle(f *testing.F) {
	l := standardLog(f)
	f.Add(bundleOf(f, l.records[:3]))
	f.Add(bundleOf(f, l.records[:1]))
	f.Add(l.records[0])
	f.Add([]byte(bundleTag))
	f.Fuzz(func(t *testing.T, b []byte) {
		entries, err := SplitBundle(b)
		if err != nil {
			if entries != nil || !errors.Is(err, ErrMalformed) {
				t.Fatalf("entries %d with error %v", len(entries), err)
			}
			return
		}
		again, err := AppendBundle(nil, entries)
		if err != nil {
			t.Fatalf("accepted bundle does not re-encode: %v", err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("re-encoded bundle differs:\n in %q\nout %q", b, again)
		}
	})
}

// TestBundleSmallestEntries: what AppendBundle writes, SplitBundle reads,
// down to the smallest entry (no source, a 1-byte record); an entry
// without a record is refused when written.
func TestBundleSmallestEntries(t *testing.T) {
	entries := []BundleEntry{{Record: []byte{1}}, {Record: []byte{2}}, {Record: []byte{3}, Source: "s"}}
	b, err := AppendBundle(nil, entries)
	if err != nil {
		t.Fatal(err)
	}
	size := BundleOverhead
	for _, e := range entries {
		size += BundleEntrySize(len(e.Record), len(e.Source))
	}
	if len(b) != size {
		t.Fatalf("bundle of %d bytes, BundleOverhead and BundleEntrySize say %d", len(b), size)
	}
	got, err := SplitBundle(b)
	if err != nil || len(got) != 3 || got[2].Source != "s" || !bytes.Equal(got[1].Record, []byte{2}) {
		t.Fatalf("SplitBundle = %+v, %v", got, err)
	}
	if _, err := AppendBundle(nil, []BundleEntry{{Record: []byte{1}}, {}}); err == nil {
		t.Fatal("entry without a record written")
	}
}
