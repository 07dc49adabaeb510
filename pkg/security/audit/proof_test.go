package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
)

// replayTree verifies the standard log with KeepTree and returns the tree
// and the newest signed checkpoint.
func replayTree(t testing.TB, l *testLogState) (*Tree, *SignedCheckpoint) {
	t.Helper()
	v, err := NewVerifier(VerifierConfig{Origin: l.origin, Partition: l.part, Trusted: l.trusted(t), KeepTree: true})
	if err != nil {
		t.Fatal(err)
	}
	for j, e := range l.entries {
		v.AddCheckpoint(e, cpSeq(j))
	}
	for i, r := range l.records {
		v.Feed(r, streamSeq(i))
	}
	if rep := v.Finish(); rep.Finding != nil {
		t.Fatal(rep.Finding)
	}
	sc, err := OpenCheckpoint(l.entries[len(l.entries)-1].Note, l.trusted(t))
	if err != nil {
		t.Fatal(err)
	}
	return v.Tree(), sc
}

func TestInclusionProofRoundTrip(t *testing.T) {
	t.Parallel()
	l := standardLog(t)
	tree, cp := replayTree(t, l)
	older, _ := OpenCheckpoint(l.entries[0].Note, l.trusted(t))
	for _, c := range []*SignedCheckpoint{older, cp} {
		for i := range c.Size {
			p, err := tree.Prove(i, c)
			if err != nil {
				t.Fatal(err)
			}
			p.Record = l.records[i]
			doc, err := json.Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			// The third party: parse the document, trust only the keys.
			q, err := ParseProof(doc)
			if err != nil {
				t.Fatal(err)
			}
			got, err := VerifyProof(q, nil, trustedKeys(t, l.vkeys...))
			if err != nil {
				t.Fatalf("leaf %d of %d: %v", i, c.Size, err)
			}
			if got.Size != c.Size || got.Root != c.Root {
				t.Fatalf("verified checkpoint %d", got.Size)
			}
			// With the auditor's own copy of the checkpoint.
			if _, err := VerifyProof(q, c.Note, trustedKeys(t, l.vkeys...)); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestInclusionProofFailures(t *testing.T) {
	t.Parallel()
	l := standardLog(t)
	tree, cp := replayTree(t, l)
	trusted := trustedKeys(t, l.vkeys...)
	base, err := tree.Prove(4, cp)
	if err != nil {
		t.Fatal(err)
	}
	base.Record = l.records[4]
	clone := func() *Proof {
		p := *base
		p.Hashes = slices.Clone(base.Hashes)
		for i := range p.Hashes {
			p.Hashes[i] = bytes.Clone(p.Hashes[i])
		}
		p.LeafHash = bytes.Clone(base.LeafHash)
		p.Record = bytes.Clone(base.Record)
		return &p
	}
	// A fork: a different tree of the same size, validly signed.
	fork := cp.Checkpoint
	fork.Frontier = slices.Clone(fork.Frontier)
	fork.Frontier[0][0] ^= 1
	fork.Root, _ = frontierRoot(fork.Size, fork.Frontier)
	forkNote, err := fork.Sign(l.signers[1])
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		p          func() *Proof
		checkpoint []byte
		trusted    []string
		err        error
	}{
		"tampered checkpoint text": {p: func() *Proof {
			p := clone()
			p.Checkpoint = string(bytes.Replace([]byte(p.Checkpoint), []byte("\n10\n"), []byte("\n11\n"), 1))
			return p
		}, err: ErrBadSignature},
		"checkpoint by an untrusted key": {p: clone, trusted: []string{l.vkeys[0]}, err: ErrBadSignature},
		"validly signed fork":            {p: clone, checkpoint: forkNote, err: ErrProof},
		"older checkpoint":               {p: clone, checkpoint: l.entries[0].Note, err: ErrProof},
		"tampered path": {p: func() *Proof {
			p := clone()
			p.Hashes[1][0] ^= 1
			return p
		}, err: ErrProof},
		"wrong leaf index": {p: func() *Proof {
			p := clone()
			p.LeafIndex, p.Record = 5, nil
			return p
		}, err: ErrProof},
		"tampered record": {p: func() *Proof {
			p := clone()
			p.Record[bodyOffset(t, p.Record)] ^= 1
			return p
		}, err: ErrProof},
		"another record": {p: func() *Proof {
			p := clone()
			p.Record = bytes.Clone(l.records[5])
			return p
		}, err: ErrProof},
		"garbage record": {p: func() *Proof {
			p := clone()
			p.Record = []byte("x")
			return p
		}, err: ErrMalformed},
		"other origin": {p: func() *Proof {
			p := clone()
			p.Origin = "audit.test/p/4"
			return p
		}, err: ErrProof},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			keys := l.vkeys
			if tc.trusted != nil {
				keys = tc.trusted
			}
			_, err := VerifyProof(tc.p(), tc.checkpoint, trustedKeys(t, keys...))
			wantErr(t, err, tc.err)
		})
	}
	if _, err := VerifyProof(clone(), nil, trusted); err != nil {
		t.Fatalf("the untouched proof fails: %v", err)
	}
	// The tree refuses to prove against a checkpoint it disagrees with.
	forged := &SignedCheckpoint{Checkpoint: fork, Note: forkNote}
	if _, err := tree.Prove(4, forged); !errors.Is(err, ErrProof) {
		t.Fatalf("Prove against a fork: %v", err)
	}
	if _, err := tree.Prove(10, cp); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Prove beyond the checkpoint: %v", err)
	}
}

