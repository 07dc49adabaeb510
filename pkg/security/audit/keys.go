package audit

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// KeySize is the size of data keys, the KEK and the integrity key.
const KeySize = 32

// HKDF labels (the info strings) of the keys derived from the master
// secret. Changing one changes every derived key: MUST NEVER CHANGE.
const (
	hkdfSalt      = "escai-audit-v1"
	infoIntegrity = "escai/audit/v1/integrity"
	infoKEK       = "escai/audit/v1/kek"
	infoIndex     = "escai/audit/v1/index"
	infoSigner    = "escai/audit/v1/checkpoint-signer"
)

// DerivedKeys are the audit keys derived from the master secret
// (ESCAI_SECRET_KEY) with HKDF-SHA256, one label each, so that no key is
// used for two purposes and none reveals the master.
type DerivedKeys struct {
	// Integrity keys the record MAC (AppenderConfig.IntegrityKey,
	// VerifierConfig.IntegrityKey).
	Integrity []byte
	// KEK wraps data keys (KeyRingConfig.KEK). A separately configured key
	// may be used instead.
	KEK []byte
	// Index keys blind indexes (BlindIndex).
	Index []byte

	signer []byte
}

// DeriveKeys derives the audit keys from the master secret, which must be
// at least 32 bytes (pkg/security/config guarantees that for SecretKey).
func DeriveKeys(master []byte) (*DerivedKeys, error) {
	if len(master) < KeySize {
		return nil, fmt.Errorf("%w: master secret of %d bytes, want at least %d", ErrInvalidConfig, len(master), KeySize)
	}
	derive := func(info string) []byte {
		k, err := hkdf.Key(sha256.New, master, []byte(hkdfSalt), info, KeySize)
		if err != nil {
			panic("audit: hkdf: " + err.Error()) // only for absurd lengths
		}
		return k
	}
	return &DerivedKeys{
		Integrity: derive(infoIntegrity),
		KEK:       derive(infoKEK),
		Index:     derive(infoIndex),
		signer:    derive(infoSigner),
	}, nil
}

// BlindIndex returns a pseudonymous reference for a value of a kind
// ("actor", "user", "subject"): base64url of HMAC-SHA256(Index,
// kind ‖ 0x00 ‖ value), cut to 22 characters (132 bits). Equal inputs give
// equal references, so the index can look them up, but the value itself
// never reaches the header or Redis.
func (k *DerivedKeys) BlindIndex(kind, value string) string {
	m := hmac.New(sha256.New, k.Index)
	m.Write([]byte(kind))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))[:22]
}

// CheckpointSigner returns a deterministic Ed25519 checkpoint signer named
// name, derived from the master secret, and its verifier key
// ("<name>+<hash>+<key>") for the trusted-key list. It suits development
// and single-operator set-ups; in production give the checkpointer its own
// key (note.GenerateKey), so that whoever holds ESCAI_SECRET_KEY cannot
// also sign checkpoints, and let an independent witness co-sign.
func (k *DerivedKeys) CheckpointSigner(name string) (note.Signer, string, error) {
	seed, err := hkdf.Key(sha256.New, k.signer, nil, name, ed25519.SeedSize)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %v", ErrInvalidConfig, err)
	}
	return signerFromSeed(name, seed)
}

// signerFromSeed builds a note signer from an Ed25519 seed.
func signerFromSeed(name string, seed []byte) (note.Signer, string, error) {
	pub := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
	vkey, err := note.NewEd25519VerifierKey(name, pub)
	if err != nil {
		return nil, "", fmt.Errorf("%w: signer name %q: %v", ErrInvalidConfig, name, err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %v", ErrInvalidConfig, err)
	}
	skey := "PRIVATE+KEY+" + name + "+" + fmt.Sprintf("%08x", v.KeyHash()) + "+" +
		base64.StdEncoding.EncodeToString(append([]byte{1}, seed...))
	s, err := note.NewSigner(skey)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %v", ErrInvalidConfig, err)
	}
	return s, vkey, nil
}

