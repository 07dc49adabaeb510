package audit

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"time"

	"github.com/transparency-dev/merkle/compact"
	"golang.org/x/mod/sumdb/note"
)

// VerifierConfig configures the verification of one partition.
type VerifierConfig struct {
	// Origin is the partition's log identity. Required.
	Origin string
	// Partition is the partition number.
	Partition uint32
	// Trusted are the keys whose checkpoint signatures count (TrustedKeys).
	// Required: without them nothing anchors the replay.
	Trusted note.Verifiers
	// TrustedState is the newest checkpoint (signed note) the auditor
	// accepted in an earlier run, kept where the writer cannot change it.
	// The log must present a checkpoint at least that large and consistent
	// with it, or the run fails with CHECKPOINT_ROLLBACK, CONSISTENCY_FAIL,
	// ROOT_MISMATCH or TRUNCATED. Optional.
	TrustedState []byte
	// IntegrityKey checks every record's MAC (DerivedKeys.Integrity).
	// Optional; without it MACs are not read.
	IntegrityKey []byte
	// Keys decrypts every encrypted body to check it (AEAD). Optional;
	// records whose key was shredded or is absent are counted, not failed.
	Keys *KeyRing
	// RequireGenesis fails with GAP at pseq 0 when the first record is not
	// pseq 0. Leave it off when retention may have removed old records:
	// the replay then resumes at the smallest checkpoint that covers the
	// first retained record, using the frontier it carries.
	RequireGenesis bool
	// KeepTree keeps every node (about 64 bytes per record) so that Tree
	// can prove inclusion afterwards. Only for a replay from pseq 0.
	KeepTree bool
}

// Verifier checks one partition by replay. Give it every checkpoint of the
// partition first (AddCheckpoint, oldest first, as the checkpoint subject
// or a checkpoints file lists them), then every record in stream order
// (Feed), then call Finish. It stops at the first finding: records with
// pseq below Finding.PSeq verified, nothing after it is vouched for.
//
// Per record it checks, in order: the record decodes and belongs to the
// partition (MALFORMED); the leaf hash recomputed from the stored bytes
// equals the stored one (LEAF_MISMATCH); the MAC, with the integrity key
// (HMAC_FAIL); pseq continuity (GAP, REORDER, decided with one record of
// look-ahead); the prev link (CHAIN_BREAK); decryption, with data keys
// (AEAD_FAIL); and whenever the tree reaches the size of a checkpoint, its
// root (ROOT_MISMATCH). Per checkpoint: signature (BAD_CHECKPOINT_SIGNATURE),
// order (CHECKPOINT_ROLLBACK), agreement with every other checkpoint and
// its consistency proof (CONSISTENCY_FAIL). At the end: the newest
// checkpoint is not beyond the replayed records (TRUNCATED) and not older
// than the trusted state (CHECKPOINT_ROLLBACK).
//
// A Verifier is not safe for concurrent use; run one per partition.
type Verifier struct {
	cfg     VerifierConfig
	finding *Finding
	done    bool

	cps       map[uint64]*SignedCheckpoint // accepted (and trusted) by size
	newest    *SignedCheckpoint            // largest presented via AddCheckpoint
	newestSeq uint64
	trusted   *SignedCheckpoint
	rootsOK   int
	presented map[uint64]bool // sizes the log presented
	proofsOK  int
	unchecked int
	lastGood  uint64 // size of the last checkpoint the replay matched (or the anchor)

	started   bool
	start     uint64 // the tree resumes at this size (anchor), 0 from genesis
	first     uint64
	next      uint64
	prev      [HashSize]byte
	havePrev  bool
	factory   *compact.RangeFactory
	tree      *compact.Range
	full      *Tree
	pending   bool
	pendPSeq  uint64 // the missing pseq
	pendGot   uint64 // the pseq found in its place
	pendSeq   uint64 // stream seq of that record
	lastSSeq  uint64
	records   uint64
	chainOnly uint64
	macs      uint64
	decrypted uint64
	shredded  uint64
	noKey     uint64

	leaf    leafHasher
	mac     hash.Hash
	macSum  [HashSize]byte
	scratch []byte
}

