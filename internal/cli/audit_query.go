package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/user"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"

	"github.com/escai-framework/escai/internal/auditwriter"
	"github.com/escai-framework/escai/internal/redisx"
	"github.com/escai-framework/escai/pkg/events"
	"github.com/escai-framework/escai/pkg/security/audit"
)

// QueryReport is the data of the escai.security.audit_query event every
// query publishes before it returns anything: who asked for what. Access
// to the audit trail is itself audited.
type QueryReport struct {
	Actor  string `json:"actor"`
	Tenant string `json:"tenant"`
	Agent  string `json:"agent,omitempty"`
	Type   string `json:"type,omitempty"`
	// ActorRef is the blind index of the --actor asked for, never the
	// identity itself.
	ActorRef string `json:"actor_ref,omitempty"`
	Since    string `json:"since,omitempty"`
	Until    string `json:"until,omitempty"`
	Limit    int    `json:"limit"`
	Decrypt  bool   `json:"decrypt"`
}

// newAuditQuery finds audit records through the Redis index and prints
// them as JSON Lines (auditwriter.QueryResult), decrypted with --decrypt.
// The query is recorded first, as an escai.security.audit_query event
// that the audit writer seals like any other; if it cannot be recorded,
// nothing is returned.
func newAuditQuery() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "query",
		Short: "Print matching audit records as JSON Lines (the query itself is audited)",
		Args:  cobra.NoArgs,
	}
	af := newAuditFlags(cmd)
	af.cf.redis()
	var q auditwriter.Query
	cmd.Flags().StringVar(&q.Tenant, "tenant", "", "tenant (required)")
	cmd.Flags().StringVar(&q.Agent, "agent", "", "only this agent")
	cmd.Flags().StringVar(&q.Type, "type", "", "only this event type, e.g. escai.tool.call")
	actorName := cmd.Flags().String("actor", "", "only records caused by this actor (the \"actor\", \"user.id\" or \"enduser.id\" of the event data; looked up by its blind index, so ESCAI_SECRET_KEY is needed)")
	since := cmd.Flags().String("since", "", "event time from (RFC 3339, or a duration back from now such as 24h)")
	until := cmd.Flags().String("until", "", "event time before (RFC 3339, or a duration back from now)")
	cmd.Flags().IntVar(&q.Limit, "limit", 100, fmt.Sprintf("at most this many records (1..%d)", auditwriter.MaxQueryLimit))
	decrypt := cmd.Flags().Bool("decrypt", false, "decrypt bodies with the data keys of the AUDIT_KEYS bucket")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		now := time.Now().UTC()
		var err error
		if q.Since, err = parseWhen(*since, now); err != nil {
			return &ExitError{Code: 2, Err: fmt.Errorf("--since: %w", err)}
		}
		if q.Until, err = parseWhen(*until, now); err != nil {
			return &ExitError{Code: 2, Err: fmt.Errorf("--until: %w", err)}
		}
		if err := q.Validate(); err != nil {
			return &ExitError{Code: 2, Err: err}
		}
		ctx, stop := signalContext(cmd)
		defer stop()
		s, err := af.open(ctx, "escai-audit-query")
		if err != nil {
			return err
		}
		defer s.nc.Close()
		if *actorName != "" {
			if len(s.cfg.SecretKey) == 0 {
				return &ExitError{Code: 2, Err: errors.New("--actor needs ESCAI_SECRET_KEY: actors are indexed by a keyed blind index")}
			}
			keys, err := audit.DeriveKeys(s.cfg.SecretKey)
			if err != nil {
				return err
			}
			q.ActorRef = auditwriter.ActorRef(keys, *actorName)
		}
		rdb, err := redisx.Connect(ctx, s.cfg.RedisURL)
		if err != nil {
			return err
		}
		defer rdb.Close()
		var ring *audit.KeyRing
		if *decrypt {
			if ring, err = auditwriter.LoadKeyRing(ctx, s.js, s.kek); err != nil {
				return err
			}
		}
		report := QueryReport{Actor: actor(), Tenant: q.Tenant, Agent: q.Agent, Type: q.Type, ActorRef: q.ActorRef, Limit: q.Limit, Decrypt: *decrypt}
		if !q.Since.IsZero() {
			report.Since = q.Since.Format(time.RFC3339Nano)
		}
		if !q.Until.IsZero() {
			report.Until = q.Until.Format(time.RFC3339Nano)
		}
		if err := recordAccess(ctx, s.js, "audit_query", report.Tenant, report); err != nil {
			return fmt.Errorf("the query could not be recorded, so it is not run: %w", err)
		}
		enc := json.NewEncoder(cmd.OutOrStdout())
		n, err := auditwriter.RunQuery(ctx, s.js, rdb, q, ring, func(r *auditwriter.QueryResult) error { return enc.Encode(r) })
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(cmd.ErrOrStderr(), "%d records\n", n)
		return err
	}
	return cmd
}

// parseWhen reads an RFC 3339 time or a duration back from now; "" is no
// bound.
func parseWhen(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		if d < 0 {
			return time.Time{}, errors.New("a duration back from now must be positive")
		}
		return now.Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither RFC 3339 nor a duration", s)
	}
	return t.UTC(), nil
}

// actor names who runs the command: the OS user at the host.
func actor() string {
	name := "unknown"
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown"
	}
	return name + "@" + host
}

// recordAccess publishes an escai.security.<kind> event about tenant
// (who did what to its audit trail) and waits until ESCAI_SECURITY stored
// it: the caller acts only once it is recorded.
func recordAccess(ctx context.Context, js jetstream.JetStream, kind, tenant string, report any) error {
	id := make([]byte, 12)
	if _, err := rand.Read(id); err != nil {
		return err
	}
	e := &events.Envelope{ID: hex.EncodeToString(id), Tenant: tenant, AgentID: "escai-cli"} // the event id becomes "<kind>-<hex>"
	se, err := events.NewSecurityEvent(kind, "escai-cli", e, report, time.Now())
	if err != nil {
		return err
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err = js.PublishMsg(pctx, &nats.Msg{Subject: se.Subject, Data: se.Body}, jetstream.WithMsgID(se.MsgID), jetstream.WithExpectStream(events.StreamSecurity))
	return err
}