// ParseSigner reads a checkpoint signing key in the note format that
// note.GenerateKey and `escai audit keygen` write
// ("PRIVATE+KEY+<name>+<hash>+<key>", Ed25519 only) and returns the signer
// and its verifier key, derived from the private key, for the trusted
// list. The key is checked whole: name, hash and algorithm.
func ParseSigner(skey string) (note.Signer, string, error) {
	skey = strings.TrimSpace(skey)
	if _, err := note.NewSigner(skey); err != nil {
		return nil, "", fmt.Errorf("%w: not a note signing key (PRIVATE+KEY+<name>+<hash>+<key>)", ErrInvalidConfig)
	}
	parts := strings.SplitN(skey, "+", 5) // the key itself is base64 and may hold "+"
	if len(parts) != 5 {
		return nil, "", fmt.Errorf("%w: not a note signing key", ErrInvalidConfig)
	}
	raw, err := base64.StdEncoding.DecodeString(parts[4])
	if err != nil || len(raw) != 1+ed25519.SeedSize || raw[0] != 1 {
		return nil, "", fmt.Errorf("%w: only Ed25519 signing keys are supported", ErrInvalidConfig)
	}
	s, vkey, err := signerFromSeed(parts[2], raw[1:])
	if err != nil {
		return nil, "", err
	}
	if fmt.Sprintf("%08x", s.KeyHash()) != parts[3] {
		return nil, "", fmt.Errorf("%w: signing key hash does not match its key", ErrInvalidConfig)
	}
	return s, vkey, nil
}

// TrustedKeys parses verifier keys ("<name>+<hash>+<key>", as printed by
// note.GenerateKey or CheckpointSigner) into the trusted set that
// checkpoints are checked against.
func TrustedKeys(vkeys ...string) (note.Verifiers, error) {
	vs := make([]note.Verifier, 0, len(vkeys))
	seen := map[string]bool{}
	for _, k := range vkeys {
		v, err := note.NewVerifier(k)
		if err != nil {
			return nil, fmt.Errorf("%w: verifier key %d: %v", ErrInvalidConfig, len(vs), err)
		}
		id := v.Name() + "+" + fmt.Sprintf("%08x", v.KeyHash())
		if seen[id] {
			continue // the same key twice would make note.Open refuse it as ambiguous
		}
		seen[id] = true
		vs = append(vs, v)
	}
	return note.VerifierList(vs...), nil
}

// RotationPolicy says when the KeyRing replaces a data key. AES-GCM with
// random nonces must not encrypt more than 2^32 messages under one key;
// the defaults stay far below.
type RotationPolicy struct {
	// MaxRecords rotates after this many records per key; default 1<<28.
	// Counts restart when a process loads its keys; MaxAge bounds the rest.
	MaxRecords uint64
	// MaxAge rotates a key this long after it was created; default 24h.
	MaxAge time.Duration
}

// KeyRingConfig configures a KeyRing.
type KeyRingConfig struct {
	// KEK wraps the data keys for storage; exactly 32 bytes
	// (DerivedKeys.KEK, or a separately configured key). Required.
	KEK []byte
	// Rotation says when Current replaces a key.
	Rotation RotationPolicy
	// TenantKeys gives each tenant its own data keys, so that Shred can
	// make one tenant's payloads unreadable (crypto-shredding).
	TenantKeys bool
	// Persist stores a new or shredded key (for example in the AUDIT_KEYS
	// KV bucket, keyed by ID) before it takes effect. Current never hands
	// out a key whose Persist failed. Optional: without it keys live only
	// in this process.
	Persist func(WrappedKey) error
	// Rand is the source of key material and nonces; crypto/rand when nil.
	Rand io.Reader
	// Now is the clock for creation times and MaxAge; time.Now when nil.
	Now func() time.Time
}

// Validate reports every problem of the configuration at once, each
// naming its field and wrapping ErrInvalidConfig.
func (c *KeyRingConfig) Validate() error {
	var errs []error
	if len(c.KEK) != KeySize {
		errs = append(errs, configErr("KEK", "has %d bytes, want %d", len(c.KEK), KeySize))
	}
	if c.Rotation.MaxAge < 0 {
		errs = append(errs, configErr("Rotation.MaxAge", "is negative"))
	}
	if c.Rotation.MaxRecords > 1<<32 {
		errs = append(errs, configErr("Rotation.MaxRecords", "exceeds 2^32, the AES-GCM limit for random nonces"))
	}
	return errors.Join(errs...)
}

// DataKey is one AES-256-GCM data key. The cipher is built once, when the
// key is created or loaded.
type DataKey struct {
	// ID is the key id written into every record it seals.
	ID string
	// Tenant is the tenant the key belongs to, "" for a shared key.
	Tenant string
	// Created is when the key was generated.
	Created time.Time

	raw  []byte
	aead cipher.AEAD
	uses atomic.Uint64
}