// NewVerifier returns a Verifier for one partition. An invalid
// TrustedState is a configuration error (ErrInvalidConfig wrapping the
// cause), not a finding: the auditor's own input is wrong.
func NewVerifier(cfg VerifierConfig) (*Verifier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	v := &Verifier{cfg: cfg, cps: map[uint64]*SignedCheckpoint{}, presented: map[uint64]bool{}, factory: newFactory()}
	if cfg.IntegrityKey != nil {
		v.mac = hmac.New(sha256.New, cfg.IntegrityKey)
	}
	if cfg.TrustedState != nil {
		sc, _ := OpenCheckpoint(cfg.TrustedState, cfg.Trusted) // Validate opened it
		v.trusted = sc
		v.cps[sc.Size] = sc
	}
	return v, nil
}

// Validate reports every problem of the configuration at once, each
// naming its field and wrapping ErrInvalidConfig. A TrustedState that does
// not open with the trusted keys, or names another origin, is one: the
// auditor's own input is wrong, which is not a finding about the log.
func (c *VerifierConfig) Validate() error {
	var errs []error
	if !validOrigin(c.Origin) {
		errs = append(errs, configErr("Origin", "must be 1..%d bytes of [A-Za-z0-9._:/-], got %s", maxOrigin, truncateID(c.Origin)))
	}
	if c.Trusted == nil {
		errs = append(errs, configErr("Trusted", "no trusted checkpoint keys"))
	}
	if c.IntegrityKey != nil && len(c.IntegrityKey) < KeySize {
		errs = append(errs, configErr("IntegrityKey", "has %d bytes, want at least %d", len(c.IntegrityKey), KeySize))
	}
	if c.TrustedState != nil && c.Trusted != nil {
		if sc, err := OpenCheckpoint(c.TrustedState, c.Trusted); err != nil {
			errs = append(errs, configErr("TrustedState", "%v", err))
		} else if sc.Origin != c.Origin {
			errs = append(errs, configErr("TrustedState", "is a checkpoint of %q, not %q", sc.Origin, c.Origin))
		}
	}
	return errors.Join(errs...)
}

func (v *Verifier) fail(code Code, pseq, sseq uint64, format string, args ...any) *Finding {
	v.finding = &Finding{
		Code: code, Origin: v.cfg.Origin, Partition: v.cfg.Partition,
		PSeq: pseq, StreamSeq: sseq, Detail: fmt.Sprintf(format, args...),
	}
	return v.finding
}

// Finding returns the first finding so far, or nil.
func (v *Verifier) Finding() *Finding { return v.finding }

