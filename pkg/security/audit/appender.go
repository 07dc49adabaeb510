package audit

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"time"

	"github.com/transparency-dev/merkle/compact"
	"golang.org/x/mod/sumdb/note"

	"github.com/escai-framework/escai/pkg/events"
)

// Input is one event to seal: the cleartext header fields and the body.
type Input struct {
	// EventID is the event's id (1..128 bytes of UTF-8, no control
	// characters).
	EventID string
	// Tenant and Agent are the event's identifiers
	// ([a-z0-9][a-z0-9_-]{0,63}).
	Tenant, Agent string
	// EventType is the CloudEvents type, e.g. "escai.tool.call"
	// (1..255 bytes of [A-Za-z0-9._-]).
	EventType string
	// Actor is a pseudonymous reference to who caused the event (see
	// DerivedKeys.BlindIndex); optional, at most 255 bytes.
	Actor string
	// Source is the stream the event was read from, e.g.
	// "ESCAI_CLEAN_acme" (printable ASCII, at most 255 bytes).
	Source string
	// SourceSeq is the event's sequence in Source.
	SourceSeq uint64
	// Payload is the clean event exactly as read. It is copied.
	Payload []byte
	// SharedKey seals the body under the log's shared data key even when
	// the ring keeps per-tenant keys: for records that must stay readable
	// after their tenant is crypto-shredded, such as the record of the
	// shred itself. Their payloads must not hold the tenant's personal
	// data.
	SharedKey bool
}

// maxPayload leaves room in a body for the metadata and the GCM tag.
const maxPayload = MaxBodyBytes - 1024

// ValidateInput applies the rules Append applies, so a stage can
// dead-letter one bad event instead of failing a whole batch.
func ValidateInput(in *Input) error {
	switch {
	case len(in.EventID) == 0 || len(in.EventID) > maxEventID || !validText(in.EventID):
		return fmt.Errorf("%w: event id must be 1..%d bytes of UTF-8 without control characters", ErrInvalidInput, maxEventID)
	case !events.ValidIdentifier(in.Tenant):
		return fmt.Errorf("%w: tenant must match [a-z0-9][a-z0-9_-]{0,63}", ErrInvalidInput)
	case !events.ValidIdentifier(in.Agent):
		return fmt.Errorf("%w: agent must match [a-z0-9][a-z0-9_-]{0,63}", ErrInvalidInput)
	case len(in.EventType) > maxEventType || !validToken(in.EventType):
		return fmt.Errorf("%w: event type must be 1..%d bytes of [A-Za-z0-9._-]", ErrInvalidInput, maxEventType)
	case len(in.Actor) > maxActor || !validText(in.Actor):
		return fmt.Errorf("%w: actor must be at most %d bytes of UTF-8 without control characters", ErrInvalidInput, maxActor)
	case len(in.Source) > maxSource || !printable(in.Source):
		return fmt.Errorf("%w: source must be at most %d bytes of printable ASCII", ErrInvalidInput, maxSource)
	case len(in.Payload) > maxPayload:
		return fmt.Errorf("%w: payload of %d bytes exceeds %d", ErrInvalidInput, len(in.Payload), maxPayload)
	}
	return nil
}

// AppenderConfig configures the Appender of one partition.
type AppenderConfig struct {
	// Origin is the partition's log identity (see Origin). Required.
	Origin string
	// Partition is the partition number.
	Partition uint32
	// WriterID names this writer in every record (printable ASCII, at most
	// 128 bytes), e.g. the pod name.
	WriterID string
	// LeaseRev is the revision of the partition lease the writer holds.
	LeaseRev uint64
	// Keys encrypts bodies with the current data key of each record's
	// tenant. Nil stores bodies in clear (ESCAI_AUDIT_ENCRYPT=false).
	Keys *KeyRing
	// IntegrityKey MACs every leaf hash (DerivedKeys.Integrity). Nil writes
	// records without a MAC.
	IntegrityKey []byte
	// Now is the sealing clock; time.Now when nil.
	Now func() time.Time
	// Rand is the nonce source; crypto/rand when nil.
	Rand io.Reader
}

