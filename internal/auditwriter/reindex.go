package auditwriter

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"

	"github.com/escai-framework/escai/pkg/events"
	"github.com/escai-framework/escai/pkg/security/audit"
)

// recordSubjects matches the records of every partition, escai.audit.<p>,
// and not the checkpoints on escai.audit.checkpoint.<p>.
const recordSubjects = "escai.audit.*"

// LastIndexedKey holds the highest ESCAI_AUDIT sequence the index has seen,
// so a writer can tell an index that lost its data (Redis restarted empty)
// from one that is current.
const LastIndexedKey = "escai:audit:last_indexed_seq"

// raiseLastIndexed sets LastIndexedKey to seq unless it is already higher;
// runners commit concurrently, so a plain SET could move it backwards.
var raiseLastIndexed = redis.NewScript(`
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > cur then redis.call('SET', KEYS[1], ARGV[1]) end
return 0`)

// Reindex rebuilds the Redis index from the audit stream, from stream
// sequence from (1 for everything) to the stream's last record at the
// start of the call. The index is idempotent (sets keyed by sequence), so
// reindexing what is already there changes nothing. progress, when set, is
// called after every batch with the records indexed so far.
func Reindex(ctx context.Context, js jetstream.JetStream, rdb *redis.Client, from uint64, progress func(n uint64)) (uint64, error) {
	stream, err := js.Stream(ctx, events.StreamAudit)
	if err != nil {
		return 0, fmt.Errorf("reindex: %w", err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("reindex: %w", err)
	}
	last := info.State.LastSeq
	if from == 0 {
		from = 1
	}
	if info.State.Msgs == 0 || from > last {
		return 0, nil
	}
	cons, err := js.OrderedConsumer(ctx, events.StreamAudit, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{recordSubjects},
		DeliverPolicy:  jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:    from,
		// Without a bound the library recreates the consumer forever when
		// the broker is gone, deaf to ctx.
		MaxResetAttempts: 5,
	})
	if err != nil {
		return 0, fmt.Errorf("reindex: %w", err)
	}
	defer func() {
		// Ephemeral consumers outlive their reader by minutes otherwise.
		if ci := cons.CachedInfo(); ci != nil && ci.Name != "" {
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			_ = js.DeleteConsumer(dctx, events.StreamAudit, ci.Name)
			cancel()
		}
	}()
	// Every message up to last has been looked at once the loop ends (the
	// checkpoints after the last record included): the next start must
	// not find the index behind them.
	done := func(n uint64) (uint64, error) {
		if err := raiseLastIndexed.Run(ctx, rdb, []string{LastIndexedKey}, last).Err(); err != nil {
			return n, fmt.Errorf("reindex: redis: %w", err)
		}
		return n, nil
	}
	cinfo, err := cons.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("reindex: %w", err)
	}
	pending := cinfo.NumPending // record messages from from on, when the consumer was made
	var n, seenAll uint64
	for {
		if seenAll >= pending {
			return done(n)
		}
		if err := ctx.Err(); err != nil {
			return n, fmt.Errorf("reindex: %w", err)
		}
		// Exactly what is left, so the last fetch does not wait for more.
		batch, err := cons.Fetch(int(min(1000, pending-seenAll)), jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			return n, fmt.Errorf("reindex: %w", err)
		}
		pipe := rdb.Pipeline()
		var idx indexBatch
		var seen, maxSeq uint64
		for m := range batch.Messages() {
			meta, err := m.Metadata()
			if err != nil {
				return n, err
			}
			seen++
			seenAll++
			maxSeq = max(maxSeq, meta.Sequence.Stream)
			if meta.Sequence.Stream > last {
				continue
			}
			n += uint64(idx.addStored(m.Data(), m.Headers(), meta.Sequence.Stream, float64(meta.Timestamp.UnixMilli())))
		}
		if err := batch.Error(); err != nil {
			return n, fmt.Errorf("reindex: %w", err)
		}
		if seen > 0 {
			idx.queue(ctx, pipe)
			raiseLastIndexed.Eval(ctx, pipe, []string{LastIndexedKey}, min(maxSeq, last))
			if _, err := pipe.Exec(ctx); err != nil {
				return n, fmt.Errorf("reindex: redis: %w", err)
			}
			if progress != nil {
				progress(n)
			}
		}
		if maxSeq >= last {
			return done(n)
		}
		if seen == 0 {
			// Nothing came although the consumer had more: do not claim
			// the rest indexed; the next check starts again from here.
			return n, fmt.Errorf("reindex: stalled after %d of %d record messages", seenAll, pending)
		}
	}
}

