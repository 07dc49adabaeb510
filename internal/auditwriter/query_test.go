package auditwriter_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/escai-framework/escai/internal/auditwriter"
	"github.com/escai-framework/escai/internal/redisx/redistest"
)

// TestQueryRecordDecides: the index is a cache; an entry that points at a
// record outside the query (a stale or forged member) is skipped, and the
// records that match are all returned.
func TestQueryRecordDecides(t *testing.T) {
	const n = 60 // event times 10:00:00 … 10:00:59, one per second
	ctx := context.Background()
	js := sealEnv(t)
	rdb := redistest.Start(t).Client(t)
	sealAll(t, js, rdb, n, auditwriter.Options{Partitions: 4, Batch: 16, Workers: 2}, nil)

	base := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	since, until := base.Add(10*time.Second), base.Add(20*time.Second)
	// Point an entry inside the window at the record of 10:00:45.
	late := rdb.ZRangeArgs(ctx, redis.ZRangeArgs{Key: auditwriter.TenantIndexKey("acme"),
		Start: base.Add(45 * time.Second).UnixMilli(), Stop: base.Add(46*time.Second).UnixMilli() - 1, ByScore: true}).Val()
	if len(late) != 1 {
		t.Fatalf("records at 10:00:45: %v", late)
	}
	if err := rdb.ZAdd(ctx, auditwriter.TenantIndexKey("acme"), redis.Z{Score: float64(base.Add(15 * time.Second).UnixMilli()), Member: late[0] + "x"}).Err(); err != nil {
		t.Fatal(err)
	}
	// A member the writer never wrote is skipped; so is a real one moved
	// into the window.
	if err := rdb.ZAdd(ctx, auditwriter.TenantIndexKey("acme"), redis.Z{Score: float64(base.Add(16 * time.Second).UnixMilli()), Member: late[0]}).Err(); err != nil {
		t.Fatal(err)
	}
	var got []string
	found, err := auditwriter.RunQuery(ctx, js, rdb, auditwriter.Query{Tenant: "acme", Since: since, Until: until, Limit: 100}, nil,
		func(r *auditwriter.QueryResult) error {
			if r.EventTime.Before(since) || !r.EventTime.Before(until) {
				t.Errorf("record %s at %s is outside the window", r.EventID, r.EventTime)
			}
			got = append(got, r.EventID)
			return nil
		})
	if err != nil || found != 10 {
		t.Fatalf("query: %d records %v, %v; want the 10 of 10:00:10 … 10:00:19", found, got, err)
	}
}
