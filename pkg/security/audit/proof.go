package audit

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
)

// ProofVersion is the version of the Proof document.
const ProofVersion = 1

// maxProofBytes bounds ParseProof's input: a record of up to MaxBodyBytes,
// base64-encoded, plus the note and the path.
const maxProofBytes = MaxBodyBytes*4/3 + 64<<10

// Proof is an inclusion proof a third party can check offline with
// VerifyProof and the trusted verifier keys alone: the record (optional),
// its leaf hash, the audit path, and the signed checkpoint the path leads
// to. Its JSON form is the document `escai audit prove` hands out.
type Proof struct {
	// Version is ProofVersion.
	Version int `json:"v"`
	// Origin is the partition's log identity.
	Origin string `json:"origin"`
	// LeafIndex is the record's pseq.
	LeafIndex uint64 `json:"leaf_index"`
	// TreeSize is the size of the checkpoint the proof is for.
	TreeSize uint64 `json:"tree_size"`
	// LeafHash is the record's leaf hash (32 bytes, base64 in JSON).
	LeafHash []byte `json:"leaf_hash"`
	// Hashes is the RFC 6962 audit path, leaf to root.
	Hashes [][]byte `json:"hashes"`
	// Checkpoint is the signed checkpoint note of size TreeSize.
	Checkpoint string `json:"checkpoint"`
	// Record is the record's wire bytes; when present, VerifyProof checks
	// that they hash to LeafHash, so the proof covers the content and not
	// only a hash.
	Record []byte `json:"record,omitempty"`
}

// Prove returns the inclusion proof of leaf leafIndex against the signed
// checkpoint cp, which the tree must agree with (same root at cp.Size). Set
// Proof.Record to the record's bytes to let the third party check the
// content too.
func (t *Tree) Prove(leafIndex uint64, cp *SignedCheckpoint) (*Proof, error) {
	if cp.Size > t.size {
		return nil, fmt.Errorf("%w: checkpoint size %d beyond the tree's %d leaves", ErrUnavailable, cp.Size, t.size)
	}
	if leafIndex >= cp.Size {
		return nil, fmt.Errorf("%w: leaf %d not covered by the checkpoint of size %d", ErrUnavailable, leafIndex, cp.Size)
	}
	root, err := t.RootAt(cp.Size)
	if err != nil {
		return nil, err
	}
	if root != cp.Root {
		return nil, fmt.Errorf("%w: the tree's root at size %d differs from the checkpoint's", ErrProof, cp.Size)
	}
	path, err := t.InclusionProof(leafIndex, cp.Size)
	if err != nil {
		return nil, err
	}
	leaf, _ := t.node(compactLeaf(leafIndex))
	return &Proof{
		Version:    ProofVersion,
		Origin:     cp.Origin,
		LeafIndex:  leafIndex,
		TreeSize:   cp.Size,
		LeafHash:   bytes.Clone(leaf),
		Hashes:     path,
		Checkpoint: string(cp.Note),
	}, nil
}

// ParseProof decodes a Proof document strictly (known fields, sizes).
func ParseProof(b []byte) (*Proof, error) {
	if len(b) > maxProofBytes {
		return nil, fmt.Errorf("%w: proof of %d bytes", ErrMalformed, len(b))
	}
	var p Proof
	if err := strictJSON(b, &p); err != nil {
		return nil, err
	}
	switch {
	case p.Version != ProofVersion:
		return nil, fmt.Errorf("%w: proof version %d, want %d", ErrMalformed, p.Version, ProofVersion)
	case !validOrigin(p.Origin):
		return nil, fmt.Errorf("%w: proof origin", ErrMalformed)
	case p.LeafIndex >= p.TreeSize:
		return nil, fmt.Errorf("%w: leaf %d outside a tree of size %d", ErrMalformed, p.LeafIndex, p.TreeSize)
	case len(p.LeafHash) != HashSize:
		return nil, fmt.Errorf("%w: leaf hash of %d bytes", ErrMalformed, len(p.LeafHash))
	case len(p.Hashes) > maxProofHashes:
		return nil, fmt.Errorf("%w: audit path of %d hashes", ErrMalformed, len(p.Hashes))
	case len(p.Checkpoint) > maxNoteBytes:
		return nil, fmt.Errorf("%w: checkpoint of %d bytes", ErrMalformed, len(p.Checkpoint))
	}
	for i, h := range p.Hashes {
		if len(h) != HashSize {
			return nil, fmt.Errorf("%w: path hash %d has %d bytes", ErrMalformed, i, len(h))
		}
	}
	return &p, nil
}

