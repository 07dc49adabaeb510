package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/escai-framework/escai/internal/stage"
	"github.com/escai-framework/escai/pkg/events"
	"github.com/escai-framework/escai/pkg/security/auth"
)

// Reason codes the HTTP path adds to those of events.Code. They appear in
// responses and, for forbidden, in the Escai-Reject-Code of dead letters.
const (
	// CodeForbidden: the token does not allow the event's tenant or agent.
	CodeForbidden = "forbidden"
	// CodeRateLimited: the RateLimit hook refused the event; it was not
	// stored anywhere and may be sent again later.
	CodeRateLimited = "rate_limited"
)

// HeaderOriginalSize is set on a dead letter whose line was longer than
// Limits.MaxBytes: the stored copy is cut to that size (so that it fits a
// broker message) and this header gives the size that was received.
const HeaderOriginalSize = "Escai-Original-Size"

// ErrForbidden is wrapped by the PermanentError of an event the caller's
// token may not publish.
var ErrForbidden = errors.New("httpapi: forbidden by the token")

// Statuses of an EventResult.
const (
	StatusAccepted = "accepted"
	StatusRejected = "rejected"
)

// IngestResponse is the body of a 200 answer: one result per event, in the
// order the events were sent.
type IngestResponse struct {
	// Accepted counts the events stored on their valid subject.
	Accepted int `json:"accepted"`
	// Rejected counts the others: dead-lettered, forbidden or rate-limited.
	Rejected int `json:"rejected"`
	// Results has one entry per event, in input order.
	Results []EventResult `json:"results"`
}

// EventResult is the fate of one event.
type EventResult struct {
	// Index is the event's 0-based position among the non-blank lines of
	// the body (0 for a single envelope).
	Index int `json:"index"`
	// ID is the envelope's id, "" when the line did not decode.
	ID string `json:"id,omitempty"`
	// Status is "accepted" (stored on its valid subject) or "rejected".
	Status string `json:"status"`
	// Reasons say why an event was rejected.
	Reasons []Reason `json:"reasons,omitempty"`
}

// Reason is one machine-readable reason for a rejection.
type Reason struct {
	// Code is an events.Code value, "forbidden" or "rate_limited".
	Code string `json:"code"`
	// Field names the offending attribute when known.
	Field string `json:"field"`
	// Detail is for people; it never contains anything from the token.
	Detail string `json:"detail"`
}

// ErrorResponse is the body of every answer other than 200.
type ErrorResponse struct {
	// Error is a stable code: method_not_allowed, unauthorized,
	// insufficient_scope, unsupported_media_type, too_large,
	// too_many_events, bad_request, rate_limited, unavailable, internal.
	Error string `json:"error"`
	// Message is for people.
	Message string `json:"message"`
}

// ingestHandler serves POST /v1/events.
type ingestHandler struct {
	cfg      IngestConfig
	m        *metrics
	slots    chan struct{}
	lastWarn atomic.Int64
}

// NewIngestHandler validates cfg and returns the POST /v1/events handler.
// It fails fast when the broker's maximum payload cannot carry an event of
// Limits.MaxBytes, since every such event would then fail to publish.
func NewIngestHandler(cfg IngestConfig) (http.Handler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	if nc := cfg.JS.Conn(); nc != nil {
		// Headers of a dead letter take at most ~1.5 KiB.
		if mp := nc.MaxPayload(); mp > 0 && int64(cfg.Limits.MaxBytes)+2048 > mp {
			return nil, fmt.Errorf("httpapi: Limits.MaxBytes %d does not fit the broker's max_payload %d", cfg.Limits.MaxBytes, mp)
		}
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, fmt.Errorf("httpapi: register metrics: %w", err)
	}
	h := &ingestHandler{cfg: cfg, m: m, slots: make(chan struct{}, cfg.MaxInFlight)}
	if cfg.Verifier == nil {
		cfg.Logger.Warn("HTTP ingest accepts unauthenticated requests: any caller may publish for any tenant (development only)")
	}
	cfg.Logger.Info("HTTP ingest handler ready",
		zap.String("path", IngestPath),
		zap.Bool("auth", cfg.Verifier != nil),
		zap.String("required_scope", cfg.RequiredScope),
		zap.Int64("max_body_bytes", cfg.MaxBodyBytes),
		zap.Int("max_batch", cfg.MaxBatch),
		zap.Int("max_event_bytes", cfg.Limits.MaxBytes),
		zap.Int("max_in_flight", cfg.MaxInFlight),
		zap.Duration("publish_timeout", cfg.PublishTimeout))
	return h, nil
}

