// Package bench is the end-to-end load generator behind `escai bench`: it
// publishes envelopes of a given size to escai.in at a target or maximal
// rate, follows them into ESCAI_AUDIT, waits until the Redis index holds
// every one, and reports events/s and latency percentiles (HDR histogram).
package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"

	"github.com/escai-framework/escai/internal/auditwriter"
	"github.com/escai-framework/escai/pkg/events"
	"github.com/escai-framework/escai/pkg/security/audit"
)

// Options shape one run.
type Options struct {
	// Events to publish; 0 publishes for Duration.
	Events int
	// Rate in events per second; 0 publishes as fast as the broker acks.
	Rate float64
	// Duration of publishing when Events is 0. Default 10s.
	Duration time.Duration
	// Size of each envelope in bytes (approximate, ±16). Default 1024.
	Size int
	// Tenant the events belong to. Default "bench".
	Tenant string
	// Agents spread the events over this many agents (audit partitions).
	// Default 16.
	Agents int
	// MaxInFlight bounds unacknowledged async publishes. Default 4096.
	MaxInFlight int
	// Timeout is how long to wait for the last event after publishing.
	// Default 2m.
	Timeout time.Duration
}

func (o *Options) defaults() {
	if o.Duration == 0 {
		o.Duration = 10 * time.Second
	}
	if o.Size == 0 {
		o.Size = 1024
	}
	if o.Tenant == "" {
		o.Tenant = "bench"
	}
	if o.Agents == 0 {
		o.Agents = 16
	}
	if o.MaxInFlight == 0 {
		o.MaxInFlight = 4096
	}
	if o.Timeout == 0 {
		o.Timeout = 2 * time.Minute
	}
}

// Latency is a percentile summary in milliseconds.
type Latency struct {
	P50  float64 `json:"p50_ms"`
	P90  float64 `json:"p90_ms"`
	P99  float64 `json:"p99_ms"`
	P999 float64 `json:"p999_ms"`
	Max  float64 `json:"max_ms"`
	Mean float64 `json:"mean_ms"`
}

// Result is what a run measured.
type Result struct {
	Events    int     `json:"events"`
	SizeBytes int     `json:"size_bytes"`
	Published int     `json:"published"`
	Audited   int     `json:"audited"`
	Indexed   int64   `json:"indexed"`
	TargetEPS float64 `json:"target_events_per_second,omitempty"`
	// PublishSeconds is how long publishing took; ElapsedSeconds runs from
	// the first publish until the Redis index held every event.
	PublishSeconds float64 `json:"publish_seconds"`
	ElapsedSeconds float64 `json:"elapsed_seconds"`
	// EventsPerSecond is Events / ElapsedSeconds: end-to-end, indexed.
	EventsPerSecond float64 `json:"events_per_second"`
	PublishPerSec   float64 `json:"publish_per_second"`
	// Latency is per event, from publish to its sealed record being stored
	// in ESCAI_AUDIT (the audit writer indexes it before acking; the index
	// lag is inside ElapsedSeconds).
	Latency Latency `json:"latency_publish_to_audit"`
}

// Progress is reported about twice a second.
type Progress struct {
	Published, Audited int
	Indexed            int64
	Elapsed            time.Duration
}

type run struct {
	o       Options
	runID   string
	sent    []atomic.Int64 // publish time per event, unix nanos
	audited atomic.Int64
	mu      sync.Mutex
	hist    *hdrhistogram.Histogram
}

