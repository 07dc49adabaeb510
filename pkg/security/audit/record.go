package audit

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/escai-framework/escai/pkg/events"
)

// Version is the record format version written by this package and the
// only one it reads.
const Version = 1

// HashSize is the size of leaf hashes, Merkle nodes and prev links.
const HashSize = sha256.Size

// NonceSize is the AES-GCM nonce size of encrypted records.
const NonceSize = 12

// MaxBodyBytes bounds the body of one record (ciphertext or cleartext).
// ESCAI_MAX_EVENT_BYTES allows at most 8 MiB events; the rest is headroom
// for metadata and the GCM tag.
const MaxBodyBytes = 16 << 20

// leafTag starts the canonical bytes of every record. It separates audit
// leaves from any other SHA-256 input and is part of what is hashed.
// MUST NEVER CHANGE.
const leafTag = "escai-audit-leaf"

// Field limits, enforced when sealing and when decoding.
const (
	maxOrigin    = 255
	maxWriter    = 128
	maxEventID   = 128
	maxEventType = 255
	maxActor     = 255
	maxKeyID     = 64
	maxSource    = 255
)

// Cipher says how a record body is protected.
type Cipher uint8

// The ciphers. The numbers are part of the canonical encoding and must
// never change.
const (
	// CipherNone stores the body in clear (ESCAI_AUDIT_ENCRYPT=false): the
	// record is still hashed, chained, MACed and in the tree.
	CipherNone Cipher = 0
	// CipherAES256GCM encrypts the body with AES-256-GCM under the data key
	// KeyID, a random 96-bit nonce, and the canonical header as AAD.
	CipherAES256GCM Cipher = 1
)

// String returns "none" or "A256GCM".
func (c Cipher) String() string {
	switch c {
	case CipherNone:
		return "none"
	case CipherAES256GCM:
		return "A256GCM"
	}
	return "cipher(" + strconv.Itoa(int(c)) + ")"
}

// Header is the cleartext part of a record: everything needed to route,
// index and verify it without any key. Every field is covered by the leaf
// hash and, for encrypted records, bound to the ciphertext as AAD. It holds
// no personal data beyond identifiers; Actor should be a pseudonymous
// reference (see DerivedKeys.BlindIndex).
type Header struct {
	// Version is the format version, always 1.
	Version uint8
	// Origin is the log identity of the partition, as in its checkpoints
	// (see Origin).
	Origin string
	// Partition is the partition number the origin names.
	Partition uint32
	// PSeq is the record's position in the partition, contiguous from 0;
	// it is also its Merkle leaf index.
	PSeq uint64
	// Time is when the writer sealed the record (writer clock, UTC,
	// nanoseconds).
	Time time.Time
	// WriterID names the writer that sealed it (forensics).
	WriterID string
	// LeaseRev is the writer's partition lease revision (forensics: which
	// lease holder appended).
	LeaseRev uint64
	// EventID is the id of the sealed event.
	EventID string
	// Tenant is the event's tenant identifier.
	Tenant string
	// Agent is the event's agent identifier.
	Agent string
	// EventType is the event's CloudEvents type, e.g. "escai.tool.call".
	EventType string
	// Actor is who caused the event, as a pseudonymous reference; may be
	// empty.
	Actor string
	// Cipher says whether and how Body is encrypted.
	Cipher Cipher
	// KeyID names the data key of an encrypted body; empty in clear.
	KeyID string
	// Nonce is the AES-GCM nonce of an encrypted body; empty in clear.
	Nonce []byte
	// Prev is the leaf hash of the record at PSeq-1, zero at PSeq 0.
	Prev [HashSize]byte
}

// Record is one sealed audit record: header, body and the leaf hash over
// both, plus the keyed MAC of that hash. Records come from Appender.Append
// or DecodeRecord; their wire bytes (Bytes) are what is published and
// stored, and verification hashes those stored bytes, never a re-encoding.
type Record struct {
	Header
	// Body is the ciphertext (with its GCM tag), or the encoded body in
	// clear when Cipher is CipherNone. Use Open to read it.
	Body []byte
	// Hash is the stored leaf hash: SHA-256(0x00 ‖ canonical bytes).
	Hash [HashSize]byte
	// MAC is HMAC-SHA256(integrity key, Hash), or empty when the writer
	// had no integrity key.
	MAC []byte

	wire     []byte // canonical ‖ F(hash) ‖ F(mac)
	aadLen   int    // canonical header length: wire[:aadLen] is the AAD
	canonLen int    // wire[:canonLen] is the canonical encoding
}