// Validate reports every problem of the configuration at once, each
// naming its field and wrapping ErrInvalidConfig.
func (c *AppenderConfig) Validate() error {
	var errs []error
	if !validOrigin(c.Origin) {
		errs = append(errs, configErr("Origin", "must be 1..%d bytes of [A-Za-z0-9._:/-], got %s", maxOrigin, truncateID(c.Origin)))
	}
	if len(c.WriterID) > maxWriter || !printable(c.WriterID) {
		errs = append(errs, configErr("WriterID", "must be at most %d bytes of printable ASCII without spaces", maxWriter))
	}
	if c.IntegrityKey != nil && len(c.IntegrityKey) < KeySize {
		errs = append(errs, configErr("IntegrityKey", "has %d bytes, want at least %d", len(c.IntegrityKey), KeySize))
	}
	return errors.Join(errs...)
}

// configErr is one field's configuration problem.
func configErr(field, format string, args ...any) error {
	return fmt.Errorf("%w: %s: "+format, append([]any{ErrInvalidConfig, field}, args...)...)
}

// Appender seals the records of one partition. It holds the head (next
// pseq, prev hash, the compact range of the Merkle tree) and the state of
// the last checkpoint, so it can sign the next one with a consistency
// proof. One writer per partition owns it; it is not safe for concurrent
// use.
//
// Append advances the head as if every record were stored. When the stage
// cannot store them all (publish error, wrong last sequence: another writer
// took over), it must drop the Appender and RestoreAppender from what the
// stream holds.
type Appender struct {
	cfg     AppenderConfig
	next    uint64
	prev    [HashSize]byte
	factory *compact.RangeFactory
	tree    *compact.Range // [0, next)

	cpSize     uint64           // size of the last checkpoint
	cpFrontier [][HashSize]byte // its frontier
	since      *compact.Range   // [cpSize, next), nil while cpSize is 0

	leaf leafHasher
	mac  hash.Hash
	keys []*DataKey // scratch: the data key of each input of a batch
}

// NewAppender starts a new partition at pseq 0.
func NewAppender(cfg AppenderConfig) (*Appender, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	a := &Appender{cfg: cfg, factory: newFactory()}
	a.tree = a.factory.NewEmptyRange(0)
	if cfg.IntegrityKey != nil {
		a.mac = hmac.New(sha256.New, cfg.IntegrityKey)
	}
	return a, nil
}

// RestoreAppender continues a partition after a crash or a takeover. cp is
// the newest checkpoint of the partition (already verified with
// OpenCheckpoint; nil when it has none) and records are the wire bytes of
// the partition's records from pseq cp.Size-1 (0 without a checkpoint) to
// the last one stored, in order: the record the checkpoint ends with
// gives the chain link, the ones after it are re-hashed into the tree.
// Every record is checked (origin, partition, leaf hash, MAC when the
// integrity key is configured, pseq continuity, prev links), so a restored
// Appender never continues a broken chain; failures are ErrRestore.
func RestoreAppender(cfg AppenderConfig, cp *Checkpoint, records [][]byte) (*Appender, error) {
	a, err := NewAppender(cfg)
	if err != nil {
		return nil, err
	}
	var start uint64
	if cp != nil {
		if cp.Origin != cfg.Origin {
			return nil, fmt.Errorf("%w: checkpoint of origin %q, appender of %q", ErrRestore, cp.Origin, cfg.Origin)
		}
		if err := cp.check(); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrRestore, err)
		}
		start = cp.Size
		if a.tree, err = rangeFromFrontier(a.factory, cp.Size, cp.Frontier); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrRestore, err)
		}
		a.cpSize = cp.Size
		a.cpFrontier = cp.Frontier
		if cp.Size > 0 {
			a.since = a.factory.NewEmptyRange(cp.Size)
		}
	}
	if start > 0 && len(records) == 0 {
		return nil, fmt.Errorf("%w: need record %d, the last one the checkpoint covers", ErrRestore, start-1)
	}
	want := uint64(0)
	if start > 0 {
		want = start - 1
	}
	var v view
	for i, b := range records {
		if err := scan(b, &v); err != nil {
			return nil, fmt.Errorf("%w: record %d: %w", ErrRestore, i, err)
		}
		switch {
		case string(v.origin) != cfg.Origin || v.partition != cfg.Partition:
			return nil, fmt.Errorf("%w: record %d belongs to %s partition %d", ErrRestore, i, v.origin, v.partition)
		case v.pseq != want:
			return nil, fmt.Errorf("%w: record %d has pseq %d, want %d", ErrRestore, i, v.pseq, want)
		}
		h := a.leaf.sum(b[:v.canonLen])
		if string(h[:]) != string(v.hash) {
			return nil, fmt.Errorf("%w: pseq %d: stored hash differs from the recomputed leaf", ErrRestore, v.pseq)
		}
		if a.mac != nil && !a.checkMAC(h, v.mac) {
			return nil, fmt.Errorf("%w: pseq %d: MAC does not verify", ErrRestore, v.pseq)
		}
		switch {
		case v.pseq == 0 && string(v.prev) != string(make([]byte, HashSize)):
			return nil, fmt.Errorf("%w: pseq 0 has a non-zero prev", ErrRestore)
		case i > 0 && string(v.prev) != string(a.prev[:]):
			return nil, fmt.Errorf("%w: pseq %d does not link to pseq %d", ErrRestore, v.pseq, v.pseq-1)
		}
		if v.pseq < start {
			// The record the checkpoint ends with: its leaf is inside the
			// frontier, whose last hash is this very leaf when the size is odd.
			if start&1 == 1 && cp.Frontier[len(cp.Frontier)-1] != h {
				return nil, fmt.Errorf("%w: pseq %d is not the leaf the checkpoint ends with", ErrRestore, v.pseq)
			}
		} else {
			a.appendLeaf(h)
		}
		a.prev = h
		want++
	}
	a.next = want
	if len(records) == 0 {
		a.next = 0
	}
	return a, nil
}

