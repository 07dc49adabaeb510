package broker_test

import (
	"errors"
	"io/fs"
	"slices"
	"testing"
	"testing/fstest"

	"github.com/escai-framework/escai/internal/broker"
	"github.com/escai-framework/escai/streams"
)

func TestLoadDefinitionsEmbedded(t *testing.T) {
	t.Parallel()
	d, err := broker.LoadDefinitions(streams.FS)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range d.Streams() {
		names = append(names, s.Name)
	}
	want := []string{"ESCAI_AUDIT", "ESCAI_IN", "ESCAI_REJECTED", "ESCAI_SECURITY", "ESCAI_VALID", "ESCAI_CLEAN_{{tenant}}"}
	if !slices.Equal(names, want) {
		t.Fatalf("streams %q, want %q", names, want)
	}
	for stream, durable := range map[string]string{
		"ESCAI_IN":           "ingest",
		"ESCAI_VALID":        "pii-worker",
		"ESCAI_SECURITY":     "audit-writer",
		"ESCAI_CLEAN_TENANT": "audit-writer",
	} {
		cs := d.Consumers(stream)
		if len(cs) != 1 || cs[0].Durable != durable {
			t.Errorf("consumers of %s: %+v, want one durable %q", stream, cs, durable)
		}
	}
	if cs := d.Consumers("ESCAI_AUDIT"); len(cs) != 0 {
		t.Errorf("ESCAI_AUDIT has consumers %+v", cs)
	}

	// Accessors return copies.
	d.Streams()[0].Subjects[0] = "changed"
	if got := d.Streams()[0].Subjects[0]; got != "escai.audit.>" {
		t.Fatalf("Streams() shares its slices: %q", got)
	}
}

