package pii

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/escai-framework/escai/pkg/events"
	"github.com/escai-framework/escai/pkg/security/config"
)

func TestScanJSONL(t *testing.T) {
	t.Parallel()
	d := detector(t, config.SensitivityMedium)
	long := `{"id":"big","text":"` + strings.Repeat("a", MaxLineBytes) + `"}`
	in := strings.Join([]string{
		`{"id":"1","text":"Grüße, schreib an jürgen@example.de"}`,
		`{"id":2,"text":"nothing here 1718023456789"}`,
		`not json`,
		`{"id":"3"}`,
		``,
		long,
		`{"id":{"k":[1, 2]},"text":"SSN 536-22-1234\r"}` + "\r",
		`{"text":"call +1 415 555 2671"}`,
		`{"id":"5","text":42}`,
	}, "\n") // no newline after the last line
	var out bytes.Buffer
	if err := ScanJSONL(context.Background(), d, strings.NewReader(in), &out); err != nil {
		t.Fatal(err)
	}
	want := []string{
		`{"id":"1","matches":[{"type":"EMAIL","start":20,"end":38,"score":0.9}]}`,
		`{"id":2,"matches":[]}`,
		`{"id":null,"error":"invalid JSON: invalid character 'o' in literal null (expecting 'u')"}`,
		`{"id":"3","error":"missing \"text\" string"}`,
		`{"id":null,"error":"empty line"}`,
		`{"id":null,"error":"line exceeds 1048576 bytes"}`,
		`{"id":{"k":[1,2]},"matches":[{"type":"SSN","start":4,"end":15,"score":1}]}`,
		`{"id":null,"matches":[{"type":"PHONE","start":5,"end":20,"score":1}]}`,
		`{"id":null,"error":"invalid JSON: field \"text\" has the wrong type (number)"}`,
	}
	got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(got) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(got), len(want), out.String())
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d\n got %s\nwant %s", i+1, got[i], want[i])
		}
		if !json.Valid([]byte(got[i])) {
			t.Errorf("line %d is not JSON", i+1)
		}
	}
}

func TestScanJSONLErrors(t *testing.T) {
	t.Parallel()
	d := detector(t, config.SensitivityMedium)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := ScanJSONL(ctx, d, strings.NewReader(`{"id":1,"text":"x"}`), io.Discard); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: %v", err)
	}
	readErr := errors.New("disk gone")
	if err := ScanJSONL(context.Background(), d, io.MultiReader(strings.NewReader("{\"id\":1,\"text\":\"x\"}\n"), errReader{readErr}), io.Discard); !errors.Is(err, readErr) {
		t.Errorf("read error: %v", err)
	}
	if err := ScanJSONL(context.Background(), d, strings.NewReader(`{"id":1,"text":"x"}`), errWriter{}); err == nil {
		t.Error("write error lost")
	}
	var out bytes.Buffer
	if err := ScanJSONL(context.Background(), d, strings.NewReader(""), &out); err != nil || out.Len() != 0 {
		t.Errorf("empty input: %v %q", err, out.String())
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

type errWriter struct{}

func (errWriter) Write([]byte) (int, error) { return 0, errors.New("pipe closed") }

const envelopeLine = `{"specversion":"1.0","id":"evt-1","source":"https://agents.example/a1","type":"escai.tool.call",` +
	`"time":"2025-03-01T12:00:00Z","tenant":"acme","agentid":"agent-1","sessionid":"s-1","escaivalidation":{"verdict":"clean"},` +
	`"data":{"tool":"send_email","arguments":"{\"to\":\"jane@example.com\",\"body\":\"call 415-882-9090\"}","user":"bob@example.com","n":1}}`

func TestMaskJSONL(t *testing.T) {
	t.Parallel()
	m := masker(t, Config{Sensitivity: config.SensitivityMedium})
	in := envelopeLine + "\n" + `{"id":"evt-2","specversion":"0.3"}` + "\n" + "garbage\n"
	var out bytes.Buffer
	if err := MaskJSONL(context.Background(), m, strings.NewReader(in), &out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("lines: %q", lines)
	}
	e, err := events.Decode([]byte(lines[0]), events.DefaultLimits())
	if err != nil {
		t.Fatalf("output does not decode: %v", err)
	}
	wantData := `{"tool":"send_email","arguments":"{\"to\":\"ja**@example.com\",\"body\":\"call 4**-***-**90\"}","user":"b**@example.com","n":1}`
	if string(e.Data) != wantData {
		t.Errorf("data\n got %s\nwant %s", e.Data, wantData)
	}
	if ext, _ := e.Extension(ExtensionName); string(ext) != `{"status":"scanned","counts":{"EMAIL":2,"PHONE":1}}` {
		t.Errorf("escaipii %s", ext)
	}
	if ext, _ := e.Extension("escaivalidation"); string(ext) != `{"verdict":"clean"}` {
		t.Errorf("another stage's extension changed: %s", ext)
	}
	if e.ID != "evt-1" || e.Tenant != "acme" || e.AgentID != "agent-1" || e.SessionID != "s-1" || e.Type != "escai.tool.call" {
		t.Errorf("routing attributes changed: %+v", e)
	}
	if !strings.HasPrefix(lines[1], `{"id":"evt-2","error":"events: attribute \"specversion\": unsupported`) {
		t.Errorf("bad envelope line: %s", lines[1])
	}
	if !strings.HasPrefix(lines[2], `{"id":null,"error":"events: malformed JSON`) {
		t.Errorf("garbage line: %s", lines[2])
	}
}

func TestMaskEnvelopeNoData(t *testing.T) {
	t.Parallel()
	m := masker(t, Config{})
	e, err := events.Decode([]byte(strings.Replace(envelopeLine, `"data":{`, `"x":{`, 1)), events.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	c, err := m.MaskEnvelope(e)
	if err != nil || c != nil {
		t.Fatalf("%v %v", c, err)
	}
	if ext, _ := e.Extension(ExtensionName); string(ext) != `{"status":"scanned","counts":{}}` {
		t.Errorf("escaipii %s", ext)
	}
	if _, err := m.MaskEnvelope(nil); err == nil {
		t.Error("nil envelope accepted")
	}
}