// AddCheckpoint checks one checkpoint entry of the partition (streamSeq is
// its message's sequence, for the report) and remembers it for the replay.
// It returns the first finding of the partition, if any.
func (v *Verifier) AddCheckpoint(e CheckpointEntry, streamSeq uint64) *Finding {
	if v.finding != nil || v.done {
		return v.finding
	}
	if len(e.Note) > maxNoteBytes {
		return v.fail(CodeMalformed, 0, streamSeq, "checkpoint note of %d bytes", len(e.Note))
	}
	n, err := note.Open(e.Note, v.cfg.Trusted)
	if err != nil {
		claimed := claimedSize(e.Note)
		var why string
		var unverified *note.UnverifiedNoteError
		var invalid *note.InvalidSignatureError
		switch {
		case errors.As(err, &unverified):
			why = "no signature from a trusted key"
		case errors.As(err, &invalid):
			why = "signature of " + invalid.Name + "+" + fmt.Sprintf("%08x", invalid.Hash) + " does not verify"
		default:
			why = "not a signed note"
		}
		return v.fail(CodeBadCheckpointSignature, claimed, streamSeq, "checkpoint: %s", why)
	}
	c, err := parseCheckpointText(n.Text)
	if err != nil {
		return v.fail(CodeMalformed, 0, streamSeq, "signed checkpoint is not an ESCAI checkpoint: %v", err)
	}
	if c.Origin != v.cfg.Origin {
		return v.fail(CodeMalformed, c.Size, streamSeq, "checkpoint of origin %q in partition %s", c.Origin, v.cfg.Origin)
	}
	sc := &SignedCheckpoint{Checkpoint: *c, Note: bytes.Clone(e.Note)}
	for _, s := range n.Sigs {
		sc.SignedBy = append(sc.SignedBy, s.Name+"+"+fmt.Sprintf("%08x", s.Hash))
	}
	if old, ok := v.cps[sc.Size]; ok && old.Root != sc.Root {
		return v.fail(CodeConsistencyFail, sc.Size, streamSeq, "two signed checkpoints of size %d with different roots", sc.Size)
	}
	if v.newest != nil && sc.Size < v.newest.Size {
		return v.fail(CodeCheckpointRollback, sc.Size, streamSeq, "checkpoint of size %d presented after size %d", sc.Size, v.newest.Size)
	}
	if e.ConsistencyFrom > 0 && e.ConsistencyFrom != sc.Size {
		if from, ok := v.cps[e.ConsistencyFrom]; ok {
			if err := VerifyConsistency(&from.Checkpoint, &sc.Checkpoint, e.Consistency); err != nil {
				return v.fail(CodeConsistencyFail, sc.Size, streamSeq, "checkpoint of size %d does not extend the one of size %d: %v", sc.Size, from.Size, err)
			}
			v.proofsOK++
		}
	}
	if v.started && sc.Size >= v.start && sc.Size <= v.next {
		// The replay already passed this size.
		switch {
		case sc.Size == v.next:
			if f := v.checkRoot(sc, rootOf(v.tree), streamSeq); f != nil {
				return f
			}
		case v.full != nil:
			root, err := v.full.RootAt(sc.Size)
			if err == nil {
				if f := v.checkRoot(sc, root, streamSeq); f != nil {
					return f
				}
			} else {
				v.unchecked++
			}
		default:
			v.unchecked++
		}
	}
	v.presented[sc.Size] = true
	if _, ok := v.cps[sc.Size]; !ok {
		v.cps[sc.Size] = sc
	}
	if v.newest == nil || sc.Size >= v.newest.Size {
		v.newest, v.newestSeq = sc, streamSeq
	}
	return nil
}

// claimedSize reads the size line of a checkpoint whose signature failed,
// to say which checkpoint it was; 0 when unreadable. Never trusted.
func claimedSize(msg []byte) uint64 {
	_, rest, ok := bytes.Cut(msg, []byte("\n"))
	if !ok {
		return 0
	}
	line, _, _ := bytes.Cut(rest, []byte("\n"))
	n, err := strconv.ParseUint(string(line), 10, 64)
	if err != nil {
		return 0
	}
	return n
}

// checkRoot compares the replayed root at cp.Size with the checkpoint.
func (v *Verifier) checkRoot(cp *SignedCheckpoint, root [HashSize]byte, sseq uint64) *Finding {
	if root != cp.Root {
		return v.fail(CodeRootMismatch, v.lastGood, sseq,
			"replayed root of records [0, %d) differs from the signed checkpoint; records [%d, %d) were rewritten",
			cp.Size, v.lastGood, cp.Size)
	}
	v.rootsOK++
	if cp.Size > v.lastGood {
		v.lastGood = cp.Size
	}
	return nil
}