func TestParseProofRejects(t *testing.T) {
	t.Parallel()
	for name, s := range map[string]string{
		"not json":        `[`,
		"unknown field":   `{"v":1,"origin":"a","leaf_index":0,"tree_size":1,"leaf_hash":"` + b64zeros + `","hashes":[],"checkpoint":"","x":1}`,
		"version 2":       `{"v":2,"origin":"a","leaf_index":0,"tree_size":1,"leaf_hash":"` + b64zeros + `","hashes":[],"checkpoint":""}`,
		"index past size": `{"v":1,"origin":"a","leaf_index":1,"tree_size":1,"leaf_hash":"` + b64zeros + `","hashes":[],"checkpoint":""}`,
		"short leaf hash": `{"v":1,"origin":"a","leaf_index":0,"tree_size":1,"leaf_hash":"AAAA","hashes":[],"checkpoint":""}`,
		"short path hash": `{"v":1,"origin":"a","leaf_index":0,"tree_size":2,"leaf_hash":"` + b64zeros + `","hashes":["AAAA"],"checkpoint":""}`,
		"bad origin":      `{"v":1,"origin":"a b","leaf_index":0,"tree_size":1,"leaf_hash":"` + b64zeros + `","hashes":[],"checkpoint":""}`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseProof([]byte(s))
			wantErr(t, err, ErrMalformed)
		})
	}
}

const b64zeros = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

// leaves returns n distinct leaf hashes.
func leaves(n int) [][HashSize]byte {
	out := make([][HashSize]byte, n)
	for i := range out {
		out[i] = [HashSize]byte(rfc6962.DefaultHasher.HashLeaf([]byte{byte(i), byte(i >> 8)}))
	}
	return out
}

// TestTreeProofsAgainstReference checks every proof the Tree builds with
// the reference verifier of transparency-dev/merkle, for all sizes up to 70.
func TestTreeProofsAgainstReference(t *testing.T) {
	t.Parallel()
	const n = 70
	ls := leaves(n)
	tree := NewTree()
	f := newFactory()
	rng := f.NewEmptyRange(0)
	roots := [][HashSize]byte{emptyRoot}
	for _, h := range ls {
		tree.Append(h)
		rng.Append(bytes.Clone(h[:]), nil)
		roots = append(roots, rootOf(rng))
	}
	if got, _ := tree.RootAt(0); got != emptyRoot || got != [HashSize]byte(rfc6962.DefaultHasher.EmptyRoot()) {
		t.Fatal("empty root")
	}
	for size := uint64(1); size <= n; size++ {
		root, err := tree.RootAt(size)
		if err != nil || root != roots[size] {
			t.Fatalf("RootAt(%d) = %x, %v; want %x", size, root, err, roots[size])
		}
		for i := range size {
			p, err := tree.InclusionProof(i, size)
			if err != nil {
				t.Fatal(err)
			}
			if err := proof.VerifyInclusion(rfc6962.DefaultHasher, i, size, ls[i][:], p, root[:]); err != nil {
				t.Fatalf("inclusion %d in %d: %v", i, size, err)
			}
		}
		for s1 := uint64(0); s1 <= size; s1++ {
			p, err := tree.ConsistencyProof(s1, size)
			if err != nil {
				t.Fatal(err)
			}
			if err := proof.VerifyConsistency(rfc6962.DefaultHasher, s1, size, p, roots[s1][:], root[:]); err != nil {
				t.Fatalf("consistency %d→%d: %v", s1, size, err)
			}
		}
	}
	if _, err := tree.RootAt(n + 1); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("RootAt beyond: %v", err)
	}
}

// TestConsistencyFromRanges checks that the writer's store-less proof
// (two compact ranges) equals the reference proof for every pair of sizes.
func TestConsistencyFromRanges(t *testing.T) {
	t.Parallel()
	const n = 70
	ls := leaves(n)
	tree := NewTree()
	for _, h := range ls {
		tree.Append(h)
	}
	f := newFactory()
	for s1 := uint64(1); s1 < n; s1++ {
		left := f.NewEmptyRange(0)
		for _, h := range ls[:s1] {
			left.Append(bytes.Clone(h[:]), nil)
		}
		right := f.NewEmptyRange(s1)
		for s2 := s1 + 1; s2 <= n; s2++ {
			right.Append(bytes.Clone(ls[s2-1][:]), nil)
			got, err := consistencyFromRanges(s1, s2, hashesOf(left), right.Hashes())
			if err != nil {
				t.Fatalf("%d→%d: %v", s1, s2, err)
			}
			want, _ := tree.ConsistencyProof(s1, s2)
			if !slices.EqualFunc(got, want, bytes.Equal) {
				t.Fatalf("%d→%d: proof differs from the reference", s1, s2)
			}
		}
	}
	if compact.RangeSize(0, 600) != 4 {
		t.Fatal("compact range of 600 leaves is not 4 hashes")
	}
}

func TestTreeFromGenesisOnly(t *testing.T) {
	t.Parallel()
	l := standardLog(t)
	v, _ := NewVerifier(VerifierConfig{Origin: l.origin, Partition: l.part, Trusted: l.trusted(t), KeepTree: true})
	for j, e := range l.entries {
		v.AddCheckpoint(e, cpSeq(j))
	}
	for i, r := range l.records[6:] {
		v.Feed(r, streamSeq(6+i))
	}
	if rep := v.Finish(); rep.Finding != nil || v.Tree() != nil {
		t.Fatalf("anchored replay: finding %v, tree %v", rep.Finding, v.Tree())
	}
}