// Run publishes on nc and reads the index from rdb. The pipeline must be
// running (embedded or separate services).
func Run(ctx context.Context, nc *nats.Conn, rdb *redis.Client, o Options, progress func(Progress)) (*Result, error) {
	o.defaults()
	if !events.ValidIdentifier(o.Tenant) {
		return nil, fmt.Errorf("bench: tenant %q is not an identifier", o.Tenant)
	}
	if o.Events == 0 && o.Rate > 0 {
		o.Events = int(o.Rate * o.Duration.Seconds())
	}
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(o.MaxInFlight))
	if err != nil {
		return nil, err
	}
	capacity := o.Events
	if capacity == 0 {
		capacity = 4_000_000 // upper bound for a timed run at maximal rate
	}
	r := &run{
		o:     o,
		runID: strconv.FormatInt(time.Now().UnixNano(), 36),
		sent:  make([]atomic.Int64, capacity),
		hist:  hdrhistogram.New(1, int64(10*time.Minute/time.Microsecond), 3),
	}

	// Follow the audit stream from its end as it is before the first
	// publish. An ordered consumer exists at the broker only from its first
	// Fetch, which runs in follow's goroutine: "deliver new" would start
	// wherever the stream is by then and miss the first records.
	st, err := js.Stream(ctx, events.StreamAudit)
	if err != nil {
		return nil, fmt.Errorf("bench: follow %s: %w", events.StreamAudit, err)
	}
	cons, err := js.OrderedConsumer(ctx, events.StreamAudit, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{"escai.audit.>"},
		DeliverPolicy:  jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:    st.CachedInfo().State.LastSeq + 1,
	})
	if err != nil {
		return nil, fmt.Errorf("bench: follow %s: %w", events.StreamAudit, err)
	}
	followCtx, stopFollow := context.WithCancel(ctx)
	followed := make(chan struct{})
	go func() { defer close(followed); r.follow(followCtx, cons) }()
	defer func() { stopFollow(); <-followed }()

	start := time.Now()
	sinceMs := start.UnixMilli()
	var published atomic.Int64
	stopProgress := make(chan struct{})
	progressDone := make(chan struct{})
	go func() {
		defer close(progressDone)
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stopProgress:
				return
			case <-t.C:
				if progress != nil {
					progress(Progress{Published: int(published.Load()), Audited: int(r.audited.Load()),
						Indexed: r.indexed(ctx, rdb, sinceMs), Elapsed: time.Since(start)})
				}
			}
		}
	}()
	defer func() { close(stopProgress); <-progressDone }()

	n, err := r.publish(ctx, js, start, &published)
	if err != nil {
		return nil, err
	}
	publishSecs := time.Since(start).Seconds()

	// Wait for every event to be audited and indexed.
	deadline := time.Now().Add(o.Timeout)
	var indexed int64
	for {
		indexed = r.indexed(ctx, rdb, sinceMs)
		if int(r.audited.Load()) >= n && indexed >= int64(n) {
			break
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("bench: after %s only %d of %d events audited and %d indexed", o.Timeout, r.audited.Load(), n, indexed)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	elapsed := time.Since(start).Seconds()
	r.mu.Lock()
	defer r.mu.Unlock()
	ms := func(us int64) float64 { return float64(us) / 1000 }
	return &Result{
		Events: n, SizeBytes: o.Size, Published: n, Audited: int(r.audited.Load()), Indexed: indexed,
		TargetEPS:       o.Rate,
		PublishSeconds:  publishSecs,
		ElapsedSeconds:  elapsed,
		EventsPerSecond: float64(n) / elapsed,
		PublishPerSec:   float64(n) / publishSecs,
		Latency: Latency{
			P50: ms(r.hist.ValueAtQuantile(50)), P90: ms(r.hist.ValueAtQuantile(90)),
			P99: ms(r.hist.ValueAtQuantile(99)), P999: ms(r.hist.ValueAtQuantile(99.9)),
			Max: ms(r.hist.Max()), Mean: r.hist.Mean() / 1000,
		},
	}, nil
}

func (r *run) publish(ctx context.Context, js jetstream.JetStream, start time.Time, published *atomic.Int64) (int, error) {
	o := r.o
	gen, err := newGenerator(r.runID, o.Tenant, o.Agents, o.Size)
	if err != nil {
		return 0, err
	}
	for i := 0; ; i++ {
		if i == len(r.sent) || (o.Events > 0 && i == o.Events) || (o.Events == 0 && time.Since(start) >= o.Duration) {
			return i, r.complete(js)
		}
		if o.Rate > 0 {
			due := start.Add(time.Duration(float64(i) / o.Rate * float64(time.Second)))
			if d := time.Until(due); d > time.Millisecond {
				select {
				case <-ctx.Done():
					return i, ctx.Err()
				case <-time.After(d):
				}
			}
		}
		now := time.Now()
		subject, id, body := gen.next(i, now)
		r.sent[i].Store(now.UnixNano())
		if _, err := js.PublishAsync(subject, body, jetstream.WithMsgID(id), jetstream.WithStallWait(r.o.Timeout)); err != nil {
			return i, fmt.Errorf("bench: publish: %w", err)
		}
		published.Add(1)
	}
}

// generator builds the bench envelopes from a template checked once with
// the real encoder, so the load generator spends its CPU on publishing, not
// on re-encoding the same event: only id, agent and time change.
type generator struct {
	runID, tenant string
	agents        int
	subjects      []string
	head, tail    []byte // around: <id>","source":"urn:escai:bench:<agent>","type":…,"time":"<time>
	buf           []byte
}

func newGenerator(runID, tenant string, agents, size int) (*generator, error) {
	g := &generator{runID: runID, tenant: tenant, agents: agents}
	for a := range agents {
		g.subjects = append(g.subjects, "escai.in."+tenant+".agent-"+strconv.Itoa(a)+".tool.call")
	}
	probe := events.Envelope{
		SpecVersion: events.SpecVersion, ID: "x", Source: "urn:escai:bench:agent-0",
		Type: "escai.tool.call", Time: time.Unix(0, 0).UTC(), DataContentType: "application/json",
		Tenant: tenant, AgentID: "agent-0",
		Data: json.RawMessage(`{"gen_ai.tool.name":"sql","arguments":{"query":"SELECT 1"},"pad":""}`),
	}
	b, err := probe.MarshalJSON()
	if err != nil {
		return nil, err
	}
	pad := strings.Repeat("x", max(size-len(b)-40, 0))
	probe.Data = json.RawMessage(`{"gen_ai.tool.name":"sql","arguments":{"query":"SELECT 1"},"pad":"` + pad + `"}`)
	g.head = []byte(`{"specversion":"1.0","id":"`)
	g.tail = []byte(`","type":"escai.tool.call","datacontenttype":"application/json","tenant":"` + tenant + `","data":` + string(probe.Data) + `}`)
	// The template must be what the pipeline accepts: decode one.
	_, _, body := g.next(0, time.Now())
	if _, err := events.Decode(body, events.Limits{MaxBytes: len(body) + 1}); err != nil {
		return nil, fmt.Errorf("bench: template envelope: %w", err)
	}
	return g, nil
}

func (g *generator) next(i int, now time.Time) (subject, id string, body []byte) {
	a := i % g.agents
	id = g.runID + "-" + strconv.Itoa(i)
	b := append(g.buf[:0], g.head...)
	b = append(b, id...)
	b = append(b, `","source":"urn:escai:bench:agent-`...)
	b = strconv.AppendInt(b, int64(a), 10)
	b = append(b, `","agentid":"agent-`...)
	b = strconv.AppendInt(b, int64(a), 10)
	b = append(b, `","time":"`...)
	b = now.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, g.tail...)
	g.buf = b
	// PublishAsync keeps the slice until it is written: hand it a copy.
	return g.subjects[a], id, bytes.Clone(b)
}