// Bytes returns the wire form: the canonical encoding followed by the
// length-prefixed hash and MAC. It aliases the record; do not modify it.
func (r *Record) Bytes() []byte { return r.wire }

// Canonical returns the canonical encoding, the bytes the leaf hash covers.
func (r *Record) Canonical() []byte { return r.wire[:r.canonLen] }

// LeafHash recomputes SHA-256(0x00 ‖ canonical bytes) from the stored
// bytes. It equals Hash for an untampered record.
func (r *Record) LeafHash() [HashSize]byte {
	var h leafHasher
	return h.sum(r.wire[:r.canonLen])
}

// MsgID is a stable Nats-Msg-Id for the record: "<origin>#<pseq>". A
// retried publish of the same record deduplicates; a different record for
// the same position does too, and the expected-last-subject-sequence fence
// then tells the writer it lost the partition.
func (r *Record) MsgID() string {
	return r.Origin + "#" + strconv.FormatUint(r.PSeq, 10)
}

// Body is the protected content of a record: the clean event as stored and
// where it came from.
type Body struct {
	// Source is where the event was read, e.g. "ESCAI_CLEAN_acme".
	Source string
	// SourceSeq is its sequence in Source.
	SourceSeq uint64
	// Payload is the event bytes, exactly as read.
	Payload []byte
}

// Open returns the record's body, decrypting it with keys when it is
// encrypted (keys may be nil for records in clear). It fails with
// ErrUnknownKey, ErrKeyShredded, ErrDecrypt or ErrMalformed.
func (r *Record) Open(keys *KeyRing) (*Body, error) {
	pt := r.Body
	if r.Cipher == CipherAES256GCM {
		if keys == nil {
			return nil, fmt.Errorf("%w: %q (no key ring)", ErrUnknownKey, r.KeyID)
		}
		k, err := keys.Get(r.KeyID)
		if err != nil {
			return nil, err
		}
		pt, err = k.open(nil, r.Nonce, r.Body, r.wire[:r.aadLen])
		if err != nil {
			return nil, err
		}
	}
	return decodeBody(pt)
}

// F(x) = u32be(len(x)) ‖ x: every field of the canonical encoding.

func putBytes(dst, b []byte) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(b)))
	return append(dst, b...)
}

func putString(dst []byte, s string) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(s)))
	return append(dst, s...)
}

func putUint64(dst []byte, v uint64) []byte {
	dst = binary.BigEndian.AppendUint32(dst, 8)
	return binary.BigEndian.AppendUint64(dst, v)
}

func putByte(dst []byte, v byte) []byte {
	dst = binary.BigEndian.AppendUint32(dst, 1)
	return append(dst, v)
}

// appendHeader appends the canonical header of h: the canonical encoding
// without its last field, the body. The order and the framing are the
// record format; they MUST NEVER CHANGE (see the package documentation).
func appendHeader(dst []byte, h *Header) []byte {
	dst = append(dst, leafTag...)
	dst = putByte(dst, h.Version)
	dst = putString(dst, h.Origin)
	dst = putUint64(dst, uint64(h.Partition))
	dst = putUint64(dst, h.PSeq)
	dst = putUint64(dst, uint64(h.Time.UnixNano()))
	dst = putString(dst, h.WriterID)
	dst = putUint64(dst, h.LeaseRev)
	dst = putString(dst, h.EventID)
	dst = putString(dst, h.Tenant)
	dst = putString(dst, h.Agent)
	dst = putString(dst, h.EventType)
	dst = putString(dst, h.Actor)
	dst = putByte(dst, byte(h.Cipher))
	dst = putString(dst, h.KeyID)
	dst = putBytes(dst, h.Nonce)
	dst = putBytes(dst, h.Prev[:])
	return dst
}

// bodySize is the length of the encoded body of b in clear.
func bodySize(source string, payload []byte) int {
	return 3*4 + len(source) + 8 + len(payload)
}

// appendBody encodes a body: F(source) ‖ F(u64 source seq) ‖ F(payload).
// This is what gets encrypted; it MUST NEVER CHANGE either.
func appendBody(dst []byte, source string, seq uint64, payload []byte) []byte {
	dst = putString(dst, source)
	dst = putUint64(dst, seq)
	return putBytes(dst, payload)
}

