package validate

import (
	"encoding/json"
	"testing"
	"time"

	libinjection "github.com/corazawaf/libinjection-go"

	"github.com/escai-framework/escai/pkg/events"
	"github.com/escai-framework/escai/pkg/security/config"
)

// benchData are the data payloads of realistic agent events: tool calls
// with SQL, shell, files and URLs, model output with Markdown, chat
// messages in the OpenTelemetry GenAI shape, and a tool result.
var benchData = []string{
	`{"tool":"run_sql","arguments":{"sql":"SELECT o.id, c.name, SUM(li.amount) AS total FROM orders o JOIN customers c ON c.id = o.customer_id JOIN line_items li ON li.order_id = o.id WHERE c.last_name = 'O''Brien' GROUP BY o.id, c.name ORDER BY total DESC LIMIT 20","database":"analytics","timeout_ms":5000}}`,
	`{"tool":"bash","arguments":{"command":"cd /srv/app && git pull --rebase && go test ./... 2>&1 | tail -20","description":"Run the test suite","cwd":"/srv/app"}}`,
	`{"tool":"write_file","arguments":{"file_path":"/workspace/web/src/index.html","content":"<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>App</title><script src=\"app.js\"></script></head><body><div id=\"root\"></div></body></html>"}}`,
	`{"tool":"http_get","arguments":{"url":"https://api.example.com/v2/items?ids=1,2,3&fields=name,price&sort=-created_at","headers":{"User-Agent":"escai-agent/1.0 (+https://example.com)","Accept":"application/json","Authorization":"Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc"}}}`,
	`{"gen_ai.operation.name":"chat","gen_ai.request.model":"gpt-4o","gen_ai.input.messages":[{"role":"system","parts":[{"type":"text","content":"You are a helpful assistant for Acme Corp. Answer briefly."}]},{"role":"user","parts":[{"type":"text","content":"What's the status of order #4521? The customer, Mr. O'Connor, says it hasn't arrived yet."}]}],"gen_ai.output.messages":[{"role":"assistant","parts":[{"type":"tool_call","id":"call_abc123","name":"lookup_order","arguments":{"order_id":"4521"}}],"finish_reason":"tool_call"}],"gen_ai.usage.input_tokens":182,"gen_ai.usage.output_tokens":24}`,
	`{"output":"Here's what I found:\n\n**Order #4521** shipped on 2024-03-02 via UPS (tracking [1Z999AA10123456784](https://www.ups.com/track?tracknum=1Z999AA10123456784)).\n\n| Item | Qty | Price |\n|------|-----|-------|\n| Widget | 2 | $5.00 |\n| Gadget | 1 | $12.50 |\n\nTo check it yourself, run:\n\n` + "```" + `bash\ncurl -s https://api.example.com/orders/4521 | jq .status\n` + "```" + `\n\nLet me know if you'd like me to open a ticket.","finish_reason":"stop","latency_ms":812}`,
	`{"tool_call_id":"call_abc123","name":"lookup_order","result":{"order_id":"4521","status":"shipped","carrier":"UPS","items":[{"sku":"W-1","name":"Widget","qty":2,"price":"$5.00"},{"sku":"G-7","name":"Gadget","qty":1,"price":"$12.50"}],"customer":{"name":"Seán O'Connor","email":"sean@example.ie","address":"12 Rue de l'Église, 1000 Bruxelles"}}}`,
	`{"tool":"search_web","arguments":{"query":"golang context cancellation best practices","max_results":5},"results":[{"title":"Go Concurrency Patterns: Context","url":"https://go.dev/blog/context","snippet":"In Go servers, each incoming request is handled in its own goroutine."},{"title":"context package - Go Packages","url":"https://pkg.go.dev/context","snippet":"Package context defines the Context type, which carries deadlines, cancellation signals, and other request-scoped values."}]}`,
	`{"error":"Traceback (most recent call last):\n  File \"/app/handlers.py\", line 88, in on_message\n    uid = payload['user_id']\nKeyError: 'user_id'","tool":"process_webhook","arguments":{"path":"/var/lib/app/webhooks/2024-05-01/evt_123.json"},"retry":false}`,
	`{"tool":"mongo_find","arguments":{"collection":"users","filter":{"status":"active","age":{"$gte":18},"tags":{"$in":["beta","vip"]}},"limit":50,"sort":{"created_at":-1}}}`,
}

func benchEnvelopes(b *testing.B) []*events.Envelope {
	b.Helper()
	t0 := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	envs := make([]*events.Envelope, len(benchData))
	for i, d := range benchData {
		if !json.Valid([]byte(d)) {
			b.Fatalf("benchData[%d] is not valid JSON", i)
		}
		envs[i] = &events.Envelope{
			SpecVersion: "1.0", ID: "evt-" + itoa(i), Source: "https://agents.example.com/acme/agent-1",
			Type: "escai.tool.call", Time: t0, DataContentType: "application/json",
			Data: json.RawMessage(d), Tenant: "acme", AgentID: "agent-1", SessionID: "sess-1",
		}
	}
	return envs
}

// benchStrings collects every string value of the bench events (keys
// excluded), the same strings CheckEvent looks at.
func benchStrings(b *testing.B) []string {
	b.Helper()
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			out = append(out, x)
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	for _, d := range benchData {
		var v any
		if err := json.Unmarshal([]byte(d), &v); err != nil {
			b.Fatal(err)
		}
		walk(v)
	}
	// the envelope attributes CheckEvent checks
	for range benchData {
		out = append(out, "acme", "agent-1", "sess-1", "https://agents.example.com/acme/agent-1")
	}
	return out
}

// BenchmarkCheckEvent validates realistic events; ns/field is the
// average cost per string field, the figure the design targets (<= 5µs).
func BenchmarkCheckEvent(b *testing.B) {
	v, err := New(DefaultConfig(config.LevelStandard))
	if err != nil {
		b.Fatal(err)
	}
	envs := benchEnvelopes(b)
	fields := len(benchStrings(b))
	for _, e := range envs {
		if r := v.CheckEvent(e); r.Verdict != VerdictClean {
			b.Fatalf("bench event %s is not clean: %+v", e.ID, r)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, e := range envs {
			v.CheckEvent(e)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(fields), "ns/field")
	b.ReportMetric(float64(fields), "fields/op")
}

// BenchmarkLibinjectionAlone calls libinjection's SQLi and XSS detectors
// on the same strings, without pre-filters or context: the baseline the
// validator is compared with.
func BenchmarkLibinjectionAlone(b *testing.B) {
	strs := benchStrings(b)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, s := range strs {
			libinjection.IsSQLi(s)
			libinjection.IsXSS(s)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(strs)), "ns/field")
}

// BenchmarkCheckFieldClean is one short clean field: the common case,
// which should not allocate.
func BenchmarkCheckFieldClean(b *testing.B) {
	v, err := New(DefaultConfig(config.LevelStandard))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		v.CheckField("data.arguments.location", "San Francisco, CA")
	}
}
