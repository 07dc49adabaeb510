package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
)

func TestDeriveKeys(t *testing.T) {
	t.Parallel()
	k := mustDerive(t)
	all := [][]byte{k.Integrity, k.KEK, k.Index, k.signer}
	for i := range all {
		if len(all[i]) != KeySize {
			t.Fatalf("key %d has %d bytes", i, len(all[i]))
		}
		for j := range i {
			if bytes.Equal(all[i], all[j]) {
				t.Fatalf("keys %d and %d are equal", i, j)
			}
		}
	}
	other, _ := DeriveKeys(append(bytes.Clone(testMaster), 'x'))
	if bytes.Equal(other.KEK, k.KEK) {
		t.Fatal("different masters give the same KEK")
	}
	if _, err := DeriveKeys(make([]byte, 31)); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("short master: %v", err)
	}
	a, b := k.BlindIndex("actor", "alice"), k.BlindIndex("actor", "alice")
	if a != b || len(a) != 22 || a == k.BlindIndex("user", "alice") || a == k.BlindIndex("actor", "alicf") {
		t.Fatalf("blind index %q %q", a, b)
	}
	// The derived checkpoint signer is deterministic and verifiable.
	s1, v1, err := k.CheckpointSigner("audit.test")
	if err != nil {
		t.Fatal(err)
	}
	_, v2, _ := k.CheckpointSigner("audit.test")
	_, v3, _ := k.CheckpointSigner("audit.other")
	if v1 != v2 || v1 == v3 {
		t.Fatal("derived signer keys are not deterministic per name")
	}
	cp := Checkpoint{Origin: "audit.test/p/0", Root: emptyRoot, Time: epoch}
	msg, err := cp.Sign(s1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenCheckpoint(msg, trustedKeys(t, v1)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := k.CheckpointSigner("bad name"); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("name with space: %v", err)
	}
}

func TestTrustedKeys(t *testing.T) {
	t.Parallel()
	_, v := testSigner(t, "a", 1)
	if _, err := TrustedKeys(v, v); err != nil { // duplicates are harmless
		t.Fatal(err)
	}
	if _, err := TrustedKeys("not a key"); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("bad key: %v", err)
	}
}