// indexBatch gathers the index entries of a batch of audit records per
// Redis key, so that a batch costs one ZADD per set and one HSET per
// tenant instead of four commands per record. The writer's commit and
// Reindex share it, so a rebuilt index equals the one written live.
type indexBatch struct {
	zsets  map[string][]redis.Z
	hashes map[string][]any
	order  []string // keys in first-use order: deterministic pipelines
}

// recordMeta is what the index keeps of one record.
type recordMeta struct {
	tenant, agent, eventID, eventType, actor string
	eventMs                                  int64 // 0: unknown
	ref                                      RecordRef
}

// metaOfHeader reads the headers Process sets: those of a record stored
// alone (raw, or sealed before bundles), or the header a sealed input's
// future resolves with (HeaderBundleSlot names its place in the bundle).
func metaOfHeader(h interface{ Get(string) string }, seq uint64) recordMeta {
	m := recordMeta{
		tenant: h.Get(HeaderTenant), agent: h.Get(HeaderAgent), eventID: h.Get(HeaderEventID),
		eventType: h.Get(HeaderEventType), actor: h.Get(HeaderActor),
		ref: RecordRef{Seq: seq, Slot: -1},
	}
	m.eventMs, _ = strconv.ParseInt(h.Get(HeaderEventTime), 10, 64)
	if slot, err := strconv.Atoi(h.Get(HeaderBundleSlot)); err == nil && slot >= 0 {
		m.ref.Slot = slot
	}
	return m
}

// header is m as the headers of a record stored alone, plus its slot.
func (m recordMeta) header() nats.Header {
	h := make(nats.Header, 8)
	h[HeaderTenant] = []string{m.tenant}
	h[HeaderAgent] = []string{m.agent}
	h[HeaderEventID] = []string{m.eventID}
	h[HeaderEventType] = []string{m.eventType}
	if m.eventMs > 0 {
		h[HeaderEventTime] = []string{strconv.FormatInt(m.eventMs, 10)}
	}
	if m.actor != "" {
		h[HeaderActor] = []string{m.actor}
	}
	if m.ref.Slot >= 0 {
		h[HeaderBundleSlot] = []string{strconv.Itoa(m.ref.Slot)}
	}
	return h
}

// metaOfEntry reads a bundled record: its cleartext header and the
// entry's event time.
func metaOfEntry(rec *audit.Record, e *audit.BundleEntry, seq uint64, slot int) recordMeta {
	return recordMeta{
		tenant: rec.Tenant, agent: rec.Agent, eventID: rec.EventID, eventType: rec.EventType, actor: rec.Actor,
		eventMs: e.EventTime, ref: RecordRef{Seq: seq, Slot: slot},
	}
}

// addStored queues every record of one stored message (a bundle's, or the
// message itself) and returns how many it queued.
func (b *indexBatch) addStored(data []byte, h interface{ Get(string) string }, seq uint64, storedMs float64) int {
	if !audit.IsBundle(data) {
		b.add(metaOfHeader(h, seq), storedMs)
		return 1
	}
	entries, err := audit.SplitBundle(data)
	if err != nil {
		return 0 // escai audit verify reports it; there is nothing to index
	}
	n := 0
	for i := range entries {
		rec, err := audit.DecodeRecord(entries[i].Record)
		if err != nil {
			continue
		}
		b.add(metaOfEntry(rec, &entries[i], seq, i), storedMs)
		n++
	}
	return n
}

