package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
)

// tamper describes one attack on a copy of the standard log and the exact
// finding it must produce.
type tamper struct {
	// edit changes the stream: records (bytes, stream seqs) and entries.
	edit func(t *testing.T, l *testLogState, recs [][]byte, seqs []uint64, entries []CheckpointEntry) ([][]byte, []uint64, []CheckpointEntry)
	// cfg adjusts the verifier (keys given, trusted state).
	cfg func(l *testLogState, c *VerifierConfig)
	// want is the finding: code, pseq and stream seq; nil means a clean pass.
	want *Finding
}

// withKeys gives the verifier the integrity key and the data keys.
func withKeys(l *testLogState, c *VerifierConfig) {
	c.IntegrityKey = l.keys.Integrity
	c.Keys = l.ring
}

// rehash recomputes the stored hash of a record after an edit, as an
// attacker without the integrity key would; the MAC stays stale.
func rehash(t *testing.T, b []byte) {
	t.Helper()
	var v view
	if err := scan(b, &v); err != nil {
		t.Fatal(err)
	}
	var h leafHasher
	sum := h.sum(b[:v.canonLen])
	copy(b[v.canonLen+4:], sum[:])
}

func bodyOffset(t *testing.T, b []byte) int {
	t.Helper()
	var v view
	if err := scan(b, &v); err != nil {
		t.Fatal(err)
	}
	return v.aadLen + 4
}

