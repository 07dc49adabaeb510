package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/escai-framework/escai/pkg/events"
)

var fuzzContentTypes = []string{
	"application/x-ndjson",
	"application/json",
	"application/cloudevents+json; charset=UTF-8",
	"text/plain",
}

// FuzzIngestBody drives the whole handler — splitting, decoding, the token
// checks, the processor and publishing to a real broker started once —
// with arbitrary bodies: it must never panic, must answer only with the
// statuses a healthy broker allows, and a 200 must account for every line.
func FuzzIngestBody(f *testing.F) {
	e := newEnv(f)
	h, _ := e.handler(f, func(c *IngestConfig) {
		c.MaxBatch = 20
		c.MaxBodyBytes = 64 << 10
		c.PublishTimeout = 3 * time.Second
		c.Limits = events.Limits{MaxBytes: 8 << 10, MaxDepth: 16}
	})
	tok := token(f)
	good := envelope("acme", "agent-1", "f-1")
	seeds := [][]byte{
		good,
		bytes.Join([][]byte{good, envelope("acme", "agent-2", "f-2"), []byte("not json"), envelope("globex", "agent-1", "f-3")}, []byte("\n")),
		bytes.Join([][]byte{good, good, []byte("")}, []byte("\r\n")),
		[]byte("\n\n \t\r\n"),
		[]byte(""),
		bytes.Repeat([]byte("{}\n"), 21),
		[]byte(strings.Repeat("[", 100)),
		append(append([]byte{}, good[:40]...), 0xff, 0xfe),
		bytes.Replace(good, []byte(`"data":{`), []byte(`"data_base64":"AA","data":{`), 1),
		[]byte(`{"specversion":"1.0","id":"x","source":"s","type":"escai.a","time":"2026-01-01T00:00:00Z","tenant":"acme","agentid":"agent-9"}`),
	}
	for i, s := range seeds {
		f.Add(uint8(i%len(fuzzContentTypes)), s)
		f.Add(uint8(0), s)
	}
	allowed := map[int]bool{http.StatusOK: true, http.StatusBadRequest: true, http.StatusRequestEntityTooLarge: true, http.StatusUnsupportedMediaType: true}
	f.Fuzz(func(t *testing.T, ct uint8, body []byte) {
		contentType := fuzzContentTypes[int(ct)%len(fuzzContentTypes)]
		r := post(h, contentType, tok, body)
		if !allowed[r.code] {
			t.Fatalf("status %d: %s", r.code, r.body)
		}
		if r.code != http.StatusOK {
			var er ErrorResponse
			if err := json.Unmarshal(r.body, &er); err != nil || er.Error == "" {
				t.Fatalf("error body %q: %v", r.body, err)
			}
			return
		}
		var resp IngestResponse
		if err := json.Unmarshal(r.body, &resp); err != nil {
			t.Fatalf("response %q: %v", r.body, err)
		}
		want := 1
		if contentType == fuzzContentTypes[0] {
			lines, _ := splitLines(body, 20)
			want = len(lines)
		}
		if len(resp.Results) != want || resp.Accepted+resp.Rejected != want {
			t.Fatalf("%d results (%d+%d) for %d events", len(resp.Results), resp.Accepted, resp.Rejected, want)
		}
		for i, res := range resp.Results {
			if res.Index != i {
				t.Fatalf("result %d has index %d", i, res.Index)
			}
			switch res.Status {
			case StatusAccepted:
				if len(res.Reasons) != 0 {
					t.Fatalf("accepted with reasons: %+v", res)
				}
			case StatusRejected:
				if len(res.Reasons) == 0 || res.Reasons[0].Code == "" || res.Reasons[0].Code == "invalid" {
					t.Fatalf("rejected without a reason code: %+v", res)
				}
			default:
				t.Fatalf("status %q", res.Status)
			}
		}
	})
}