// MarshalJSON writes the proof document; it is json.Marshal with the
// version filled in.
func (p *Proof) MarshalJSON() ([]byte, error) {
	type plain Proof
	q := plain(*p)
	if q.Version == 0 {
		q.Version = ProofVersion
	}
	return json.Marshal(q)
}

// VerifyProof checks an inclusion proof offline: the checkpoint (the given
// signed note, or the one inside the proof when checkpoint is nil) must
// carry a valid signature from a trusted key, name the proof's origin and
// size, and the audit path must lead from the leaf hash to its root; when
// the proof includes the record, the record must hash to the leaf hash
// and sit at the leaf index. It returns the verified checkpoint, or an
// error wrapping ErrBadSignature, ErrMalformed or ErrProof.
func VerifyProof(p *Proof, checkpoint []byte, trusted note.Verifiers) (*SignedCheckpoint, error) {
	if checkpoint == nil {
		checkpoint = []byte(p.Checkpoint)
	}
	sc, err := OpenCheckpoint(checkpoint, trusted)
	if err != nil {
		return nil, err
	}
	switch {
	case sc.Origin != p.Origin:
		return nil, fmt.Errorf("%w: proof for %q, checkpoint of %q", ErrProof, p.Origin, sc.Origin)
	case sc.Size != p.TreeSize:
		return nil, fmt.Errorf("%w: proof for size %d, checkpoint of size %d", ErrProof, p.TreeSize, sc.Size)
	case len(p.LeafHash) != HashSize:
		return nil, fmt.Errorf("%w: leaf hash of %d bytes", ErrMalformed, len(p.LeafHash))
	}
	if p.Record != nil {
		r, err := DecodeRecord(p.Record)
		if err != nil {
			return nil, err
		}
		leaf := r.LeafHash()
		switch {
		case r.Origin != p.Origin || r.PSeq != p.LeafIndex:
			return nil, fmt.Errorf("%w: record is %s pseq %d, proof is for %s leaf %d", ErrProof, r.Origin, r.PSeq, p.Origin, p.LeafIndex)
		case !bytes.Equal(leaf[:], p.LeafHash):
			return nil, fmt.Errorf("%w: the record does not hash to the proof's leaf hash", ErrProof)
		}
	}
	if err := proof.VerifyInclusion(rfc6962.DefaultHasher, p.LeafIndex, p.TreeSize, p.LeafHash, p.Hashes, sc.Root[:]); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrProof, err)
	}
	return sc, nil
}

// VerifyConsistency checks that the checkpoint newer extends older, given
// the consistency proof (as carried by CheckpointEntry): what a witness
// runs before co-signing. Both must be verified checkpoints of one origin.
func VerifyConsistency(older, newer *Checkpoint, consistency [][]byte) error {
	switch {
	case older.Origin != newer.Origin:
		return fmt.Errorf("%w: checkpoints of %q and %q", ErrProof, older.Origin, newer.Origin)
	case older.Size > newer.Size:
		return fmt.Errorf("%w: size %d is older than %d", ErrProof, newer.Size, older.Size)
	}
	if err := proof.VerifyConsistency(rfc6962.DefaultHasher, older.Size, newer.Size, consistency, older.Root[:], newer.Root[:]); err != nil {
		return fmt.Errorf("%w: %v", ErrProof, err)
	}
	return nil
}