func TestTamper(t *testing.T) {
	t.Parallel()
	finding := func(code Code, pseq, sseq uint64) *Finding {
		return &Finding{Code: code, PSeq: pseq, StreamSeq: sseq}
	}
	flip := func(k int, off func(t *testing.T, b []byte) int) func(*testing.T, *testLogState, [][]byte, []uint64, []CheckpointEntry) ([][]byte, []uint64, []CheckpointEntry) {
		return func(t *testing.T, _ *testLogState, r [][]byte, s []uint64, e []CheckpointEntry) ([][]byte, []uint64, []CheckpointEntry) {
			r[k][off(t, r[k])] ^= 0x01
			return r, s, e
		}
	}
	cases := map[string]tamper{
		"clean pass across data-key and signing-key rotation": {cfg: withKeys},
		"clean pass without any key":                          {},
		"modify one byte of the ciphertext": {
			edit: flip(4, func(t *testing.T, b []byte) int { return bodyOffset(t, b) + 3 }),
			want: finding(CodeLeafMismatch, 4, streamSeq(4)),
		},
		"modify one byte of the ciphertext, verifier has all keys": {
			edit: flip(4, func(t *testing.T, b []byte) int { return bodyOffset(t, b) + 3 }),
			cfg:  withKeys,
			want: finding(CodeLeafMismatch, 4, streamSeq(4)),
		},
		"modify one byte of a header field": {
			edit: flip(4, func(t *testing.T, b []byte) int { return bytes.Index(b, []byte("evt-0004")) + 7 }),
			want: finding(CodeLeafMismatch, 4, streamSeq(4)),
		},
		"modify the pseq field": {
			edit: flip(4, func(t *testing.T, b []byte) int { return len(leafTag) + 5 + 4 + len(Origin(testLog, 3)) + 12 + 4 + 7 }),
			want: finding(CodeLeafMismatch, 4, streamSeq(4)),
		},
		"modify the stored hash": {
			edit: flip(4, func(t *testing.T, b []byte) int { return len(b) - HashSize - 4 - 1 }),
			want: finding(CodeLeafMismatch, 4, streamSeq(4)),
		},
		"modify a length prefix": {
			edit: flip(4, func(t *testing.T, b []byte) int { return len(leafTag) + 5 + 4 + len(Origin(testLog, 3)) + 3 }),
			want: finding(CodeMalformed, 4, streamSeq(4)),
		},
		"modify the MAC, verifier has the integrity key": {
			edit: flip(4, func(t *testing.T, b []byte) int { return len(b) - 1 }),
			cfg:  withKeys,
			want: finding(CodeHMACFail, 4, streamSeq(4)),
		},
		"modify the MAC, verifier without the integrity key": {
			edit: flip(4, func(t *testing.T, b []byte) int { return len(b) - 1 }),
		},
		"modify the ciphertext and recompute the hash, verifier has the integrity key": {
			edit: func(t *testing.T, _ *testLogState, r [][]byte, s []uint64, e []CheckpointEntry) ([][]byte, []uint64, []CheckpointEntry) {
				r[4][bodyOffset(t, r[4])+3] ^= 1
				rehash(t, r[4])
				return r, s, e
			},
			cfg:  withKeys,
			want: finding(CodeHMACFail, 4, streamSeq(4)),
		},
		"modify the ciphertext and recompute the hash, verifier has data keys only": {
			edit: func(t *testing.T, _ *testLogState, r [][]byte, s []uint64, e []CheckpointEntry) ([][]byte, []uint64, []CheckpointEntry) {
				r[4][bodyOffset(t, r[4])+3] ^= 1
				rehash(t, r[4])
				return r, s, e
			},
			cfg:  func(l *testLogState, c *VerifierConfig) { c.Keys = l.ring },
			want: finding(CodeAEADFail, 4, streamSeq(4)),
		},
		"modify the ciphertext and recompute the hash, verifier without keys": {
			edit: func(t *testing.T, _ *testLogState, r [][]byte, s []uint64, e []CheckpointEntry) ([][]byte, []uint64, []CheckpointEntry) {
				r[4][bodyOffset(t, r[4])+3] ^= 1
				rehash(t, r[4])
				return r, s, e
			},
			want: finding(CodeChainBreak, 5, streamSeq(5)),
		},
		"delete record 4": {
			edit: func(_ *testing.T, _ *testLogState, r [][]byte, s []uint64, e []CheckpointEntry) ([][]byte, []uint64, []CheckpointEntry) {
				return slices.Delete(r, 4, 5), slices.Delete(s, 4, 5), e
			},
			want: finding(CodeGap, 4, streamSeq(5)),
		},
		"delete record 0": {
			edit: func(_ *testing.T, _ *testLogState, r [][]byte, s []uint64, e []CheckpointEntry) ([][]byte, []uint64, []CheckpointEntry) {
				return r[1:], s[1:], e
			},
			cfg:  func(_ *testLogState, c *VerifierConfig) { c.RequireGenesis = true },
			want: finding(CodeGap, 0, streamSeq(1)),
		},
		"delete record 8 (the second-to-last)": {
			edit: func(_ *testing.T, _ *testLogState, r [][]byte, s []uint64, e []CheckpointEntry) ([][]byte, []uint64, []CheckpointEntry) {
				return slices.Delete(r, 8, 9), slices.Delete(s, 8, 9), e
			},
			want: finding(CodeGap, 8, streamSeq(9)),
		},
		"swap records 4 and 5": {
			edit: func(_ *testing.T, _ *testLogState, r [][]byte, s []uint64, e []CheckpointEntry) ([][]byte, []uint64, []CheckpointEntry) {
				r[4], r[5] = r[5], r[4]
				return r, s, e
			},
			want: finding(CodeReorder, 4, streamSeq(4)),
		},
		"swap the last two records": {
			edit: func(_ *testing.T, _ *testLogState, r [][]byte, s []uint64, e []CheckpointEntry) ([][]byte, []uint64, []CheckpointEntry) {
				r[8], r[9] = r[9], r[8]
				return r, s, e
			},
			want: finding(CodeReorder, 8, streamSeq(8)),
		},
		"duplicate record 4": {
			edit: func(_ *testing.T, _ *testLogState, r [][]byte, s []uint64, e []CheckpointEntry) ([][]byte, []uint64, []CheckpointEntry) {
				return slices.Insert(r, 5, bytes.Clone(r[4])), slices.Insert(s, 5, 150), e
			},
			want: finding(CodeReorder, 5, 150),
		},
		"truncate the last 3 records": {
			edit: func(_ *testing.T, _ *testLogState, r [][]byte, s []uint64, e []CheckpointEntry) ([][]byte, []uint64, []CheckpointEntry) {
				return r[:7], s[:7], e
			},
			want: finding(CodeTruncated, 7, cpSeq(1)),
		},
		"truncate the last record": {
			edit: func(_ *testing.T, _ *testLogState, r [][]byte, s []uint64, e []CheckpointEntry) ([][]byte, []uint64, []CheckpointEntry) {
				return r[:9], s[:9], e
			},
			want: finding(CodeTruncated, 9, cpSeq(1)),
		},
		"truncate below the older checkpoint": {
			edit: func(_ *testing.T, _ *testLogState, r [][]byte, s []uint64, e []CheckpointEntry) ([][]byte, []uint64, []CheckpointEntry) {
				return r[:4], s[:4], e
			},
			want: finding(CodeTruncated, 4, cpSeq(1)),
		},
		"truncate the tail and its checkpoint, auditor holds the newer one": {
			edit: func(_ *testing.T, _ *testLogState, r [][]byte, s []uint64, e []CheckpointEntry) ([][]byte, []uint64, []CheckpointEntry) {
				return r[:6], s[:6], e[:1]
			},
			cfg:  func(l *testLogState, c *VerifierConfig) { c.TrustedState = l.entries[1].Note },
			want: finding(CodeCheckpointRollback, 6, cpSeq(0)),
		},
		"older checkpoint presented after a newer one": {
			edit: func(_ *testing.T, _ *testLogState, r [][]byte, s []uint64, e []CheckpointEntry) ([][]byte, []uint64, []CheckpointEntry) {
				return r, s, []CheckpointEntry{e[1], e[0]}
			},
			want: finding(CodeCheckpointRollback, 6, cpSeq(1)),
		},
		"checkpoint signed by an untrusted key": {
			edit: func(t *testing.T, l *testLogState, r [][]byte, s []uint64, e []CheckpointEntry) ([][]byte, []uint64, []CheckpointEntry) {
				c, err := OpenCheckpoint(e[1].Note, l.trusted(t))
				if err != nil {
					t.Fatal(err)
				}
				rogue, _ := testSigner(t, testLog, 99)
				msg, err := c.Sign(rogue)
				if err != nil {
					t.Fatal(err)
				}
				e[1] = CheckpointEntry{Note: msg}
				return r, s, e
			},
			want: finding(CodeBadCheckpointSignature, 10, cpSeq(1)),
		},
		"checkpoint text edited after signing": {
			edit: func(_ *testing.T, _ *testLogState, r [][]byte, s []uint64, e []CheckpointEntry) ([][]byte, []uint64, []CheckpointEntry) {
				e[1].Note = bytes.Replace(e[1].Note, []byte("\n10\n"), []byte("\n11\n"), 1)
				return r, s, e
			},
			want: finding(CodeBadCheckpointSignature, 11, cpSeq(1)),
		},
		"two signed checkpoints of one size with different roots (fork)": {
			edit: func(t *testing.T, l *testLogState, r [][]byte, s []uint64, e []CheckpointEntry) ([][]byte, []uint64, []CheckpointEntry) {
				c, err := OpenCheckpoint(e[1].Note, l.trusted(t))
				if err != nil {
					t.Fatal(err)
				}
				fork := c.Checkpoint
				fork.Frontier = slices.Clone(fork.Frontier)
				fork.Frontier[len(fork.Frontier)-1][0] ^= 1
				fork.Root, _ = frontierRoot(fork.Size, fork.Frontier)
				msg, err := fork.Sign(l.signers[1])
				if err != nil {
					t.Fatal(err)
				}
				return r, s, append(e, CheckpointEntry{Note: msg})
			},
			want: finding(CodeConsistencyFail, 10, cpSeq(2)),
		},
		"consistency proof between checkpoints does not verify": {
			edit: func(_ *testing.T, _ *testLogState, r [][]byte, s []uint64, e []CheckpointEntry) ([][]byte, []uint64, []CheckpointEntry) {
				e[1].Consistency = slices.Clone(e[1].Consistency)
				e[1].Consistency[0] = bytes.Repeat([]byte{7}, HashSize)
				return r, s, e
			},
			want: finding(CodeConsistencyFail, 10, cpSeq(1)),
		},
		"insider with every key rewrites the suffix from pseq 7": {
			edit: func(t *testing.T, l *testLogState, r [][]byte, s []uint64, e []CheckpointEntry) ([][]byte, []uint64, []CheckpointEntry) {
				c, err := OpenCheckpoint(e[0].Note, l.trusted(t))
				if err != nil {
					t.Fatal(err)
				}
				a, err := RestoreAppender(l.appenderConfig(logOptions{}), &c.Checkpoint, r[5:7])
				if err != nil {
					t.Fatal(err)
				}
				forged := input(7, "acme")
				forged.Payload = []byte(`{"forged":true}`)
				recs, err := a.Append([]Input{forged, input(8, "acme"), input(9, "acme")})
				if err != nil {
					t.Fatal(err)
				}
				for i := range recs {
					r[7+i] = bytes.Clone(recs[i].Bytes())
				}
				return r, s, e
			},
			cfg:  withKeys,
			want: finding(CodeRootMismatch, 6, streamSeq(9)),
		},
		"record of another partition": {
			edit: func(t *testing.T, _ *testLogState, r [][]byte, s []uint64, e []CheckpointEntry) ([][]byte, []uint64, []CheckpointEntry) {
				other := newTestLog(t, logOptions{})
				other.origin = Origin(testLog, 4)
				other.part = 4
				a, err := NewAppender(other.appenderConfig(logOptions{}))
				if err != nil {
					t.Fatal(err)
				}
				other.app = a
				recs := other.add(t, 5, nil)
				r[4] = bytes.Clone(recs[4].Bytes())
				return r, s, e
			},
			want: finding(CodeMalformed, 4, streamSeq(4)),
		},
		"garbage instead of a record": {
			edit: func(_ *testing.T, _ *testLogState, r [][]byte, s []uint64, e []CheckpointEntry) ([][]byte, []uint64, []CheckpointEntry) {
				r[4] = []byte(`{"not":"a record"}`)
				return r, s, e
			},
			want: finding(CodeMalformed, 4, streamSeq(4)),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			l := standardLog(t)
			recs, seqs, entries := cloneAll(l.records), seqsOf(len(l.records)), slices.Clone(l.entries)
			if tc.edit != nil {
				recs, seqs, entries = tc.edit(t, l, recs, seqs, entries)
			}
			cfg := VerifierConfig{Origin: l.origin, Partition: l.part, Trusted: l.trusted(t)}
			if tc.cfg != nil {
				tc.cfg(l, &cfg)
			}
			rep := verify(t, cfg, entries, recs, seqs)
			got := rep.Finding
			if tc.want == nil {
				if got != nil {
					t.Fatalf("unexpected finding: %v", got)
				}
				if rep.Status != "OK" || rep.NextPSeq != 10 || rep.RootsMatched != 2 || rep.CheckpointsAccepted != 2 || rep.Unanchored != 0 {
					t.Fatalf("report %+v", rep)
				}
				return
			}
			if got == nil {
				t.Fatalf("no finding, want %s at pseq %d (report %+v)", tc.want.Code, tc.want.PSeq, rep)
			}
			if got.Code != tc.want.Code || got.PSeq != tc.want.PSeq || got.StreamSeq != tc.want.StreamSeq ||
				got.Partition != 3 || got.Origin != l.origin {
				t.Fatalf("finding %v (code %s, partition %d, pseq %d, stream seq %d);\nwant %s, partition 3, pseq %d, stream seq %d",
					got, got.Code, got.Partition, got.PSeq, got.StreamSeq, tc.want.Code, tc.want.PSeq, tc.want.StreamSeq)
			}
			if rep.Status != "FAILED" {
				t.Fatalf("status %q with a finding", rep.Status)
			}
		})
	}
}