// bodyMode is how a body is split into events.
type bodyMode uint8

const (
	modeSingle bodyMode = iota + 1
	modeNDJSON
)

// ServeHTTP checks, in this order and before reading the body: the method,
// the token, the content type and the declared length; then reads the body
// within MaxBodyBytes, judges each event, publishes everything and answers.
func (h *ingestHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	code := h.serve(w, r)
	h.m.request(code)
	h.m.duration.Observe(time.Since(start).Seconds())
}

func (h *ingestHandler) serve(w http.ResponseWriter, r *http.Request) int {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "use POST")
	}
	var claims *auth.Claims
	if h.cfg.Verifier != nil {
		tok, ok := bearerToken(r)
		if !ok {
			h.m.authFail.WithLabelValues("missing").Inc()
			return unauthorized(w)
		}
		c, err := h.cfg.Verifier.Verify(tok)
		if err != nil {
			h.m.authFail.WithLabelValues(authReason(err)).Inc()
			return unauthorized(w)
		}
		if h.cfg.RequiredScope != "" && !c.HasScope(h.cfg.RequiredScope) {
			h.m.authFail.WithLabelValues("scope").Inc()
			w.Header().Set("WWW-Authenticate", `Bearer error="insufficient_scope", scope="`+h.cfg.RequiredScope+`"`)
			return writeError(w, http.StatusForbidden, "insufficient_scope", "the token does not grant the scope this endpoint requires")
		}
		claims = c
	}
	mode, ok := contentMode(r.Header)
	if !ok {
		return writeError(w, http.StatusUnsupportedMediaType, "unsupported_media_type",
			"send application/cloudevents+json or application/json (one envelope) or application/x-ndjson (one envelope per line), UTF-8, without content coding")
	}
	if r.ContentLength > h.cfg.MaxBodyBytes {
		return h.tooLarge(w)
	}

	// Bound the bodies held in memory at once.
	wait := time.NewTimer(h.cfg.PublishTimeout)
	select {
	case h.slots <- struct{}{}:
		wait.Stop()
	case <-wait.C:
		return h.unavailable(w, "too many requests in flight")
	case <-r.Context().Done():
		wait.Stop()
		return h.unavailable(w, "request cancelled")
	}
	defer func() { <-h.slots }()

	body, err := readBody(w, r, h.cfg.MaxBodyBytes)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return h.tooLarge(w)
		}
		return writeError(w, http.StatusBadRequest, "bad_request", "the body could not be read")
	}
	var lines [][]byte
	if mode == modeSingle {
		if len(bytes.TrimSpace(body)) > 0 {
			lines = [][]byte{body}
		}
	} else {
		var tooMany bool
		if lines, tooMany = splitLines(body, h.cfg.MaxBatch); tooMany {
			return writeError(w, http.StatusRequestEntityTooLarge, "too_many_events",
				"more than "+strconv.Itoa(h.cfg.MaxBatch)+" events in one request")
		}
	}
	if len(lines) == 0 {
		return writeError(w, http.StatusBadRequest, "bad_request", "the body holds no event")
	}
	return h.ingest(r.Context(), w, claims, lines)
}

// judged is one event after judgement: its result so far and the messages
// that must be stored before it may be reported.
type judged struct {
	result  EventResult
	outcome string
	outs    []stage.Output
}

