package stage

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
)

// Config is the user-set part of a runner.
type Config struct {
	// Name labels metrics and logs ("ingest", "pii-worker", "audit-writer").
	Name string
	// Stream and Consumer name the durable pull consumer to read; it must
	// exist (streams are applied at service start).
	Stream, Consumer string
	// Batch is the most inputs processed and published together. Default 256.
	Batch int
	// Workers is how many batches are in flight at once. Default 4.
	Workers int
	// PublishTimeout bounds the wait for a batch's PubAcks. Default 15s,
	// half the consumers' AckWait, so an input is never redelivered while
	// its batch is still waiting.
	PublishTimeout time.Duration
	// NakDelay gives the redelivery delay after a transient failure on the
	// given delivery attempt. Default: 250ms doubling to at most 30s.
	NakDelay func(delivered uint64) time.Duration
}

// Validate reports every problem of the configuration at once.
func (c Config) Validate() error {
	var errs []error
	if c.Name == "" {
		errs = append(errs, errors.New("stage: Name is required"))
	}
	if c.Stream == "" || c.Consumer == "" {
		errs = append(errs, errors.New("stage: Stream and Consumer are required"))
	}
	if c.Batch < 0 || c.Batch > 4096 {
		errs = append(errs, fmt.Errorf("stage: Batch %d outside 1..4096", c.Batch))
	}
	if c.Workers < 0 || c.Workers > 64 {
		errs = append(errs, fmt.Errorf("stage: Workers %d outside 1..64", c.Workers))
	}
	return errors.Join(errs...)
}

func (c *Config) setDefaults() {
	if c.Batch == 0 {
		c.Batch = 256
	}
	if c.Workers == 0 {
		c.Workers = 4
	}
	if c.PublishTimeout == 0 {
		c.PublishTimeout = 15 * time.Second
	}
	if c.NakDelay == nil {
		c.NakDelay = DefaultNakDelay
	}
}

// DefaultNakDelay is 250ms doubling per delivery, capped at 30s.
func DefaultNakDelay(delivered uint64) time.Duration {
	d := 250 * time.Millisecond
	for i := uint64(1); i < delivered && d < 30*time.Second; i++ {
		d *= 2
	}
	return min(d, 30*time.Second)
}

// Runner consumes one durable consumer with one Processor. Start it with
// Start; stop it with Drain.
type Runner struct {
	cfg        Config
	js         jetstream.JetStream
	cons       jetstream.Consumer
	proc       Processor
	commit     Committer
	log        *zap.Logger
	m          stageMetrics
	maxDeliver uint64 // 0 = unlimited

	in         chan jetstream.Msg
	pullers    sync.WaitGroup
	cancelPull context.CancelFunc // Drain: no new pull requests, and the open ones end
	workers    sync.WaitGroup
	workCtx    context.Context
	cancelWork context.CancelFunc
	drainOnce  sync.Once
	drainErr   error
	stop       chan struct{} // closed by Drain: lanes finish what is buffered and exit
	quit       chan struct{} // closed when no lane takes deliveries any more
	quitOnce   sync.Once
	done       chan struct{}
	lastWarn   atomic.Int64
}

// Start binds to the configured consumer and begins processing. Work goes on
// until Drain; ctx only bounds the start-up calls.
func Start(ctx context.Context, js jetstream.JetStream, p Processor, cfg Config, log *zap.Logger, metrics *Metrics) (*Runner, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	cons, err := js.Consumer(ctx, cfg.Stream, cfg.Consumer)
	if err != nil {
		return nil, fmt.Errorf("stage %s: bind consumer %s/%s: %w", cfg.Name, cfg.Stream, cfg.Consumer, err)
	}
	r := &Runner{
		cfg:  cfg,
		js:   js,
		cons: cons,
		proc: p,
		log:  log.With(zap.String("stage", cfg.Name), zap.String("stream", cfg.Stream), zap.String("consumer", cfg.Consumer)),
		m:    metrics.forStage(cfg.Name),
		in:   make(chan jetstream.Msg, cfg.Batch*cfg.Workers),
		stop: make(chan struct{}),
		quit: make(chan struct{}),
		done: make(chan struct{}),
	}
	if c, ok := p.(Committer); ok {
		r.commit = c
	}
	if md := cons.CachedInfo().Config.MaxDeliver; md > 0 {
		r.maxDeliver = uint64(md)
	}
	// Work outlives the caller's ctx on purpose: a drain must be able to
	// finish publishing what is in flight after the service was told to stop.
	r.workCtx, r.cancelWork = context.WithCancel(context.WithoutCancel(ctx))
	for range cfg.Workers {
		r.workers.Add(1)
		go r.work()
	}
	var pullCtx context.Context
	pullCtx, r.cancelPull = context.WithCancel(r.workCtx)
	// Two pullers of half the buffer each: one request is open at the
	// broker while the other's messages are handed to the lanes.
	for range pullers {
		r.pullers.Add(1)
		go r.pull(pullCtx, max(cfg.Batch*cfg.Workers/pullers, 1))
	}
	r.log.Info("stage started", zap.Int("batch", cfg.Batch), zap.Int("workers", cfg.Workers), zap.Uint64("max_deliver", r.maxDeliver))
	return r, nil
}