func TestCleanReportDetails(t *testing.T) {
	t.Parallel()
	l := standardLog(t)
	cfg := VerifierConfig{Origin: l.origin, Partition: l.part, Trusted: l.trusted(t)}
	withKeys(l, &cfg)
	rep := verify(t, cfg, l.entries, l.records, seqsOf(10))
	if rep.Decrypted != 10 || rep.MACsChecked != 10 || rep.ConsistencyProofs != 1 || rep.Checkpoint == nil || rep.Checkpoint.Size != 10 {
		t.Fatalf("report %+v", rep)
	}
	// The data key rotated at pseq 5: two key ids in the chain.
	ids := map[string]bool{}
	for _, b := range l.records {
		r, _ := DecodeRecord(b)
		ids[r.KeyID] = true
	}
	if len(ids) != 2 {
		t.Fatalf("key ids %v, want 2 (rotation at pseq 5)", ids)
	}
	// The two checkpoints carry different signing keys.
	c0, _ := OpenCheckpoint(l.entries[0].Note, l.trusted(t))
	c1, _ := OpenCheckpoint(l.entries[1].Note, l.trusted(t))
	if c0.SignedBy[0] == c1.SignedBy[0] {
		t.Fatalf("both checkpoints signed by %v", c0.SignedBy)
	}
	if rep.Checkpoint.SignedBy[0] != c1.SignedBy[0] {
		t.Fatalf("report signed_by %v", rep.Checkpoint.SignedBy)
	}
	// The report's newest checkpoint works as the next run's trusted state.
	cfg.TrustedState = []byte(rep.Checkpoint.Note)
	if rep2 := verify(t, cfg, l.entries, l.records, seqsOf(10)); rep2.Finding != nil {
		t.Fatalf("with trusted state: %v", rep2.Finding)
	}
	b, err := json.Marshal(rep)
	if err != nil || !strings.Contains(string(b), `"status":"OK"`) {
		t.Fatalf("json %s, %v", b, err)
	}
}

