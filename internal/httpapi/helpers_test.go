package httpapi

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/escai-framework/escai/internal/broker/brokertest"
	"github.com/escai-framework/escai/internal/ingest"
	"github.com/escai-framework/escai/pkg/events"
	"github.com/escai-framework/escai/pkg/security/auth"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	testIssuer   = "https://auth.escai.test"
	testAudience = "escai-ingest"
)

// signer is the test issuer: one Ed25519 key, published as a one-key set.
type signer struct {
	priv ed25519.PrivateKey
	keys *auth.KeySet
}

var signerOnce = sync.OnceValue(func() *signer {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	ks, err := auth.NewKeySet(auth.Key{ID: "ed-1", Public: pub})
	if err != nil {
		panic(err)
	}
	return &signer{priv: priv, keys: ks}
})

func verifier(t testing.TB) *auth.Verifier {
	t.Helper()
	v, err := auth.NewVerifier(auth.VerifierConfig{Keys: signerOnce().keys, Issuer: testIssuer, Audience: testAudience, Leeway: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// token signs claims for tenant acme and agents agent-1..3, valid for ten
// minutes; kv replaces claims (nil deletes).
func token(t testing.TB, kv ...any) string {
	t.Helper()
	now := time.Now()
	c := jwt.MapClaims{
		"iss": testIssuer, "aud": testAudience, "sub": "runner@acme",
		"exp": now.Add(10 * time.Minute).Unix(), "iat": now.Add(-time.Minute).Unix(),
		"tenant": "acme", "agents": []string{"agent-1", "agent-2", "agent-3"},
		"scope": "events:write",
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(c, kv[i].(string))
		} else {
			c[kv[i].(string)] = kv[i+1]
		}
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c)
	tok.Header["kid"] = "ed-1"
	tok.Header["typ"] = "at+jwt"
	s, err := tok.SignedString(signerOnce().priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// env is one embedded broker with the streams applied.
type env struct {
	js jetstream.JetStream
}

func newEnv(t testing.TB) *env {
	t.Helper()
	srv := brokertest.StartNode(t)
	js := brokertest.JetStream(t, brokertest.Connect(t, srv))
	brokertest.Apply(t, js)
	return &env{js: js}
}

// handler builds an authenticated ingest handler on e with the real ingest
// processor; mutate adjusts the config.
func (e *env) handler(t testing.TB, mutate func(*IngestConfig)) (http.Handler, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	cfg := IngestConfig{
		JS:         e.js,
		Processor:  ingest.New(events.DefaultLimits()),
		Verifier:   verifier(t),
		Registerer: reg,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	h, err := NewIngestHandler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return h, reg
}

func envelope(tenant, agent, id string) []byte {
	return fmt.Appendf(nil, `{"specversion":"1.0","id":%q,"source":"urn:agent:%s","type":"escai.tool.call","time":"2026-12-04T10:00:00Z","datacontenttype":"application/json","tenant":%q,"agentid":%q,"data":{"tool":"sql","args":{"q":"select %s"}}}`,
		id, agent, tenant, agent, id)
}

type reply struct {
	code int
	hdr  http.Header
	body []byte
}

func (r reply) decode(t testing.TB) IngestResponse {
	t.Helper()
	if r.code != http.StatusOK {
		t.Fatalf("status %d: %s", r.code, r.body)
	}
	var resp IngestResponse
	if err := json.Unmarshal(r.body, &resp); err != nil {
		t.Fatalf("response %s: %v", r.body, err)
	}
	return resp
}

// post calls h in process; tok "" sends no Authorization header.
func post(h http.Handler, contentType, tok string, body []byte) reply {
	req := httptest.NewRequest(http.MethodPost, IngestPath, bytes.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return reply{code: rec.Code, hdr: rec.Header(), body: rec.Body.Bytes()}
}

func streamMsgs(t testing.TB, js jetstream.JetStream, name string) uint64 {
	t.Helper()
	s, err := js.Stream(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

// storedMsgs returns every message of a stream, in order.
func storedMsgs(t testing.TB, js jetstream.JetStream, name string) []*jetstream.RawStreamMsg {
	t.Helper()
	ctx := context.Background()
	s, err := js.Stream(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []*jetstream.RawStreamMsg
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			t.Fatalf("get %s/%d: %v", name, seq, err)
		}
		out = append(out, m)
	}
	return out
}