func decodeBody(b []byte) (*Body, error) {
	src, seq, payload, err := parseBody(b)
	if err != nil {
		return nil, err
	}
	return &Body{Source: string(src), SourceSeq: seq, Payload: payload}, nil
}

// parseBody splits an encoded body without allocating; the Verifier uses
// it to check what it decrypted.
func parseBody(b []byte) (src []byte, seq uint64, payload []byte, err error) {
	r := reader{b: b}
	src = r.field(0, maxSource)
	seq = r.uint64()
	payload = r.field(0, MaxBodyBytes)
	if r.err == nil && r.off != len(b) {
		r.fail("trailing bytes after body")
	}
	if r.err == nil && !printable(src) {
		r.fail("body source is not printable ASCII")
	}
	return src, seq, payload, r.err
}

// reader walks length-prefixed fields; the first failure sticks.
type reader struct {
	b   []byte
	off int
	err error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: "+format+" (offset %d)", append([]any{ErrMalformed}, append(args, r.off)...)...)
	}
}

// field returns the next field, whose length must be in [lo, hi].
func (r *reader) field(lo, hi int) []byte {
	if r.err != nil {
		return nil
	}
	if len(r.b)-r.off < 4 {
		r.fail("truncated length prefix")
		return nil
	}
	n := binary.BigEndian.Uint32(r.b[r.off:])
	if uint64(n) > uint64(hi) || int(n) < lo {
		r.fail("field length %d outside [%d, %d]", n, lo, hi)
		return nil
	}
	if uint64(len(r.b)-r.off-4) < uint64(n) {
		r.fail("field of %d bytes runs past the end", n)
		return nil
	}
	start := r.off + 4
	r.off = start + int(n)
	return r.b[start:r.off:r.off]
}