func TestUnanchoredTail(t *testing.T) {
	t.Parallel()
	l := standardLog(t)
	l.add(t, 3, nil)
	rep := verify(t, VerifierConfig{Origin: l.origin, Partition: l.part, Trusted: l.trusted(t)}, l.entries, l.records, seqsOf(13))
	if rep.Finding != nil || rep.Unanchored != 3 {
		t.Fatalf("finding %v, unanchored %d, want none and 3", rep.Finding, rep.Unanchored)
	}
	rep = verify(t, VerifierConfig{Origin: l.origin, Partition: l.part, Trusted: l.trusted(t)}, nil, l.records, seqsOf(13))
	if rep.Finding != nil || rep.Unanchored != 13 {
		t.Fatalf("without checkpoints: finding %v, unanchored %d", rep.Finding, rep.Unanchored)
	}
}

func TestCryptoShredding(t *testing.T) {
	t.Parallel()
	l := newTestLog(t, logOptions{tenantKeys: true})
	tenant := func(i int) string {
		if i%2 == 0 {
			return "acme"
		}
		return "beta"
	}
	l.add(t, 10, tenant)
	l.checkpoint(t, 0)
	tombs, err := l.ring.Shred("acme")
	if err != nil {
		t.Fatal(err)
	}
	if len(tombs) != 1 || !tombs[0].Shredded || tombs[0].Wrapped != nil {
		t.Fatalf("tombstones %+v", tombs)
	}
	cfg := VerifierConfig{Origin: l.origin, Partition: l.part, Trusted: l.trusted(t)}
	withKeys(l, &cfg)
	rep := verify(t, cfg, l.entries, l.records, seqsOf(10))
	if rep.Finding != nil || rep.Shredded != 5 || rep.Decrypted != 5 || rep.RootsMatched != 1 {
		t.Fatalf("finding %v, report %+v; want a clean pass with 5 shredded and 5 decrypted", rep.Finding, rep)
	}
	for i, b := range l.records {
		r, err := DecodeRecord(b)
		if err != nil {
			t.Fatal(err)
		}
		body, err := r.Open(l.ring)
		switch tenant(i) {
		case "acme":
			if body != nil || !errors.Is(err, ErrKeyShredded) {
				t.Fatalf("pseq %d of the shredded tenant: body %v, err %v", i, body, err)
			}
		default:
			if err != nil || !bytes.Equal(body.Payload, input(i, "beta").Payload) {
				t.Fatalf("pseq %d of the other tenant: %v", i, err)
			}
		}
	}
	// A verifier that loads the stored keys (with the tombstone) agrees.
	stored, err := l.ring.Keys()
	if err != nil {
		t.Fatal(err)
	}
	ring2, err := NewKeyRing(KeyRingConfig{KEK: l.keys.KEK, TenantKeys: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range stored {
		if err := ring2.Load(w); err != nil {
			t.Fatal(err)
		}
	}
	cfg.Keys = ring2
	if rep := verify(t, cfg, l.entries, l.records, seqsOf(10)); rep.Finding != nil || rep.Shredded != 5 || rep.Decrypted != 5 {
		t.Fatalf("with loaded keys: %v %+v", rep.Finding, rep)
	}
	// The tenant's next record gets a fresh key.
	recs := l.add(t, 1, func(int) string { return "acme" })
	if _, err := recs[0].Open(l.ring); err != nil {
		t.Fatalf("new record after shredding: %v", err)
	}
}

func TestRetention(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		drop      int // records removed from the front
		entries   []int
		genesis   bool
		want      *Finding
		anchor    uint64
		chainOnly uint64
	}{
		"oldest 6 removed, resume at checkpoint 6":      {drop: 6, entries: []int{0, 1}, anchor: 6},
		"oldest 4 removed, 4 and 5 chain-checked":       {drop: 4, entries: []int{0, 1}, anchor: 6, chainOnly: 2},
		"oldest 7 removed, resume at checkpoint 10":     {drop: 7, entries: []int{0, 1}, anchor: 10, chainOnly: 3},
		"oldest 7 removed, no checkpoint covers pseq 7": {drop: 7, entries: []int{0}, want: &Finding{Code: CodeGap, PSeq: 6, StreamSeq: streamSeq(7)}},
		"oldest 3 removed but genesis required":         {drop: 3, entries: []int{0, 1}, genesis: true, want: &Finding{Code: CodeGap, PSeq: 0, StreamSeq: streamSeq(3)}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			l := standardLog(t)
			var entries []CheckpointEntry
			for _, j := range tc.entries {
				entries = append(entries, l.entries[j])
			}
			cfg := VerifierConfig{Origin: l.origin, Partition: l.part, Trusted: l.trusted(t), RequireGenesis: tc.genesis}
			withKeys(l, &cfg)
			rep := verify(t, cfg, entries, l.records[tc.drop:], seqsOf(10)[tc.drop:])
			if tc.want == nil {
				if rep.Finding != nil || rep.AnchorSize != tc.anchor || rep.ChainOnly != tc.chainOnly || rep.FirstPSeq != uint64(tc.drop) || rep.NextPSeq != 10 {
					t.Fatalf("finding %v, report %+v", rep.Finding, rep)
				}
				return
			}
			if f := rep.Finding; f == nil || f.Code != tc.want.Code || f.PSeq != tc.want.PSeq || f.StreamSeq != tc.want.StreamSeq {
				t.Fatalf("finding %v, want %s at pseq %d stream seq %d", f, tc.want.Code, tc.want.PSeq, tc.want.StreamSeq)
			}
		})
	}
}