// add queues one record: the tenant's, agent's, event type's and actor's
// time index (by event time, storedMs when the record lacks it) and the
// event-id lookup, all keyed by where the record is stored (RecordRef).
func (b *indexBatch) add(m recordMeta, storedMs float64) {
	if !events.ValidIdentifier(m.tenant) {
		return // not a record this writer produced; nothing to index
	}
	if b.zsets == nil {
		b.zsets, b.hashes = map[string][]redis.Z{}, map[string][]any{}
	}
	score := float64(m.eventMs)
	if m.eventMs <= 0 {
		score = storedMs
	}
	s := m.ref.String()
	z := redis.Z{Score: score, Member: s}
	b.zadd(TenantIndexKey(m.tenant), z)
	if events.ValidIdentifier(m.agent) {
		b.zadd(AgentIndexKey(m.tenant, m.agent), z)
	}
	if validEventType(m.eventType) {
		b.zadd(TypeIndexKey(m.tenant, m.eventType), z)
	}
	if validActorRef(m.actor) {
		b.zadd(ActorIndexKey(m.tenant, m.actor), z)
	}
	hk := EventIndexKey(m.tenant)
	if _, ok := b.hashes[hk]; !ok {
		b.order = append(b.order, hk)
	}
	b.hashes[hk] = append(b.hashes[hk], m.agent+"/"+m.eventID, s)
}

// RecordRef is where a record is stored, as the index names it: the
// ESCAI_AUDIT message (stream sequence) and the record's slot in it when
// the message is a bundle ("<seq>:<slot>"), or "<seq>" for a record
// stored alone (Slot -1).
type RecordRef struct {
	Seq  uint64
	Slot int
}

func (r RecordRef) String() string {
	if r.Slot < 0 {
		return strconv.FormatUint(r.Seq, 10)
	}
	return strconv.FormatUint(r.Seq, 10) + ":" + strconv.Itoa(r.Slot)
}

// ParseRecordRef reads an index member or event-index value.
func ParseRecordRef(s string) (RecordRef, error) {
	seqPart, slotPart, bundled := strings.Cut(s, ":")
	seq, err := strconv.ParseUint(seqPart, 10, 64)
	if err != nil || seq == 0 {
		return RecordRef{}, fmt.Errorf("record reference %q: not <seq> or <seq>:<slot>", s)
	}
	if !bundled {
		return RecordRef{Seq: seq, Slot: -1}, nil
	}
	slot, err := strconv.Atoi(slotPart)
	if err != nil || slot < 0 || slot >= audit.MaxBundleRecords || strconv.Itoa(slot) != slotPart {
		return RecordRef{}, fmt.Errorf("record reference %q: bad slot", s)
	}
	return RecordRef{Seq: seq, Slot: slot}, nil
}

func (b *indexBatch) zadd(key string, z redis.Z) {
	if _, ok := b.zsets[key]; !ok {
		b.order = append(b.order, key)
	}
	b.zsets[key] = append(b.zsets[key], z)
}

// queue adds the gathered commands to pipe.
func (b *indexBatch) queue(ctx context.Context, pipe redis.Pipeliner) {
	for _, k := range b.order {
		if zs, ok := b.zsets[k]; ok {
			pipe.ZAdd(ctx, k, zs...)
		} else {
			pipe.HSet(ctx, k, b.hashes[k]...)
		}
	}
}

