package broker

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
)

// TenantPlaceholder is replaced by the tenant identifier in the per-tenant
// stream template and its consumers.
const TenantPlaceholder = "{{tenant}}"

// templateToken stands for the placeholder in the template's file name
// (ESCAI_CLEAN_TENANT.json) and as its key in Overrides.
const templateToken = "TENANT"

const (
	streamSuffix   = ".json"
	consumerSuffix = ".consumer.json"
)

// Definitions are the parsed streams/ files: the streams, their durable
// consumers and the per-tenant stream template. They are read-only once
// loaded and safe for concurrent use.
type Definitions struct {
	streams  []*streamDef // sorted by name; templates excluded
	template *templateDef // nil when the files hold no template
}

type streamDef struct {
	file      string
	cfg       jetstream.StreamConfig
	consumers []consumerDef // sorted by durable name
}

type consumerDef struct {
	file string
	cfg  jetstream.ConsumerConfig
	raw  []byte // template consumers are decoded per tenant
}

type templateDef struct {
	key       string // ESCAI_CLEAN_TENANT: file name and Overrides key
	file      string
	cfg       jetstream.StreamConfig // with placeholders
	raw       []byte
	consumers []consumerDef
}

// LoadDefinitions parses every definition file at the root of fsys (for
// production, streams.FS): <STREAM>.json for a stream or the tenant template,
// <STREAM>.<durable>.consumer.json for a durable pull consumer. Decoding is
// strict (unknown fields fail); every error names its file and wraps
// ErrInvalidDefinition. Files not ending in .json are ignored.
func LoadDefinitions(fsys fs.FS) (*Definitions, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("%w: read directory: %w", ErrInvalidDefinition, err)
	}
	d := &Definitions{}
	byKey := map[string]*streamDef{}
	type pending struct {
		stream, durable, file string
		raw                   []byte
	}
	var consumers []pending
	var errs []error
	fail := func(file, format string, v ...any) {
		errs = append(errs, fmt.Errorf("%w: %s: %s", ErrInvalidDefinition, file, fmt.Sprintf(format, v...)))
	}

	for _, e := range entries {
		file := e.Name()
		if e.IsDir() || path.Ext(file) != ".json" {
			continue
		}
		raw, err := fs.ReadFile(fsys, file)
		if err != nil {
			fail(file, "%v", err)
			continue
		}
		if base, ok := strings.CutSuffix(file, consumerSuffix); ok {
			stream, durable, ok := strings.Cut(base, ".")
			if !ok || stream == "" || durable == "" || strings.Contains(durable, ".") {
				fail(file, "consumer file name must be <STREAM>.<durable>.consumer.json")
				continue
			}
			consumers = append(consumers, pending{stream, durable, file, raw})
			continue
		}
		key := strings.TrimSuffix(file, streamSuffix)
		if strings.Contains(key, ".") {
			fail(file, "file name must be <STREAM>.json or <STREAM>.<durable>.consumer.json")
			continue
		}
		var cfg jetstream.StreamConfig
		if err := decodeStrict(raw, &cfg); err != nil {
			fail(file, "%v", err)
			continue
		}
		if err := checkStream(key, cfg); err != nil {
			fail(file, "%v", err)
			continue
		}
		if strings.Contains(cfg.Name, TenantPlaceholder) {
			if d.template != nil {
				fail(file, "second tenant template (first is %s)", d.template.file)
				continue
			}
			d.template = &templateDef{key: key, file: file, cfg: cfg, raw: raw}
			continue
		}
		sd := &streamDef{file: file, cfg: cfg}
		byKey[key] = sd
		d.streams = append(d.streams, sd)
	}

	for _, p := range consumers {
		var cfg jetstream.ConsumerConfig
		raw := p.raw
		isTemplate := d.template != nil && p.stream == d.template.key
		if isTemplate {
			raw = substitute(raw, "x")
		}
		if err := decodeStrict(raw, &cfg); err != nil {
			fail(p.file, "%v", err)
			continue
		}
		if err := checkConsumer(p.durable, cfg); err != nil {
			fail(p.file, "%v", err)
			continue
		}
		cd := consumerDef{file: p.file, cfg: cfg}
		switch sd := byKey[p.stream]; {
		case isTemplate:
			cd.raw = p.raw
			d.template.consumers = append(d.template.consumers, cd)
		case sd != nil:
			sd.consumers = append(sd.consumers, cd)
		default:
			fail(p.file, "no stream definition %s.json", p.stream)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	sort.Slice(d.streams, func(i, j int) bool { return d.streams[i].cfg.Name < d.streams[j].cfg.Name })
	byDurable := func(a, b consumerDef) int { return strings.Compare(a.cfg.Durable, b.cfg.Durable) }
	for _, sd := range d.streams {
		slices.SortFunc(sd.consumers, byDurable)
	}
	if d.template != nil {
		slices.SortFunc(d.template.consumers, byDurable)
	}
	return d, nil
}

// decodeStrict decodes exactly one JSON value, refusing unknown fields.
func decodeStrict(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("trailing data after the JSON object")
	}
	return nil
}