func TestKeyRingRotation(t *testing.T) {
	t.Parallel()
	keys := mustDerive(t)
	now := epoch
	var persisted []string
	ring, err := NewKeyRing(KeyRingConfig{
		KEK:      keys.KEK,
		Rotation: RotationPolicy{MaxRecords: 3, MaxAge: time.Hour},
		Now:      func() time.Time { return now },
		Persist:  func(w WrappedKey) error { persisted = append(persisted, w.ID); return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	a, err := NewAppender(AppenderConfig{Origin: Origin(testLog, 1), Keys: ring})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	batch := make([]Input, 7) // rotation by count works inside one batch
	for i := range batch {
		batch[i] = input(i, "acme")
	}
	recs, err := a.Append(batch)
	if err != nil {
		t.Fatal(err)
	}
	for i := range recs {
		ids = append(ids, recs[i].KeyID)
	}
	// By count: 3 records per key.
	if ids[0] != ids[2] || ids[2] == ids[3] || ids[3] != ids[5] || ids[5] == ids[6] {
		t.Fatalf("key ids by record %v, want a new key every 3 records", ids)
	}
	// By age.
	k1, _ := ring.Current("acme")
	now = now.Add(time.Hour)
	k2, _ := ring.Current("acme")
	if k1 == k2 {
		t.Fatal("key not rotated after MaxAge")
	}
	if len(persisted) != 4 || persisted[3] != k2.ID {
		t.Fatalf("persisted %v", persisted)
	}
	// Old keys stay available for decryption.
	for _, id := range ids {
		if _, err := ring.Get(id); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ring.Get("dk-nope"); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("Get(unknown) = %v", err)
	}
	if _, err := ring.Shred("acme"); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("Shred without TenantKeys = %v", err)
	}
}

func TestKeyRingWrapAndLoad(t *testing.T) {
	t.Parallel()
	keys := mustDerive(t)
	var stored [][]byte
	ring, err := NewKeyRing(KeyRingConfig{KEK: keys.KEK, TenantKeys: true, Persist: func(w WrappedKey) error {
		b, err := json.Marshal(w)
		stored = append(stored, b)
		return err
	}})
	if err != nil {
		t.Fatal(err)
	}
	ka, _ := ring.Current("acme")
	kb, _ := ring.Current("beta")
	if ka == kb || ka.Tenant != "acme" || kb.Tenant != "beta" {
		t.Fatalf("tenant keys %+v %+v", ka, kb)
	}
	if _, err := ring.Shred("beta"); err != nil {
		t.Fatal(err)
	}
	// A second process loads what was persisted.
	ring2, _ := NewKeyRing(KeyRingConfig{KEK: keys.KEK, TenantKeys: true})
	for _, b := range stored {
		w, err := ParseWrappedKey(b)
		if err != nil {
			t.Fatal(err)
		}
		if err := ring2.Load(*w); err != nil {
			t.Fatal(err)
		}
		if err := ring2.Load(*w); err != nil { // idempotent
			t.Fatal(err)
		}
	}
	got, err := ring2.Get(ka.ID)
	if err != nil || !bytes.Equal(got.raw, ka.raw) || !got.Created.Equal(ka.Created) {
		t.Fatalf("loaded key %+v, %v", got, err)
	}
	if cur, _ := ring2.Current("acme"); cur.ID != ka.ID {
		t.Fatalf("current after load %q, want %q", cur.ID, ka.ID)
	}
	if _, err := ring2.Get(kb.ID); !errors.Is(err, ErrKeyShredded) {
		t.Fatalf("shredded key: %v", err)
	}
	// The wrong KEK, or a wrapped key moved to another id, does not unwrap.
	wrong, _ := NewKeyRing(KeyRingConfig{KEK: bytes.Repeat([]byte{1}, KeySize)})
	w, _ := ParseWrappedKey(stored[0])
	if err := wrong.Load(*w); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("wrong KEK: %v", err)
	}
	moved := *w
	moved.ID = "dk-0000000000000000"
	if err := ring2.Load(moved); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("moved key: %v", err)
	}
	retenanted := *w
	retenanted.Tenant = "beta"
	if err := ring2.Load(retenanted); !errors.Is(err, ErrMalformed) {
		t.Fatalf("same id, other tenant: %v", err)
	}
	// Export gives the same set back.
	exp, err := ring2.Keys()
	if err != nil || len(exp) != 2 {
		t.Fatalf("Keys() = %d, %v", len(exp), err)
	}
}

func TestParseWrappedKeyRejects(t *testing.T) {
	t.Parallel()
	good := `{"id":"dk-0011223344556677","tenant":"acme","created":"2026-01-02T03:04:05Z","wrapped":"` +
		strings.Repeat("A", 80) + `"}`
	if _, err := ParseWrappedKey([]byte(good)); err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]string{
		"not json":               `{`,
		"unknown field":          `{"id":"dk-1","created":"2026-01-02T03:04:05Z","shredded":true,"x":1}`,
		"trailing data":          `{"id":"dk-1","created":"2026-01-02T03:04:05Z","shredded":true} {}`,
		"bad id":                 `{"id":"dk 1","created":"2026-01-02T03:04:05Z","shredded":true}`,
		"short key":              `{"id":"dk-1","created":"2026-01-02T03:04:05Z","wrapped":"AAAA"}`,
		"tombstone with a key":   `{"id":"dk-1","created":"2026-01-02T03:04:05Z","shredded":true,"wrapped":"` + strings.Repeat("A", 80) + `"}`,
		"too large":              `{"id":"` + strings.Repeat("a", 5000) + `"}`,
		"tenant with whitespace": `{"id":"dk-1","tenant":"a b","created":"2026-01-02T03:04:05Z","shredded":true}`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseWrappedKey([]byte(s))
			wantErr(t, err, ErrMalformed)
		})
	}
}