// begin starts the replay at the first record's pseq: from genesis, or
// from the smallest checkpoint that covers it (retention).
func (v *Verifier) begin(first, sseq uint64) *Finding {
	v.started, v.first, v.next = true, first, first
	if first == 0 {
		v.tree = v.factory.NewEmptyRange(0)
		if v.cfg.KeepTree {
			v.full = NewTree()
		}
		return nil
	}
	if v.cfg.RequireGenesis {
		return v.fail(CodeGap, 0, sseq, "the first record is pseq %d, not 0", first)
	}
	var anchor *SignedCheckpoint
	below := uint64(0)
	for size, cp := range v.cps {
		if size >= first && (anchor == nil || size < anchor.Size) {
			anchor = cp
		}
		if size < first && size > below {
			below = size
		}
	}
	if anchor == nil {
		return v.fail(CodeGap, below, sseq, "records [%d, %d) are missing and no checkpoint covers pseq %d to resume from", below, first, first)
	}
	tree, err := rangeFromFrontier(v.factory, anchor.Size, anchor.Frontier)
	if err != nil {
		// parseCheckpointText checked the frontier; unreachable.
		return v.fail(CodeMalformed, anchor.Size, 0, "anchor frontier: %v", err)
	}
	v.tree, v.start, v.lastGood = tree, anchor.Size, anchor.Size
	return nil
}

// Feed checks the next record of the partition in stream order; b is its
// stored bytes (not retained) and streamSeq its stream sequence. It
// returns the first finding of the partition, if any.
func (v *Verifier) Feed(b []byte, streamSeq uint64) *Finding {
	if v.done {
		return v.finding
	}
	v.records++
	if v.finding != nil {
		return v.finding
	}
	var rv view
	err := scan(b, &rv)
	if v.pending {
		// One record of look-ahead decides between a swap and a hole.
		if err == nil && rv.pseq == v.pendPSeq && string(rv.origin) == v.cfg.Origin {
			return v.fail(CodeReorder, v.pendPSeq, v.pendSeq, "record pseq %d arrived after pseq %d (stream seq %d)", v.pendPSeq, v.pendGot, v.pendSeq)
		}
		return v.fail(CodeGap, v.pendPSeq, v.pendSeq, "record pseq %d is missing: pseq %d is in its place", v.pendPSeq, v.pendGot)
	}
	at := v.next // the position this record must fill
	if !v.started && err == nil {
		at = rv.pseq
	}
	if err != nil {
		return v.fail(CodeMalformed, at, streamSeq, "%v", err)
	}
	if string(rv.origin) != v.cfg.Origin || rv.partition != v.cfg.Partition {
		return v.fail(CodeMalformed, at, streamSeq, "record of %s partition %d", rv.origin, rv.partition)
	}
	leaf := v.leaf.sum(b[:rv.canonLen])
	if string(leaf[:]) != string(rv.hash) {
		return v.fail(CodeLeafMismatch, at, streamSeq, "stored hash differs from the leaf hash of the stored bytes")
	}
	if v.mac != nil {
		v.mac.Reset()
		v.mac.Write(leaf[:])
		if len(rv.mac) == 0 || !hmac.Equal(v.mac.Sum(v.macSum[:0]), rv.mac) {
			return v.fail(CodeHMACFail, at, streamSeq, "MAC over the leaf hash does not verify with the integrity key")
		}
		v.macs++
	}
	if !v.started {
		if f := v.begin(rv.pseq, streamSeq); f != nil {
			return f
		}
	}
	switch p := rv.pseq; {
	case p > v.next:
		v.pending, v.pendPSeq, v.pendGot, v.pendSeq = true, v.next, p, streamSeq
		return nil
	case p < v.next:
		return v.fail(CodeReorder, v.next, streamSeq, "record pseq %d appears again where pseq %d belongs", p, v.next)
	}
	switch {
	case v.havePrev && string(rv.prev) != string(v.prev[:]):
		return v.fail(CodeChainBreak, v.next, streamSeq, "prev is not the hash of pseq %d", v.next-1)
	case v.next == 0 && string(rv.prev) != string(make([]byte, HashSize)):
		return v.fail(CodeChainBreak, 0, streamSeq, "pseq 0 has a non-zero prev")
	}
	if v.cfg.Keys != nil && rv.cipher == CipherAES256GCM {
		k, shredded := v.cfg.Keys.lookup(rv.keyID)
		switch {
		case k != nil:
			pt, err := k.aead.Open(v.scratch[:0], rv.nonce, rv.body, b[:rv.aadLen])
			if err != nil {
				return v.fail(CodeAEADFail, v.next, streamSeq, "body does not decrypt with key %q", rv.keyID)
			}
			if _, _, _, err := parseBody(pt); err != nil {
				return v.fail(CodeAEADFail, v.next, streamSeq, "decrypted body is malformed: %v", err)
			}
			v.scratch = pt
			v.decrypted++
		case shredded:
			v.shredded++
		default:
			v.noKey++
		}
	}
	if v.next < v.start {
		// Before the anchor: covered by the anchor's frontier, not re-hashed
		// into the tree. The last one is the frontier's last leaf when the
		// anchor's size is odd.
		v.chainOnly++
		if v.next == v.start-1 && v.start&1 == 1 {
			anchor := v.cps[v.start]
			if anchor.Frontier[len(anchor.Frontier)-1] != leaf {
				return v.fail(CodeRootMismatch, v.next, streamSeq, "pseq %d is not the leaf the checkpoint of size %d ends with", v.next, v.start)
			}
		}
	} else {
		if err := v.tree.Append(append(make([]byte, 0, HashSize), leaf[:]...), nil); err != nil {
			return v.fail(CodeMalformed, v.next, streamSeq, "tree: %v", err)
		}
		if v.full != nil {
			v.full.Append(leaf)
		}
	}
	v.prev, v.havePrev = leaf, true
	v.next++
	v.lastSSeq = streamSeq
	if cp, ok := v.cps[v.next]; ok && v.next > v.start {
		if f := v.checkRoot(cp, rootOf(v.tree), streamSeq); f != nil {
			return f
		}
	}
	return nil
}

