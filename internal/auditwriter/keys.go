package auditwriter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

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
	return eachWrappedKey(ctx, kv, func(id string, w *audit.WrappedKey) error {
		if err := ring.Load(*w); err != nil {
			return fmt.Errorf("auditwriter: key %s: %w", id, err)
		}
		return nil
	})
}

// eachWrappedKey hands fn every entry of the key bucket, parsed.
func eachWrappedKey(ctx context.Context, kv jetstream.KeyValue, fn func(id string, w *audit.WrappedKey) error) error {
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
		if err := fn(id, w); err != nil {
			return err
		}
	}
	return nil
}

// FollowKeys watches KeyBucket and loads every change into ring: keys
// another writer created, and tombstones `escai audit shred` wrote, which
// make the ring forget the key at once. Stop the watcher when done.
func FollowKeys(ctx context.Context, js jetstream.JetStream, ring *audit.KeyRing, log *zap.Logger) (jetstream.KeyWatcher, error) {
	kv, err := js.KeyValue(ctx, KeyBucket)
	if err != nil {
		return nil, fmt.Errorf("auditwriter: key bucket: %w", err)
	}
	w, err := kv.WatchAll(context.WithoutCancel(ctx), jetstream.UpdatesOnly())
	if err != nil {
		return nil, fmt.Errorf("auditwriter: watch key bucket: %w", err)
	}
	go func() {
		for e := range w.Updates() {
			if e == nil || e.Operation() != jetstream.KeyValuePut {
				continue
			}
			wk, err := audit.ParseWrappedKey(e.Value())
			if err == nil {
				err = ring.Load(*wk)
			}
			if err != nil {
				log.Warn("audit key bucket: entry not loaded", zap.String("key", e.Key()), zap.Error(err))
				continue
			}
			if wk.Shredded {
				log.Info("audit data key shredded", zap.String("key_id", wk.ID), zap.String("tenant", wk.Tenant))
			}
		}
	}()
	return w, nil
}

// ShredTenant crypto-shreds tenant: every data key of its own in
// KeyBucket is replaced by a tombstone (the bucket keeps one revision per
// key). Records sealed under those keys
// keep verifying but can never be decrypted again; writers following the
// bucket (FollowKeys) forget the keys and give the tenant a new one. It
// returns the tombstones; none when the tenant has no keys of its own
// (records sealed under shared keys cannot be shredded alone).
func ShredTenant(ctx context.Context, js jetstream.JetStream, kek []byte, tenant string) ([]audit.WrappedKey, error) {
	kv, err := js.KeyValue(ctx, KeyBucket)
	if err != nil {
		return nil, fmt.Errorf("auditwriter: key bucket: %w", err)
	}
	ring, err := audit.NewKeyRing(audit.KeyRingConfig{
		KEK:        kek,
		TenantKeys: true,
		Persist: func(w audit.WrappedKey) error {
			// The bucket keeps one revision per key, so the tombstone
			// replaces the wrapped key.
			b, err := json.Marshal(w)
			if err != nil {
				return err
			}
			_, err = kv.Put(ctx, w.ID, b)
			return err
		},
	})
	if err != nil {
		return nil, err
	}
	if err := loadKeys(ctx, kv, ring); err != nil {
		return nil, err
	}
	return ring.Shred(tenant)
}

// TenantKeyIDs lists the live data keys of tenant's own in KeyBucket.
func TenantKeyIDs(ctx context.Context, js jetstream.JetStream, tenant string) ([]string, error) {
	kv, err := js.KeyValue(ctx, KeyBucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("auditwriter: key bucket: %w", err)
	}
	var ids []string
	err = eachWrappedKey(ctx, kv, func(_ string, w *audit.WrappedKey) error {
		if w.Tenant == tenant && !w.Shredded {
			ids = append(ids, w.ID)
		}
		return nil
	})
	return ids, err
}
