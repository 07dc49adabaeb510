package broker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// auditStream is the stream whose max age Overrides.AuditRetention sets.
const auditStream = "ESCAI_AUDIT"

// tenantStreamPrefix + tenant is the name of a tenant's clean stream.
const tenantStreamPrefix = "ESCAI_CLEAN_"

// Overrides change definition values from configuration, so that one set of
// files serves a single node and a cluster. Zero values keep the file's
// value.
//
// MaxAge and MaxBytes are keyed by stream name. For tenant streams the key
// ESCAI_CLEAN_TENANT (the template's file name) applies to every tenant, and
// ESCAI_CLEAN_<tenant> to one tenant, taking precedence.
type Overrides struct {
	// Replicas sets num_replicas of every stream (1..5); consumers inherit it.
	Replicas int
	// MaxAge sets max_age per stream. A duplicate_window longer than the
	// new max age is shortened to it, as the server requires.
	MaxAge map[string]time.Duration
	// AuditRetention sets max_age of ESCAI_AUDIT
	// (ESCAI_AUDIT_RETENTION_DAYS); it takes precedence over
	// MaxAge["ESCAI_AUDIT"].
	AuditRetention time.Duration
	// MaxBytes sets max_bytes per stream; -1 means unlimited.
	MaxBytes map[string]int64
	// MaxAckPending sets max_ack_pending of every consumer
	// (ESCAI_MAX_ACK_PENDING): the back-pressure bound of each stage.
	MaxAckPending int
}

// consumersWith returns the consumer definitions with ov applied.
func consumersWith(defs []consumerDef, ov Overrides) []consumerDef {
	if ov.MaxAckPending <= 0 {
		return defs
	}
	out := make([]consumerDef, len(defs))
	for i, cd := range defs {
		cd.cfg = cloneConsumer(cd.cfg)
		cd.cfg.MaxAckPending = ov.MaxAckPending
		out[i] = cd
	}
	return out
}

// Validate reports negative or out-of-range values. Apply and EnsureTenant
// also check that every key names a defined stream.
func (ov Overrides) Validate() error {
	var errs []error
	bad := func(field, format string, v ...any) {
		errs = append(errs, fmt.Errorf("%w: %s: %s", ErrInvalidOverrides, field, fmt.Sprintf(format, v...)))
	}
	if ov.Replicas < 0 || ov.Replicas > 5 {
		bad("Replicas", "%d not in 0..5", ov.Replicas)
	}
	if ov.MaxAckPending < 0 {
		bad("MaxAckPending", "negative")
	}
	for _, k := range slices.Sorted(maps.Keys(ov.MaxAge)) {
		if ov.MaxAge[k] < 0 {
			bad("MaxAge["+k+"]", "negative")
		}
	}
	if ov.AuditRetention < 0 {
		bad("AuditRetention", "negative")
	}
	for _, k := range slices.Sorted(maps.Keys(ov.MaxBytes)) {
		if ov.MaxBytes[k] < -1 {
			bad("MaxBytes["+k+"]", "%d below -1", ov.MaxBytes[k])
		}
	}
	return errors.Join(errs...)
}

// checkKeys refuses keys that name no stream: a typo would otherwise be
// silently ignored.
func (d *Definitions) checkKeys(ov Overrides) error {
	if err := ov.Validate(); err != nil {
		return err
	}
	known := func(k string) bool {
		for _, sd := range d.streams {
			if sd.cfg.Name == k {
				return true
			}
		}
		if d.template != nil {
			if k == d.template.key {
				return true
			}
			if t, ok := strings.CutPrefix(k, tenantStreamPrefix); ok && validTenant(t) {
				return true
			}
		}
		return false
	}
	var errs []error
	for _, m := range []struct {
		field string
		keys  []string
	}{
		{"MaxAge", slices.Sorted(maps.Keys(ov.MaxAge))},
		{"MaxBytes", slices.Sorted(maps.Keys(ov.MaxBytes))},
	} {
		for _, k := range m.keys {
			if !known(k) {
				errs = append(errs, fmt.Errorf("%w: %s[%s]: no such stream", ErrInvalidOverrides, m.field, k))
			}
		}
	}
	if ov.AuditRetention > 0 && !known(auditStream) {
		errs = append(errs, fmt.Errorf("%w: AuditRetention: no %s definition", ErrInvalidOverrides, auditStream))
	}
	return errors.Join(errs...)
}