// Finish ends the replay: it resolves a pending gap and checks the end of
// the stream against the newest checkpoint and the trusted state. It is
// idempotent; Feed and AddCheckpoint do nothing after it.
func (v *Verifier) Finish() *Report {
	if !v.done && v.finding == nil {
		switch {
		case v.pending:
			v.fail(CodeGap, v.pendPSeq, v.pendSeq, "record pseq %d is missing: pseq %d is in its place", v.pendPSeq, v.pendGot)
		case v.trusted != nil && (v.newest == nil || v.newest.Size < v.trusted.Size):
			presented := uint64(0)
			if v.newest != nil {
				presented = v.newest.Size
			}
			v.fail(CodeCheckpointRollback, presented, v.newestSeq, "the newest checkpoint presented has size %d, the trusted state %d", presented, v.trusted.Size)
		default:
			if want := v.maxCheckpoint(); want != nil && want.Size > v.next {
				seq := v.newestSeq
				if want == v.trusted && want != v.newest {
					seq = 0
				}
				v.fail(CodeTruncated, v.next, seq, "the checkpoint of size %d covers records [%d, %d) that the stream does not have", want.Size, v.next, want.Size)
			}
		}
	}
	v.done = true
	return v.report()
}

func (v *Verifier) maxCheckpoint() *SignedCheckpoint {
	m := v.newest
	if v.trusted != nil && (m == nil || v.trusted.Size > m.Size) {
		m = v.trusted
	}
	return m
}

// Tree returns the full tree kept with KeepTree (nil otherwise, or when
// the replay did not start at pseq 0).
func (v *Verifier) Tree() *Tree { return v.full }