func (h *ingestHandler) ingest(reqCtx context.Context, w http.ResponseWriter, claims *auth.Claims, lines [][]byte) int {
	// The work outlives a client that hangs up: what was published is
	// waited for, so the metrics and the broker agree.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(reqCtx), h.cfg.PublishTimeout)
	defer cancel()
	items := make([]judged, len(lines))
	limited := 0
	for i, line := range lines {
		it, err := h.judge(ctx, claims, line)
		if err != nil {
			h.m.events[OutcomeFailed].Add(float64(len(lines)))
			h.warn("processor failed", err)
			return h.unavailable(w, "the event could not be processed; retry later")
		}
		it.result.Index = i
		if it.outcome == OutcomeRateLimited {
			limited++
		}
		items[i] = it
	}
	if limited == len(items) {
		h.count(items, OutcomeRateLimited)
		w.Header().Set("Retry-After", retryAfter(h.cfg.RetryAfter))
		return writeError(w, http.StatusTooManyRequests, "rate_limited", "the rate limit refused every event of the request; retry later")
	}
	if err := h.publish(ctx, items); err != nil {
		for range items {
			h.m.events[OutcomeFailed].Inc()
		}
		if errors.Is(err, errNoMsgID) {
			return writeError(w, http.StatusInternalServerError, "internal", "the processor produced an output without a Msg-Id")
		}
		h.warn("publish failed", err)
		return h.unavailable(w, "the events could not be stored; retry the request")
	}
	resp := IngestResponse{Results: make([]EventResult, len(items))}
	for i := range items {
		it := &items[i]
		h.m.events[it.outcome].Inc()
		if it.result.Status == StatusAccepted {
			resp.Accepted++
		} else {
			resp.Rejected++
		}
		resp.Results[i] = it.result
	}
	return writeJSON(w, http.StatusOK, resp)
}

func (h *ingestHandler) count(items []judged, outcome string) {
	h.m.events[outcome].Add(float64(len(items)))
}

// judge decides one event. Only a transient processor failure is an error.
func (h *ingestHandler) judge(ctx context.Context, claims *auth.Claims, line []byte) (judged, error) {
	ev, err := events.Decode(line, h.cfg.Limits)
	if err != nil {
		pe := &stage.PermanentError{Code: events.Code(err), Field: events.FieldOf(err), Err: err}
		return h.rejected("", line, pe, detailOf(pe)), nil
	}
	// Decode validated tenant, agent and type, so this cannot fail; if it
	// ever did, the event is refused like any other bad input.
	subject, err := ev.Subject(events.StageIn)
	if err != nil {
		pe := &stage.PermanentError{Code: events.Code(err), Field: events.FieldOf(err), Err: err}
		return h.rejected("", line, pe, detailOf(pe)), nil
	}
	if claims != nil {
		if pe, detail := authorize(claims, ev); pe != nil {
			j := h.rejected(subject, line, pe, detail)
			j.result.ID = ev.ID
			j.outcome = OutcomeForbidden
			return j, nil
		}
	}
	if !h.cfg.RateLimit(ev.Tenant, ev.AgentID) {
		return judged{
			result: EventResult{ID: ev.ID, Status: StatusRejected, Reasons: []Reason{{
				Code: CodeRateLimited, Detail: "rate limit exceeded for this agent; the event was not stored, send it again later",
			}}},
			outcome: OutcomeRateLimited,
		}, nil
	}
	outs, err := h.cfg.Processor.Process(ctx, &stage.Message{Subject: subject, Data: line})
	var pe *stage.PermanentError
	switch {
	case err == nil:
		return judged{result: EventResult{ID: ev.ID, Status: StatusAccepted}, outcome: OutcomeAccepted, outs: outs}, nil
	case errors.As(err, &pe):
		j := h.rejected(subject, line, pe, detailOf(pe))
		j.result.ID = ev.ID
		// What the processor reports beside the rejection (the
		// escai.security.validation event of the threats that caused it)
		// is stored as on the NATS path.
		j.outs = append(j.outs, pe.Also...)
		return j, nil
	default:
		return judged{}, err
	}
}