// Action is what Apply did to one stream or consumer.
type Action string

// Actions reported in Result.
const (
	ActionCreated   Action = "created"
	ActionUpdated   Action = "updated"
	ActionUnchanged Action = "unchanged"
)

// Kinds reported in Result.
const (
	KindStream   = "stream"
	KindConsumer = "consumer"
)

// Result reports one applied stream or consumer.
type Result struct {
	Kind   string `json:"kind"` // KindStream or KindConsumer
	Stream string `json:"stream"`
	Name   string `json:"name"` // the stream's name, or the consumer's durable name
	Action Action `json:"action"`
	// Fields lists, for ActionUpdated, the JSON fields that differed.
	Fields []string `json:"fields,omitempty"`
}

// Apply creates or updates every stream definition (the tenant template
// excepted; see EnsureTenant) and its consumers, with ov applied. An item
// that already matches is left alone and reported ActionUnchanged, so Apply
// is safe at every service start and from several services at once.
//
// Apply goes on past a failing stream (skipping that stream's consumers) and
// returns the results of what it applied together with every error joined.
// A difference in a field the server cannot change in place is an
// *ImmutableFieldError; nothing is deleted or recreated.
func (d *Definitions) Apply(ctx context.Context, js jetstream.JetStream, ov Overrides) ([]Result, error) {
	if err := d.checkKeys(ov); err != nil {
		return nil, err
	}
	var results []Result
	var errs []error
	for _, sd := range d.streams {
		cfg := applyOverrides(cloneStream(sd.cfg), ov, sd.cfg.Name)
		res, err := applyStreamAndConsumers(ctx, js, cfg, consumersWith(sd.consumers, ov))
		results = append(results, res...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return results, errors.Join(errs...)
}

// EnsureTenant creates or updates the stream ESCAI_CLEAN_<tenant> and its
// consumers from the template, with ov applied, reporting like Apply.
func (d *Definitions) EnsureTenant(ctx context.Context, js jetstream.JetStream, tenant string, ov Overrides) ([]Result, error) {
	if !validTenant(tenant) {
		return nil, fmt.Errorf("%w: %q", ErrInvalidTenant, tenant)
	}
	if d.template == nil {
		return nil, ErrNoTemplate
	}
	if err := d.checkKeys(ov); err != nil {
		return nil, err
	}
	var cfg jetstream.StreamConfig
	if err := decodeStrict(substitute(d.template.raw, tenant), &cfg); err != nil {
		// LoadDefinitions decoded the same bytes; only the tenant changed.
		return nil, fmt.Errorf("%w: %s for tenant %q: %w", ErrInvalidDefinition, d.template.file, tenant, err)
	}
	cfg = applyOverrides(cfg, ov, d.template.key)
	consumers := make([]consumerDef, 0, len(d.template.consumers))
	for _, cd := range d.template.consumers {
		var c jetstream.ConsumerConfig
		if err := decodeStrict(substitute(cd.raw, tenant), &c); err != nil {
			return nil, fmt.Errorf("%w: %s for tenant %q: %w", ErrInvalidDefinition, cd.file, tenant, err)
		}
		consumers = append(consumers, consumerDef{file: cd.file, cfg: c})
	}
	return applyStreamAndConsumers(ctx, js, cfg, consumersWith(consumers, ov))
}

// TenantStreamName is the name of a tenant's clean stream,
// ESCAI_CLEAN_<tenant>. It does not check the tenant.
func TenantStreamName(tenant string) string { return tenantStreamPrefix + tenant }

// validTenant reports whether t matches [a-z0-9][a-z0-9_-]{0,63}, the
// identifier syntax of the event envelope: such a tenant can never inject a
// subject token separator or wildcard, nor break a stream name.
func validTenant(t string) bool {
	if len(t) == 0 || len(t) > 64 {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case (c == '_' || c == '-') && i > 0:
		default:
			return false
		}
	}
	return true
}

// applyOverrides sets the overridden values of a stream config. key is the
// definition's name (the template key for tenant streams).
func applyOverrides(cfg jetstream.StreamConfig, ov Overrides, key string) jetstream.StreamConfig {
	if ov.Replicas > 0 {
		cfg.Replicas = ov.Replicas
	}
	keys := []string{key}
	if key != cfg.Name {
		keys = append(keys, cfg.Name) // the tenant's own key wins
	}
	for _, k := range keys {
		if v := ov.MaxAge[k]; v > 0 {
			cfg.MaxAge = v
		}
		if v := ov.MaxBytes[k]; v != 0 {
			cfg.MaxBytes = v
		}
	}
	if cfg.Name == auditStream && ov.AuditRetention > 0 {
		cfg.MaxAge = ov.AuditRetention
	}
	if cfg.MaxAge > 0 && cfg.Duplicates > cfg.MaxAge {
		cfg.Duplicates = cfg.MaxAge
	}
	return cfg
}

func applyStreamAndConsumers(ctx context.Context, js jetstream.JetStream, cfg jetstream.StreamConfig, consumers []consumerDef) ([]Result, error) {
	st, res, err := applyStream(ctx, js, cfg)
	if err != nil {
		return nil, err
	}
	results := []Result{res}
	var errs []error
	streamCfg := st.CachedInfo().Config
	for _, cd := range consumers {
		res, err := applyConsumer(ctx, st, streamCfg, cloneConsumer(cd.cfg))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		results = append(results, res)
	}
	return results, errors.Join(errs...)
}

func applyStream(ctx context.Context, js jetstream.JetStream, want jetstream.StreamConfig) (jetstream.Stream, Result, error) {
	res := Result{Kind: KindStream, Stream: want.Name, Name: want.Name}
	wrap := func(op string, err error) error {
		return fmt.Errorf("broker: stream %s: %s: %w", want.Name, op, err)
	}
	lookup := func(ctx context.Context) (jetstream.Stream, error) { return js.Stream(ctx, want.Name) }
	st, err := retryTransient(ctx, lookup)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		st, err = retryTransient(ctx, func(ctx context.Context) (jetstream.Stream, error) {
			return js.CreateStream(ctx, want)
		})
		if err == nil {
			res.Action = ActionCreated
			return st, res, nil
		}
		if !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			return nil, res, wrap("create", err)
		}
		// Another process (or our own create whose answer was lost)
		// created it meanwhile: compare.
		st, err = retryTransient(ctx, lookup)
	}
	if err != nil {
		return nil, res, wrap("info", err)
	}
	have := st.CachedInfo().Config
	fields, err := diffFields(normaliseStream(want), normaliseStream(have))
	if err != nil {
		return nil, res, wrap("compare", err)
	}
	if len(fields) == 0 {
		res.Action = ActionUnchanged
		return st, res, nil
	}
	if err := streamImmutable(have, want); err != nil {
		return nil, res, err
	}
	st, err = retryTransient(ctx, func(ctx context.Context) (jetstream.Stream, error) {
		return js.UpdateStream(ctx, want)
	})
	if err != nil {
		return nil, res, wrap("update "+strings.Join(fields, ","), err)
	}
	res.Action, res.Fields = ActionUpdated, fields
	return st, res, nil
}

