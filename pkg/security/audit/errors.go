package audit

import (
	"errors"
	"strconv"
	"strings"
)

// The sentinels below classify every error this package returns; each
// returned error wraps exactly one of them, so callers decide with errors.Is
// and never by reading messages. Verification results are not errors: they
// are Findings (see Code).
var (
	// ErrMalformed means bytes from outside (a record, a checkpoint, a
	// checkpoints file, a proof, a wrapped key) do not follow their format.
	ErrMalformed = errors.New("audit: malformed")
	// ErrInvalidInput means Append was given an Input it must not seal
	// (an identifier that breaks the rule, a field that is too long). The
	// event is bad, not the appender: dead-letter it.
	ErrInvalidInput = errors.New("audit: invalid input")
	// ErrInvalidConfig means a constructor was given an unusable
	// configuration; it is reported at start-up, before any record.
	ErrInvalidConfig = errors.New("audit: invalid configuration")
	// ErrUnknownKey means a record names a data key that the KeyRing does
	// not hold (and has no tombstone for).
	ErrUnknownKey = errors.New("audit: unknown data key")
	// ErrKeyShredded means a record's data key was destroyed on purpose
	// (crypto-shredding): the payload is gone for good, the record itself
	// still verifies.
	ErrKeyShredded = errors.New("audit: data key shredded")
	// ErrDecrypt means authenticated decryption failed: the ciphertext, its
	// header or the key is not the one that sealed it.
	ErrDecrypt = errors.New("audit: decryption failed")
	// ErrKeyPersist means the KeyRing's Persist hook failed for a new data
	// key, so the key was not used: a key that is not stored would make the
	// records sealed with it unreadable. Transient: retry later.
	ErrKeyPersist = errors.New("audit: data key not persisted")
	// ErrBadSignature means a checkpoint carries no valid signature from a
	// trusted key, or a trusted key's signature does not verify.
	ErrBadSignature = errors.New("audit: bad checkpoint signature")
	// ErrProof means an inclusion or consistency proof does not verify, or
	// does not belong to the checkpoint it is checked against.
	ErrProof = errors.New("audit: proof does not verify")
	// ErrRestore means the records given to RestoreAppender do not continue
	// the checkpoint (wrong partition, broken chain, gap, bad hash).
	ErrRestore = errors.New("audit: cannot restore")
	// ErrUnavailable means the request needs data this value does not hold:
	// a proof from a Tree that did not start at genesis, a size beyond it.
	ErrUnavailable = errors.New("audit: unavailable")
)

// Code classifies a verification finding. The codes are printed by
// `escai audit verify`, stored in reports and matched by scripts: they must
// never change.
type Code string

// The finding codes, in the order the Verifier checks a record. Each
// Finding names the first pseq whose integrity could not be established.
const (
	// CodeMalformed: a record cannot be decoded, or belongs to another
	// origin/partition; or a validly signed checkpoint is not an ESCAI
	// checkpoint of this origin.
	CodeMalformed Code = "MALFORMED"
	// CodeLeafMismatch: the leaf hash recomputed from the stored bytes is
	// not the stored hash: the record was modified after sealing.
	CodeLeafMismatch Code = "LEAF_MISMATCH"
	// CodeHMACFail: the keyed MAC over the leaf hash does not verify with
	// the integrity key: the record was rewritten (hash recomputed) by
	// someone without the key. Checked only when the key is given.
	CodeHMACFail Code = "HMAC_FAIL"
	// CodeReorder: the record for this pseq arrived after a later one (two
	// records swapped), or an earlier record appears again (duplicate or
	// replay).
	CodeReorder Code = "REORDER"
	// CodeGap: the record for this pseq is missing while later ones exist.
	CodeGap Code = "GAP"
	// CodeChainBreak: the record's prev is not the hash of the record
	// before it (or not zero at pseq 0): a record was inserted or rewritten
	// with a consistent hash.
	CodeChainBreak Code = "CHAIN_BREAK"
	// CodeAEADFail: the body does not decrypt with its data key: ciphertext
	// or header changed. Checked only when data keys are given.
	CodeAEADFail Code = "AEAD_FAIL"
	// CodeRootMismatch: the Merkle root of the replayed records differs
	// from a signed checkpoint of the same size: the history was rewritten.
	// PSeq is the start of the range no earlier checkpoint vouches for.
	CodeRootMismatch Code = "ROOT_MISMATCH"
	// CodeTruncated: a signed checkpoint covers records that the stream no
	// longer has at its end. PSeq is the first missing record.
	CodeTruncated Code = "TRUNCATED"
	// CodeBadCheckpointSignature: a checkpoint has no valid signature from
	// a trusted key (or a trusted key's signature fails). PSeq is the size
	// the checkpoint claims, when readable.
	CodeBadCheckpointSignature Code = "BAD_CHECKPOINT_SIGNATURE"
	// CodeCheckpointRollback: a checkpoint smaller than one already seen
	// (or than the trusted state) was presented as newer. PSeq is its size.
	CodeCheckpointRollback Code = "CHECKPOINT_ROLLBACK"
	// CodeConsistencyFail: two validly signed checkpoints cannot both be
	// true: same size with different roots, or a consistency proof between
	// them fails. The log forked. PSeq is the newer checkpoint's size.
	CodeConsistencyFail Code = "CONSISTENCY_FAIL"
)

// Codes lists every finding code, for documentation and exhaustive tests.
func Codes() []Code {
	return []Code{
		CodeMalformed, CodeLeafMismatch, CodeHMACFail, CodeReorder, CodeGap,
		CodeChainBreak, CodeAEADFail, CodeRootMismatch, CodeTruncated,
		CodeBadCheckpointSignature, CodeCheckpointRollback, CodeConsistencyFail,
	}
}

// Finding is the first thing found wrong in one partition. Records with
// pseq below PSeq verified; nothing at or after PSeq is vouched for.
// A Finding is also an error, so a caller may return it as one.
type Finding struct {
	// Code classifies the finding.
	Code Code `json:"code"`
	// Origin is the log identity of the partition (see Origin).
	Origin string `json:"origin"`
	// Partition is the partition number.
	Partition uint32 `json:"partition"`
	// PSeq is the first partition sequence that could not be verified.
	PSeq uint64 `json:"pseq"`
	// StreamSeq is the stream sequence of the message at fault: the record
	// found at PSeq's position, or the checkpoint message (for TRUNCATED and
	// CHECKPOINT_ROLLBACK, the newest checkpoint presented); 0 when there is
	// none (only the trusted state names the missing records).
	StreamSeq uint64 `json:"stream_seq"`
	// Detail says what was expected and what was found. It never quotes
	// payloads.
	Detail string `json:"detail"`
}

// Error reads like "audit: GAP in acme/p/3 at pseq 4 (stream seq 105):
// record pseq 5 follows pseq 3".
func (f *Finding) Error() string {
	var b strings.Builder
	b.WriteString("audit: ")
	b.WriteString(string(f.Code))
	b.WriteString(" in ")
	b.WriteString(f.Origin)
	b.WriteString(" at pseq ")
	b.WriteString(strconv.FormatUint(f.PSeq, 10))
	if f.StreamSeq != 0 {
		b.WriteString(" (stream seq ")
		b.WriteString(strconv.FormatUint(f.StreamSeq, 10))
		b.WriteString(")")
	}
	if f.Detail != "" {
		b.WriteString(": ")
		b.WriteString(f.Detail)
	}
	return b.String()
}