func checkStream(key string, cfg jetstream.StreamConfig) error {
	if cfg.Name == "" {
		return errors.New("name is required")
	}
	if len(cfg.Subjects) == 0 {
		return errors.New("subjects are required")
	}
	if strings.Contains(cfg.Name, TenantPlaceholder) {
		if want := strings.ReplaceAll(cfg.Name, TenantPlaceholder, templateToken); want != key {
			return fmt.Errorf("template %q must be in file %s.json", cfg.Name, want)
		}
		for _, s := range cfg.Subjects {
			if !strings.Contains(s, TenantPlaceholder) {
				return fmt.Errorf("template subject %q lacks %s, so tenants would share it", s, TenantPlaceholder)
			}
		}
		return nil
	}
	if cfg.Name != key {
		return fmt.Errorf("stream %q must be in file %s.json", cfg.Name, cfg.Name)
	}
	for _, s := range cfg.Subjects {
		if strings.Contains(s, "{{") {
			return fmt.Errorf("subject %q has a placeholder but the stream is no template", s)
		}
	}
	return nil
}

func checkConsumer(durable string, cfg jetstream.ConsumerConfig) error {
	switch {
	case cfg.Durable != durable:
		return fmt.Errorf("durable_name %q must match the file name (%q)", cfg.Durable, durable)
	case cfg.Name != "" && cfg.Name != cfg.Durable:
		return fmt.Errorf("name %q differs from durable_name %q", cfg.Name, cfg.Durable)
	case cfg.DeliverSubject != "":
		return errors.New("deliver_subject is set, but consumers here are pull consumers")
	case cfg.Replicas != 0:
		return errors.New("num_replicas must be unset: consumers inherit the stream's replicas")
	case len(cfg.BackOff) > 0 && cfg.AckWait != 0 && cfg.AckWait != cfg.BackOff[0]:
		return fmt.Errorf("ack_wait %v differs from backoff[0] %v, which the server would use instead", cfg.AckWait, cfg.BackOff[0])
	case len(cfg.BackOff) > 0 && cfg.MaxDeliver > 0 && len(cfg.BackOff) > cfg.MaxDeliver:
		return fmt.Errorf("backoff has %d steps but max_deliver is %d", len(cfg.BackOff), cfg.MaxDeliver)
	}
	return nil
}

// substitute replaces the tenant placeholder in a definition. The tenant is
// a validated identifier, so it needs no JSON escaping.
func substitute(raw []byte, tenant string) []byte {
	return bytes.ReplaceAll(raw, []byte(TenantPlaceholder), []byte(tenant))
}

// Streams returns copies of the stream definitions, sorted by name; the
// tenant template comes last, with its placeholders, when there is one.
func (d *Definitions) Streams() []jetstream.StreamConfig {
	out := make([]jetstream.StreamConfig, 0, len(d.streams)+1)
	for _, sd := range d.streams {
		out = append(out, cloneStream(sd.cfg))
	}
	if d.template != nil {
		out = append(out, cloneStream(d.template.cfg))
	}
	return out
}

// Consumers returns copies of the consumer definitions of a stream, sorted
// by durable name. For the template, pass its key (ESCAI_CLEAN_TENANT).
func (d *Definitions) Consumers(stream string) []jetstream.ConsumerConfig {
	var defs []consumerDef
	if d.template != nil && stream == d.template.key {
		defs = d.template.consumers
	}
	for _, sd := range d.streams {
		if sd.cfg.Name == stream {
			defs = sd.consumers
		}
	}
	out := make([]jetstream.ConsumerConfig, 0, len(defs))
	for _, cd := range defs {
		out = append(out, cloneConsumer(cd.cfg))
	}
	return out
}

// cloneStream and cloneConsumer copy a config so that changing the copy's
// fields, slices or maps never changes the original. Pointer fields (mirror,
// sources, placement, ...) stay shared: nothing here writes through them.
func cloneStream(cfg jetstream.StreamConfig) jetstream.StreamConfig {
	cfg.Subjects = slices.Clone(cfg.Subjects)
	cfg.Sources = slices.Clone(cfg.Sources)
	cfg.Metadata = maps.Clone(cfg.Metadata)
	return cfg
}

func cloneConsumer(cfg jetstream.ConsumerConfig) jetstream.ConsumerConfig {
	cfg.BackOff = slices.Clone(cfg.BackOff)
	cfg.FilterSubjects = slices.Clone(cfg.FilterSubjects)
	cfg.PriorityGroups = slices.Clone(cfg.PriorityGroups)
	cfg.Metadata = maps.Clone(cfg.Metadata)
	return cfg
}