// validEventType accepts the event types the envelope allows in a key:
// 1..255 bytes of [A-Za-z0-9._-].
func validEventType(t string) bool {
	if len(t) == 0 || len(t) > 255 {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// IndexEpochKey says whether the index holds the whole stream:
// "complete:<token>" once a rebuild from the stream's first record finished
// with the key unchanged since it began ("building:<token>", which expires
// unless its rebuild keeps renewing it). Redis that loses its data
// (restarted without persistence, FLUSHALL) loses this key with the rest,
// which is how a running writer notices (indexLoop): the last indexed
// sequence alone cannot tell, live commits raise it again. A partial loss
// (an append-only file missing its last second, a failover to a lagging
// replica) keeps the key: run escai audit reindex after one.
const IndexEpochKey = "escai:audit:index_epoch"

// buildLease is how long a rebuild's "building:" mark lives without being
// renewed (after every batch): a rebuilder that died frees it.
const buildLease = 2 * time.Minute

// renewBuild extends the rebuild's mark while it is still this rebuild's.
var renewBuild = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`)

// releaseBuild drops the rebuild's mark while it is still this rebuild's.
var releaseBuild = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`)

// completeEpoch marks the rebuild of token complete (and lasting), unless
// the key changed meanwhile (Redis lost its data).
var completeEpoch = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2])
  return 1
end
return 0`)

var (
	// ErrIndexLostDuringRebuild is returned by RebuildIndex when the
	// index lost its data again while it was being rebuilt: it must run
	// again.
	ErrIndexLostDuringRebuild = errors.New("audit index: Redis lost the index during the rebuild")
	// ErrRebuildNotNeeded is returned by RebuildIndex when the index is
	// complete or another rebuild holds it (a running writer's): nothing
	// was done.
	ErrRebuildNotNeeded = errors.New("audit index: complete, or being rebuilt by another process")
)

// IndexComplete reports whether the index holds the whole stream
// (IndexEpochKey).
func IndexComplete(ctx context.Context, rdb *redis.Client) (bool, error) {
	epoch, err := rdb.Get(ctx, IndexEpochKey).Result()
	if err != nil && err != redis.Nil {
		return false, fmt.Errorf("audit index: redis: %w", err)
	}
	return strings.HasPrefix(epoch, "complete:"), nil
}

// RebuildIndex indexes the whole stream (Reindex from its first record)
// and marks the index complete (IndexEpochKey), unless the index is
// already complete or another process is rebuilding it
// (ErrRebuildNotNeeded). Live commits may run meanwhile: both write the
// same entries.
func RebuildIndex(ctx context.Context, js jetstream.JetStream, rdb *redis.Client, progress func(n uint64)) (uint64, error) {
	var tok [12]byte
	if _, err := rand.Read(tok[:]); err != nil {
		return 0, err
	}
	mark := "building:" + hex.EncodeToString(tok[:])
	ok, err := rdb.SetNX(ctx, IndexEpochKey, mark, buildLease).Result()
	if err != nil {
		return 0, fmt.Errorf("reindex: redis: %w", err)
	}
	if !ok {
		return 0, ErrRebuildNotNeeded
	}
	renew := func(n uint64) {
		_ = renewBuild.Run(ctx, rdb, []string{IndexEpochKey}, mark, buildLease.Milliseconds()).Err()
		if progress != nil {
			progress(n)
		}
	}
	n, err := Reindex(ctx, js, rdb, 1, renew)
	if err != nil {
		// Free the mark for the next attempt rather than make it wait out
		// the lease.
		_ = releaseBuild.Run(context.WithoutCancel(ctx), rdb, []string{IndexEpochKey}, mark).Err()
		return n, err
	}
	done, err := completeEpoch.Run(ctx, rdb, []string{IndexEpochKey}, mark, "complete:"+strings.TrimPrefix(mark, "building:")).Int()
	if err != nil {
		return n, fmt.Errorf("reindex: redis: %w", err)
	}
	if done != 1 {
		return n, ErrIndexLostDuringRebuild
	}
	return n, nil
}

// IndexBehind reports from which stream sequence the index must be rebuilt
// (0 when it is current): the index lost its data, or never saw records
// the stream holds.
func IndexBehind(ctx context.Context, js jetstream.JetStream, rdb *redis.Client) (uint64, error) {
	stream, err := js.Stream(ctx, events.StreamAudit)
	if err != nil {
		return 0, err
	}
	info, err := stream.Info(ctx)
	if err != nil {
		return 0, err
	}
	if info.State.Msgs == 0 {
		return 0, nil
	}
	v, err := rdb.Get(ctx, LastIndexedKey).Uint64()
	if err == redis.Nil {
		return info.State.FirstSeq, nil
	}
	if err != nil {
		return 0, err
	}
	if v < info.State.LastSeq {
		return v + 1, nil
	}
	return 0, nil
}

// TrimIndex removes, from every tenant's, agent's and type's sorted set,
// the entries of events older than before: the index follows the stream's
// retention (ESCAI_AUDIT_RETENTION_DAYS is the stream's max age; records
// are never deleted one by one). The event-id hashes are not trimmed:
// their stale entries name sequences the stream no longer has, which
// queries skip. It returns how many entries it removed.
func TrimIndex(ctx context.Context, rdb *redis.Client, before time.Time) (int64, error) {
	upTo := "(" + strconv.FormatInt(before.UnixMilli(), 10)
	var removed int64
	iter := rdb.Scan(ctx, 0, "escai:audit:t:*", 500).Iterator()
	pipe := rdb.Pipeline()
	var cmds []*redis.IntCmd
	flush := func() error {
		if len(cmds) == 0 {
			return nil
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return err
		}
		for _, c := range cmds {
			removed += c.Val()
		}
		cmds = cmds[:0]
		return nil
	}
	for iter.Next(ctx) {
		cmds = append(cmds, pipe.ZRemRangeByScore(ctx, iter.Val(), "-inf", upTo))
		if len(cmds) == 500 {
			if err := flush(); err != nil {
				return removed, fmt.Errorf("trim index: %w", err)
			}
		}
	}
	if err := iter.Err(); err != nil {
		return removed, fmt.Errorf("trim index: %w", err)
	}
	if err := flush(); err != nil {
		return removed, fmt.Errorf("trim index: %w", err)
	}
	return removed, nil
}

// hdelBelow deletes the fields ARGV[2..] of hash KEYS[1] whose value is
// still a record reference (RecordRef) with a sequence below ARGV[1], and returns how many it deleted. Checking
// again inside Redis keeps an entry the writer re-set in the meantime (an
// event id sent again after its old record expired).
var hdelBelow = redis.NewScript(`
local n = 0
local floor = tonumber(ARGV[1])
for i = 2, #ARGV do
  local raw = redis.call('HGET', KEYS[1], ARGV[i])
  local v = raw and tonumber((string.gsub(raw, ':.*$', '')))
  if v and v < floor then
    n = n + redis.call('HDEL', KEYS[1], ARGV[i])
  end