func TestKeyRingConfigErrors(t *testing.T) {
	t.Parallel()
	if _, err := NewKeyRing(KeyRingConfig{KEK: make([]byte, 16)}); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("short KEK: %v", err)
	}
}

// note keys generated by x/mod work as checkpoint signers too.
func TestGeneratedNoteKey(t *testing.T) {
	t.Parallel()
	skey, vkey, err := note.GenerateKey(detRand(3), "audit.prod")
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	cp := Checkpoint{Origin: "audit.prod/p/0", Root: emptyRoot, Time: epoch}
	msg, err := cp.Sign(s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenCheckpoint(msg, trustedKeys(t, vkey)); err != nil {
		t.Fatal(err)
	}
}

// One KeyRing serves every partition of a writer at once.
func TestKeyRingSharedByPartitions(t *testing.T) {
	t.Parallel()
	keys := mustDerive(t)
	ring, err := NewKeyRing(KeyRingConfig{KEK: keys.KEK, TenantKeys: true, Rotation: RotationPolicy{MaxRecords: 5}})
	if err != nil {
		t.Fatal(err)
	}
	s, vkey := testSigner(t, testLog, 1)
	const parts = 4
	type result struct {
		recs  [][]byte
		entry CheckpointEntry
		err   error
	}
	results := make([]result, parts)
	var wg sync.WaitGroup
	for p := range parts {
		wg.Go(func() {
			a, err := NewAppender(AppenderConfig{Origin: Origin(testLog, uint32(p)), Partition: uint32(p), Keys: ring, IntegrityKey: keys.Integrity})
			if err != nil {
				results[p].err = err
				return
			}
			for i := range 20 {
				recs, err := a.Append([]Input{input(i, "acme"), input(i, "beta")})
				if err != nil {
					results[p].err = err
					return
				}
				for j := range recs {
					results[p].recs = append(results[p].recs, bytes.Clone(recs[j].Bytes()))
				}
			}
			results[p].entry, results[p].err = a.Checkpoint(epoch, s)
		})
	}
	wg.Wait()
	for p, r := range results {
		if r.err != nil {
			t.Fatal(r.err)
		}
		cfg := VerifierConfig{Origin: Origin(testLog, uint32(p)), Partition: uint32(p), Trusted: trustedKeys(t, vkey), IntegrityKey: keys.Integrity, Keys: ring}
		rep := verify(t, cfg, []CheckpointEntry{r.entry}, r.recs, seqsOf(len(r.recs)))
		if rep.Finding != nil || rep.Decrypted != 40 {
			t.Fatalf("partition %d: %v %+v", p, rep.Finding, rep)
		}
	}
}

func TestParseSigner(t *testing.T) {
	t.Parallel()
	// Keys until one whose base64 part holds a "+", the separator.
	var skey, vkey string
	for seed := uint64(3); ; seed++ {
		var err error
		if skey, vkey, err = note.GenerateKey(detRand(seed), "escai"); err != nil {
			t.Fatal(err)
		}
		if strings.Count(skey, "+") > 4 {
			break
		}
	}
	s, got, err := ParseSigner(skey + "\n")
	if err != nil {
		t.Fatal(err)
	}
	if got != vkey || s.Name() != "escai" {
		t.Fatalf("ParseSigner gave %q (%s), want %q", got, s.Name(), vkey)
	}
	// What it signs verifies with the derived verifier key.
	msg, err := note.Sign(&note.Note{Text: "escai/p/0\n1\nAAAA\n"}, s)
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := note.Open(msg, note.VerifierList(v)); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", vkey, "PRIVATE+KEY+escai+00000000+AAAA", strings.Replace(skey, "escai", "other", 1)} {
		if _, _, err := ParseSigner(bad); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("ParseSigner(%q) = %v, want ErrInvalidConfig", bad, err)
		}
	}
}