func (r *reader) uint64() uint64 {
	b := r.field(8, 8)
	if b == nil {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

func (r *reader) byte() byte {
	b := r.field(1, 1)
	if b == nil {
		return 0
	}
	return b[0]
}

// view is a decoded record whose fields alias the wire bytes; the Verifier
// uses it so that checking a record allocates nothing.
type view struct {
	origin    []byte
	partition uint32
	pseq      uint64
	time      int64
	writer    []byte
	leaseRev  uint64
	eventID   []byte
	tenant    []byte
	agent     []byte
	eventType []byte
	actor     []byte
	cipher    Cipher
	keyID     []byte
	nonce     []byte
	prev      []byte
	body      []byte
	hash      []byte
	mac       []byte
	aadLen    int
	canonLen  int
}

// scan decodes and validates wire bytes. It accepts exactly the bytes
// appendHeader and the Appender produce, so decoding and re-encoding a
// record gives back the same bytes.
func scan(b []byte, v *view) error {
	if len(b) < len(leafTag) || string(b[:len(leafTag)]) != leafTag {
		return fmt.Errorf("%w: not an ESCAI audit record (missing %q tag)", ErrMalformed, leafTag)
	}
	r := reader{b: b, off: len(leafTag)}
	if ver := r.byte(); r.err == nil && ver != Version {
		return fmt.Errorf("%w: record version %d, want %d", ErrMalformed, ver, Version)
	}
	v.origin = r.field(1, maxOrigin)
	part := r.uint64()
	v.pseq = r.uint64()
	v.time = int64(r.uint64())
	v.writer = r.field(0, maxWriter)
	v.leaseRev = r.uint64()
	v.eventID = r.field(1, maxEventID)
	v.tenant = r.field(1, 64)
	v.agent = r.field(1, 64)
	v.eventType = r.field(1, maxEventType)
	v.actor = r.field(0, maxActor)
	v.cipher = Cipher(r.byte())
	v.keyID = r.field(0, maxKeyID)
	v.nonce = r.field(0, NonceSize)
	v.prev = r.field(HashSize, HashSize)
	v.aadLen = r.off
	v.body = r.field(0, MaxBodyBytes)
	v.canonLen = r.off
	v.hash = r.field(HashSize, HashSize)
	v.mac = r.field(0, HashSize)
	if r.err != nil {
		return r.err
	}
	if r.off != len(b) {
		return fmt.Errorf("%w: %d trailing bytes after the record", ErrMalformed, len(b)-r.off)
	}
	if part > math.MaxUint32 {
		return fmt.Errorf("%w: partition %d out of range", ErrMalformed, part)
	}
	v.partition = uint32(part)
	switch {
	case !validOrigin(v.origin):
		return fmt.Errorf("%w: invalid origin", ErrMalformed)
	case !printable(v.writer):
		return fmt.Errorf("%w: writer id is not printable ASCII", ErrMalformed)
	case !validText(v.eventID):
		return fmt.Errorf("%w: invalid event id", ErrMalformed)
	case !events.ValidIdentifier(string(v.tenant)):
		return fmt.Errorf("%w: invalid tenant identifier", ErrMalformed)
	case !events.ValidIdentifier(string(v.agent)):
		return fmt.Errorf("%w: invalid agent identifier", ErrMalformed)
	case !validToken(v.eventType):
		return fmt.Errorf("%w: invalid event type", ErrMalformed)
	case !validText(v.actor):
		return fmt.Errorf("%w: invalid actor", ErrMalformed)
	case len(v.mac) != 0 && len(v.mac) != HashSize:
		return fmt.Errorf("%w: MAC of %d bytes", ErrMalformed, len(v.mac))
	}
	switch v.cipher {
	case CipherNone:
		if len(v.keyID) != 0 || len(v.nonce) != 0 {
			return fmt.Errorf("%w: key id or nonce on a record in clear", ErrMalformed)
		}
	case CipherAES256GCM:
		if !validToken(v.keyID) || len(v.nonce) != NonceSize {
			return fmt.Errorf("%w: encrypted record without a valid key id and %d-byte nonce", ErrMalformed, NonceSize)
		}
		if len(v.body) < 16 {
			return fmt.Errorf("%w: ciphertext shorter than the GCM tag", ErrMalformed)
		}
	default:
		return fmt.Errorf("%w: unknown cipher %d", ErrMalformed, v.cipher)
	}
	return nil
}

// DecodeRecord parses the wire form of a record. It checks the format and
// the field rules, not the hash, the chain or the MAC (that is the
// Verifier's job). The returned Record aliases b: do not modify b while
// using it.
func DecodeRecord(b []byte) (*Record, error) {
	var v view
	if err := scan(b, &v); err != nil {
		return nil, err
	}
	r := &Record{
		Header: Header{
			Version:   Version,
			Origin:    string(v.origin),
			Partition: v.partition,
			PSeq:      v.pseq,
			Time:      time.Unix(0, v.time).UTC(),
			WriterID:  string(v.writer),
			LeaseRev:  v.leaseRev,
			EventID:   string(v.eventID),
			Tenant:    string(v.tenant),
			Agent:     string(v.agent),
			EventType: string(v.eventType),
			Actor:     string(v.actor),
			Cipher:    v.cipher,
			KeyID:     string(v.keyID),
			Nonce:     v.nonce,
		},
		Body:     v.body,
		MAC:      v.mac,
		wire:     b,
		aadLen:   v.aadLen,
		canonLen: v.canonLen,
	}
	if len(r.Nonce) == 0 {
		r.Nonce = nil
	}
	if len(r.MAC) == 0 {
		r.MAC = nil
	}
	copy(r.Prev[:], v.prev)
	copy(r.Hash[:], v.hash)
	return r, nil
}

// Origin names partition k of a log: "<log>/p/<k>", e.g. "audit.prod/p/3".
// It is the origin line of the partition's checkpoints and the Origin of
// its records. Changing the number of partitions starts a new log name
// (e.g. "audit.prod/e2"), never a reuse of old origins.
func Origin(log string, partition uint32) string {
	return log + "/p/" + strconv.FormatUint(uint64(partition), 10)
}

// validOrigin: 1..255 bytes of [A-Za-z0-9._:/-]. Origins are note key
// names and checkpoint lines, so no spaces, '+' or control characters.
func validOrigin[T ~string | ~[]byte](s T) bool {
	if len(s) == 0 || len(s) > maxOrigin {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '.' || c == '_' || c == ':' || c == '/' || c == '-') {
			return false
		}
	}
	return true
}

// validToken: 1.. bytes of [A-Za-z0-9._-] (event types, key ids).
func validToken[T ~string | ~[]byte](s T) bool {
	if len(s) == 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// printable: visible ASCII without spaces (writer ids, sources); may be
// empty.
func printable[T ~string | ~[]byte](s T) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= 0x20 || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// validText: UTF-8 without control characters (event ids, actors); may be
// empty, callers check the length.
func validText[T ~string | ~[]byte](s T) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(string(s[i:min(i+utf8.UTFMax, len(s))]))
		if r == utf8.RuneError && n <= 1 || r >= 0x80 && r < 0xa0 {
			return false
		}
		i += n
	}
	return true
}