// Uses is how many records this process sealed with the key.
func (k *DataKey) Uses() uint64 { return k.uses.Load() }

func newDataKey(id, tenant string, created time.Time, raw []byte) (*DataKey, error) {
	block, err := aes.NewCipher(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: data key %q: %v", ErrMalformed, id, err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("%w: data key %q: %v", ErrMalformed, id, err)
	}
	return &DataKey{ID: id, Tenant: tenant, Created: created, raw: raw, aead: aead}, nil
}

// open decrypts with the record header as AAD, appending to dst.
func (k *DataKey) open(dst, nonce, ct, aad []byte) ([]byte, error) {
	pt, err := k.aead.Open(dst, nonce, ct, aad)
	if err != nil {
		return nil, fmt.Errorf("%w: key %q", ErrDecrypt, k.ID)
	}
	return pt, nil
}

// WrappedKey is the storable form of a data key: the key encrypted under
// the KEK (AES-256-GCM, AAD binding id, tenant and creation time), or a
// tombstone once the key was shredded. Marshal it with encoding/json;
// parse untrusted bytes with ParseWrappedKey.
type WrappedKey struct {
	// ID is the key id.
	ID string `json:"id"`
	// Tenant owns the key; "" for a shared key.
	Tenant string `json:"tenant,omitempty"`
	// Created is when the key was generated.
	Created time.Time `json:"created"`
	// Wrapped is nonce ‖ ciphertext of the key; empty for a tombstone.
	Wrapped []byte `json:"wrapped,omitempty"`
	// Shredded marks a tombstone: the key was destroyed on purpose.
	Shredded bool `json:"shredded,omitempty"`
}

// maxWrappedJSON bounds ParseWrappedKey's input.
const maxWrappedJSON = 4 << 10

// ParseWrappedKey decodes a WrappedKey strictly: one JSON object, known
// fields only, a valid key id, and a wrapped key of the right size or a
// tombstone.
func ParseWrappedKey(b []byte) (*WrappedKey, error) {
	if len(b) > maxWrappedJSON {
		return nil, fmt.Errorf("%w: wrapped key of %d bytes", ErrMalformed, len(b))
	}
	var w WrappedKey
	if err := strictJSON(b, &w); err != nil {
		return nil, err
	}
	if err := w.check(); err != nil {
		return nil, err
	}
	return &w, nil
}

// wrappedSize is nonce ‖ key ‖ tag.
const wrappedSize = NonceSize + KeySize + 16

func (w *WrappedKey) check() error {
	switch {
	case !validToken(w.ID) || len(w.ID) > maxKeyID:
		return fmt.Errorf("%w: wrapped key id %q", ErrMalformed, truncateID(w.ID))
	case w.Tenant != "" && !validToken(w.Tenant):
		return fmt.Errorf("%w: wrapped key %q: invalid tenant", ErrMalformed, w.ID)
	case w.Shredded && len(w.Wrapped) != 0:
		return fmt.Errorf("%w: wrapped key %q: tombstone with key material", ErrMalformed, w.ID)
	case !w.Shredded && len(w.Wrapped) != wrappedSize:
		return fmt.Errorf("%w: wrapped key %q: %d bytes, want %d", ErrMalformed, w.ID, len(w.Wrapped), wrappedSize)
	}
	return nil
}

func truncateID(s string) string {
	if len(s) > maxKeyID {
		s = s[:maxKeyID]
	}
	return strconv.QuoteToASCII(s)
}

func wrapAAD(id, tenant string, created time.Time) []byte {
	b := []byte("escai-audit-dek-v1")
	b = putString(b, id)
	b = putString(b, tenant)
	return putUint64(b, uint64(created.UnixNano()))
}

// KeyRing holds the data keys of the audit log: the current key of each
// scope (shared, or per tenant with TenantKeys), every older key for
// decryption, and tombstones of shredded keys. It is safe for concurrent
// use by all partitions of a writer.
type KeyRing struct {
	kek     cipher.AEAD
	cfg     KeyRingConfig
	mu      sync.RWMutex
	keys    map[string]*DataKey // by id, including old keys
	current map[string]*DataKey // by scope: "" or tenant
	dead    map[string]string   // shredded id → tenant
}

