package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/escai-framework/escai/internal/broker/brokertest"
	"github.com/escai-framework/escai/internal/stage"
	"github.com/escai-framework/escai/internal/telemetry/telemetrytest"
	"github.com/escai-framework/escai/pkg/events"
)

func TestSingleEnvelopeAccepted(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	h, reg := e.handler(t, nil)
	ev := envelope("acme", "agent-1", "evt-1")
	for _, ct := range []string{"application/cloudevents+json", "application/json; charset=utf-8"} {
		resp := post(h, ct, token(t), ev).decode(t)
		want := IngestResponse{Accepted: 1, Results: []EventResult{{Index: 0, ID: "evt-1", Status: StatusAccepted}}}
		if fmt.Sprint(resp) != fmt.Sprint(want) {
			t.Fatalf("%s: response %+v, want %+v", ct, resp, want)
		}
	}
	msgs := storedMsgs(t, e.js, events.StreamValid)
	if len(msgs) != 1 {
		t.Fatalf("ESCAI_VALID holds %d messages, want 1 (the second post is a duplicate)", len(msgs))
	}
	m := msgs[0]
	if m.Subject != "escai.valid.acme.agent-1.tool.call" || !bytes.Equal(m.Data, ev) || m.Header.Get(events.HeaderMsgID) != "valid:acme:agent-1:evt-1" {
		t.Fatalf("stored %s %q %v", m.Subject, m.Data, m.Header)
	}
	if n := streamMsgs(t, e.js, events.StreamRejected); n != 0 {
		t.Fatalf("ESCAI_REJECTED holds %d", n)
	}
	if got := telemetrytest.Counter(t, reg, "escai_http_requests_total", "code", "200"); got != 2 {
		t.Fatalf("requests{200} = %v", got)
	}
	if got := telemetrytest.Counter(t, reg, "escai_http_events_total", "outcome", OutcomeAccepted); got != 2 {
		t.Fatalf("events{accepted} = %v", got)
	}
}

// badLine returns bad event k (0..9) of a batch; each is distinct and each
// is refused for a different reason.
func badLine(k, i int) (line []byte, code, field string) {
	id := fmt.Sprintf("bad-%04d", i)
	good := string(envelope("acme", "agent-1", id))
	switch k {
	case 0:
		return fmt.Appendf(nil, "not json %d", i), "malformed_json", ""
	case 1:
		return envelope("ACME", "agent-1", id), "invalid_identifier", "tenant"
	case 2:
		return []byte(strings.Replace(good, `"type":"escai.tool.call",`, "", 1)), "missing_attribute", "type"
	case 3:
		return envelope("globex", "agent-1", id), CodeForbidden, "tenant"
	case 4:
		return envelope("acme", "agent-9", id), CodeForbidden, "agentid"
	case 5:
		return []byte(strings.Replace(good, `"data":{`, `"data":{"deep":`+strings.Repeat("[", 40)+strings.Repeat("]", 40)+`,`, 1)), "too_deep", ""
	case 6:
		return []byte(strings.Replace(good, `"id":`, `"tenant":"acme","id":`, 1)), "duplicate_attribute", "tenant"
	case 7:
		return []byte(strings.Replace(good, `"data":{`, `"data_base64":"AAAA","data":{`, 1)), "unsupported", "data_base64"
	case 8:
		return []byte(strings.Replace(good, `"2026-12-04T10:00:00Z"`, `"yesterday"`, 1)), "invalid_attribute", "time"
	default:
		return []byte(good[:len(good)/2]), "malformed_json", ""
	}
}