// Ready reports whether the consumer is still reachable; for /readyz.
func (r *Runner) Ready(ctx context.Context) error {
	_, err := r.cons.Info(ctx)
	return err
}

// Done is closed when the runner has fully drained.
func (r *Runner) Done() <-chan struct{} { return r.done }

// Drain stops pulling, finishes every batch in flight (publish, PubAck,
// commit, settle) and flushes the acks. If ctx ends first, in-flight waits
// are abandoned: their inputs stay unacked and are redelivered, never lost.
func (r *Runner) Drain(ctx context.Context) error {
	r.drainOnce.Do(func() {
		// A message the broker sent for a request ended here arrives to no
		// subscriber: it stays unacked and is redelivered after AckWait.
		r.cancelPull()
		pulled := make(chan struct{})
		go func() { r.pullers.Wait(); close(pulled) }()
		select {
		case <-pulled:
		case <-ctx.Done():
			r.closeQuit() // deliver gives up; the rest is redelivered
			<-pulled
		}
		close(r.stop)
		finished := make(chan struct{})
		go func() { r.workers.Wait(); close(finished) }()
		select {
		case <-finished:
		case <-ctx.Done():
			r.cancelWork()
			<-finished
			r.drainErr = fmt.Errorf("stage %s: drain: %w", r.cfg.Name, ctx.Err())
		}
		r.closeQuit()
		r.cancelWork()
		if nc := r.js.Conn(); nc != nil && !nc.IsClosed() {
			fctx := ctx
			if _, ok := ctx.Deadline(); !ok { // FlushWithContext insists on one
				var cancel context.CancelFunc
				fctx, cancel = context.WithTimeout(ctx, 10*time.Second)
				defer cancel()
			}
			if err := nc.FlushWithContext(fctx); err != nil && r.drainErr == nil {
				r.drainErr = fmt.Errorf("stage %s: flush acks: %w", r.cfg.Name, err)
			}
		}
		r.log.Info("stage drained")
		close(r.done)
	})
	return r.drainErr
}

func (r *Runner) closeQuit() { r.quitOnce.Do(func() { close(r.quit) }) }

const (
	// pullers is how many pull requests a runner keeps open at once.
	pullers = 2
	// pullHeartbeat is the broker's idle heartbeat on an open request; two
	// missed end the request. It is how a puller notices that a request
	// died with its connection (a broker restart): within 2 × 2 s.
	pullHeartbeat = 2 * time.Second
	// pullRetryMax caps the pause after a failed pull request.
	pullRetryMax = 2 * time.Second
)

// pull is one puller: it asks the consumer for up to n messages, hands
// them to the lanes, and asks again, until Drain.
//
// It uses one Fetch per request rather than Consume. Consume refills its
// buffer only when a message arrives and its own request is not being
// sent at that moment; when the last message of an answered request lands
// inside that window no refill is ever sent, and the stage stalls until
// the missing-heartbeat timer fires (2 × 15 s; nats.go v1.56.0
// jetstream/pull.go checkPending vs pullMessages). Seen here in 7 of 124
// benchmark runs of 100,000 events. A Fetch always ends, by its batch, its
// expiry (30 s) or missing idle heartbeats, so the next request is always
// sent. It has no client-side deadline: one could end the fetch while
// messages the broker sent before expiring it are still queued here, and
// those would wait out AckWait.
func (r *Runner) pull(ctx context.Context, n int) {
	defer r.pullers.Done()
	retry := pullRetryMax / 8
	for ctx.Err() == nil {
		batch, err := r.cons.Fetch(n, jetstream.FetchContext(ctx), jetstream.FetchHeartbeat(pullHeartbeat))
		if err == nil {
			for m := range batch.Messages() {
				r.deliver(m)
			}
			err = batch.Error()
		}
		if err == nil || ctx.Err() != nil {
			retry = pullRetryMax / 8
			continue
		}
		// The broker refused or the connection is gone: say so, and do not
		// spin while it lasts.
		r.warn("pull", err)
		select {
		case <-ctx.Done():
		case <-time.After(retry):
		}
		retry = min(retry*2, pullRetryMax)
	}
}