func TestRetentionAnchorDetectsRewrittenBoundary(t *testing.T) {
	t.Parallel()
	// Anchor of odd size: the record just before it must be the
	// frontier's last leaf even though the tree does not re-hash it.
	l := newTestLog(t, logOptions{})
	l.add(t, 7, nil)
	l.checkpoint(t, 0)
	l.add(t, 2, nil)
	recs := cloneAll(l.records)
	// Rewrite record 6 consistently (hash recomputed) and re-link 7.
	recs[6][bodyOffset(t, recs[6])] ^= 1
	rehash(t, recs[6])
	rep := verify(t, VerifierConfig{Origin: l.origin, Partition: l.part, Trusted: l.trusted(t)}, l.entries, recs[5:], seqsOf(9)[5:])
	if f := rep.Finding; f == nil || f.Code != CodeRootMismatch || f.PSeq != 6 {
		t.Fatalf("finding %v, want ROOT_MISMATCH at pseq 6", f)
	}
}

func TestLateCheckpoint(t *testing.T) {
	t.Parallel()
	l := standardLog(t)
	for name, keep := range map[string]bool{"with tree": true, "without tree": false} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			v, err := NewVerifier(VerifierConfig{Origin: l.origin, Partition: l.part, Trusted: l.trusted(t), KeepTree: keep})
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range l.records {
				if f := v.Feed(r, streamSeq(i)); f != nil {
					t.Fatal(f)
				}
			}
			for j, e := range l.entries {
				if f := v.AddCheckpoint(e, cpSeq(j)); f != nil {
					t.Fatal(f)
				}
			}
			rep := v.Finish()
			wantMatched, wantUnchecked := 2, 0
			if !keep {
				wantMatched, wantUnchecked = 1, 1
			}
			if rep.Finding != nil || rep.RootsMatched != wantMatched || rep.Unchecked != wantUnchecked {
				t.Fatalf("finding %v, report %+v", rep.Finding, rep)
			}
		})
	}
}