func TestNDJSONBatchIsIdempotent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	h, reg := e.handler(t, nil)
	var (
		body      bytes.Buffer
		wantCodes = map[int][2]string{}
	)
	bad := 0
	for i := range 1000 {
		var line []byte
		if i%100 == 37 {
			var code, field string
			line, code, field = badLine(bad, i)
			wantCodes[i] = [2]string{code, field}
			bad++
		} else {
			line = envelope("acme", fmt.Sprintf("agent-%d", 1+i%3), fmt.Sprintf("evt-%04d", i))
		}
		body.Write(line)
		switch i % 250 {
		case 3:
			body.WriteString("\r\n") // CRLF is one line end
		case 4:
			body.WriteString("\n  \n\t\n") // blank lines are ignored
		default:
			body.WriteString("\n")
		}
	}
	tok := token(t)

	first := post(h, "application/x-ndjson", tok, body.Bytes())
	resp := first.decode(t)
	if resp.Accepted != 990 || resp.Rejected != 10 || len(resp.Results) != 1000 {
		t.Fatalf("accepted %d rejected %d results %d", resp.Accepted, resp.Rejected, len(resp.Results))
	}
	for i, r := range resp.Results {
		if r.Index != i {
			t.Fatalf("result %d has index %d", i, r.Index)
		}
		want, isBad := wantCodes[i]
		switch {
		case !isBad && (r.Status != StatusAccepted || r.ID != fmt.Sprintf("evt-%04d", i) || r.Reasons != nil):
			t.Fatalf("result %d = %+v, want accepted", i, r)
		case isBad && (r.Status != StatusRejected || len(r.Reasons) != 1 || r.Reasons[0].Code != want[0] || r.Reasons[0].Field != want[1]):
			t.Fatalf("result %d = %+v, want rejected %v", i, r, want)
		}
	}
	if v, rj := streamMsgs(t, e.js, events.StreamValid), streamMsgs(t, e.js, events.StreamRejected); v != 990 || rj != 10 {
		t.Fatalf("streams hold valid %d / rejected %d, want 990 / 10", v, rj)
	}

	// The client did not see the answer and retries: same answer, nothing
	// stored twice.
	again := post(h, "application/x-ndjson", tok, body.Bytes())
	if again.code != http.StatusOK || !bytes.Equal(again.body, first.body) {
		t.Fatalf("retry answered %d %s", again.code, again.body)
	}
	if v, rj := streamMsgs(t, e.js, events.StreamValid), streamMsgs(t, e.js, events.StreamRejected); v != 990 || rj != 10 {
		t.Fatalf("after the retry streams hold valid %d / rejected %d, want 990 / 10", v, rj)
	}
	for outcome, want := range map[string]float64{OutcomeAccepted: 1980, OutcomeRejected: 16, OutcomeForbidden: 4} {
		if got := telemetrytest.Counter(t, reg, "escai_http_events_total", "outcome", outcome); got != want {
			t.Errorf("events{%s} = %v, want %v", outcome, got, want)
		}
	}
}

func TestDeadLetters(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	h, _ := e.handler(t, func(c *IngestConfig) { c.Limits = events.Limits{MaxBytes: 4096} })
	notJSON := []byte("\x00\x01 definitely not json")
	forged := envelope("globex", "agent-1", "forged-1")
	huge := envelope("acme", "agent-1", "huge-1")
	huge = bytes.Replace(huge, []byte("select huge-1"), bytes.Repeat([]byte("x"), 5000), 1)
	body := bytes.Join([][]byte{notJSON, forged, huge}, []byte("\n"))
	resp := post(h, "application/x-ndjson", token(t), body).decode(t)
	if resp.Accepted != 0 || resp.Rejected != 3 {
		t.Fatalf("response %+v", resp)
	}
	if r := resp.Results[1]; r.ID != "forged-1" || r.Reasons[0] != (Reason{Code: CodeForbidden, Field: "tenant", Detail: "the token does not allow this tenant"}) {
		t.Fatalf("forged result %+v", r)
	}
	if r := resp.Results[2]; r.Reasons[0].Code != "too_large" {
		t.Fatalf("huge result %+v", r)
	}
	hash := func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:8]) }
	want := []struct {
		subject, msgID, code, field, source string
		data                                []byte
		originalSize                        string
	}{
		{"escai.rejected._unknown._unknown", "rejected:http:_unknown:_unknown:" + hash(notJSON), "malformed_json", "", "", notJSON, ""},
		{"escai.rejected.globex.agent-1", "rejected:http:globex:agent-1:" + hash(forged), CodeForbidden, "tenant", "escai.in.globex.agent-1.tool.call", forged, ""},
		{"escai.rejected._unknown._unknown", "rejected:http:_unknown:_unknown:" + hash(huge), "too_large", "", "", huge[:4096], fmt.Sprint(len(huge))},
	}
	msgs := storedMsgs(t, e.js, events.StreamRejected)
	if len(msgs) != len(want) {
		t.Fatalf("%d dead letters, want %d", len(msgs), len(want))
	}
	for i, w := range want {
		m := msgs[i]
		hd := m.Header
		if m.Subject != w.subject || hd.Get(events.HeaderMsgID) != w.msgID || hd.Get(events.HeaderRejectCode) != w.code ||
			hd.Get(events.HeaderRejectField) != w.field || hd.Get(events.HeaderRejectStage) != StageName ||
			hd.Get(events.HeaderSourceSubject) != w.source || !bytes.Equal(m.Data, w.data) || hd.Get(HeaderOriginalSize) != w.originalSize {
			t.Errorf("dead letter %d: %s %v %d bytes\nwant %+v", i, m.Subject, hd, len(m.Data), w)
		}
		if _, ok := hd[events.HeaderSourceSequence]; ok {
			t.Errorf("dead letter %d carries a source sequence", i)
		}
	}
	if got := msgs[1].Header.Get(events.HeaderRejectReason); !strings.Contains(got, `token tenant "acme" may not publish for tenant "globex"`) {
		t.Errorf("forbidden reason %q", got)
	}
	if n := streamMsgs(t, e.js, events.StreamValid); n != 0 {
		t.Fatalf("ESCAI_VALID holds %d", n)
	}
}

