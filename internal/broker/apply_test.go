package broker_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/escai-framework/escai/internal/broker"
	"github.com/escai-framework/escai/internal/broker/brokertest"
	"github.com/escai-framework/escai/streams"
)

const day = 24 * time.Hour

func load(t *testing.T, fsys ...fstest.MapFS) *broker.Definitions {
	t.Helper()
	var d *broker.Definitions
	var err error
	if len(fsys) == 0 {
		d, err = broker.LoadDefinitions(streams.FS)
	} else {
		d, err = broker.LoadDefinitions(fsys[0])
	}
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// actions renders results as "kind stream/name action[fields]" lines.
func actions(rs []broker.Result) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		s := r.Kind + " " + r.Stream + "/" + r.Name + " " + string(r.Action)
		if len(r.Fields) > 0 {
			s += " " + strings.Join(r.Fields, ",")
		}
		out = append(out, s)
	}
	return out
}

func allActions(a broker.Action) []string {
	return []string{
		"stream ESCAI_AUDIT/ESCAI_AUDIT " + string(a),
		"stream ESCAI_IN/ESCAI_IN " + string(a),
		"consumer ESCAI_IN/ingest " + string(a),
		"stream ESCAI_REJECTED/ESCAI_REJECTED " + string(a),
		"stream ESCAI_SECURITY/ESCAI_SECURITY " + string(a),
		"consumer ESCAI_SECURITY/audit-writer " + string(a),
		"stream ESCAI_VALID/ESCAI_VALID " + string(a),
		"consumer ESCAI_VALID/pii-worker " + string(a),
	}
}

func equal(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s:\ngot  %q\nwant %q", what, got, want)
	}
}

func streamInfo(t *testing.T, js jetstream.JetStream, name string) *jetstream.StreamInfo {
	t.Helper()
	st, err := js.Stream(testCtx(t), name)
	if err != nil {
		t.Fatalf("stream %s: %v", name, err)
	}
	return st.CachedInfo()
}

