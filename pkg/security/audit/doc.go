// Package audit owns the tamper-evident audit log of ESCAI: the record
// format, the per-partition hash chain, the Merkle tree over the same
// leaves, body encryption and data keys, signed checkpoints, inclusion and
// consistency proofs, and verification by replay. It is pure: bytes and
// keys in, records, checkpoints and findings out. The audit-writer stage
// publishes what it produces (records on escai.audit.<p>, in bundles of
// consecutive records, see AppendBundle; checkpoint entries on the
// partition's checkpoint subject) and `escai audit verify` feeds every
// record the stream holds back into a Verifier.
//
// Why both a chain and a tree: the chain (each record holds the hash of
// the one before) pinpoints the first modified, removed or reordered
// record. It cannot show that the tail was cut off, nor that whoever holds
// the keys rewrote history; signed checkpoints of the Merkle root
// (RFC 6962, as in Certificate Transparency and C2SP tlog-checkpoint),
// exported where the writer cannot change them, close both gaps, and give
// O(log n) inclusion and consistency proofs.
//
// # Record format v1
//
// A record is a cleartext header, a body, and the leaf hash over both:
//
//	field       encoding                        notes
//	version     1 byte                          1
//	origin      1..255 of [A-Za-z0-9._:/-]      log identity of the partition, "<log>/p/<k>"
//	partition   u64 (< 2^32)
//	pseq        u64                             0, 1, 2, … per partition; the Merkle leaf index
//	time        i64                             sealing time, Unix nanoseconds UTC
//	writer_id   0..128 bytes, printable ASCII
//	lease_rev   u64                             revision of the writer's partition lease
//	event_id    1..128 bytes, UTF-8             no control characters
//	tenant      identifier                      [a-z0-9][a-z0-9_-]{0,63}
//	agent       identifier
//	event_type  1..255 bytes of [A-Za-z0-9._-]  e.g. escai.tool.call
//	actor       0..255 bytes, UTF-8             pseudonymous reference (BlindIndex)
//	cipher      1 byte                          0 = clear, 1 = AES-256-GCM
//	key_id      0..64 bytes of [A-Za-z0-9._-]   data key; empty in clear
//	nonce       0 or 12 bytes                   GCM nonce; empty in clear
//	prev        32 bytes                        leaf hash of pseq-1; 32 zero bytes at pseq 0
//	body        0..16 MiB                       ciphertext ‖ GCM tag, or the body in clear
//
// Integers are big-endian, fixed width (u64/i64: 8 bytes). The body in
// clear (the plaintext of an encrypted body) is
//
//	F(source) ‖ F(u64 source_seq) ‖ F(payload)
//
// where source names the stream the event came from, source_seq its
// sequence there, and payload is the clean event exactly as read.
//
// # Canonical encoding — MUST NEVER CHANGE
//
// The canonical bytes of a record are
//
//	"escai-audit-leaf" ‖ F(version) ‖ F(origin) ‖ F(partition) ‖ F(pseq) ‖
//	F(time) ‖ F(writer_id) ‖ F(lease_rev) ‖ F(event_id) ‖ F(tenant) ‖
//	F(agent) ‖ F(event_type) ‖ F(actor) ‖ F(cipher) ‖ F(key_id) ‖
//	F(nonce) ‖ F(prev) ‖ F(body)
//
// with F(x) = u32be(len(x)) ‖ x for every field, integers included (their
// length prefix is 8, or 1 for version and cipher), and the 16-byte ASCII
// tag unprefixed. The fields are always present and in this order; there
// are no optional fields, no alternatives and no padding, so every record
// has exactly one encoding. Records already stored are verified with these
// bytes for as long as they are retained (years), so this encoding, the
// tag, the field order and the meaning of every field MUST NEVER CHANGE; a
// different format is a new version and a new tag, never an edit. The
// golden files in testdata pin it.
//
//	leaf hash  hash = SHA-256(0x00 ‖ canonical)          the RFC 6962 leaf hash
//	AAD        canonical bytes up to and including F(prev) (everything but the body)
//	MAC        HMAC-SHA256(integrity key, hash)         optional
//
// The header is the AAD of the body, so a ciphertext cannot be moved to
// another record, and the hash covers ciphertext, never plaintext: a
// record verifies without any key, and still verifies after its data key
// was destroyed.
//
// The wire form, what the stage publishes and the stream stores, is
//
//	canonical ‖ F(hash) ‖ F(mac)        (mac empty when the writer has no integrity key)
//
// Verification hashes the stored canonical bytes, never a re-encoding, and
// DecodeRecord accepts only bytes this encoder can produce, so decoding and
// hashing always reproduces the hash of an untampered record. The stored
// hash is a convenience: verifiers recompute it. The MAC is outside the
// hash (it is over it); without the integrity key it is not checked.
//
// # Chain and tree
//
// Each partition is one log: records with pseq 0, 1, 2, …, each prev
// linking to the one before, and an RFC 6962 Merkle tree
// (github.com/transparency-dev/merkle) whose leaf i is record i's hash.
// The Appender keeps the head (next pseq, prev hash, compact range) and
// seals batches; it is restored after a crash or a takeover from the
// newest checkpoint's frontier plus the records since (RestoreAppender).
// The stage must publish each record with the expected last subject
// sequence, so two writers can never fork a partition, and must restore
// the Appender whenever a batch was not stored whole.
//
// # Checkpoints
//
// A checkpoint is a C2SP tlog-checkpoint signed note (golang.org/x/mod/sumdb/note,
// Ed25519):
//
//	audit.prod/p/3
//	1048576
//	<root, base64>
//	time 2026-05-01T12:00:00.123456789Z
//	frontier <hash> <hash> …
//
//	— audit.prod <signature>
//
// The first three lines are the C2SP body; "time" and "frontier" are the
// two ESCAI extension lines: when it was signed, and the compact range of
// [0, size) (popcount(size) hashes, which must hash to the root). The
// frontier lets a verifier resume after retention removed the oldest
// records, and a writer continue the tree without replaying the partition.
// Signatures from unknown keys are ignored (witness co-signatures, retired
// keys), a failing signature from a trusted key rejects the note, and the
// key name should be the log name or the origin. Signing-key rotation is
// adding the new verifier key to the trusted set before signing with it.
//
// A CheckpointEntry carries the note and the consistency proof from the
// writer's previous checkpoint, built from two compact ranges without a
// node store. Entries are what the stage publishes and what a checkpoints
// file holds: JSON Lines, one {"note","consistency_from","consistency"}
// object per line, oldest first (WriteCheckpoints, ReadCheckpoints).
// Exporting that file to storage the writer cannot touch is what makes
// truncation and key-holder rewrites detectable; tampering becomes
// undetectable only for records newer than the last exported checkpoint.
//
// # Keys
//
// DeriveKeys derives, with HKDF-SHA256 from ESCAI_SECRET_KEY, the
// integrity key (record MACs), the KEK (wrapping data keys) and the index
// key (BlindIndex). Data keys are random AES-256 keys with ids ("dk-…")
// held in a KeyRing: Current returns the key to seal with, rotating it
// after RotationPolicy.MaxRecords records or MaxAge; Get returns any older
// key for decryption. New keys are persisted wrapped under the KEK
// (WrappedKey, AES-256-GCM with id, tenant and creation time as AAD)
// before use. With TenantKeys each tenant has its own keys, and Shred
// destroys them: the tenant's payloads become unreadable while chain,
// tree and checkpoints still verify. Checkpoint signing keys are separate
// Ed25519 note keys; CheckpointSigner derives one for development.
//
// # Verification
//
// A Verifier replays one partition: checkpoints first, then records in
// stream order, then Finish. It reports the first finding with its code,
// partition, pseq and stream sequence; records with a lower pseq verified.
//
//	code                      meaning
//	MALFORMED                 a record does not decode or belongs elsewhere; a signed note is not an ESCAI checkpoint
//	LEAF_MISMATCH             the stored bytes no longer hash to the stored hash: modified in place
//	HMAC_FAIL                 the MAC does not verify: rewritten without the integrity key
//	REORDER                   the record for pseq arrived after a later one, or an earlier one repeats
//	GAP                       the record for pseq is missing while later ones exist
//	CHAIN_BREAK               prev does not link to the previous record: inserted or re-chained
//	AEAD_FAIL                 the body does not decrypt with its key (with data keys only)
//	ROOT_MISMATCH             the replayed root differs from a signed checkpoint: history rewritten
//	TRUNCATED                 a signed checkpoint covers records the stream no longer has at its end
//	BAD_CHECKPOINT_SIGNATURE  no valid signature from a trusted key
//	CHECKPOINT_ROLLBACK       an older checkpoint presented after a newer one, or below the trusted state
//	CONSISTENCY_FAIL          two signed checkpoints contradict each other (same size, other root; bad proof)
//
// HMAC_FAIL, MALFORMED and CONSISTENCY_FAIL extend the list of the audit
// issue. Modifying one byte of a stored record shows as LEAF_MISMATCH at
// that record (MALFORMED when the byte breaks the framing; nothing when
// it is in the MAC and no integrity key is given); AEAD_FAIL appears when
// someone changed the body and recomputed the hash without the integrity
// key. Without checkpoints the replay proves only that the chain is
// intact; the Report says how many records no checkpoint covers yet.
//
// A Verifier built with KeepTree keeps the tree, whose Prove gives an
// inclusion proof against a signed checkpoint; VerifyProof checks it
// offline with the trusted keys alone, and VerifyConsistency is what a
// witness runs before co-signing a new checkpoint.
package audit