func TestStatusCodes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ev := envelope("acme", "agent-1", "evt-1")
	h, _ := e.handler(t, nil)
	small, _ := e.handler(t, func(c *IngestConfig) { c.MaxBodyBytes = 1024; c.MaxBatch = 3 })
	scoped, _ := e.handler(t, func(c *IngestConfig) { c.RequiredScope = "events:admin" })
	noneTok := func() string {
		tok := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"iss": testIssuer, "aud": testAudience, "exp": time.Now().Add(time.Hour).Unix(), "tenant": "acme", "agents": []string{"agent-1"}})
		tok.Header["kid"] = "ed-1"
		s, err := tok.SignedString(jwt.UnsafeAllowNoneSignatureType)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}()
	lines := func(n int) []byte {
		var b bytes.Buffer
		for i := range n {
			b.Write(envelope("acme", "agent-1", fmt.Sprint("l", i)))
			b.WriteByte('\n')
		}
		return b.Bytes()
	}
	const invalidToken = `Bearer error="invalid_token"`
	cases := map[string]struct {
		h       http.Handler
		method  string
		ct      string
		auth    []string
		body    []byte
		status  int
		errCode string
		header  [2]string
	}{
		"GET":                     {h: h, method: http.MethodGet, ct: "application/json", body: ev, status: 405, errCode: "method_not_allowed", header: [2]string{"Allow", "POST"}},
		"PUT":                     {h: h, method: http.MethodPut, ct: "application/json", body: ev, status: 405, errCode: "method_not_allowed"},
		"no token":                {h: h, ct: "application/json", body: ev, status: 401, errCode: "unauthorized", header: [2]string{"WWW-Authenticate", invalidToken}},
		"expired token":           {h: h, ct: "application/json", auth: []string{"Bearer " + token(t, "exp", time.Now().Add(-time.Hour).Unix())}, body: ev, status: 401, errCode: "unauthorized", header: [2]string{"WWW-Authenticate", invalidToken}},
		"wrong audience":          {h: h, ct: "application/json", auth: []string{"Bearer " + token(t, "aud", "escai-admin")}, body: ev, status: 401, errCode: "unauthorized", header: [2]string{"WWW-Authenticate", invalidToken}},
		"alg none":                {h: h, ct: "application/json", auth: []string{"Bearer " + noneTok}, body: ev, status: 401, errCode: "unauthorized", header: [2]string{"WWW-Authenticate", invalidToken}},
		"garbage token":           {h: h, ct: "application/json", auth: []string{"Bearer abc.def.ghi"}, body: ev, status: 401, errCode: "unauthorized"},
		"basic scheme":            {h: h, ct: "application/json", auth: []string{"Basic " + token(t)}, body: ev, status: 401, errCode: "unauthorized"},
		"two tokens":              {h: h, ct: "application/json", auth: []string{"Bearer " + token(t), "Bearer " + token(t)}, body: ev, status: 401, errCode: "unauthorized"},
		"lowercase bearer":        {h: h, ct: "application/json", auth: []string{"bearer " + token(t)}, body: ev, status: 200},
		"missing scope":           {h: scoped, ct: "application/json", auth: []string{"Bearer " + token(t)}, body: ev, status: 403, errCode: "insufficient_scope"},
		"text/plain":              {h: h, ct: "text/plain", auth: []string{"Bearer " + token(t)}, body: ev, status: 415, errCode: "unsupported_media_type"},
		"no content type":         {h: h, auth: []string{"Bearer " + token(t)}, body: ev, status: 415, errCode: "unsupported_media_type"},
		"latin-1":                 {h: h, ct: "application/json; charset=iso-8859-1", auth: []string{"Bearer " + token(t)}, body: ev, status: 415, errCode: "unsupported_media_type"},
		"JSON array batch":        {h: h, ct: "application/cloudevents-batch+json", auth: []string{"Bearer " + token(t)}, body: ev, status: 415, errCode: "unsupported_media_type"},
		"body over the limit":     {h: small, ct: "application/x-ndjson", auth: []string{"Bearer " + token(t)}, body: append(lines(2), bytes.Repeat([]byte(" "), 1024)...), status: 413, errCode: "too_large"},
		"batch over the limit":    {h: small, ct: "application/x-ndjson", auth: []string{"Bearer " + token(t)}, body: []byte("1\n2\n3\n4\n"), status: 413, errCode: "too_many_events"},
		"batch at the limit":      {h: small, ct: "application/x-ndjson", auth: []string{"Bearer " + token(t)}, body: []byte("1\n\n2\n3\n"), status: 200},
		"empty body":              {h: h, ct: "application/json", auth: []string{"Bearer " + token(t)}, body: nil, status: 400, errCode: "bad_request"},
		"blank batch":             {h: h, ct: "application/x-ndjson", auth: []string{"Bearer " + token(t)}, body: []byte("\n \r\n"), status: 400, errCode: "bad_request"},
		"single invalid envelope": {h: h, ct: "application/json", auth: []string{"Bearer " + token(t)}, body: []byte(`{"specversion":"1.0"}`), status: 200},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			method := c.method
			if method == "" {
				method = http.MethodPost
			}
			req := httptest.NewRequest(method, IngestPath, bytes.NewReader(c.body))
			if c.ct != "" {
				req.Header.Set("Content-Type", c.ct)
			}
			for _, a := range c.auth {
				req.Header.Add("Authorization", a)
			}
			rec := httptest.NewRecorder()
			c.h.ServeHTTP(rec, req)
			if rec.Code != c.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, c.status, rec.Body)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Fatalf("Content-Type %q", ct)
			}
			if c.errCode != "" && !strings.Contains(rec.Body.String(), `"error":"`+c.errCode+`"`) {
				t.Fatalf("body %s lacks error %q", rec.Body, c.errCode)
			}
			if c.header[0] != "" && rec.Header().Get(c.header[0]) != c.header[1] {
				t.Fatalf("%s = %q, want %q", c.header[0], rec.Header().Get(c.header[0]), c.header[1])
			}
			for _, a := range c.auth {
				if tok := strings.TrimPrefix(a, "Bearer "); len(tok) > 20 && strings.Contains(rec.Body.String(), tok) {
					t.Fatal("the answer echoes the token")
				}
			}
		})
	}
}

func TestRefusedRequestsStoreNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	h, reg := e.handler(t, nil)
	ev := envelope("acme", "agent-1", "evt-1")
	for _, r := range []reply{
		post(h, "application/json", "", ev),
		post(h, "application/json", token(t, "iss", "https://evil.test"), ev),
		post(h, "text/plain", token(t), ev),
	} {
		if r.code == http.StatusOK {
			t.Fatalf("accepted: %s", r.body)
		}
	}
	if v, rj := streamMsgs(t, e.js, events.StreamValid), streamMsgs(t, e.js, events.StreamRejected); v != 0 || rj != 0 {
		t.Fatalf("refused requests stored valid %d / rejected %d", v, rj)
	}
	for reason, want := range map[string]float64{"missing": 1, "issuer": 1} {
		if got := telemetrytest.Counter(t, reg, "escai_http_auth_failures_total", "reason", reason); got != want {
			t.Errorf("auth failures{%s} = %v, want %v", reason, got, want)
		}
	}
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	refuseAll, _ := e.handler(t, func(c *IngestConfig) {
		c.RateLimit = func(string, string) bool { return false }
		c.RetryAfter = 2500 * time.Millisecond
	})
	refuseAgent2, reg := e.handler(t, func(c *IngestConfig) {
		c.RateLimit = func(tenant, agent string) bool { return !(tenant == "acme" && agent == "agent-2") }
	})
	batch := bytes.Join([][]byte{
		envelope("acme", "agent-1", "a"),
		envelope("acme", "agent-2", "b"),
		envelope("globex", "agent-2", "c"), // forbidden before the rate limit is asked
	}, []byte("\n"))

	r := post(refuseAll, "application/x-ndjson", token(t), batch[:bytes.LastIndexByte(batch, '\n')])
	if r.code != http.StatusTooManyRequests || r.hdr.Get("Retry-After") != "3" || !strings.Contains(string(r.body), `"error":"rate_limited"`) {
		t.Fatalf("all refused: %d %v %s", r.code, r.hdr, r.body)
	}
	if v, rj := streamMsgs(t, e.js, events.StreamValid), streamMsgs(t, e.js, events.StreamRejected); v != 0 || rj != 0 {
		t.Fatalf("rate-limited events stored: valid %d / rejected %d", v, rj)
	}

	resp := post(refuseAgent2, "application/x-ndjson", token(t), batch).decode(t)
	if resp.Accepted != 1 || resp.Rejected != 2 {
		t.Fatalf("response %+v", resp)
	}
	if got := resp.Results[1]; got.Status != StatusRejected || got.ID != "b" || got.Reasons[0].Code != CodeRateLimited {
		t.Fatalf("rate-limited result %+v", got)
	}
	if got := resp.Results[2].Reasons[0].Code; got != CodeForbidden {
		t.Fatalf("forged event: %s", got)
	}
	// The rate-limited event is neither stored nor dead-lettered: it may be
	// sent again; the forged one is dead-lettered.
	if v, rj := streamMsgs(t, e.js, events.StreamValid), streamMsgs(t, e.js, events.StreamRejected); v != 1 || rj != 1 {
		t.Fatalf("streams hold valid %d / rejected %d, want 1 / 1", v, rj)
	}
	if got := telemetrytest.Counter(t, reg, "escai_http_events_total", "outcome", OutcomeRateLimited); got != 1 {
		t.Fatalf("events{rate_limited} = %v", got)
	}
}