func TestApplyFreshNode(t *testing.T) {
	t.Parallel()
	js := brokertest.JetStream(t, brokertest.Connect(t, brokertest.StartNode(t)))
	d := load(t)
	ov := broker.Overrides{MaxAge: map[string]time.Duration{"ESCAI_SECURITY": 10 * day}}

	res, err := d.Apply(testCtx(t), js, ov)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "first apply", actions(res), allActions(broker.ActionCreated))

	for name, want := range map[string]struct {
		subject   string
		retention jetstream.RetentionPolicy
		maxAge    time.Duration
		deny      bool
		maxBytes  int64
		maxMsg    int32
	}{
		"ESCAI_IN":       {"escai.in.>", jetstream.WorkQueuePolicy, 7 * day, false, -1, 1 << 20},
		"ESCAI_VALID":    {"escai.valid.>", jetstream.WorkQueuePolicy, day, false, -1, -1},
		"ESCAI_REJECTED": {"escai.rejected.>", jetstream.LimitsPolicy, 30 * day, false, -1, -1},
		"ESCAI_SECURITY": {"escai.security.>", jetstream.LimitsPolicy, 10 * day, false, -1, -1},
		"ESCAI_AUDIT":    {"escai.audit.>", jetstream.LimitsPolicy, 2555 * day, true, -1, -1},
	} {
		c := streamInfo(t, js, name).Config
		if !slices.Equal(c.Subjects, []string{want.subject}) || c.Retention != want.retention ||
			c.MaxAge != want.maxAge || c.DenyDelete != want.deny || c.DenyPurge != want.deny ||
			c.MaxBytes != want.maxBytes || c.MaxMsgSize != want.maxMsg ||
			c.Storage != jetstream.FileStorage || c.Replicas != 1 || c.Duplicates != 2*time.Minute ||
			c.Discard != jetstream.DiscardOld || c.AllowRollup || c.AllowDirect {
			t.Errorf("%s: config %+v", name, c)
		}
	}
	for stream, durable := range map[string]string{"ESCAI_IN": "ingest", "ESCAI_VALID": "pii-worker", "ESCAI_SECURITY": "audit-writer"} {
		ci, err := js.Consumer(testCtx(t), stream, durable)
		if err != nil {
			t.Fatalf("consumer %s/%s: %v", stream, durable, err)
		}
		c := ci.CachedInfo().Config
		if c.Durable != durable || c.AckPolicy != jetstream.AckExplicitPolicy || c.DeliverPolicy != jetstream.DeliverAllPolicy ||
			c.AckWait != 30*time.Second || c.MaxDeliver != 10 || c.MaxAckPending != 8192 || c.MaxWaiting != 512 ||
			!slices.Equal(c.BackOff, []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 5 * time.Minute}) {
			t.Errorf("%s/%s: config %+v", stream, durable, c)
		}
	}

	res, err = d.Apply(testCtx(t), js, ov)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "second apply", actions(res), allActions(broker.ActionUnchanged))

	// Dropping the override returns SECURITY to the file's 90 days; the
	// audit retention knob changes ESCAI_AUDIT.
	res, err = d.Apply(testCtx(t), js, broker.Overrides{AuditRetention: 400 * day})
	if err != nil {
		t.Fatal(err)
	}
	want := allActions(broker.ActionUnchanged)
	want[0] = "stream ESCAI_AUDIT/ESCAI_AUDIT updated max_age"
	want[4] = "stream ESCAI_SECURITY/ESCAI_SECURITY updated max_age"
	equal(t, "apply with other max ages", actions(res), want)
	if got := streamInfo(t, js, "ESCAI_SECURITY").Config.MaxAge; got != 90*day {
		t.Errorf("ESCAI_SECURITY max_age %v, want 90d", got)
	}
	if got := streamInfo(t, js, "ESCAI_AUDIT").Config.MaxAge; got != 400*day {
		t.Errorf("ESCAI_AUDIT max_age %v, want 400d", got)
	}

	// A max age below the dedupe window shortens the window.
	res, err = d.Apply(testCtx(t), js, broker.Overrides{AuditRetention: 400 * day, MaxAge: map[string]time.Duration{"ESCAI_REJECTED": time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	want[0], want[3], want[4] = "stream ESCAI_AUDIT/ESCAI_AUDIT unchanged", "stream ESCAI_REJECTED/ESCAI_REJECTED updated duplicate_window,max_age", "stream ESCAI_SECURITY/ESCAI_SECURITY unchanged"
	equal(t, "apply with a short max age", actions(res), want)
}

// withFile returns the embedded definitions with one file replaced.
func withFile(t *testing.T, file string, edit func(string) string) fstest.MapFS {
	t.Helper()
	m := embedded(t)
	before := string(m[file].Data)
	after := edit(before)
	if after == before {
		t.Fatalf("edit of %s changed nothing", file)
	}
	m[file] = &fstest.MapFile{Data: []byte(after)}
	return m
}

func TestApplyImmutable(t *testing.T) {
	t.Parallel()
	js := brokertest.JetStream(t, brokertest.Connect(t, brokertest.StartNode(t)))
	if _, err := load(t).Apply(testCtx(t), js, broker.Overrides{}); err != nil {
		t.Fatal(err)
	}
	replace := func(old, new string) func(string) string {
		return func(s string) string { return strings.Replace(s, old, new, 1) }
	}
	tests := map[string]struct {
		file, old, new string
		want           string
	}{
		"retention": {
			file: "ESCAI_REJECTED.json", old: `"limits"`, new: `"workqueue"`,
			want: `broker: stream ESCAI_REJECTED: field "retention" cannot be changed in place (server has "limits", definition wants "workqueue"); migrate by hand`,
		},
		"storage": {
			file: "ESCAI_IN.json", old: `"file"`, new: `"memory"`,
			want: `broker: stream ESCAI_IN: field "storage" cannot be changed in place (server has "file", definition wants "memory"); migrate by hand`,
		},
		"deny delete lifted": {
			file: "ESCAI_AUDIT.json", old: `"deny_delete": true`, new: `"deny_delete": false`,
			want: `broker: stream ESCAI_AUDIT: field "deny_delete" cannot be changed in place (server has true, definition wants false); migrate by hand`,
		},
		"consumer deliver policy": {
			file: "ESCAI_SECURITY.audit-writer.consumer.json", old: `"deliver_policy": "all"`, new: `"deliver_policy": "new"`,
			want: `broker: consumer audit-writer on stream ESCAI_SECURITY: field "deliver_policy" cannot be changed in place (server has "all", definition wants "new"); migrate by hand`,
		},
		"consumer max waiting": {
			file: "ESCAI_IN.ingest.consumer.json", old: `"max_waiting": 512`, new: `"max_waiting": 64`,
			want: `broker: consumer ingest on stream ESCAI_IN: field "max_waiting" cannot be changed in place (server has 512, definition wants 64); migrate by hand`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			// Not parallel: the cases share one server and each expects
			// the others' files unchanged on it.
			d := load(t, withFile(t, tc.file, replace(tc.old, tc.new)))
			res, err := d.Apply(testCtx(t), js, broker.Overrides{})
			var ife *broker.ImmutableFieldError
			if !errors.Is(err, broker.ErrImmutableField) || !errors.As(err, &ife) || err.Error() != tc.want {
				t.Fatalf("got %v\nwant %s", err, tc.want)
			}
			for _, r := range res {
				if r.Action != broker.ActionUnchanged {
					t.Errorf("other items must stay unchanged: %+v", r)
				}
			}
		})
	}
	// Nothing was changed on the server.
	res, err := load(t).Apply(testCtx(t), js, broker.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "apply after refused changes", actions(res), allActions(broker.ActionUnchanged))
}

func TestApplyMutableConsumerChange(t *testing.T) {
	t.Parallel()
	js := brokertest.JetStream(t, brokertest.Connect(t, brokertest.StartNode(t)))
	if _, err := load(t).Apply(testCtx(t), js, broker.Overrides{}); err != nil {
		t.Fatal(err)
	}
	d := load(t, withFile(t, "ESCAI_VALID.pii-worker.consumer.json", func(s string) string {
		return strings.Replace(s, `"max_ack_pending": 8192`, `"max_ack_pending": 100`, 1)
	}))
	res, err := d.Apply(testCtx(t), js, broker.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	want := allActions(broker.ActionUnchanged)
	want[7] = "consumer ESCAI_VALID/pii-worker updated max_ack_pending"
	equal(t, "apply", actions(res), want)
	c, err := js.Consumer(testCtx(t), "ESCAI_VALID", "pii-worker")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.CachedInfo().Config.MaxAckPending; got != 100 {
		t.Fatalf("max_ack_pending %d, want 100", got)
	}
}

func TestApplyOverridesInvalid(t *testing.T) {
	t.Parallel()
	d := load(t)
	tests := map[string]struct {
		ov   broker.Overrides
		want string
	}{
		"unknown stream": {
			ov:   broker.Overrides{MaxAge: map[string]time.Duration{"ESCAI_INN": day}, MaxBytes: map[string]int64{"ESCAI_CLEAN_A.B": 1}},
			want: "broker: invalid overrides: MaxAge[ESCAI_INN]: no such stream\nbroker: invalid overrides: MaxBytes[ESCAI_CLEAN_A.B]: no such stream",
		},
		"out of range": {
			ov: broker.Overrides{Replicas: 7, MaxAge: map[string]time.Duration{"ESCAI_IN": -1}, AuditRetention: -1, MaxBytes: map[string]int64{"ESCAI_IN": -2}},
			want: "broker: invalid overrides: Replicas: 7 not in 0..5\n" +
				"broker: invalid overrides: MaxAge[ESCAI_IN]: negative\n" +
				"broker: invalid overrides: AuditRetention: negative\n" +
				"broker: invalid overrides: MaxBytes[ESCAI_IN]: -2 below -1",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			// A nil JetStream proves nothing is sent before validation.
			res, err := d.Apply(context.Background(), nil, tc.ov)
			if res != nil || !errors.Is(err, broker.ErrInvalidOverrides) || err.Error() != tc.want {
				t.Fatalf("Apply: got %v\nwant %s", err, tc.want)
			}
			res, err = d.EnsureTenant(context.Background(), nil, "acme", tc.ov)
			if res != nil || !errors.Is(err, broker.ErrInvalidOverrides) || err.Error() != tc.want {
				t.Fatalf("EnsureTenant: got %v\nwant %s", err, tc.want)
			}
		})
	}
}

func TestEnsureTenant(t *testing.T) {
	t.Parallel()
	js := brokertest.JetStream(t, brokertest.Connect(t, brokertest.StartNode(t)))
	d := load(t)
	ctx := testCtx(t)

	res, err := d.EnsureTenant(ctx, js, "acme", broker.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "first", actions(res), []string{"stream ESCAI_CLEAN_acme/ESCAI_CLEAN_acme created", "consumer ESCAI_CLEAN_acme/audit-writer created"})
	c := streamInfo(t, js, broker.TenantStreamName("acme")).Config
	if c.Name != "ESCAI_CLEAN_acme" || !slices.Equal(c.Subjects, []string{"escai.clean.acme.>"}) ||
		c.Retention != jetstream.LimitsPolicy || c.MaxAge != 30*day || c.MaxBytes != -1 ||
		c.Description != "Masked events of tenant acme; what the tenant's consumers read." {
		t.Fatalf("config %+v", c)
	}
	cons, err := js.Consumer(ctx, "ESCAI_CLEAN_acme", "audit-writer")
	if err != nil {
		t.Fatal(err)
	}
	if cc := cons.CachedInfo().Config; cc.AckPolicy != jetstream.AckExplicitPolicy || cc.MaxDeliver != 10 {
		t.Fatalf("consumer config %+v", cc)
	}

	res, err = d.EnsureTenant(ctx, js, "acme", broker.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "second", actions(res), []string{"stream ESCAI_CLEAN_acme/ESCAI_CLEAN_acme unchanged", "consumer ESCAI_CLEAN_acme/audit-writer unchanged"})

	// The template key applies to every tenant; a tenant's own key wins.
	ov := broker.Overrides{
		MaxAge:   map[string]time.Duration{"ESCAI_CLEAN_TENANT": 5 * day, "ESCAI_CLEAN_beta": 3 * day},
		MaxBytes: map[string]int64{"ESCAI_CLEAN_TENANT": 1 << 30},
	}
	for tenant, age := range map[string]time.Duration{"acme": 5 * day, "beta": 3 * day} {
		if _, err := d.EnsureTenant(ctx, js, tenant, ov); err != nil {
			t.Fatal(err)
		}
		if c := streamInfo(t, js, broker.TenantStreamName(tenant)).Config; c.MaxAge != age || c.MaxBytes != 1<<30 {
			t.Errorf("%s: max_age %v max_bytes %d, want %v 1GiB", tenant, c.MaxAge, c.MaxBytes, age)
		}
	}

	// Apply leaves tenant streams alone.
	res, err = d.Apply(ctx, js, broker.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "apply", actions(res), allActions(broker.ActionCreated))
}

func TestEnsureTenantInvalid(t *testing.T) {
	t.Parallel()
	js := brokertest.JetStream(t, brokertest.Connect(t, brokertest.StartNode(t)))
	d := load(t)
	for _, tenant := range []string{"a.b", "*", ">", "", "Acme", "-a", "_a", "a b", "a/b", "é", strings.Repeat("a", 65)} {
		res, err := d.EnsureTenant(testCtx(t), js, tenant, broker.Overrides{})
		if res != nil || !errors.Is(err, broker.ErrInvalidTenant) || err.Error() != `broker: invalid tenant identifier: "`+tenant+`"` {
			t.Errorf("tenant %q: got %v", tenant, err)
		}
	}
	names := js.StreamNames(testCtx(t))
	for n := range names.Name() {
		t.Errorf("stream %s created", n)
	}
	if err := names.Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := d.EnsureTenant(testCtx(t), js, "a"+strings.Repeat("-", 63), broker.Overrides{}); err != nil {
		t.Fatalf("64-character tenant refused: %v", err)
	}

	noTemplate := embedded(t)
	delete(noTemplate, "ESCAI_CLEAN_TENANT.json")
	delete(noTemplate, "ESCAI_CLEAN_TENANT.audit-writer.consumer.json")
	if _, err := load(t, noTemplate).EnsureTenant(testCtx(t), js, "acme", broker.Overrides{}); !errors.Is(err, broker.ErrNoTemplate) {
		t.Fatalf("got %v, want ErrNoTemplate", err)
	}
}

func TestAuditStreamDeniesDeleteAndPurge(t *testing.T) {
	t.Parallel()
	js := brokertest.JetStream(t, brokertest.Connect(t, brokertest.StartNode(t)))
	brokertest.Apply(t, js)
	ctx := testCtx(t)

	ack, err := js.Publish(ctx, "escai.audit.0", []byte("record"), jetstream.WithMsgID("audit-1"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := js.Stream(ctx, "ESCAI_AUDIT")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteMsg(ctx, ack.Sequence); err == nil {
		t.Error("deleting an audit record succeeded")
	}
	if err := st.SecureDeleteMsg(ctx, ack.Sequence); err == nil {
		t.Error("secure-deleting an audit record succeeded")
	}
	if err := st.Purge(ctx); err == nil {
		t.Error("purging the audit stream succeeded")
	}
	msg, err := st.GetMsg(ctx, ack.Sequence)
	if err != nil || string(msg.Data) != "record" {
		t.Fatalf("record after delete attempts: %v %v", msg, err)
	}
	// Roll-ups would replace history: the header is refused.
	_, err = js.PublishMsg(ctx, &nats.Msg{Subject: "escai.audit.0", Data: []byte("x"), Header: nats.Header{"Nats-Rollup": []string{"sub"}}})
	if err == nil {
		t.Error("roll-up accepted on the audit stream")
	}
}

func TestWorkQueueAndDedupe(t *testing.T) {
	t.Parallel()
	js := brokertest.JetStream(t, brokertest.Connect(t, brokertest.StartNode(t)))
	brokertest.Apply(t, js)
	ctx := testCtx(t)

	first, err := js.Publish(ctx, "escai.in.x.y.z", []byte(`{"n":1}`), jetstream.WithMsgID("evt-1"))
	if err != nil {
		t.Fatal(err)
	}
	again, err := js.Publish(ctx, "escai.in.x.y.z", []byte(`{"n":1}`), jetstream.WithMsgID("evt-1"))
	if err != nil {
		t.Fatal(err)
	}
	if first.Stream != "ESCAI_IN" || first.Duplicate || !again.Duplicate || again.Sequence != first.Sequence {
		t.Fatalf("acks %+v then %+v, want the second a duplicate of the first", first, again)
	}
	if n := streamInfo(t, js, "ESCAI_IN").State.Msgs; n != 1 {
		t.Fatalf("ESCAI_IN holds %d messages, want 1", n)
	}

	// Work queue: the ingest durable takes it, and the ack removes it.
	cons, err := js.Consumer(ctx, "ESCAI_IN", "ingest")
	if err != nil {
		t.Fatal(err)
	}
	batch, err := cons.FetchNoWait(10)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for m := range batch.Messages() {
		got = append(got, m.Subject())
		if err := m.DoubleAck(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := batch.Error(); err != nil {
		t.Fatal(err)
	}
	equal(t, "delivered", got, []string{"escai.in.x.y.z"})
	brokertest.WaitFor(t, 5*time.Second, func() error {
		if n := streamInfo(t, js, "ESCAI_IN").State.Msgs; n != 0 {
			return fmt.Errorf("ESCAI_IN holds %d messages after the ack", n)
		}
		return nil
	})

	// A second consumer on the work queue would read the same messages:
	// the server refuses it.
	st, err := js.Stream(ctx, "ESCAI_IN")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateConsumer(ctx, jetstream.ConsumerConfig{Durable: "spy", AckPolicy: jetstream.AckExplicitPolicy}); err == nil {
		t.Fatal("second unfiltered consumer accepted on the work queue")
	}

	// Oversized for ESCAI_IN (1 MiB) but within max_payload? The server's
	// max_payload is also 1 MiB, so the publish is refused either way;
	// ingest sees everything up to 1 MiB.
	if _, err := js.Publish(ctx, "escai.in.x.y.z", make([]byte, 900<<10)); err != nil {
		t.Fatalf("900 KiB event refused: %v", err)
	}
}

// TestApplyServerDefaultsIdempotent uses definitions that leave most fields
// to the server, whose filled-in defaults must not count as differences.
func TestApplyServerDefaultsIdempotent(t *testing.T) {
	t.Parallel()
	js := brokertest.JetStream(t, brokertest.Connect(t, brokertest.StartNode(t)))
	d := load(t, fstest.MapFS{
		"T_LIM.json":                {Data: []byte(`{"name":"T_LIM","subjects":["lim.>"],"max_age":60000000000,"consumer_limits":{"max_ack_pending":50,"inactive_threshold":3600000000000}}`)},
		"T_LIM.plain.consumer.json": {Data: []byte(`{"durable_name":"plain","ack_policy":"explicit"}`)},
		"T_LIM.back.consumer.json":  {Data: []byte(`{"durable_name":"back","ack_policy":"explicit","backoff":[5000000000,10000000000],"max_deliver":3,"filter_subjects":["lim.a.>"]}`)},
		"T_WQ.json":                 {Data: []byte(`{"name":"T_WQ","subjects":["wq.>"],"retention":"workqueue","metadata":{"owner":"escai"}}`)},
		"T_WQ.w.consumer.json":      {Data: []byte(`{"durable_name":"w","ack_policy":"explicit","metadata":{"stage":"w"}}`)},
	})
	res, err := d.Apply(testCtx(t), js, broker.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "first", actions(res), []string{
		"stream T_LIM/T_LIM created", "consumer T_LIM/back created", "consumer T_LIM/plain created",
		"stream T_WQ/T_WQ created", "consumer T_WQ/w created",
	})
	res, err = d.Apply(testCtx(t), js, broker.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "second", actions(res), []string{
		"stream T_LIM/T_LIM unchanged", "consumer T_LIM/back unchanged", "consumer T_LIM/plain unchanged",
		"stream T_WQ/T_WQ unchanged", "consumer T_WQ/w unchanged",
	})
	if c := streamInfo(t, js, "T_LIM").Config; c.Duplicates != time.Minute || c.MaxMsgs != -1 {
		t.Fatalf("server defaults changed? %+v", c)
	}
}

// TestApplyConcurrent starts like several services at once: every Apply
// succeeds and each item is created exactly once.
func TestApplyConcurrent(t *testing.T) {
	t.Parallel()
	s := brokertest.StartNode(t)
	d := load(t)
	const n = 4
	results := make([][]broker.Result, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		js := brokertest.JetStream(t, brokertest.Connect(t, s))
		wg.Go(func() { results[i], errs[i] = d.Apply(testCtx(t), js, broker.Overrides{}) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	for i, rs := range results {
		for j, r := range rs {
			if r.Action != broker.ActionCreated && r.Action != broker.ActionUnchanged {
				t.Errorf("apply %d item %d: %+v", i, j, r)
			}
		}
	}
	js := brokertest.JetStream(t, brokertest.Connect(t, s))
	res, err := d.Apply(testCtx(t), js, broker.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "after", actions(res), allActions(broker.ActionUnchanged))
}

func TestApplyMaxAckPendingOverride(t *testing.T) {
	t.Parallel()
	js := brokertest.JetStream(t, brokertest.Connect(t, brokertest.StartNode(t)))
	d := load(t)
	ctx := testCtx(t)
	ov := broker.Overrides{MaxAckPending: 1234}
	if _, err := d.Apply(ctx, js, ov); err != nil {
		t.Fatal(err)
	}
	if _, err := d.EnsureTenant(ctx, js, "acme", ov); err != nil {
		t.Fatal(err)
	}
	for _, sc := range [][2]string{{"ESCAI_IN", "ingest"}, {"ESCAI_VALID", "pii-worker"}, {"ESCAI_SECURITY", "audit-writer"}, {"ESCAI_CLEAN_acme", "audit-writer"}} {
		c, err := js.Consumer(ctx, sc[0], sc[1])
		if err != nil {
			t.Fatal(err)
		}
		if got := c.CachedInfo().Config.MaxAckPending; got != 1234 {
			t.Errorf("%s/%s max_ack_pending = %d, want 1234", sc[0], sc[1], got)
		}
	}
	res, err := d.Apply(ctx, js, ov)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "second apply", actions(res), allActions(broker.ActionUnchanged))
}