// authorize refuses an event whose tenant is not the token's or whose
// agent the token does not list. The dead-letter reason names both
// tenants for operators; the caller's detail names only the event's.
func authorize(c *auth.Claims, ev *events.Envelope) (*stage.PermanentError, string) {
	if c.Tenant != ev.Tenant {
		return &stage.PermanentError{Code: CodeForbidden, Field: "tenant",
				Err: fmt.Errorf("%w: token tenant %q may not publish for tenant %q", ErrForbidden, c.Tenant, ev.Tenant)},
			"the token does not allow this tenant"
	}
	if !c.AllowsAgent(ev.AgentID) {
		return &stage.PermanentError{Code: CodeForbidden, Field: "agentid",
				Err: fmt.Errorf("%w: agent %q is not among the token's agents", ErrForbidden, ev.AgentID)},
			"the token does not allow this agent"
	}
	return nil, ""
}

// rejected builds the result and the dead letter of a refused line.
// subject is the escai.in subject built from the envelope, "" when the
// line did not decode (the dead letter then goes to the _unknown fallback).
func (h *ingestHandler) rejected(subject string, line []byte, pe *stage.PermanentError, detail string) judged {
	out := stage.RejectOutput(StageName, &stage.Message{Subject: subject, Data: line}, pe)
	// HTTP input has no stream sequence; an empty source subject says the
	// line did not decode.
	out.Header.Del(events.HeaderSourceSequence)
	if subject == "" {
		out.Header.Del(events.HeaderSourceSubject)
	}
	if limit := h.cfg.Limits.MaxBytes; len(line) > limit {
		out.Data = line[:limit]
		out.Header.Set(HeaderOriginalSize, strconv.Itoa(len(line)))
	}
	out.MsgID = deadLetterMsgID(out.Subject, line)
	return judged{
		result:  EventResult{Status: StatusRejected, Reasons: []Reason{{Code: pe.Code, Field: pe.Field, Detail: detail}}},
		outcome: OutcomeRejected,
		outs:    []stage.Output{out},
	}
}

// deadLetterMsgID is rejected:http:<tenant>:<agent>:<16 hex of SHA-256 of
// the line>, tenant and agent being those of the dead-letter subject
// (_unknown for a line that did not decode). It depends only on the bytes,
// so a retried line is deduplicated. The form must never change: a change
// would let a retry across a deployment store a second copy.
func deadLetterMsgID(rejectedSubject string, line []byte) string {
	sum := sha256.Sum256(line)
	ta := strings.TrimPrefix(rejectedSubject, events.SubjectPrefix+"."+string(events.StageRejected)+".")
	return "rejected:http:" + strings.Replace(ta, ".", ":", 1) + ":" + hex.EncodeToString(sum[:8])
}

// detailOf is the caller-facing text of a rejection: the error without
// the stage wrapper, bounded.
func detailOf(pe *stage.PermanentError) string {
	s := pe.Code
	if pe.Err != nil {
		s = pe.Err.Error()
	}
	if len(s) > 512 {
		s = s[:512]
	}
	return strings.ToValidUTF8(s, "?")
}

// errNoMsgID marks a processor bug: an output that could be stored twice.
var errNoMsgID = errors.New("httpapi: output without Msg-Id")

// publish stores every output of every item and waits for all PubAcks.
// Publishes are pipelined; any failure fails the request.
func (h *ingestHandler) publish(ctx context.Context, items []judged) error {
	n := 0
	for i := range items {
		n += len(items[i].outs)
	}
	if n == 0 {
		return nil
	}
	deadline, _ := ctx.Deadline()
	futs := make([]jetstream.PubAckFuture, 0, n)
	for i := range items {
		for _, o := range items[i].outs {
			if o.MsgID == "" {
				return errNoMsgID
			}
			stall := time.Until(deadline)
			if stall <= 0 {
				return context.DeadlineExceeded
			}
			msg := &nats.Msg{Subject: o.Subject, Data: o.Data, Header: o.Header}
			if msg.Header == nil {
				msg.Header = nats.Header{}
			}
			opts := append([]jetstream.PublishOpt{jetstream.WithMsgID(o.MsgID), jetstream.WithStallWait(stall)}, o.Opts...)
			f, err := h.cfg.JS.PublishMsgAsync(msg, opts...)
			if err != nil {
				return err
			}
			futs = append(futs, f)
		}
	}
	for _, f := range futs {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			return err
		case <-ctx.Done():
			return fmt.Errorf("waiting for PubAck: %w", ctx.Err())
		}
	}
	return nil
}