func applyConsumer(ctx context.Context, st jetstream.Stream, streamCfg jetstream.StreamConfig, want jetstream.ConsumerConfig) (Result, error) {
	name := want.Durable
	res := Result{Kind: KindConsumer, Stream: streamCfg.Name, Name: name}
	wrap := func(op string, err error) error {
		return fmt.Errorf("broker: consumer %s on stream %s: %s: %w", name, streamCfg.Name, op, err)
	}
	lookup := func(ctx context.Context) (jetstream.Consumer, error) { return st.Consumer(ctx, name) }
	c, err := retryTransient(ctx, lookup)
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		_, err = retryTransient(ctx, func(ctx context.Context) (jetstream.Consumer, error) {
			return st.CreateConsumer(ctx, want)
		})
		if err == nil {
			res.Action = ActionCreated
			return res, nil
		}
		if !errors.Is(err, jetstream.ErrConsumerExists) {
			return res, wrap("create", err)
		}
		c, err = retryTransient(ctx, lookup)
	}
	if err != nil {
		return res, wrap("info", err)
	}
	have := c.CachedInfo().Config
	// A pause set by an operator (consumer pause API) is state, not
	// definition: keep it.
	want.PauseUntil = have.PauseUntil
	fields, err := diffFields(normaliseConsumer(want, streamCfg), normaliseConsumer(have, streamCfg))
	if err != nil {
		return res, wrap("compare", err)
	}
	if len(fields) == 0 {
		res.Action = ActionUnchanged
		return res, nil
	}
	if err := consumerImmutable(streamCfg.Name, have, want); err != nil {
		return res, err
	}
	if _, err := retryTransient(ctx, func(ctx context.Context) (jetstream.Consumer, error) {
		return st.UpdateConsumer(ctx, want)
	}); err != nil {
		return res, wrap("update "+strings.Join(fields, ","), err)
	}
	res.Action, res.Fields = ActionUpdated, fields
	return res, nil
}

