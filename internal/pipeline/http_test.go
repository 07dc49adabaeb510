package pipeline_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/escai-framework/escai/internal/broker/brokertest"
	"github.com/escai-framework/escai/pkg/events"
)

// TestHTTPIngestWiring: the ingest service's HTTP listener as configured
// from ESCAI_* settings, with a JWKS file, accepts an event carrying a
// valid token into ESCAI_VALID and refuses a request without one.
func TestHTTPIngestWiring(t *testing.T) {
	h := newHarness(t)
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	dir := t.TempDir()
	jwks := fmt.Sprintf(`{"keys":[{"kty":"OKP","crv":"Ed25519","x":%q,"kid":"k1","use":"sig","alg":"EdDSA"}]}`, base64.RawURLEncoding.EncodeToString(pub))
	if err := os.WriteFile(filepath.Join(dir, "jwks.json"), []byte(jwks), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := h.env.Config
	cfg.IngestHTTPAddr, cfg.JWKSFile, cfg.JWTIssuer, cfg.JWTAudience = "127.0.0.1:0", filepath.Join(dir, "jwks.json"), "https://auth.test", "escai-ingest"
	cfg.TLSCertDir = dir // no certificate: plaintext, allowed because TLS is not required here
	srv, err := h.env.StartHTTPIngest(context.Background(), h.js)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = srv.Drain(context.Background()) }()
	if err := srv.Ready(context.Background()); err != nil {
		t.Fatalf("not ready: %v", err)
	}

	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims{
		"iss": "https://auth.test", "aud": "escai-ingest", "sub": "agent-1", "exp": time.Now().Add(time.Minute).Unix(),
		"tenant": "acme", "agents": []string{"agent-1"},
	})
	tok.Header["kid"] = "k1"
	signed, err := tok.SignedString(priv)
	if err != nil {
		t.Fatal(err)
	}
	_, body := envelope(0) // tenant acme, agent-0
	body = []byte(strings.ReplaceAll(string(body), "agent-0", "agent-1"))
	client := &http.Client{Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	post := func(token string) *http.Response {
		req, _ := http.NewRequest(http.MethodPost, "http://"+srv.Addr+"/v1/events", strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/cloudevents+json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	if resp := post(""); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("no token: status %d", resp.StatusCode)
	} else {
		resp.Body.Close()
	}
	resp := post(signed)
	defer resp.Body.Close()
	var out struct{ Accepted, Rejected int }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK || out.Accepted != 1 {
		t.Fatalf("status %d, %+v, %v", resp.StatusCode, out, err)
	}
	brokertest.WaitFor(t, 5*time.Second, func() error {
		if got := h.msgs(events.StreamValid); got != 1 {
			return fmt.Errorf("ESCAI_VALID holds %d", got)
		}
		return nil
	})
}
