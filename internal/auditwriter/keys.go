package auditwriter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/escai-framework/escai/pkg/security/audit"
)

// KeyBucket is the JetStream KV bucket of the audit data keys, each wrapped
// under the KEK derived from ESCAI_SECRET_KEY: without it a restarted
// writer could not decrypt what it wrote before.
const KeyBucket = "AUDIT_KEYS"

// OpenKeyRing loads every data key stored in KeyBucket into a ring whose
// new keys are stored there before they are used (Persist), creating the
// bucket when it does not exist.
func OpenKeyRing(ctx context.Context, js jetstream.JetStream, kek []byte, tenantKeys bool, replicas int) (*audit.KeyRing, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      KeyBucket,
		Description: "Audit data keys, wrapped under the KEK (never in clear).",
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    max(replicas, 1),
	})
	if err != nil {
		return nil, fmt.Errorf("auditwriter: key bucket: %w", err)
	}
	ring, err := audit.NewKeyRing(audit.KeyRingConfig{
		KEK:        kek,
		TenantKeys: tenantKeys,
		Persist: func(w audit.WrappedKey) error {
			b, err := json.Marshal(w)
			if err != nil {
				return err
			}
			pctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err = kv.Put(pctx, w.ID, b)
			return err
		},
	})
	if err != nil {
		return nil, err
	}
	if err := loadKeys(ctx, kv, ring); err != nil {
		return nil, err
	}
	return ring, nil
}

// LoadKeyRing reads every data key of KeyBucket into a ring for
// decryption only (verify, query): it never creates or stores a key. A
// missing bucket gives an empty ring.
func LoadKeyRing(ctx context.Context, js jetstream.JetStream, kek []byte) (*audit.KeyRing, error) {
	ring, err := audit.NewKeyRing(audit.KeyRingConfig{KEK: kek})
	if err != nil {
		return nil, err
	}
	kv, err := js.KeyValue(ctx, KeyBucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		return ring, nil
	}
	if err != nil {
		return nil, fmt.Errorf("auditwriter: key bucket: %w", err)
	}
	if err := loadKeys(ctx, kv, ring); err != nil {
		return nil, err
	}
	return ring, nil
}

func loadKeys(ctx context.Context, kv jetstream.KeyValue, ring *audit.KeyRing) error {
	lister, err := kv.ListKeys(ctx)
	if err != nil {
		return fmt.Errorf("auditwriter: list keys: %w", err)
	}
	for id := range lister.Keys() {
		e, err := kv.Get(ctx, id)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("auditwriter: key %s: %w", id, err)
		}
		w, err := audit.ParseWrappedKey(e.Value())
		if err != nil {
			return fmt.Errorf("auditwriter: key %s: %w", id, err)
		}
		if err := ring.Load(*w); err != nil {
			return fmt.Errorf("auditwriter: key %s: %w", id, err)
		}
	}
	return nil
}