// normaliseStream fills the defaults nats-server (2.15, checkStreamCfg) gives
// unset fields, and drops the metadata the server owns (_nats.*), so that a
// definition and the server's copy of it compare equal.
func normaliseStream(cfg jetstream.StreamConfig) jetstream.StreamConfig {
	cfg = cloneStream(cfg)
	if cfg.Replicas == 0 {
		cfg.Replicas = 1
	}
	for _, p := range []*int64{&cfg.MaxMsgs, &cfg.MaxBytes, &cfg.MaxMsgsPerSubject} {
		if *p == 0 || *p < -1 {
			*p = -1
		}
	}
	if cfg.MaxMsgSize == 0 || cfg.MaxMsgSize < -1 {
		cfg.MaxMsgSize = -1
	}
	if cfg.MaxConsumers == 0 || cfg.MaxConsumers < -1 {
		cfg.MaxConsumers = -1
	}
	if cfg.Duplicates == 0 && cfg.Mirror == nil && len(cfg.Sources) == 0 {
		cfg.Duplicates = 2 * time.Minute
		if cfg.MaxAge != 0 && cfg.MaxAge < cfg.Duplicates {
			cfg.Duplicates = cfg.MaxAge
		}
	}
	if cfg.SubjectDeleteMarkerTTL > 0 {
		cfg.AllowMsgTTL = true
		if !cfg.AllowRollup {
			cfg.AllowRollup, cfg.DenyPurge = true, false
		}
	}
	if cfg.AllowMsgSchedules && !cfg.AllowRollup {
		cfg.AllowRollup, cfg.DenyPurge = true, false
	}
	cfg.Metadata = userMetadata(cfg.Metadata)
	return cfg
}

