package auditwriter

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// LeaseBucket is the JetStream KV bucket of writer leases: one key per audit
// log (its name, ':' spelled '='), value the writer id of the holder. The
// bucket's max age is the lease TTL, so a lease its holder stops renewing
// (a crash) expires by itself.
const LeaseBucket = "AUDIT_LEASES"

// DefaultLeaseTTL is how long a writer lease outlives its last renewal.
const DefaultLeaseTTL = 10 * time.Second

// ErrLeaseHeld is returned (wrapped, with the holder) when another live
// writer holds the log's lease: the input is retried later.
var ErrLeaseHeld = errors.New("auditwriter: audit log lease held by another writer")

// leases takes and renews the writer lease of one audit log. The lease
// makes one writer the active one and the others standbys; the fence that
// keeps every chain linear even when two writers believe they own the log
// is the expected last sequence each record is published with.
type leases struct {
	js       jetstream.JetStream
	owner    string
	ttl      time.Duration
	replicas int

	once sync.Once
	kv   jetstream.KeyValue
	err  error
}

// heldLease is the log's lease while this writer holds it. Its
// renewer runs until release or until the lease is lost.
type heldLease struct {
	key  string
	gen  uint64 // revision when taken: recorded in every record (lease_rev)
	rev  atomic.Uint64
	lost atomic.Bool
	stop chan struct{}
	done chan struct{}
}

func (l *leases) bucket(ctx context.Context) (jetstream.KeyValue, error) {
	l.once.Do(func() {
		l.kv, l.err = l.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket:      LeaseBucket,
			Description: "Audit writer leases: the active writer of each audit log.",
			History:     1,
			TTL:         l.ttl,
			Storage:     jetstream.FileStorage,
			Replicas:    max(l.replicas, 1),
		})
	})
	if l.err != nil {
		return nil, fmt.Errorf("auditwriter: lease bucket: %w", l.err)
	}
	return l.kv, nil
}

// leaseKey is the key of a log's lease.
func leaseKey(log string) string { return strings.ReplaceAll(log, ":", "=") }

// acquire takes the lease of key, waiting up to wait for a holder that
// stops renewing (wait < 0: until ctx ends). A lease this writer id already
// holds (a restart under the same id) is taken over at once.
func (l *leases) acquire(ctx context.Context, key string, wait time.Duration) (*heldLease, error) {
	kv, err := l.bucket(ctx)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(wait)
	for {
		rev, err := kv.Create(ctx, key, []byte(l.owner))
		if err == nil {
			return l.hold(kv, key, rev), nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) {
			return nil, fmt.Errorf("auditwriter: lease %s: %w", key, err)
		}
		e, err := kv.Get(ctx, key)
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound):
			continue // expired or released meanwhile
		case err != nil:
			return nil, fmt.Errorf("auditwriter: lease %s: %w", key, err)
		case string(e.Value()) == l.owner:
			rev, err := kv.Update(ctx, key, []byte(l.owner), e.Revision())
			if err == nil {
				return l.hold(kv, key, rev), nil
			}
			continue
		}
		if wait >= 0 && time.Now().After(deadline) {
			return nil, fmt.Errorf("%w: %s, holder %q", ErrLeaseHeld, key, e.Value())
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(min(l.ttl/4, 500*time.Millisecond)):
		}
	}
}

func (l *leases) hold(kv jetstream.KeyValue, key string, rev uint64) *heldLease {
	h := &heldLease{key: key, gen: rev, stop: make(chan struct{}), done: make(chan struct{})}
	h.rev.Store(rev)
	go l.renew(kv, h)
	return h
}

// renew updates the lease every ttl/3 against its last revision. A
// revision conflict means another writer took it over; failing to renew
// for a whole TTL means it may have expired: either way the lease is lost
// and every partition must be re-read before this writer seals again.
func (l *leases) renew(kv jetstream.KeyValue, h *heldLease) {
	defer close(h.done)
	t := time.NewTicker(l.ttl / 3)
	defer t.Stop()
	renewed := time.Now()
	for {
		select {
		case <-h.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), l.ttl/3)
		rev, err := kv.Update(ctx, h.key, []byte(l.owner), h.rev.Load())
		cancel()
		switch {
		case err == nil:
			h.rev.Store(rev)
			renewed = time.Now()
		case errors.Is(err, jetstream.ErrKeyExists), time.Since(renewed) >= l.ttl:
			h.lost.Store(true)
			return
		}
	}
}

// release stops renewing and deletes the lease if it is still ours, so a
// standby writer takes over at once instead of after the TTL.
func (l *leases) release(h *heldLease) {
	close(h.stop)
	<-h.done
	if h.lost.Load() || l.kv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = l.kv.Delete(ctx, h.key, jetstream.LastRevision(h.rev.Load()))
}