// deliver hands a pulled message to the workers. Blocking here is the
// back-pressure: a puller sends no new request while the lanes are busy.
func (r *Runner) deliver(m jetstream.Msg) {
	select {
	case r.in <- m:
	case <-r.quit:
		// Left unacked on purpose: redelivered after AckWait.
	}
}

// work is one lane of the stage: this goroutine processes and publishes
// without waiting, and a settler goroutine waits for the PubAcks, commits
// and settles in batches. Keeping publishes in flight while earlier ones
// are acknowledged is what makes a stage fast; the lane's channel bounds how
// many are in flight.
func (r *Runner) work() {
	defer r.workers.Done()
	pending := make(chan *item, r.cfg.Batch)
	settled := make(chan struct{})
	go func() {
		defer close(settled)
		r.settleLoop(pending)
	}()
	ctx := r.workCtx
	handle := func(m jetstream.Msg) {
		it := &item{msg: m}
		r.process(ctx, it)
		r.publish(it)
		pending <- it
	}
lane:
	for {
		select {
		case m := <-r.in:
			handle(m)
		case <-r.stop:
			for {
				select {
				case m := <-r.in:
					handle(m)
				default:
					break lane
				}
			}
		}
	}
	close(pending)
	<-settled
}

// settleLoop takes the lane's items in publish order, gathers whatever is
// already waiting into one batch (so commits and settles amortise under
// load and stay immediate when idle), waits for their PubAcks, commits and
// settles them.
func (r *Runner) settleLoop(pending <-chan *item) {
	batch := make([]*item, 0, r.cfg.Batch)
	for it := range pending {
		batch = append(batch[:0], it)
	fill:
		for len(batch) < r.cfg.Batch {
			select {
			case it, ok := <-pending:
				if !ok {
					break fill
				}
				batch = append(batch, it)
			default:
				break fill
			}
		}
		start := time.Now()
		r.m.batchSize.Observe(float64(len(batch)))
		r.await(r.workCtx, batch)
		r.commitBatch(r.workCtx, batch)
		for _, it := range batch {
			r.settle(it)
		}
		r.m.batch.Observe(time.Since(start).Seconds())
	}
}

// item is the runtime's state for one input.
type item struct {
	msg      jetstream.Msg
	in       Message
	outs     []Output
	futs     []jetstream.PubAckFuture
	acks     []*jetstream.PubAck
	reject   *PermanentError
	dead     bool // rejected because deliveries ran out
	retry    error
	filtered bool
}

func (r *Runner) process(ctx context.Context, it *item) {
	jm := it.msg
	meta, err := jm.Metadata()
	if err != nil {
		// Not a JetStream delivery: it cannot be acked meaningfully either.
		it.reject = &PermanentError{Code: "invalid_delivery", Err: err}
		it.in = Message{Subject: jm.Subject(), Data: jm.Data(), Header: jm.Headers(), Stream: r.cfg.Stream}
		it.outs = []Output{r.rejectOutput(&it.in, it.reject)}
		return
	}
	it.in = Message{
		Subject:      jm.Subject(),
		Data:         jm.Data(),
		Header:       jm.Headers(),
		Stream:       meta.Stream,
		Sequence:     meta.Sequence.Stream,
		NumDelivered: meta.NumDelivered,
		Stored:       meta.Timestamp,
	}
	t0 := time.Now()
	outs, err := r.proc.Process(ctx, &it.in)
	r.m.process.Observe(time.Since(t0).Seconds())
	var pe *PermanentError
	switch {
	case err == nil:
		it.outs = outs
		it.filtered = len(outs) == 0
		return
	case errors.As(err, &pe):
		it.reject = pe
	case r.maxDeliver > 0 && meta.NumDelivered >= r.maxDeliver:
		it.reject = &PermanentError{Code: CodeMaxDeliver, Err: err}
		it.dead = true
	default:
		it.retry = err
		return
	}
	it.outs = append([]Output{r.rejectOutput(&it.in, it.reject)}, it.reject.Also...)
}