func (a *Appender) checkMAC(h [HashSize]byte, mac []byte) bool {
	a.mac.Reset()
	a.mac.Write(h[:])
	var sum [HashSize]byte
	return hmac.Equal(a.mac.Sum(sum[:0]), mac)
}

// appendLeaf adds a leaf to the tree and to the range since the last
// checkpoint.
func (a *Appender) appendLeaf(h [HashSize]byte) {
	leaf := append(make([]byte, 0, HashSize), h[:]...)
	if err := a.tree.Append(leaf, nil); err != nil {
		panic("audit: compact range: " + err.Error()) // only on corrupted state
	}
	if a.since != nil {
		if err := a.since.Append(leaf, nil); err != nil {
			panic("audit: compact range: " + err.Error())
		}
	}
}

// Head is where the partition stands.
type Head struct {
	// Next is the pseq the next record gets (the tree size).
	Next uint64
	// Prev is the leaf hash of the last record (zero before the first).
	Prev [HashSize]byte
	// Root is the Merkle root of records [0, Next).
	Root [HashSize]byte
}

// Head returns the current head.
func (a *Appender) Head() Head {
	return Head{Next: a.next, Prev: a.prev, Root: rootOf(a.tree)}
}

// SinceCheckpoint is how many records were sealed since the last
// checkpoint: the stage checkpoints when it reaches N, or every T seconds.
func (a *Appender) SinceCheckpoint() uint64 { return a.next - a.cpSize }

// Append seals a batch of events into the next records of the partition,
// in order, and returns them; publish rec.Bytes() with rec.MsgID(). Inputs
// are validated first and data keys obtained before anything is sealed,
// so on error the head has not moved. Append never retains in.
func (a *Appender) Append(in []Input) ([]Record, error) {
	if len(in) == 0 {
		return nil, nil
	}
	total := 0
	a.keys = a.keys[:0]
	for i := range in {
		if err := ValidateInput(&in[i]); err != nil {
			return nil, fmt.Errorf("input %d: %w", i, err)
		}
		var k *DataKey
		if a.cfg.Keys != nil {
			var err error
			scope := in[i].Tenant
			if in[i].SharedKey {
				scope = ""
			}
			if k, err = a.cfg.Keys.Current(scope); err != nil {
				return nil, err
			}
			// Counted now, so that rotation by count happens mid-batch.
			k.uses.Add(1)
		}
		a.keys = append(a.keys, k)
		total += recordSize(a, &in[i], k)
	}
	var nonces []byte
	if a.cfg.Keys != nil {
		nonces = make([]byte, NonceSize*len(in))
		if _, err := io.ReadFull(a.cfg.Rand, nonces); err != nil {
			return nil, fmt.Errorf("audit: reading nonces: %w", err)
		}
	}
	now := a.cfg.Now().UTC()
	buf := make([]byte, 0, total)
	out := make([]Record, len(in))
	for i := range in {
		buf = a.seal(buf, &out[i], &in[i], a.keys[i], nonces, i, now)
	}
	clear(a.keys)
	return out, nil
}