// NewKeyRing returns an empty ring; Load the stored keys into it, or let
// Current create the first one.
func NewKeyRing(cfg KeyRingConfig) (*KeyRing, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Rotation.MaxRecords == 0 {
		cfg.Rotation.MaxRecords = 1 << 28
	}
	if cfg.Rotation.MaxAge <= 0 {
		cfg.Rotation.MaxAge = 24 * time.Hour
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	block, err := aes.NewCipher(cfg.KEK)
	if err != nil {
		return nil, fmt.Errorf("%w: KEK: %v", ErrInvalidConfig, err)
	}
	kek, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("%w: KEK: %v", ErrInvalidConfig, err)
	}
	return &KeyRing{
		kek:     kek,
		cfg:     cfg,
		keys:    map[string]*DataKey{},
		current: map[string]*DataKey{},
		dead:    map[string]string{},
	}, nil
}

func (r *KeyRing) scope(tenant string) string {
	if r.cfg.TenantKeys {
		return tenant
	}
	return ""
}

// Load adds a stored key (or tombstone). The newest live key of a scope
// becomes its current key. A key that does not unwrap with the KEK fails
// with ErrDecrypt; loading the same key twice is harmless.
func (r *KeyRing) Load(w WrappedKey) error {
	if err := w.check(); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if w.Shredded {
		r.shredLocked(w.ID, w.Tenant)
		return nil
	}
	if _, ok := r.dead[w.ID]; ok {
		return nil // a tombstone wins over any copy of the key
	}
	if k, ok := r.keys[w.ID]; ok {
		if k.Tenant != w.Tenant || !k.Created.Equal(w.Created) {
			return fmt.Errorf("%w: key id %q loaded twice with different attributes", ErrMalformed, w.ID)
		}
		return nil
	}
	raw, err := r.kek.Open(nil, w.Wrapped[:NonceSize], w.Wrapped[NonceSize:], wrapAAD(w.ID, w.Tenant, w.Created))
	if err != nil {
		return fmt.Errorf("%w: data key %q does not unwrap with this KEK", ErrDecrypt, w.ID)
	}
	k, err := newDataKey(w.ID, w.Tenant, w.Created.UTC(), raw)
	if err != nil {
		return err
	}
	r.keys[k.ID] = k
	s := r.scope(k.Tenant)
	if cur := r.current[s]; cur == nil || k.Created.After(cur.Created) {
		r.current[s] = k
	}
	return nil
}

// Current returns the key to seal a record of tenant with (tenant matters
// only with TenantKeys; "" is the log's shared key), first rotating it
// when it is due or missing. A
// new key is persisted before it is returned; if that fails, Current fails
// with ErrKeyPersist.
func (r *KeyRing) Current(tenant string) (*DataKey, error) {
	s := r.scope(tenant)
	now := r.cfg.Now()
	r.mu.RLock()
	k := r.current[s]
	r.mu.RUnlock()
	if k != nil && !r.due(k, now) {
		return k, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if k = r.current[s]; k != nil && !r.due(k, now) {
		return k, nil
	}
	return r.rotateLocked(s, now)
}

func (r *KeyRing) due(k *DataKey, now time.Time) bool {
	return k.uses.Load() >= r.cfg.Rotation.MaxRecords || now.Sub(k.Created) >= r.cfg.Rotation.MaxAge
}

// Rotate replaces the current key of tenant's scope now.
func (r *KeyRing) Rotate(tenant string) (*DataKey, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rotateLocked(r.scope(tenant), r.cfg.Now())
}

func (r *KeyRing) rotateLocked(scope string, now time.Time) (*DataKey, error) {
	var buf [KeySize + 8]byte
	if _, err := io.ReadFull(r.cfg.Rand, buf[:]); err != nil {
		return nil, fmt.Errorf("%w: reading key material: %v", ErrKeyPersist, err)
	}
	id := "dk-" + hex.EncodeToString(buf[KeySize:])
	if _, ok := r.keys[id]; ok {
		return nil, fmt.Errorf("%w: key id collision %q", ErrKeyPersist, id)
	}
	k, err := newDataKey(id, scope, now.UTC().Truncate(time.Microsecond), slices.Clone(buf[:KeySize]))
	if err != nil {
		return nil, err
	}
	if r.cfg.Persist != nil {
		w, err := r.wrap(k)
		if err != nil {
			return nil, err
		}
		if err := r.cfg.Persist(w); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrKeyPersist, err)
		}
	}
	r.keys[id] = k
	r.current[scope] = k
	return k, nil
}