end
return n
`)

// TrimEventIndex removes, from every tenant's event-id hash, the entries
// of records the stream no longer holds (sequence below firstSeq: gone by
// retention). The hashes have no time to trim by; the stream's first
// sequence is the retention's own mark.
func TrimEventIndex(ctx context.Context, rdb *redis.Client, firstSeq uint64) (int64, error) {
	var removed int64
	keys := rdb.Scan(ctx, 0, "escai:audit:ev:*", 100).Iterator()
	for keys.Next(ctx) {
		key := keys.Val()
		var stale []string
		fields := rdb.HScan(ctx, key, 0, "", 1000).Iterator()
		for fields.Next(ctx) {
			field := fields.Val()
			if !fields.Next(ctx) {
				break
			}
			if ref, err := ParseRecordRef(fields.Val()); err == nil && ref.Seq < firstSeq {
				stale = append(stale, field)
			}
		}
		if err := fields.Err(); err != nil {
			return removed, fmt.Errorf("trim event index: %w", err)
		}
		for len(stale) > 0 {
			n := min(len(stale), 1000)
			args := make([]any, 0, n+1)
			args = append(args, firstSeq)
			for _, f := range stale[:n] {
				args = append(args, f)
			}
			got, err := hdelBelow.Run(ctx, rdb, []string{key}, args...).Int64()
			if err != nil {
				return removed, fmt.Errorf("trim event index: %w", err)
			}
			removed += got
			stale = stale[n:]
		}
	}
	if err := keys.Err(); err != nil {
		return removed, fmt.Errorf("trim event index: %w", err)
	}
	return removed, nil
}