func (r *Runner) publish(it *item) {
	for _, o := range it.outs {
		if o.Future != nil {
			it.futs = append(it.futs, o.Future)
			continue
		}
		if o.MsgID == "" {
			it.retry = fmt.Errorf("stage %s: output to %q has no Msg-Id", r.cfg.Name, o.Subject)
			return
		}
		msg := &nats.Msg{Subject: o.Subject, Data: o.Data, Header: o.Header}
		if msg.Header == nil {
			msg.Header = nats.Header{}
		}
		opts := append([]jetstream.PublishOpt{jetstream.WithMsgID(o.MsgID), jetstream.WithStallWait(r.cfg.PublishTimeout)}, o.Opts...)
		f, err := r.js.PublishMsgAsync(msg, opts...)
		if err != nil {
			it.retry = err
			return
		}
		it.futs = append(it.futs, f)
	}
}

// await collects every PubAck of the batch. A future that fails or is not
// answered in time turns its input into a retry; if the message was stored
// anyway, the redelivery is deduplicated by its Msg-Id.
func (r *Runner) await(ctx context.Context, items []*item) {
	wctx, cancel := context.WithTimeout(ctx, r.cfg.PublishTimeout)
	defer cancel()
	for _, it := range items {
		for _, f := range it.futs {
			select {
			case ack := <-f.Ok():
				it.acks = append(it.acks, ack)
			case err := <-f.Err():
				if it.retry == nil {
					it.retry = err
				}
			case <-wctx.Done():
				if it.retry == nil {
					it.retry = fmt.Errorf("waiting for PubAck: %w", wctx.Err())
				}
			}
		}
	}
}

func (r *Runner) commitBatch(ctx context.Context, items []*item) {
	if r.commit == nil {
		return
	}
	var stored []Stored
	for _, it := range items {
		if it.retry == nil && it.reject == nil && !it.filtered {
			stored = append(stored, Stored{In: &it.in, Outputs: it.outs, Acks: it.acks})
		}
	}
	if len(stored) == 0 {
		return
	}
	if err := r.commit.Commit(ctx, stored); err != nil {
		for _, it := range items {
			if it.retry == nil && it.reject == nil && !it.filtered {
				it.retry = fmt.Errorf("commit: %w", err)
			}
		}
	}
}

func (r *Runner) settle(it *item) {
	var err error
	switch {
	case it.retry != nil:
		r.warn("retry", it.retry)
		err = it.msg.NakWithDelay(r.cfg.NakDelay(it.in.NumDelivered))
		r.m.retried.Inc()
	case it.reject != nil:
		err = it.msg.TermWithReason(it.reject.Code)
		if it.dead {
			r.m.dead.Inc()
		} else {
			r.m.rejected.Inc()
		}
	case it.filtered:
		err = it.msg.Ack()
		r.m.filtered.Inc()
	default:
		err = it.msg.Ack()
		r.m.ok.Inc()
	}
	if err != nil {
		// The input stays unacked and comes back after AckWait; its outputs
		// are deduplicated then. Nothing to do but make it visible.
		r.warn("settle", err)
	}
}

// rejectOutput is the dead-letter copy of an input: the bytes unchanged,
// the reason in headers, on the tenant/agent of the subject the broker
// accepted (or the _unknown fallback when even that is not trustworthy).
func (r *Runner) rejectOutput(in *Message, pe *PermanentError) Output {
	return RejectOutput(r.cfg.Name, in, pe)
}

// headerSafe keeps a header value on one line and bounded: a reason can
// quote input, and input must never be able to inject protocol lines.
func headerSafe(s string, max int) string {
	b := make([]byte, 0, min(len(s), max))
	for i := 0; i < len(s) && len(b) < max; i++ {
		c := s[i]
		if c < 0x20 || c == 0x7f {
			c = ' '
		}
		b = append(b, c)
	}
	return string(b)
}

// warn logs a runtime problem at most every 10 seconds per runner: the
// per-message picture is in the metrics, the log only says something is wrong.
func (r *Runner) warn(what string, err error) {
	now := time.Now().UnixNano()
	last := r.lastWarn.Load()
	if now-last < int64(10*time.Second) || !r.lastWarn.CompareAndSwap(last, now) {
		return
	}
	r.log.Warn("stage "+what+" failed (rate-limited log; see escai_stage_messages_total)", zap.Error(err))
}