// recordSize is the exact wire size of the record in will become.
func recordSize(a *Appender, in *Input, k *DataKey) int {
	n := len(leafTag) + 16*4 + 1 + len(a.cfg.Origin) + 8 + 8 + 8 + len(a.cfg.WriterID) + 8 +
		len(in.EventID) + len(in.Tenant) + len(in.Agent) + len(in.EventType) + len(in.Actor) +
		1 + HashSize + // cipher, prev
		4 + bodySize(in.Source, in.Payload) + // body
		4 + HashSize + 4 // hash, MAC prefix
	if k != nil {
		n += len(k.ID) + NonceSize + 16
	}
	if a.mac != nil {
		n += HashSize
	}
	return n
}

// seal appends the wire bytes of the next record to buf and fills r.
func (a *Appender) seal(buf []byte, r *Record, in *Input, k *DataKey, nonces []byte, i int, now time.Time) []byte {
	r.Header = Header{
		Version:   Version,
		Origin:    a.cfg.Origin,
		Partition: a.cfg.Partition,
		PSeq:      a.next,
		Time:      now,
		WriterID:  a.cfg.WriterID,
		LeaseRev:  a.cfg.LeaseRev,
		EventID:   in.EventID,
		Tenant:    in.Tenant,
		Agent:     in.Agent,
		EventType: in.EventType,
		Actor:     in.Actor,
		Prev:      a.prev,
	}
	if k != nil {
		r.Cipher = CipherAES256GCM
		r.KeyID = k.ID
		r.Nonce = nonces[i*NonceSize : (i+1)*NonceSize : (i+1)*NonceSize]
	}
	start := len(buf)
	buf = appendHeader(buf, &r.Header)
	aadEnd := len(buf)
	ptLen := bodySize(in.Source, in.Payload)
	bodyLen := ptLen
	if k != nil {
		bodyLen += k.aead.Overhead()
	}
	buf = binary.BigEndian.AppendUint32(buf, uint32(bodyLen))
	bodyStart := len(buf)
	buf = appendBody(buf, in.Source, in.SourceSeq, in.Payload)
	if k != nil {
		// In place: the plaintext's storage becomes the ciphertext; the
		// header before it is the AAD.
		ct := k.aead.Seal(buf[bodyStart:bodyStart], r.Nonce, buf[bodyStart:], buf[start:aadEnd])
		buf = append(buf[:bodyStart], ct...)
	}
	canonEnd := len(buf)
	r.Hash = a.leaf.sum(buf[start:canonEnd])
	buf = putBytes(buf, r.Hash[:])
	if a.mac != nil {
		a.mac.Reset()
		a.mac.Write(r.Hash[:])
		buf = binary.BigEndian.AppendUint32(buf, HashSize)
		buf = a.mac.Sum(buf)
	} else {
		buf = binary.BigEndian.AppendUint32(buf, 0)
	}
	r.wire = buf[start:len(buf):len(buf)]
	r.aadLen = aadEnd - start
	r.canonLen = canonEnd - start
	r.Body = r.wire[r.aadLen+4 : r.canonLen : r.canonLen]
	if a.mac != nil {
		r.MAC = r.wire[len(r.wire)-HashSize:]
	}
	a.appendLeaf(r.Hash)
	a.prev = r.Hash
	a.next++
	return buf
}

// Checkpoint signs a checkpoint of the partition as it stands (size Next,
// current root, frontier) and returns the entry to publish on the
// partition's checkpoint subject and to export. When a previous
// checkpoint is known (made here or given to RestoreAppender), the entry
// carries the consistency proof from it. A checkpoint of an unchanged size
// is a heartbeat: it bounds how stale the newest checkpoint can look. If
// publishing the entry fails, the next entry's proof starts at a size no
// stored checkpoint has; verifiers then skip that proof, nothing breaks.
func (a *Appender) Checkpoint(now time.Time, signers ...note.Signer) (CheckpointEntry, error) {
	cp := Checkpoint{
		Origin:   a.cfg.Origin,
		Size:     a.next,
		Root:     rootOf(a.tree),
		Time:     now.UTC(),
		Frontier: hashesOf(a.tree),
	}
	msg, err := cp.Sign(signers...)
	if err != nil {
		return CheckpointEntry{}, err
	}
	e := CheckpointEntry{Note: msg}
	if a.cpSize > 0 && a.cpSize < cp.Size && a.since != nil {
		p, err := consistencyFromRanges(a.cpSize, cp.Size, a.cpFrontier, a.since.Hashes())
		if err != nil {
			return CheckpointEntry{}, err
		}
		e.ConsistencyFrom = a.cpSize
		e.Consistency = p
	}
	a.cpSize = cp.Size
	a.cpFrontier = cp.Frontier
	if cp.Size > 0 {
		a.since = a.factory.NewEmptyRange(cp.Size)
	}
	return e, nil
}