func (r *KeyRing) wrap(k *DataKey) (WrappedKey, error) {
	nonce := make([]byte, NonceSize, wrappedSize)
	if _, err := io.ReadFull(r.cfg.Rand, nonce); err != nil {
		return WrappedKey{}, fmt.Errorf("%w: reading nonce: %v", ErrKeyPersist, err)
	}
	return WrappedKey{
		ID: k.ID, Tenant: k.Tenant, Created: k.Created,
		Wrapped: r.kek.Seal(nonce, nonce, k.raw, wrapAAD(k.ID, k.Tenant, k.Created)),
	}, nil
}

// Get returns the key with the given id, for decryption. It fails with
// ErrKeyShredded for a shredded key and ErrUnknownKey for an id it never
// saw.
func (r *KeyRing) Get(id string) (*DataKey, error) {
	r.mu.RLock()
	k, ok := r.keys[id]
	_, dead := r.dead[id]
	r.mu.RUnlock()
	switch {
	case ok:
		return k, nil
	case dead:
		return nil, fmt.Errorf("%w: %q", ErrKeyShredded, id)
	}
	return nil, fmt.Errorf("%w: %q", ErrUnknownKey, id)
}

// lookup is Get for the Verifier's hot path: no allocation, no error text.
func (r *KeyRing) lookup(id []byte) (k *DataKey, shredded bool) {
	r.mu.RLock()
	k = r.keys[string(id)]
	if k == nil {
		_, shredded = r.dead[string(id)]
	}
	r.mu.RUnlock()
	return k, shredded
}

// Shred destroys every data key of tenant (crypto-shredding): the ring
// forgets the key material, keeps a tombstone per key, and passes each
// tombstone to Persist, which must overwrite the stored key and purge its
// history. Records sealed under those keys keep verifying (the hash covers
// ciphertext, never plaintext) but can never be decrypted again. The next
// record of the tenant gets a fresh key. It needs TenantKeys.
func (r *KeyRing) Shred(tenant string) ([]WrappedKey, error) {
	if !r.cfg.TenantKeys {
		return nil, fmt.Errorf("%w: shredding needs TenantKeys", ErrInvalidConfig)
	}
	if tenant == "" {
		return nil, fmt.Errorf("%w: the log's shared key belongs to no tenant and is never shredded", ErrInvalidConfig)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []WrappedKey
	for id, k := range r.keys {
		if k.Tenant != tenant {
			continue
		}
		w := WrappedKey{ID: id, Tenant: tenant, Created: k.Created, Shredded: true}
		if r.cfg.Persist != nil {
			if err := r.cfg.Persist(w); err != nil {
				return out, fmt.Errorf("%w: %w", ErrKeyPersist, err)
			}
		}
		r.shredLocked(id, tenant)
		out = append(out, w)
	}
	slices.SortFunc(out, func(a, b WrappedKey) int { return a.Created.Compare(b.Created) })
	return out, nil
}

// shredLocked forgets a key. Its bytes are overwritten; a sealing call that
// already holds the key finishes with its cipher, so records sealed in the
// same instant are as unreadable as the older ones.
func (r *KeyRing) shredLocked(id, tenant string) {
	if k, ok := r.keys[id]; ok {
		clear(k.raw)
		delete(r.keys, id)
		if r.current[r.scope(k.Tenant)] == k {
			delete(r.current, r.scope(k.Tenant))
		}
	}
	r.dead[id] = tenant
}

// Keys exports every key, wrapped under the KEK, and every tombstone,
// oldest first: what a verifier or another writer needs to Load.
func (r *KeyRing) Keys() ([]WrappedKey, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]WrappedKey, 0, len(r.keys)+len(r.dead))
	for _, k := range r.keys {
		w, err := r.wrap(k)
		if err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	for id, tenant := range r.dead {
		out = append(out, WrappedKey{ID: id, Tenant: tenant, Shredded: true})
	}
	slices.SortFunc(out, func(a, b WrappedKey) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return bytes.Compare([]byte(a.ID), []byte(b.ID))
	})
	return out, nil
}

// strictJSON decodes exactly one JSON value into v, refusing unknown
// fields and trailing data.
func strictJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: trailing data after the JSON value", ErrMalformed)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("%w: trailing data after the JSON value", ErrMalformed)
	}
	return nil
}
