package audit

import (
	"crypto/sha256"
	"fmt"
	"hash"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
)

// The RFC 6962 domain-separation prefixes: a leaf hash can never be read as
// an interior node, which is what stops second-preimage forgeries.
var (
	leafPrefix = []byte{rfc6962.RFC6962LeafHashPrefix}
	nodePrefix = []byte{rfc6962.RFC6962NodeHashPrefix}
)

// emptyRoot is the RFC 6962 root of the empty tree, SHA-256("").
var emptyRoot = sha256.Sum256(nil)

// leafHasher computes leaf hashes with one reused SHA-256 state. Not safe
// for concurrent use.
type leafHasher struct {
	h   hash.Hash
	out [HashSize]byte
}

func (l *leafHasher) sum(canonical []byte) [HashSize]byte {
	if l.h == nil {
		l.h = sha256.New()
	} else {
		l.h.Reset()
	}
	l.h.Write(leafPrefix)
	l.h.Write(canonical)
	l.h.Sum(l.out[:0])
	return l.out
}

// nodeHasher computes interior nodes, SHA-256(0x01 ‖ left ‖ right), with
// one reused state; it is the compact.HashFn of every range here. Not safe
// for concurrent use.
type nodeHasher struct {
	h hash.Hash
}

func (n *nodeHasher) children(left, right []byte) []byte {
	if n.h == nil {
		n.h = sha256.New()
	} else {
		n.h.Reset()
	}
	n.h.Write(nodePrefix)
	n.h.Write(left)
	n.h.Write(right)
	return n.h.Sum(make([]byte, 0, HashSize))
}

// newFactory returns a compact range factory hashing with its own state.
func newFactory() *compact.RangeFactory {
	var nh nodeHasher
	return &compact.RangeFactory{Hash: nh.children}
}

// rootOf returns the root of a compact range starting at 0, or the empty
// root.
func rootOf(r *compact.Range) [HashSize]byte {
	if r.End() == 0 {
		return emptyRoot
	}
	h, err := r.GetRootHash(nil)
	if err != nil {
		// Unreachable: every range here starts at 0.
		panic("audit: root of a range not starting at 0: " + err.Error())
	}
	return [HashSize]byte(h)
}

// frontierRoot checks that frontier holds exactly the compact-range hashes
// of a tree of the given size and returns the root they make.
func frontierRoot(size uint64, frontier [][HashSize]byte) ([HashSize]byte, error) {
	if want := compact.RangeSize(0, size); len(frontier) != want {
		return [HashSize]byte{}, fmt.Errorf("%w: frontier of %d hashes for size %d, want %d", ErrMalformed, len(frontier), size, want)
	}
	if size == 0 {
		return emptyRoot, nil
	}
	var nh nodeHasher
	h := frontier[len(frontier)-1][:]
	for i := len(frontier) - 2; i >= 0; i-- {
		h = nh.children(frontier[i][:], h)
	}
	return [HashSize]byte(h), nil
}

// rangeFromFrontier rebuilds the compact range [0, size).
func rangeFromFrontier(f *compact.RangeFactory, size uint64, frontier [][HashSize]byte) (*compact.Range, error) {
	hs := make([][]byte, len(frontier))
	for i := range frontier {
		hs[i] = append([]byte(nil), frontier[i][:]...)
	}
	r, err := f.NewRange(0, size, hs)
	if err != nil {
		return nil, fmt.Errorf("%w: frontier: %v", ErrMalformed, err)
	}
	return r, nil
}

// hashesOf copies the hashes of a compact range.
func hashesOf(r *compact.Range) [][HashSize]byte {
	out := make([][HashSize]byte, len(r.Hashes()))
	for i, h := range r.Hashes() {
		out[i] = [HashSize]byte(h)
	}
	return out
}

// consistencyFromRanges builds the RFC 6962 consistency proof from size1 to
// size2 out of two compact ranges only: left = [0, size1) (the frontier of
// the older checkpoint) and right = [size1, size2) (the leaves since). Every
// node of such a proof is a node of one of the two ranges, or the one
// ephemeral node Rehash computes from them, so the writer needs no node
// store to prove that each checkpoint extends the previous one.
func consistencyFromRanges(size1, size2 uint64, left [][HashSize]byte, right [][]byte) ([][]byte, error) {
	nodes, err := proof.Consistency(size1, size2)
	if err != nil {
		return nil, err
	}
	known := make(map[compact.NodeID][]byte, len(left)+len(right))
	for i, id := range compact.RangeNodes(0, size1, nil) {
		known[id] = left[i][:]
	}
	for i, id := range compact.RangeNodes(size1, size2, nil) {
		known[id] = right[i]
	}
	hs := make([][]byte, len(nodes.IDs))
	for i, id := range nodes.IDs {
		h, ok := known[id]
		if !ok {
			return nil, fmt.Errorf("%w: consistency node %v not in the compact ranges", ErrUnavailable, id)
		}
		hs[i] = h
	}
	var nh nodeHasher
	return nodes.Rehash(hs, nh.children)
}