// Mark is a saved state of an Appender (head and last checkpoint), taken
// before a batch whose storing may fail. It holds O(log n) hashes.
type Mark struct {
	next       uint64
	prev       [HashSize]byte
	tree       [][HashSize]byte
	cpSize     uint64
	cpFrontier [][HashSize]byte
	since      [][HashSize]byte // nil when cpSize is 0
}

// Mark saves the state so that Rewind can undo the Appends and
// Checkpoints after it.
func (a *Appender) Mark() Mark {
	m := Mark{next: a.next, prev: a.prev, tree: hashesOf(a.tree), cpSize: a.cpSize, cpFrontier: a.cpFrontier}
	if a.since != nil {
		m.since = hashesOf(a.since)
	}
	return m
}

// Rewind returns the Appender to m, forgetting the records appended and
// the checkpoints signed after it: the stage calls it when they were not
// stored (another writer appended first), then Continue with what the
// stream holds. A mark from after the current head is ErrRestore.
func (a *Appender) Rewind(m Mark) error {
	if m.next > a.next || m.cpSize > m.next {
		return fmt.Errorf("%w: mark at size %d, head at %d", ErrRestore, m.next, a.next)
	}
	tree, err := rangeFromFrontier(a.factory, m.next, m.tree)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrRestore, err)
	}
	var since *compact.Range
	if m.cpSize > 0 {
		if since, err = a.factory.NewRange(m.cpSize, m.next, toSlices(m.since)); err != nil {
			return fmt.Errorf("%w: %w", ErrRestore, err)
		}
	}
	a.next, a.prev, a.tree = m.next, m.prev, tree
	a.cpSize, a.cpFrontier, a.since = m.cpSize, m.cpFrontier, since
	return nil
}

func toSlices(hs [][HashSize]byte) [][]byte {
	out := make([][]byte, len(hs))
	for i := range hs {
		out[i] = append([]byte(nil), hs[i][:]...)
	}
	return out
}

// Continue adopts records another writer stored after this head (the
// stream's records from pseq Head().Next on, in order), so that this
// Appender seals after them instead of forking the partition. Every record
// is checked as RestoreAppender checks it; on ErrRestore the head has
// absorbed the records before the bad one, and the Appender must be
// restored from the stream.
func (a *Appender) Continue(records [][]byte) error {
	var v view
	for _, b := range records {
		if err := scan(b, &v); err != nil {
			return fmt.Errorf("%w: record %d: %w", ErrRestore, a.next, err)
		}
		switch {
		case string(v.origin) != a.cfg.Origin || v.partition != a.cfg.Partition:
			return fmt.Errorf("%w: record of %s partition %d", ErrRestore, v.origin, v.partition)
		case v.pseq != a.next:
			return fmt.Errorf("%w: record has pseq %d, want %d", ErrRestore, v.pseq, a.next)
		case string(v.prev) != string(a.prev[:]):
			return fmt.Errorf("%w: pseq %d does not link to pseq %d", ErrRestore, v.pseq, a.next-1)
		}
		h := a.leaf.sum(b[:v.canonLen])
		if string(h[:]) != string(v.hash) {
			return fmt.Errorf("%w: pseq %d: stored hash differs from the recomputed leaf", ErrRestore, v.pseq)
		}
		if a.mac != nil && !a.checkMAC(h, v.mac) {
			return fmt.Errorf("%w: pseq %d: MAC does not verify", ErrRestore, v.pseq)
		}
		a.appendLeaf(h)
		a.prev = h
		a.next++
	}
	return nil
}