// normaliseConsumer fills the defaults nats-server (2.15,
// setConsumerConfigDefaults) gives unset fields of a consumer on stream sc.
func normaliseConsumer(cfg jetstream.ConsumerConfig, sc jetstream.StreamConfig) jetstream.ConsumerConfig {
	cfg = cloneConsumer(cfg)
	if cfg.Name == "" {
		cfg.Name = cfg.Durable
	}
	if cfg.MaxDeliver == 0 || cfg.MaxDeliver < -1 {
		cfg.MaxDeliver = -1
	}
	if cfg.MaxWaiting < 0 {
		cfg.MaxWaiting = 0
	}
	if cfg.DeliverSubject == "" && cfg.MaxWaiting == 0 {
		cfg.MaxWaiting = 512 // JSWaitQueueDefaultMax
	}
	if cfg.AckWait == 0 && (cfg.AckPolicy == jetstream.AckExplicitPolicy || cfg.AckPolicy == jetstream.AckAllPolicy) {
		cfg.AckWait = 30 * time.Second // JsAckWaitDefault
	}
	if len(cfg.BackOff) > 0 {
		cfg.AckWait = cfg.BackOff[0]
	}
	if cfg.MaxAckPending < -1 {
		cfg.MaxAckPending = -1
	}
	if cfg.MaxAckPending == 0 {
		cfg.MaxAckPending = sc.ConsumerLimits.MaxAckPending
	}
	if cfg.InactiveThreshold == 0 {
		cfg.InactiveThreshold = sc.ConsumerLimits.InactiveThreshold
	}
	if cfg.MaxAckPending == 0 && cfg.AckPolicy != jetstream.AckNonePolicy {
		cfg.MaxAckPending = 1000 // JsDefaultMaxAckPending
	}
	if cfg.PriorityPolicy == jetstream.PriorityPolicyPinned && cfg.PinnedTTL == 0 {
		cfg.PinnedTTL = 2 * time.Minute // JsDefaultPinnedTTL
	}
	if cfg.FilterSubject == "" && len(cfg.FilterSubjects) == 1 {
		cfg.FilterSubject, cfg.FilterSubjects = cfg.FilterSubjects[0], nil
	}
	cfg.Metadata = userMetadata(cfg.Metadata)
	return cfg
}

// userMetadata drops the keys the server adds (_nats.ver, _nats.level,
// _nats.req.level).
func userMetadata(m map[string]string) map[string]string {
	var out map[string]string
	for k, v := range m {
		if strings.HasPrefix(k, "_nats.") {
			continue
		}
		if out == nil {
			out = map[string]string{}
		}
		out[k] = v
	}
	return out
}

// diffFields compares two configs through their JSON form, the form of the
// definition files, and returns the names of the fields that differ, sorted.
func diffFields(want, have any) ([]string, error) {
	wm, err := jsonFields(want)
	if err != nil {
		return nil, err
	}
	hm, err := jsonFields(have)
	if err != nil {
		return nil, err
	}
	var diff []string
	for k, wv := range wm {
		if hv, ok := hm[k]; !ok || !reflect.DeepEqual(wv, hv) {
			diff = append(diff, k)
		}
	}
	for k := range hm {
		if _, ok := wm[k]; !ok {
			diff = append(diff, k)
		}
	}
	slices.Sort(diff)
	return diff, nil
}

func jsonFields(v any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber() // durations in ns exceed float64 precision
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	return m, nil
}

// streamImmutable reports the differences nats-server refuses to apply to
// an existing stream (configUpdateCheck), by field.
func streamImmutable(have, want jetstream.StreamConfig) error {
	var errs []error
	add := func(field string, h, w any) {
		errs = append(errs, &ImmutableFieldError{Kind: KindStream, Stream: want.Name, Field: field, Have: jsonText(h), Want: jsonText(w)})
	}
	if have.Storage != want.Storage {
		add("storage", have.Storage, want.Storage)
	}
	if have.Retention != want.Retention &&
		(have.Retention == jetstream.WorkQueuePolicy || want.Retention == jetstream.WorkQueuePolicy) {
		add("retention", have.Retention, want.Retention)
	}
	for _, f := range []struct {
		field      string
		have, want bool
	}{
		{"sealed", have.Sealed, want.Sealed},
		{"deny_delete", have.DenyDelete, want.DenyDelete},
		{"deny_purge", have.DenyPurge, want.DenyPurge},
		{"allow_msg_ttl", have.AllowMsgTTL, want.AllowMsgTTL},
		{"allow_msg_schedules", have.AllowMsgSchedules, want.AllowMsgSchedules},
	} {
		if f.have && !f.want { // these can be switched on, never off
			add(f.field, f.have, f.want)
		}
	}
	if have.AllowMsgCounter != want.AllowMsgCounter {
		add("allow_msg_counter", have.AllowMsgCounter, want.AllowMsgCounter)
	}
	if have.PersistMode != want.PersistMode {
		add("persist_mode", have.PersistMode, want.PersistMode)
	}
	if want.Mirror != nil && !reflect.DeepEqual(have.Mirror, want.Mirror) {
		add("mirror", have.Mirror, want.Mirror)
	}
	return errors.Join(errs...)
}