func TestVerifierConfigErrors(t *testing.T) {
	t.Parallel()
	l := standardLog(t)
	for name, cfg := range map[string]VerifierConfig{
		"no origin":          {Trusted: l.trusted(t)},
		"no trusted keys":    {Origin: l.origin},
		"short MAC key":      {Origin: l.origin, Trusted: l.trusted(t), IntegrityKey: []byte("short")},
		"forged trust state": {Origin: l.origin, Trusted: trustedKeys(t, l.vkeys[0]), TrustedState: l.entries[1].Note},
		"other origin state": {Origin: Origin(testLog, 9), Trusted: l.trusted(t), TrustedState: l.entries[1].Note},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := NewVerifier(cfg)
			wantErr(t, err, ErrInvalidConfig)
		})
	}
}

func TestFindingError(t *testing.T) {
	t.Parallel()
	f := &Finding{Code: CodeGap, Origin: "audit.test/p/3", Partition: 3, PSeq: 4, StreamSeq: 105, Detail: "record pseq 4 is missing"}
	if got, want := f.Error(), "audit: GAP in audit.test/p/3 at pseq 4 (stream seq 105): record pseq 4 is missing"; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
	seen := map[Code]bool{}
	for _, c := range Codes() {
		if seen[c] || c == "" || strings.ToUpper(string(c)) != string(c) {
			t.Fatalf("bad or duplicate code %q", c)
		}
		seen[c] = true
	}
}