func TestForbiddenAcrossTenants(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	h, _ := e.handler(t, nil)
	cases := map[string]struct {
		tok   string
		ev    []byte
		field string
	}{
		"acme token, globex event": {token(t), envelope("globex", "agent-1", "x1"), "tenant"},
		"agent not in the token":   {token(t), envelope("acme", "agent-7", "x2"), "agentid"},
		"single agent claim":       {token(t, "agents", nil, "agent", "agent-5"), envelope("acme", "agent-1", "x3"), "agentid"},
		"token without tenant":     {token(t, "tenant", nil), envelope("acme", "agent-1", "x4"), "tenant"},
		"token without agents":     {token(t, "agents", nil), envelope("acme", "agent-1", "x5"), "agentid"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			resp := post(h, "application/cloudevents+json", c.tok, c.ev).decode(t)
			if resp.Rejected != 1 || resp.Results[0].Reasons[0].Code != CodeForbidden || resp.Results[0].Reasons[0].Field != c.field {
				t.Fatalf("response %+v", resp)
			}
		})
	}
	t.Run("allowed by the agent claim", func(t *testing.T) {
		t.Parallel()
		resp := post(h, "application/cloudevents+json", token(t, "agents", nil, "agent", "agent-5"), envelope("acme", "agent-5", "ok-1")).decode(t)
		if resp.Accepted != 1 {
			t.Fatalf("response %+v", resp)
		}
	})
}

func TestUnauthenticatedDevMode(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	h, _ := e.handler(t, func(c *IngestConfig) { c.Verifier = nil; c.AllowUnauthenticated = true })
	resp := post(h, "application/json", "", envelope("globex", "agent-1", "dev-1")).decode(t)
	if resp.Accepted != 1 {
		t.Fatalf("response %+v", resp)
	}
}

