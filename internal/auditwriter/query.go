package auditwriter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"

	"github.com/escai-framework/escai/pkg/events"
	"github.com/escai-framework/escai/pkg/security/audit"
)

// MaxQueryLimit bounds the records one query returns.
const MaxQueryLimit = 10000

// Query selects audit records through the Redis index: one tenant, and
// optionally one agent, one event type and one actor, in an event-time
// window.
type Query struct {
	Tenant string
	Agent  string // optional
	Type   string // optional, e.g. escai.tool.call
	// ActorRef is an actor's blind index (audit.DerivedKeys.BlindIndex
	// of kind "actor"; see ActorRef), optional.
	ActorRef string
	Since    time.Time
	Until    time.Time // exclusive; zero: no bound
	Limit    int       // 1..MaxQueryLimit
}

// Validate checks every field: identifiers, a known window, a bounded
// limit.
func (q *Query) Validate() error {
	var errs []error
	if !events.ValidIdentifier(q.Tenant) {
		errs = append(errs, fmt.Errorf("tenant %q is not an identifier ([a-z0-9][a-z0-9_-]{0,63})", q.Tenant))
	}
	if q.Agent != "" && !events.ValidIdentifier(q.Agent) {
		errs = append(errs, fmt.Errorf("agent %q is not an identifier", q.Agent))
	}
	if q.ActorRef != "" && !validActorRef(q.ActorRef) {
		errs = append(errs, fmt.Errorf("actor reference %q is not a blind index (22 base64url characters)", q.ActorRef))
	}
	if q.Type != "" && !validEventType(q.Type) {
		errs = append(errs, fmt.Errorf("type %q is not an event type ([A-Za-z0-9._-], up to 255)", q.Type))
	}
	if !q.Until.IsZero() && !q.Since.IsZero() && !q.Until.After(q.Since) {
		errs = append(errs, fmt.Errorf("until %s is not after since %s", q.Until.Format(time.RFC3339), q.Since.Format(time.RFC3339)))
	}
	if q.Limit < 1 || q.Limit > MaxQueryLimit {
		errs = append(errs, fmt.Errorf("limit %d outside 1..%d", q.Limit, MaxQueryLimit))
	}
	return errors.Join(errs...)
}

// QueryResult is one record a query returns (a JSON line of escai audit
// query).
type QueryResult struct {
	// StreamSeq is the ESCAI_AUDIT message that holds the record, Slot
	// its place in that message when it is a bundle.
	StreamSeq uint64  `json:"stream_seq"`
	Slot      *int    `json:"slot,omitempty"`
	Partition int     `json:"partition"`
	PSeq      *uint64 `json:"pseq,omitempty"` // sealed records
	EventID   string  `json:"event_id"`
	Tenant    string  `json:"tenant"`
	Agent     string  `json:"agent"`
	Type      string  `json:"type,omitempty"`
	// ActorRef is the blind index of who caused the event (sealed records
	// that name one).
	ActorRef  string    `json:"actor_ref,omitempty"`
	EventTime time.Time `json:"event_time"`
	Sealed    bool      `json:"sealed"`
	KeyID     string    `json:"key_id,omitempty"`
	// Event is the clean event as the writer read it, when it is readable:
	// in clear, or decrypted with the data keys given.
	Event json.RawMessage `json:"event,omitempty"`
	// Unreadable says why Event is absent (no key given, key shredded, …).
	Unreadable string `json:"unreadable,omitempty"`
}