// TestSharedKeySurvivesShred: a record sealed with SharedKey (the log's
// own events, such as the shred's record) stays readable after its
// tenant's keys are shredded; the tenant's other records do not, and the
// shared key itself cannot be shredded.
func TestSharedKeySurvivesShred(t *testing.T) {
	t.Parallel()
	l := newTestLog(t, logOptions{tenantKeys: true})
	in := []Input{input(0, "acme"), input(1, "acme")}
	in[1].SharedKey = true
	recs, err := l.app.Append(in)
	if err != nil {
		t.Fatal(err)
	}
	if recs[0].KeyID == recs[1].KeyID {
		t.Fatal("the shared-key record is sealed under the tenant's key")
	}
	if _, err := l.ring.Shred("acme"); err != nil {
		t.Fatal(err)
	}
	if _, err := recs[0].Open(l.ring); !errors.Is(err, ErrKeyShredded) {
		t.Fatalf("tenant record after the shred: %v, want ErrKeyShredded", err)
	}
	body, err := recs[1].Open(l.ring)
	if err != nil || !bytes.Equal(body.Payload, in[1].Payload) {
		t.Fatalf("shared-key record after the shred: %v", err)
	}
	if _, err := l.ring.Shred(""); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("Shred(\"\") = %v, want ErrInvalidConfig", err)
	}
}