func TestPublishFailureClaimsNothing(t *testing.T) {
	t.Parallel()
	// A broker without the streams: every publish fails (no responders).
	srv := brokertest.StartNode(t)
	js := brokertest.JetStream(t, brokertest.Connect(t, srv))
	e := &env{js: js}
	h, reg := e.handler(t, func(c *IngestConfig) { c.PublishTimeout = 3 * time.Second })
	body := bytes.Join([][]byte{envelope("acme", "agent-1", "a"), []byte("bad")}, []byte("\n"))
	r := post(h, "application/x-ndjson", token(t), body)
	if r.code != http.StatusServiceUnavailable || r.hdr.Get("Retry-After") != "1" || !strings.Contains(string(r.body), `"error":"unavailable"`) || strings.Contains(string(r.body), "accepted") {
		t.Fatalf("answer %d %v %s", r.code, r.hdr, r.body)
	}
	if got := telemetrytest.Counter(t, reg, "escai_http_events_total", "outcome", OutcomeFailed); got != 2 {
		t.Fatalf("events{failed} = %v", got)
	}
	if got := telemetrytest.Counter(t, reg, "escai_http_events_total", "outcome", OutcomeAccepted); got != 0 {
		t.Fatalf("events{accepted} = %v", got)
	}
}

func TestProcessorFailures(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	transient, _ := e.handler(t, func(c *IngestConfig) {
		c.Processor = stage.ProcessorFunc(func(context.Context, *stage.Message) ([]stage.Output, error) {
			return nil, errors.New("downstream busy")
		})
	})
	if r := post(transient, "application/json", token(t), envelope("acme", "agent-1", "a")); r.code != http.StatusServiceUnavailable {
		t.Fatalf("transient failure answered %d %s", r.code, r.body)
	}
	noID, _ := e.handler(t, func(c *IngestConfig) {
		c.Processor = stage.ProcessorFunc(func(_ context.Context, in *stage.Message) ([]stage.Output, error) {
			return []stage.Output{{Subject: "escai.valid.acme.agent-1.tool.call", Data: in.Data}}, nil
		})
	})
	if r := post(noID, "application/json", token(t), envelope("acme", "agent-1", "a")); r.code != http.StatusInternalServerError {
		t.Fatalf("output without Msg-Id answered %d %s", r.code, r.body)
	}
	// A processor refusing an event the decoder passed: the reason is its own.
	refusing, _ := e.handler(t, func(c *IngestConfig) {
		c.Processor = stage.ProcessorFunc(func(context.Context, *stage.Message) ([]stage.Output, error) {
			return nil, stage.Permanent("sqli", "data.args.q", errors.New("injection"))
		})
	})
	resp := post(refusing, "application/json", token(t), envelope("acme", "agent-1", "inj-1")).decode(t)
	if r := resp.Results[0]; r.Status != StatusRejected || r.Reasons[0] != (Reason{Code: "sqli", Field: "data.args.q", Detail: "injection"}) {
		t.Fatalf("result %+v", r)
	}
	msgs := storedMsgs(t, e.js, events.StreamRejected)
	if len(msgs) != 1 || msgs[0].Subject != "escai.rejected.acme.agent-1" || msgs[0].Header.Get(events.HeaderRejectCode) != "sqli" {
		t.Fatalf("dead letters %+v", msgs)
	}
	if n := streamMsgs(t, e.js, events.StreamValid); n != 0 {
		t.Fatalf("ESCAI_VALID holds %d", n)
	}
}

func TestIngestConfigValidate(t *testing.T) {
	t.Parallel()
	_, err := NewIngestHandler(IngestConfig{MaxBatch: -1})
	if err == nil {
		t.Fatal("empty config accepted")
	}
	for _, want := range []string{"JS is required", "Processor is required", "Verifier is required", "MaxBatch -1"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestSplitLines(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		body    string
		limit   int
		want    []string
		tooMany bool
	}{
		"empty":            {"", 5, nil, false},
		"no final newline": {"a\nb", 5, []string{"a", "b"}, false},
		"CRLF":             {"a\r\nb\r\n", 5, []string{"a", "b"}, false},
		"blank lines":      {"\n a\n\t\n \r\n\nb\n\n", 5, []string{" a", "b"}, false},
		"at the limit":     {"a\nb\n\n", 2, []string{"a", "b"}, false},
		"over the limit":   {"a\nb\nc", 2, nil, true},
		"lone CR kept":     {"a\rb\n", 5, []string{"a\rb"}, false},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			lines, tooMany := splitLines([]byte(c.body), c.limit)
			var got []string
			for _, l := range lines {
				got = append(got, string(l))
			}
			if tooMany != c.tooMany || !slices.Equal(got, c.want) {
				t.Fatalf("splitLines = %q %v, want %q %v", got, tooMany, c.want, c.tooMany)
			}
		})
	}
}