// embedded returns the streams/ files as a MapFS that a test may change.
func embedded(t *testing.T) fstest.MapFS {
	t.Helper()
	m := fstest.MapFS{}
	err := fs.WalkDir(streams.FS, ".", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := fs.ReadFile(streams.FS, p)
		m[p] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestLoadDefinitionsErrors(t *testing.T) {
	t.Parallel()
	const consumer = `{"durable_name":"w","ack_policy":"explicit","deliver_policy":"all"}`
	tests := map[string]struct {
		files map[string]string
		want  string
	}{
		"broken json": {
			files: map[string]string{"ESCAI_IN.json": `{"name":"ESCAI_IN",`},
			want:  "broker: invalid stream definition: ESCAI_IN.json: unexpected EOF",
		},
		"unknown field": {
			files: map[string]string{"ESCAI_IN.json": `{"name":"ESCAI_IN","subjects":["escai.in.>"],"max_agee":1}`},
			want:  `broker: invalid stream definition: ESCAI_IN.json: json: unknown field "max_agee"`,
		},
		"bad enum": {
			files: map[string]string{"ESCAI_IN.json": `{"name":"ESCAI_IN","subjects":["escai.in.>"],"retention":"forever"}`},
			want:  `broker: invalid stream definition: ESCAI_IN.json: nats: can not unmarshal "\"forever\""`,
		},
		"trailing data": {
			files: map[string]string{"ESCAI_IN.json": `{"name":"ESCAI_IN","subjects":["escai.in.>"]} {}`},
			want:  "broker: invalid stream definition: ESCAI_IN.json: trailing data after the JSON object",
		},
		"name differs from file": {
			files: map[string]string{"ESCAI_IN.json": `{"name":"ESCAI_OUT","subjects":["escai.in.>"]}`},
			want:  `broker: invalid stream definition: ESCAI_IN.json: stream "ESCAI_OUT" must be in file ESCAI_OUT.json`,
		},
		"no subjects": {
			files: map[string]string{"ESCAI_IN.json": `{"name":"ESCAI_IN"}`},
			want:  "broker: invalid stream definition: ESCAI_IN.json: subjects are required",
		},
		"template subject shared": {
			files: map[string]string{"ESCAI_CLEAN_TENANT.json": `{"name":"ESCAI_CLEAN_{{tenant}}","subjects":["escai.clean.>"]}`},
			want:  `broker: invalid stream definition: ESCAI_CLEAN_TENANT.json: template subject "escai.clean.>" lacks {{tenant}}, so tenants would share it`,
		},
		"bad file name": {
			files: map[string]string{"ESCAI_IN.v2.json": `{}`},
			want:  "broker: invalid stream definition: ESCAI_IN.v2.json: file name must be <STREAM>.json or <STREAM>.<durable>.consumer.json",
		},
		"consumer without stream": {
			files: map[string]string{"ESCAI_X.w.consumer.json": consumer},
			want:  "broker: invalid stream definition: ESCAI_X.w.consumer.json: no stream definition ESCAI_X.json",
		},
		"consumer durable differs": {
			files: map[string]string{
				"ESCAI_IN.json":            `{"name":"ESCAI_IN","subjects":["escai.in.>"]}`,
				"ESCAI_IN.v.consumer.json": consumer,
			},
			want: `broker: invalid stream definition: ESCAI_IN.v.consumer.json: durable_name "w" must match the file name ("v")`,
		},
		"consumer unknown field": {
			files: map[string]string{
				"ESCAI_IN.json":            `{"name":"ESCAI_IN","subjects":["escai.in.>"]}`,
				"ESCAI_IN.w.consumer.json": `{"durable_name":"w","max_ack_pendin":5}`,
			},
			want: `broker: invalid stream definition: ESCAI_IN.w.consumer.json: json: unknown field "max_ack_pendin"`,
		},
		"ack wait overridden by backoff": {
			files: map[string]string{
				"ESCAI_IN.json":            `{"name":"ESCAI_IN","subjects":["escai.in.>"]}`,
				"ESCAI_IN.w.consumer.json": `{"durable_name":"w","ack_wait":60000000000,"backoff":[30000000000]}`,
			},
			want: "broker: invalid stream definition: ESCAI_IN.w.consumer.json: ack_wait 1m0s differs from backoff[0] 30s, which the server would use instead",
		},
		"consumer replicas": {
			files: map[string]string{
				"ESCAI_IN.json":            `{"name":"ESCAI_IN","subjects":["escai.in.>"]}`,
				"ESCAI_IN.w.consumer.json": `{"durable_name":"w","num_replicas":3}`,
			},
			want: "broker: invalid stream definition: ESCAI_IN.w.consumer.json: num_replicas must be unset: consumers inherit the stream's replicas",
		},
		"two errors": {
			files: map[string]string{
				"ESCAI_A.json": `{"name":"ESCAI_A","subjects":["a.>"],"x":1}`,
				"ESCAI_B.json": `[]`,
			},
			want: `broker: invalid stream definition: ESCAI_A.json: json: unknown field "x"` + "\n" +
				"broker: invalid stream definition: ESCAI_B.json: json: cannot unmarshal array into Go value of type jetstream.StreamConfig",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			m := fstest.MapFS{"README.md": {Data: []byte("ignored")}}
			for f, s := range tc.files {
				m[f] = &fstest.MapFile{Data: []byte(s)}
			}
			d, err := broker.LoadDefinitions(m)
			if d != nil || !errors.Is(err, broker.ErrInvalidDefinition) || err.Error() != tc.want {
				t.Fatalf("got %v\nwant %s", err, tc.want)
			}
		})
	}
}

// FuzzLoadDefinitions feeds arbitrary bytes as a stream and a consumer file:
// LoadDefinitions must return definitions or an ErrInvalidDefinition, never
// panic.
func FuzzLoadDefinitions(f *testing.F) {
	entries, err := fs.ReadDir(streams.FS, ".")
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		b, err := fs.ReadFile(streams.FS, e.Name())
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, []byte(`{"durable_name":"w"}`))
		f.Add([]byte(`{"name":"ESCAI_X","subjects":["x.>"]}`), b)
	}
	f.Fuzz(func(t *testing.T, stream, consumer []byte) {
		d, err := broker.LoadDefinitions(fstest.MapFS{
			"ESCAI_X.json":            {Data: stream},
			"ESCAI_X.w.consumer.json": {Data: consumer},
		})
		if err != nil {
			if !errors.Is(err, broker.ErrInvalidDefinition) {
				t.Fatalf("error without ErrInvalidDefinition: %v", err)
			}
			return
		}
		for _, s := range d.Streams() {
			_ = d.Consumers(s.Name)
		}
	})
}