// consumerImmutable reports the differences nats-server refuses to apply to
// an existing consumer (checkNewConsumerConfig), by field.
func consumerImmutable(stream string, have, want jetstream.ConsumerConfig) error {
	var errs []error
	add := func(field string, h, w any) {
		errs = append(errs, &ImmutableFieldError{Kind: KindConsumer, Stream: stream, Name: want.Durable, Field: field, Have: jsonText(h), Want: jsonText(w)})
	}
	if have.DeliverPolicy != want.DeliverPolicy {
		add("deliver_policy", have.DeliverPolicy, want.DeliverPolicy)
	}
	if have.AckPolicy != want.AckPolicy {
		add("ack_policy", have.AckPolicy, want.AckPolicy)
	}
	if have.ReplayPolicy != want.ReplayPolicy {
		add("replay_policy", have.ReplayPolicy, want.ReplayPolicy)
	}
	if have.MemoryStorage != want.MemoryStorage {
		add("mem_storage", have.MemoryStorage, want.MemoryStorage)
	}
	if have.OptStartSeq != want.OptStartSeq {
		add("opt_start_seq", have.OptStartSeq, want.OptStartSeq)
	}
	if (have.OptStartTime == nil) != (want.OptStartTime == nil) ||
		(have.OptStartTime != nil && !have.OptStartTime.Equal(*want.OptStartTime)) {
		add("opt_start_time", have.OptStartTime, want.OptStartTime)
	}
	if have.IdleHeartbeat != want.IdleHeartbeat {
		add("idle_heartbeat", have.IdleHeartbeat, want.IdleHeartbeat)
	}
	if have.FlowControl != want.FlowControl {
		add("flow_control", have.FlowControl, want.FlowControl)
	}
	if (have.DeliverSubject == "") != (want.DeliverSubject == "") {
		add("deliver_subject", have.DeliverSubject, want.DeliverSubject)
	}
	if w := normaliseConsumer(want, jetstream.StreamConfig{}).MaxWaiting; have.MaxWaiting != w {
		add("max_waiting", have.MaxWaiting, w)
	}
	return errors.Join(errs...)
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// requestTimeout bounds one JetStream API request made by Apply. A request
// that a cluster drops while it moves a leader, or that a loaded node
// answers very late, would otherwise hold the caller's whole deadline; with
// a bound it is sent again while ctx lives. Every request Apply makes is
// safe to repeat: a create whose answer was lost finds the stream (or
// consumer) on the next try and compares it.
const requestTimeout = 5 * time.Second

// retryTransient calls f with a context bounded by requestTimeout until it
// returns something other than a transient failure or ctx ends.
func retryTransient[T any](ctx context.Context, f func(context.Context) (T, error)) (T, error) {
	delay := 100 * time.Millisecond
	for {
		rctx, cancel := context.WithTimeout(ctx, requestTimeout)
		v, err := f(rctx)
		cancel()
		if err == nil || ctx.Err() != nil || !transientAPIError(err) {
			return v, err
		}
		select {
		case <-ctx.Done():
			return v, err
		case <-time.After(delay):
		}
		delay = min(2*delay, time.Second)
	}
}

// transientAPIError reports failures that a JetStream cluster gives while
// it is electing leaders or busy: no answer in time, nobody listening on
// the API subject yet, or 503 "JetStream system temporarily unavailable".
func transientAPIError(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) || errors.Is(err, nats.ErrNoResponders) {
		return true
	}
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.Code == 503
}