// RunQuery reads the index set that fits q best, oldest first, fetches each
// record from ESCAI_AUDIT, checks it against q (the index is a cache: the
// record decides) and hands it to fn, up to q.Limit records. ring, when
// set, decrypts bodies. Records the stream no longer holds (retention)
// are skipped. It returns how many records fn got.
func RunQuery(ctx context.Context, js jetstream.JetStream, rdb *redis.Client, q Query, ring *audit.KeyRing, fn func(*QueryResult) error) (int, error) {
	if err := q.Validate(); err != nil {
		return 0, err
	}
	key := TenantIndexKey(q.Tenant)
	switch {
	case q.ActorRef != "":
		key = ActorIndexKey(q.Tenant, q.ActorRef)
	case q.Agent != "":
		key = AgentIndexKey(q.Tenant, q.Agent)
	case q.Type != "":
		key = TypeIndexKey(q.Tenant, q.Type)
	}
	lo, hi := "-inf", "+inf"
	if !q.Since.IsZero() {
		lo = strconv.FormatInt(q.Since.UnixMilli(), 10)
	}
	if !q.Until.IsZero() {
		hi = "(" + strconv.FormatInt(q.Until.UnixMilli(), 10)
	}
	stream, err := js.Stream(ctx, events.StreamAudit)
	if err != nil {
		return 0, fmt.Errorf("audit query: %w", err)
	}
	const page = 500
	n := 0
	// A bundle holds many records the query returns: each message is
	// fetched once per page of members, not once per record.
	fetched := map[uint64]*jetstream.RawStreamMsg{}
	for offset := int64(0); n < q.Limit; offset += page {
		clear(fetched)
		members, err := rdb.ZRangeArgs(ctx, redis.ZRangeArgs{Key: key, Start: lo, Stop: hi, ByScore: true, Offset: offset, Count: page}).Result()
		if err != nil {
			return n, fmt.Errorf("audit query: redis: %w", err)
		}
		for _, m := range members {
			ref, err := ParseRecordRef(m)
			if err != nil {
				continue // not a member this writer wrote
			}
			raw, ok := fetched[ref.Seq]
			if !ok {
				raw, err = stream.GetMsg(ctx, ref.Seq)
				if err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
					return n, fmt.Errorf("audit query: record %s: %w", ref, err)
				}
				fetched[ref.Seq] = raw // nil: gone by retention
			}
			if raw == nil {
				continue
			}
			r := resultOf(raw, ref.Slot, ring)
			if r == nil || !q.matches(r) {
				continue
			}
			if err := fn(r); err != nil {
				return n, err
			}
			if n++; n == q.Limit {
				return n, nil
			}
		}
		if len(members) < page {
			return n, nil
		}
	}
	return n, nil
}

// matches checks a record read through the index against q: the index is
// a cache (stale after a rewrite of the stream, or before a reindex), the
// record decides. A record without a known event time passes the window.
func (q *Query) matches(r *QueryResult) bool {
	if r.Tenant != q.Tenant || (q.Agent != "" && r.Agent != q.Agent) || (q.Type != "" && r.Type != q.Type) ||
		(q.ActorRef != "" && r.ActorRef != q.ActorRef) {
		return false
	}
	if r.EventTime.IsZero() {
		return true
	}
	ms := r.EventTime.UnixMilli()
	return (q.Since.IsZero() || ms >= q.Since.UnixMilli()) && (q.Until.IsZero() || ms < q.Until.UnixMilli())
}

// resultOf reads one stored record, the one at slot of a bundle (slot ≥
// 0) or the message itself (slot -1): a sealed one from its cleartext
// header (and its body when readable), a raw one (no secret key) from the
// event itself. Nil when the message does not hold that record.
func resultOf(m *jetstream.RawStreamMsg, slot int, ring *audit.KeyRing) *QueryResult {
	r := &QueryResult{StreamSeq: m.Sequence}
	if slot >= 0 {
		r.Slot = &slot
	}
	r.Partition, _ = strconv.Atoi(strings.TrimPrefix(m.Subject, "escai.audit."))
	data := m.Data
	if audit.IsBundle(data) != (slot >= 0) {
		return nil
	}
	if slot >= 0 {
		entries, err := audit.SplitBundle(data)
		if err != nil || slot >= len(entries) {
			return nil
		}
		data = entries[slot].Record
		if ms := entries[slot].EventTime; ms > 0 {
			r.EventTime = time.UnixMilli(ms).UTC()
		}
	} else if ms, err := strconv.ParseInt(m.Header.Get(HeaderEventTime), 10, 64); err == nil {
		r.EventTime = time.UnixMilli(ms).UTC()
	}
	rec, err := audit.DecodeRecord(data)
	if err != nil {
		// A raw record: the clean event as stored.
		if slot >= 0 {
			return nil
		}
		ev, err := events.Decode(data, events.DefaultLimits())
		if err != nil {
			return nil
		}
		r.EventID, r.Tenant, r.Agent, r.Type = ev.ID, ev.Tenant, ev.AgentID, ev.Type
		r.Event = data
		return r
	}
	pseq := rec.PSeq
	r.Sealed, r.PSeq, r.Partition = true, &pseq, int(rec.Partition)
	r.EventID, r.Tenant, r.Agent, r.Type, r.KeyID, r.ActorRef = rec.EventID, rec.Tenant, rec.Agent, rec.EventType, rec.KeyID, rec.Actor
	if rec.Cipher != audit.CipherNone && ring == nil {
		r.Unreadable = "encrypted; give the data keys (--decrypt) to read it"
		return r
	}
	body, err := rec.Open(ring)
	switch {
	case errors.Is(err, audit.ErrKeyShredded):
		r.Unreadable = "the tenant's data key was shredded"
	case err != nil:
		r.Unreadable = err.Error()
	case json.Valid(body.Payload):
		r.Event = body.Payload
	default:
		r.Unreadable = "body is not JSON"
	}
	return r
}
