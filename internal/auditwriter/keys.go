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
	lister, err := kv.ListKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("auditwriter: list keys: %w", err)
	}
	for id := range lister.Keys() {
		e, err := kv.Get(ctx, id)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("auditwriter: key %s: %w", id, err)
		}
		w, err := audit.ParseWrappedKey(e.Value())
		if err != nil {
			return nil, fmt.Errorf("auditwriter: key %s: %w", id, err)
		}
		if err := ring.Load(*w); err != nil {
			return nil, fmt.Errorf("auditwriter: key %s: %w", id, err)
		}
	}
	return ring, nil
}
