package audit

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// Limits on checkpoint inputs, which come from streams and files.
const (
	maxNoteBytes    = 16 << 10 // a checkpoint with 64 frontier hashes and 16 signatures is ~5 KiB
	maxEntryBytes   = 64 << 10 // one line of a checkpoints file
	maxProofHashes  = 128      // RFC 6962 proofs of 2^64-leaf trees are shorter
	maxFileEntries  = 1 << 24  // checkpoints in one file
	frontierKeyword = "frontier"
	timeKeyword     = "time"
)

// Checkpoint is the signed statement about one partition: the C2SP
// tlog-checkpoint body (origin, size, root) plus two extension lines, the
// signing time and the compact-range frontier. Its text is
//
//	<origin>\n
//	<size, decimal>\n
//	<root, standard base64>\n
//	time <RFC 3339 UTC, nanoseconds>\n
//	frontier[ <hash, standard base64>]…\n
//
// The frontier is the hashes of the perfect subtrees that cover leaves
// [0, size), left to right (popcount(size) of them); they hash to the root,
// which parsing checks. With them a verifier can resume at size after
// retention has removed the records before it, and a writer can continue
// the tree after a crash.
type Checkpoint struct {
	// Origin is the log identity of the partition (see Origin).
	Origin string
	// Size is the number of records the checkpoint covers.
	Size uint64
	// Root is the RFC 6962 Merkle root of those records' leaf hashes.
	Root [HashSize]byte
	// Time is when the writer made the checkpoint (UTC).
	Time time.Time
	// Frontier is the compact range of [0, Size).
	Frontier [][HashSize]byte
}

// Text returns the note text of the checkpoint (the bytes that are signed).
func (c *Checkpoint) Text() []byte {
	b := make([]byte, 0, len(c.Origin)+32+HashSize*2+48+len(c.Frontier)*45)
	b = append(b, c.Origin...)
	b = append(b, '\n')
	b = strconv.AppendUint(b, c.Size, 10)
	b = append(b, '\n')
	b = base64.StdEncoding.AppendEncode(b, c.Root[:])
	b = append(b, '\n')
	b = append(b, timeKeyword+" "...)
	b = c.Time.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, '\n')
	b = append(b, frontierKeyword...)
	for _, h := range c.Frontier {
		b = append(b, ' ')
		b = base64.StdEncoding.AppendEncode(b, h[:])
	}
	return append(b, '\n')
}

// check refuses a checkpoint that no one should sign: a bad origin or a
// frontier that does not make the root.
func (c *Checkpoint) check() error {
	if !validOrigin(c.Origin) {
		return fmt.Errorf("%w: checkpoint origin %q", ErrMalformed, truncateID(c.Origin))
	}
	root, err := frontierRoot(c.Size, c.Frontier)
	if err != nil {
		return err
	}
	if root != c.Root {
		return fmt.Errorf("%w: checkpoint frontier does not hash to its root", ErrMalformed)
	}
	return nil
}