func (r *run) complete(js jetstream.JetStream) error {
	select {
	case <-js.PublishAsyncComplete():
		return nil
	case <-time.After(r.o.Timeout):
		return errors.New("bench: publishes not acknowledged in time")
	}
}

// follow hands every audit message to onAudit until ctx ends. It reads
// with one Fetch at a time, not Consume: Consume can sit 30 s without
// pulling after it loses a refill (see stage.Runner.pull), which would skew
// a run. Each Fetch on an ordered consumer starts a new consumer after the
// last message received, so a fetch cut short loses nothing; at 4096
// messages (bundles) a fetch, that is rare.
func (r *run) follow(ctx context.Context, cons jetstream.Consumer) {
	for ctx.Err() == nil {
		batch, err := cons.Fetch(4096, jetstream.FetchContext(ctx), jetstream.FetchHeartbeat(time.Second))
		if err == nil {
			for m := range batch.Messages() {
				r.onAudit(m)
			}
			err = batch.Error()
		}
		if err != nil && ctx.Err() == nil {
			select { // the broker refused or is gone: do not spin
			case <-ctx.Done():
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
}

// onAudit sees every message stored on escai.audit.<p>: a bundle of
// sealed records (tenant and event id in each record's cleartext header),
// or a raw record stored alone (in its headers).
func (r *run) onAudit(m jetstream.Msg) {
	if !audit.IsBundle(m.Data()) {
		h := m.Headers()
		r.audit(h.Get(auditwriter.HeaderTenant), h.Get(auditwriter.HeaderEventID))
		return
	}
	recs, err := audit.RecordsOf(m.Data())
	if err != nil {
		return
	}
	for _, b := range recs {
		if rec, err := audit.DecodeRecord(b); err == nil {
			r.audit(rec.Tenant, rec.EventID)
		}
	}
}

// audit records the latency of one of this run's events.
func (r *run) audit(tenant, eventID string) {
	if tenant != r.o.Tenant {
		return
	}
	id, ok := strings.CutPrefix(eventID, r.runID+"-")
	if !ok {
		return
	}
	i, err := strconv.Atoi(id)
	if err != nil || i < 0 || i >= len(r.sent) {
		return
	}
	sent := r.sent[i].Load()
	if sent == 0 {
		return
	}
	r.audited.Add(1)
	r.mu.Lock()
	_ = r.hist.RecordValue(time.Since(time.Unix(0, sent)).Microseconds())
	r.mu.Unlock()
}

// indexed counts this run's entries in the tenant's time index.
func (r *run) indexed(ctx context.Context, rdb *redis.Client, sinceMs int64) int64 {
	n, err := rdb.ZCount(ctx, auditwriter.TenantIndexKey(r.o.Tenant), strconv.FormatInt(sinceMs, 10), "+inf").Result()
	if err != nil {
		return 0
	}
	return n
}
