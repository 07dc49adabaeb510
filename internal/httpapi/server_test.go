package httpapi

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/escai-framework/escai/pkg/events"
)

// selfSigned returns a server certificate for 127.0.0.1 and a pool that
// trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "ingest.test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

func TestServerTLS13(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	h, _ := e.handler(t, nil)
	cert, pool := selfSigned(t)
	// The caller asks for TLS 1.2; the server raises it.
	srv, err := NewServer(ServerConfig{Addr: "127.0.0.1:0", Handler: Routes(h), TLS: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}})
	if err != nil {
		t.Fatal(err)
	}
	addr, err := srv.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
	})
	if _, err := srv.Start(); err == nil {
		t.Fatal("second Start succeeded")
	}

	client := func(maxVersion uint16) *http.Client {
		return &http.Client{
			Timeout: 10 * time.Second,
			Transport: &http.Transport{
				TLSClientConfig:   &tls.Config{RootCAs: pool, MaxVersion: maxVersion},
				ForceAttemptHTTP2: true,
			},
		}
	}
	do := func(c *http.Client, path string) (*http.Response, []byte, error) {
		req, err := http.NewRequest(http.MethodPost, "https://"+addr+path, bytes.NewReader(envelope("acme", "agent-1", "tls-1")))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/cloudevents+json")
		req.Header.Set("Authorization", "Bearer "+token(t))
		resp, err := c.Do(req)
		if err != nil {
			return nil, nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp, b, err
	}

	c13 := client(tls.VersionTLS13)
	t.Cleanup(c13.CloseIdleConnections)
	resp, body, err := do(c13, IngestPath)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.TLS == nil || resp.TLS.Version != tls.VersionTLS13 || resp.ProtoMajor != 2 {
		t.Fatalf("status %d, TLS %+v, proto %s: %s", resp.StatusCode, resp.TLS, resp.Proto, body)
	}
	if n := streamMsgs(t, e.js, events.StreamValid); n != 1 {
		t.Fatalf("ESCAI_VALID holds %d", n)
	}
	if resp, body, err := do(c13, "/v1/other"); err != nil || resp.StatusCode != http.StatusNotFound || !strings.Contains(string(body), `"error":"not_found"`) {
		t.Fatalf("other path: %v %v %s", resp, err, body)
	}

	c12 := client(tls.VersionTLS12)
	t.Cleanup(c12.CloseIdleConnections)
	if _, _, err := do(c12, IngestPath); err == nil || !strings.Contains(err.Error(), "protocol version") {
		t.Fatalf("TLS 1.2 client: %v, want a protocol version alert", err)
	}
}

func TestServerPlaintextOnlyWhenAllowed(t *testing.T) {
	t.Parallel()
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	if _, err := NewServer(ServerConfig{Addr: "127.0.0.1:0", Handler: h}); err == nil || !strings.Contains(err.Error(), "TLS is required") {
		t.Fatalf("plaintext without AllowPlaintext: %v", err)
	}
	if _, err := NewServer(ServerConfig{Addr: "127.0.0.1:0", Handler: h, TLS: &tls.Config{}}); err == nil || !strings.Contains(err.Error(), "no certificate") {
		t.Fatalf("TLS without a certificate: %v", err)
	}
	srv, err := NewServer(ServerConfig{Addr: "127.0.0.1:0", Handler: h, AllowPlaintext: true})
	if err != nil {
		t.Fatal(err)
	}
	addr, err := srv.Start()
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{}}
	resp, err := c.Post("http://"+addr+IngestPath, "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	c.CloseIdleConnections()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := (&Server{}).Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown of a server never started: %v", err)
	}
}

func TestBodyLimitWithoutContentLength(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	h, _ := e.handler(t, func(c *IngestConfig) { c.MaxBodyBytes = 512 })
	srv, err := NewServer(ServerConfig{Addr: "127.0.0.1:0", Handler: Routes(h), AllowPlaintext: true})
	if err != nil {
		t.Fatal(err)
	}
	addr, err := srv.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Shutdown(context.Background()) })
	// A reader of unknown length is sent chunked: only MaxBytesReader can
	// stop it.
	body := io.MultiReader(strings.NewReader(strings.Repeat("x", 2048)))
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+IngestPath, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	req.Header.Set("Authorization", "Bearer "+token(t))
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{}}
	t.Cleanup(c.CloseIdleConnections)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if req.ContentLength != 0 || resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("content length %d, status %d", req.ContentLength, resp.StatusCode)
	}
}