// Sign returns the signed note of the checkpoint. Each signer adds one
// signature line; the C2SP rule is that a key's name equals the origin or
// names the log, and that a log never signs two inconsistent checkpoints.
func (c *Checkpoint) Sign(signers ...note.Signer) ([]byte, error) {
	if len(signers) == 0 {
		return nil, fmt.Errorf("%w: no checkpoint signer", ErrInvalidConfig)
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	msg, err := note.Sign(&note.Note{Text: string(c.Text())}, signers...)
	if err != nil {
		return nil, fmt.Errorf("%w: signing checkpoint: %v", ErrInvalidConfig, err)
	}
	return msg, nil
}

// SignedCheckpoint is a checkpoint whose signature was verified.
type SignedCheckpoint struct {
	Checkpoint
	// Note is the signed note as received; re-publish or export it as is.
	Note []byte
	// SignedBy lists the trusted keys whose signatures verified, as
	// "<name>+<hash>".
	SignedBy []string
}

// OpenCheckpoint verifies a signed checkpoint note against the trusted
// keys and parses it. Signatures by unknown keys (witnesses, retired keys)
// are ignored, as C2SP requires; at least one trusted signature must
// verify and none may fail. It returns ErrBadSignature for signature
// problems and ErrMalformed when the note or its text is not an ESCAI
// checkpoint.
func OpenCheckpoint(msg []byte, trusted note.Verifiers) (*SignedCheckpoint, error) {
	if len(msg) > maxNoteBytes {
		return nil, fmt.Errorf("%w: checkpoint note of %d bytes", ErrMalformed, len(msg))
	}
	if trusted == nil {
		trusted = note.VerifierList()
	}
	n, err := note.Open(msg, trusted)
	if err != nil {
		var unverified *note.UnverifiedNoteError
		var invalid *note.InvalidSignatureError
		switch {
		case errors.As(err, &unverified):
			return nil, fmt.Errorf("%w: no signature from a trusted key", ErrBadSignature)
		case errors.As(err, &invalid):
			return nil, fmt.Errorf("%w: signature of %s+%08x does not verify", ErrBadSignature, invalid.Name, invalid.Hash)
		}
		return nil, fmt.Errorf("%w: checkpoint note: %v", ErrMalformed, err)
	}
	c, err := parseCheckpointText(n.Text)
	if err != nil {
		return nil, err
	}
	sc := &SignedCheckpoint{Checkpoint: *c, Note: bytes.Clone(msg)}
	for _, s := range n.Sigs {
		sc.SignedBy = append(sc.SignedBy, s.Name+"+"+fmt.Sprintf("%08x", s.Hash))
	}
	return sc, nil
}

// ParseCheckpoint parses a signed checkpoint note WITHOUT checking any
// signature: for display, and to name the size a forged checkpoint claims.
// Never trust what it returns.
func ParseCheckpoint(msg []byte) (*Checkpoint, error) {
	if len(msg) > maxNoteBytes {
		return nil, fmt.Errorf("%w: checkpoint note of %d bytes", ErrMalformed, len(msg))
	}
	_, err := note.Open(msg, note.VerifierList())
	var unverified *note.UnverifiedNoteError
	if !errors.As(err, &unverified) {
		return nil, fmt.Errorf("%w: not a signed note", ErrMalformed)
	}
	return parseCheckpointText(unverified.Note.Text)
}

// parseCheckpointText accepts exactly the text Checkpoint.Text writes.
func parseCheckpointText(text string) (*Checkpoint, error) {
	lines := strings.Split(text, "\n")
	if len(lines) != 6 || lines[5] != "" {
		return nil, fmt.Errorf("%w: checkpoint has %d lines, want 5", ErrMalformed, len(lines)-1)
	}
	c := &Checkpoint{Origin: lines[0]}
	if !validOrigin(c.Origin) {
		return nil, fmt.Errorf("%w: checkpoint origin", ErrMalformed)
	}
	size, err := strconv.ParseUint(lines[1], 10, 64)
	if err != nil || strconv.FormatUint(size, 10) != lines[1] {
		return nil, fmt.Errorf("%w: checkpoint size %q", ErrMalformed, truncateID(lines[1]))
	}
	c.Size = size
	if err := decodeHash(lines[2], &c.Root); err != nil {
		return nil, fmt.Errorf("%w: checkpoint root: %v", ErrMalformed, err)
	}
	ts, ok := strings.CutPrefix(lines[3], timeKeyword+" ")
	if !ok {
		return nil, fmt.Errorf("%w: checkpoint time line", ErrMalformed)
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil || t.UTC().Format(time.RFC3339Nano) != ts {
		return nil, fmt.Errorf("%w: checkpoint time %q", ErrMalformed, truncateID(ts))
	}
	c.Time = t.UTC()
	fr := strings.Split(lines[4], " ")
	if fr[0] != frontierKeyword {
		return nil, fmt.Errorf("%w: checkpoint frontier line", ErrMalformed)
	}
	if len(fr)-1 > 64 {
		return nil, fmt.Errorf("%w: checkpoint frontier of %d hashes", ErrMalformed, len(fr)-1)
	}
	c.Frontier = make([][HashSize]byte, len(fr)-1)
	for i, s := range fr[1:] {
		if err := decodeHash(s, &c.Frontier[i]); err != nil {
			return nil, fmt.Errorf("%w: checkpoint frontier hash %d: %v", ErrMalformed, i, err)
		}
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	return c, nil
}

// decodeHash accepts only the canonical standard-base64 form of 32 bytes.
func decodeHash(s string, out *[HashSize]byte) error {
	if len(s) != base64.StdEncoding.EncodedLen(HashSize) {
		return fmt.Errorf("%d characters, want %d", len(s), base64.StdEncoding.EncodedLen(HashSize))
	}
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil || len(b) != HashSize {
		return errors.New("not base64 of 32 bytes")
	}
	copy(out[:], b)
	return nil
}

// CheckpointEntry is how a checkpoint travels: one message on the
// checkpoint subject of a partition and one line of a checkpoints file. It
// holds the signed note and, when the writer had it, the consistency proof
// from its previous checkpoint, so a verifier or a witness can check that
// each checkpoint extends the one before without replaying records, even
// after retention removed them. The proof needs no signature: it either
// verifies against the two signed roots or it does not.
type CheckpointEntry struct {
	// Note is the signed checkpoint note.
	Note []byte
	// ConsistencyFrom is the size of the previous checkpoint the proof
	// starts at; 0 when there is no proof.
	ConsistencyFrom uint64
	// Consistency is the RFC 6962 consistency proof from ConsistencyFrom
	// to this checkpoint's size.
	Consistency [][]byte
}

type entryJSON struct {
	Note            string   `json:"note"`
	ConsistencyFrom uint64   `json:"consistency_from,omitempty"`
	Consistency     [][]byte `json:"consistency,omitempty"`
}

// MarshalJSON writes {"note":"<signed note>","consistency_from":n,
// "consistency":["<base64>",…]}: the note stays readable text.
func (e CheckpointEntry) MarshalJSON() ([]byte, error) {
	return json.Marshal(entryJSON{Note: string(e.Note), ConsistencyFrom: e.ConsistencyFrom, Consistency: e.Consistency})
}

// UnmarshalJSON is ParseCheckpointEntry for encoding/json users.
func (e *CheckpointEntry) UnmarshalJSON(b []byte) error {
	p, err := ParseCheckpointEntry(b)
	if err != nil {
		return err
	}
	*e = *p
	return nil
}

// ParseCheckpointEntry decodes one entry strictly (known fields, size
// limits, 32-byte proof hashes). It does not verify the note's signature;
// the Verifier and OpenCheckpoint do.
func ParseCheckpointEntry(b []byte) (*CheckpointEntry, error) {
	if len(b) > maxEntryBytes {
		return nil, fmt.Errorf("%w: checkpoint entry of %d bytes", ErrMalformed, len(b))
	}
	var j entryJSON
	if err := strictJSON(b, &j); err != nil {
		return nil, err
	}
	e := &CheckpointEntry{Note: []byte(j.Note), ConsistencyFrom: j.ConsistencyFrom, Consistency: j.Consistency}
	if err := e.check(); err != nil {
		return nil, err
	}
	return e, nil
}

func (e *CheckpointEntry) check() error {
	switch {
	case len(e.Note) == 0:
		return fmt.Errorf("%w: checkpoint entry without a note", ErrMalformed)
	case len(e.Note) > maxNoteBytes:
		return fmt.Errorf("%w: checkpoint note of %d bytes", ErrMalformed, len(e.Note))
	case len(e.Consistency) > maxProofHashes:
		return fmt.Errorf("%w: consistency proof of %d hashes", ErrMalformed, len(e.Consistency))
	case len(e.Consistency) > 0 && e.ConsistencyFrom == 0:
		return fmt.Errorf("%w: consistency proof without its starting size", ErrMalformed)
	}
	for i, h := range e.Consistency {
		if len(h) != HashSize {
			return fmt.Errorf("%w: consistency hash %d has %d bytes", ErrMalformed, i, len(h))
		}
	}
	return nil
}

// WriteCheckpoints writes a checkpoints file: JSON Lines, one
// CheckpointEntry per line, in the order given (oldest first). Export it
// to storage the writer cannot modify (WORM bucket, a witness, a ticket):
// it is what makes truncation and rewrites by a key holder detectable.
func WriteCheckpoints(w io.Writer, entries []CheckpointEntry) error {
	bw := bufio.NewWriter(w)
	for i := range entries {
		if err := entries[i].check(); err != nil {
			return fmt.Errorf("entry %d: %w", i, err)
		}
		b, err := entries[i].MarshalJSON()
		if err != nil {
			return err
		}
		bw.Write(b)
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// ReadCheckpoints reads a checkpoints file written by WriteCheckpoints.
// Every line must be one entry; the error names the first bad line.
// Signatures are checked later, by the Verifier or OpenCheckpoint.
func ReadCheckpoints(r io.Reader) ([]CheckpointEntry, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxEntryBytes+1)
	var out []CheckpointEntry
	for line := 1; sc.Scan(); line++ {
		if len(out) >= maxFileEntries {
			return nil, fmt.Errorf("%w: more than %d checkpoints", ErrMalformed, maxFileEntries)
		}
		e, err := ParseCheckpointEntry(sc.Bytes())
		if err != nil {
			return nil, fmt.Errorf("checkpoints line %d: %w", line, err)
		}
		out = append(out, *e)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("%w: checkpoints line longer than %d bytes", ErrMalformed, maxEntryBytes)
		}
		return nil, err
	}
	return out, nil
}