// compactLeaf is the node id of leaf i.
func compactLeaf(i uint64) compact.NodeID { return compact.NewNodeID(0, i) }

// Tree holds every node of one partition's Merkle tree, level by level, so
// it can produce inclusion and consistency proofs for any size it has
// reached. It costs about 64 bytes per leaf; the Verifier builds one when
// asked (VerifierConfig.KeepTree) during a replay from pseq 0. A Tree is
// not safe for concurrent use.
type Tree struct {
	levels [][]byte // levels[l] holds the complete nodes of level l, concatenated
	size   uint64
	nh     nodeHasher
}

// NewTree returns an empty tree.
func NewTree() *Tree { return &Tree{} }

// Size is the number of leaves appended.
func (t *Tree) Size() uint64 { return t.size }

// Append adds the next leaf hash.
func (t *Tree) Append(leaf [HashSize]byte) {
	h := leaf[:]
	idx := t.size
	for level := 0; ; level++ {
		if level == len(t.levels) {
			t.levels = append(t.levels, nil)
		}
		t.levels[level] = append(t.levels[level], h...)
		if idx&1 == 0 {
			break
		}
		l := t.levels[level]
		h = t.nh.children(l[len(l)-2*HashSize:len(l)-HashSize], l[len(l)-HashSize:])
		idx >>= 1
	}
	t.size++
}

// node returns a complete node; ok is false when the tree does not hold it.
func (t *Tree) node(id compact.NodeID) ([]byte, bool) {
	if int(id.Level) >= len(t.levels) {
		return nil, false
	}
	l := t.levels[id.Level]
	if id.Index >= uint64(len(l)/HashSize) {
		return nil, false
	}
	off := id.Index * HashSize
	return l[off : off+HashSize : off+HashSize], true
}

func (t *Tree) fetch(ids []compact.NodeID) ([][]byte, error) {
	hs := make([][]byte, len(ids))
	for i, id := range ids {
		h, ok := t.node(id)
		if !ok {
			return nil, fmt.Errorf("%w: node %v", ErrUnavailable, id)
		}
		hs[i] = append([]byte(nil), h...) // Rehash works in place
	}
	return hs, nil
}

// RootAt returns the root of the first size leaves.
func (t *Tree) RootAt(size uint64) ([HashSize]byte, error) {
	if size > t.size {
		return [HashSize]byte{}, fmt.Errorf("%w: size %d beyond the tree's %d leaves", ErrUnavailable, size, t.size)
	}
	if size == 0 {
		return emptyRoot, nil
	}
	hs, err := t.fetch(compact.RangeNodes(0, size, nil))
	if err != nil {
		return [HashSize]byte{}, err
	}
	h := hs[len(hs)-1]
	for i := len(hs) - 2; i >= 0; i-- {
		h = t.nh.children(hs[i], h)
	}
	return [HashSize]byte(h), nil
}

// InclusionProof returns the RFC 6962 audit path of leaf index in the tree
// of the given size.
func (t *Tree) InclusionProof(index, size uint64) ([][]byte, error) {
	if size > t.size {
		return nil, fmt.Errorf("%w: size %d beyond the tree's %d leaves", ErrUnavailable, size, t.size)
	}
	nodes, err := proof.Inclusion(index, size)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	hs, err := t.fetch(nodes.IDs)
	if err != nil {
		return nil, err
	}
	return nodes.Rehash(hs, t.nh.children)
}

// ConsistencyProof returns the RFC 6962 proof that the tree of size2
// extends the tree of size1.
func (t *Tree) ConsistencyProof(size1, size2 uint64) ([][]byte, error) {
	if size2 > t.size {
		return nil, fmt.Errorf("%w: size %d beyond the tree's %d leaves", ErrUnavailable, size2, t.size)
	}
	nodes, err := proof.Consistency(size1, size2)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	hs, err := t.fetch(nodes.IDs)
	if err != nil {
		return nil, err
	}
	return nodes.Rehash(hs, t.nh.children)
}