// Report is the outcome of verifying one partition: the first finding, if
// any, and what was checked. Its JSON form is one element of the
// partitions list of `escai audit verify --json`.
type Report struct {
	// Origin is the partition's log identity.
	Origin string `json:"origin"`
	// Partition is the partition number.
	Partition uint32 `json:"partition"`
	// Status is "OK" without a finding, "FAILED" with one.
	Status string `json:"status"`
	// Finding is the first finding, nil when Status is OK.
	Finding *Finding `json:"finding,omitempty"`
	// RecordsSeen counts every message fed, including any after a finding.
	RecordsSeen uint64 `json:"records_seen"`
	// FirstPSeq is the first record's pseq; with NextPSeq it bounds the
	// replayed records [FirstPSeq, NextPSeq).
	FirstPSeq uint64 `json:"first_pseq"`
	// NextPSeq is one past the last record verified in order.
	NextPSeq uint64 `json:"next_pseq"`
	// AnchorSize is the size of the checkpoint the tree resumed from after
	// retention; 0 for a replay from genesis.
	AnchorSize uint64 `json:"anchor_size"`
	// ChainOnly counts records before the anchor: their hashes and links
	// were checked, but they are covered by the anchor's frontier rather
	// than re-hashed into the tree.
	ChainOnly uint64 `json:"chain_only"`
	// ComputedRoot is the root of the replayed tree at NextPSeq.
	ComputedRoot string `json:"computed_root"`
	// Checkpoint is the newest checkpoint presented; store its Note as the
	// next TrustedState after an OK run.
	Checkpoint *CheckpointSummary `json:"checkpoint,omitempty"`
	// CheckpointsAccepted counts the checkpoints the log presented that
	// passed their checks (repeats of one size count once).
	CheckpointsAccepted int `json:"checkpoints_accepted"`
	// RootsMatched counts checkpoints whose root the replay reproduced.
	RootsMatched int `json:"roots_matched"`
	// ConsistencyProofs counts consistency proofs verified between
	// checkpoints.
	ConsistencyProofs int `json:"consistency_proofs"`
	// Unchecked counts checkpoints added after the replay passed their
	// size without a kept tree: neither matched nor refuted.
	Unchecked int `json:"unchecked"`
	// Unanchored counts records after the newest checkpoint: intact as a
	// chain, but no signature covers them yet.
	Unanchored uint64 `json:"unanchored"`
	// MACsChecked counts records whose MAC verified.
	MACsChecked uint64 `json:"macs_checked"`
	// Decrypted counts bodies that decrypted and parsed.
	Decrypted uint64 `json:"decrypted"`
	// Shredded counts bodies whose data key was shredded on purpose.
	Shredded uint64 `json:"shredded"`
	// NoKey counts bodies whose data key the verifier was not given.
	NoKey uint64 `json:"no_key"`
}

// CheckpointSummary describes the newest checkpoint of a report.
type CheckpointSummary struct {
	// Size is the number of records it covers.
	Size uint64 `json:"size"`
	// Root is its Merkle root, standard base64.
	Root string `json:"root"`
	// Time is when the writer signed it.
	Time time.Time `json:"time"`
	// SignedBy lists the trusted keys whose signatures verified.
	SignedBy []string `json:"signed_by"`
	// Note is the signed note, to keep as the next TrustedState.
	Note string `json:"note"`
}

func (v *Verifier) report() *Report {
	r := &Report{
		Origin: v.cfg.Origin, Partition: v.cfg.Partition, Status: "OK", Finding: v.finding,
		RecordsSeen: v.records, FirstPSeq: v.first, NextPSeq: v.next, AnchorSize: v.start,
		ChainOnly: v.chainOnly, CheckpointsAccepted: len(v.presented), RootsMatched: v.rootsOK,
		ConsistencyProofs: v.proofsOK, Unchecked: v.unchecked, MACsChecked: v.macs,
		Decrypted: v.decrypted, Shredded: v.shredded, NoKey: v.noKey,
	}
	if v.finding != nil {
		r.Status = "FAILED"
	}
	if v.tree != nil {
		root := rootOf(v.tree)
		r.ComputedRoot = base64.StdEncoding.EncodeToString(root[:])
	}
	if c := v.newest; c != nil {
		r.Checkpoint = &CheckpointSummary{
			Size: c.Size, Root: base64.StdEncoding.EncodeToString(c.Root[:]),
			Time: c.Time, SignedBy: c.SignedBy, Note: string(c.Note),
		}
		if v.next > c.Size {
			r.Unanchored = v.next - c.Size
		}
	} else {
		r.Unanchored = v.next
	}
	return r
}

// String summarises a report on one line for terminals and logs.
func (r *Report) String() string {
	s := r.Origin + ": " + r.Status + ", " + strconv.FormatUint(r.RecordsSeen, 10) + " records"
	if r.Finding != nil {
		s += ", " + r.Finding.Error()
	}
	return s
}