// warn logs a broker or processor problem at most every 10 seconds: the
// per-request picture is in the metrics.
func (h *ingestHandler) warn(what string, err error) {
	now := time.Now().UnixNano()
	last := h.lastWarn.Load()
	if now-last < int64(10*time.Second) || !h.lastWarn.CompareAndSwap(last, now) {
		return
	}
	h.cfg.Logger.Warn("HTTP ingest: "+what+" (rate-limited log; see escai_http_events_total)", zap.Error(err))
}

func (h *ingestHandler) tooLarge(w http.ResponseWriter) int {
	return writeError(w, http.StatusRequestEntityTooLarge, "too_large",
		"the body exceeds "+strconv.FormatInt(h.cfg.MaxBodyBytes, 10)+" bytes")
}

func (h *ingestHandler) unavailable(w http.ResponseWriter, msg string) int {
	w.Header().Set("Retry-After", retryAfter(h.cfg.RetryAfter))
	return writeError(w, http.StatusServiceUnavailable, "unavailable", msg)
}

// unauthorized answers every authentication failure the same way, so the
// answer tells an attacker nothing about which check failed (RFC 6750 §3).
func unauthorized(w http.ResponseWriter) int {
	w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	return writeError(w, http.StatusUnauthorized, "unauthorized", "a valid bearer token is required")
}

// bearerToken returns the token of the one Authorization header, scheme
// Bearer (case-insensitive, RFC 7235 §2.1).
func bearerToken(r *http.Request) (string, bool) {
	vals := r.Header.Values("Authorization")
	if len(vals) != 1 {
		return "", false
	}
	scheme, tok, ok := strings.Cut(vals[0], " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.Trim(tok, " ")
	if tok == "" || strings.ContainsAny(tok, " \t") {
		return "", false
	}
	return tok, true
}

// contentMode reads Content-Type and Content-Encoding.
func contentMode(h http.Header) (bodyMode, bool) {
	if enc := h.Get("Content-Encoding"); enc != "" && !strings.EqualFold(enc, "identity") {
		return 0, false
	}
	mt, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		return 0, false
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return 0, false
	}
	switch mt {
	case "application/cloudevents+json", "application/json":
		return modeSingle, true
	case "application/x-ndjson":
		return modeNDJSON, true
	}
	return 0, false
}

// readBody reads the whole body within limit bytes; an over-long body gives
// an *http.MaxBytesError.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	rd := http.MaxBytesReader(w, r.Body, limit)
	defer rd.Close()
	size := 64 << 10
	if r.ContentLength > 0 {
		size = int(r.ContentLength) + 1
	}
	buf := bytes.NewBuffer(make([]byte, 0, size))
	_, err := buf.ReadFrom(rd)
	return buf.Bytes(), err
}

// splitLines returns the non-blank lines of an NDJSON body, each without
// its "\n" or "\r\n"; tooMany is set as soon as there are more than limit.
// Lines are sub-slices of body.
func splitLines(body []byte, limit int) (lines [][]byte, tooMany bool) {
	for len(body) > 0 {
		var line []byte
		if i := bytes.IndexByte(body, '\n'); i >= 0 {
			line, body = body[:i], body[i+1:]
		} else {
			line, body = body, nil
		}
		line = bytes.TrimSuffix(line, []byte{'\r'})
		if blank(line) {
			continue
		}
		if len(lines) == limit {
			return nil, true
		}
		lines = append(lines, line)
	}
	return lines, false
}

func blank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}

func retryAfter(d time.Duration) string {
	return strconv.Itoa(max(1, int((d+time.Second-1)/time.Second)))
}
