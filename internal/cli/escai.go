package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/escai-framework/escai/internal/pipeline"
	"github.com/escai-framework/escai/pkg/security/config"
	"github.com/escai-framework/escai/pkg/security/validate"
)

// NewEscai is the operator CLI: escai <noun> <verb>.
func NewEscai() *cobra.Command {
	root := &cobra.Command{
		Use:           "escai",
		Short:         "ESCAI Pipeline operator CLI",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       Version,
	}
	root.AddCommand(newDev(), newStreams(), newBench(), newConfigCmd(), newValidateCmd(), newPIICmd(), newAuditCmd())
	return root
}

func newStreams() *cobra.Command {
	streams := &cobra.Command{Use: "streams", Short: "Manage the JetStream streams and consumers of streams/"}
	apply := &cobra.Command{
		Use:   "apply",
		Short: "Create or update every stream and consumer (idempotent; a second run reports unchanged)",
		Args:  cobra.NoArgs,
	}
	cf := newConfigFlags(apply.Flags())
	cf.common()
	cf.integer("audit-retention-days", "ESCAI_AUDIT_RETENTION_DAYS", "audit retention in days (max_age of ESCAI_AUDIT)")
	cf.integer("max-ack-pending", "ESCAI_MAX_ACK_PENDING", "max_ack_pending of every consumer")
	wait := apply.Flags().Duration("wait", time.Minute, "keep retrying while JetStream is not ready (a cluster electing its leader)")
	asJSON := apply.Flags().Bool("json", false, "print results as JSON lines")
	tenants := apply.Flags().StringSlice("tenant", nil, "also provision these tenants' clean streams")
	apply.RunE = func(cmd *cobra.Command, _ []string) error {
		p, err := newProcess(cmd, "escai", cf)
		if err != nil {
			return err
		}
		ctx, stop := signalContext(cmd)
		defer stop()
		nc, err := connectNATS(ctx, p.cfg, "escai-streams-apply")
		if err != nil {
			return err
		}
		defer nc.Close()
		js, err := p.env.NewJetStream(nc)
		if err != nil {
			return err
		}
		results, err := p.env.ApplyStreamsWaiting(ctx, js, *wait)
		if err != nil {
			return err
		}
		for _, t := range *tenants {
			r, err := p.env.Defs.EnsureTenant(ctx, js, t, p.env.Overrides())
			if err != nil {
				return err
			}
			results = append(results, r...)
		}
		out := cmd.OutOrStdout()
		if *asJSON {
			enc := json.NewEncoder(out)
			for _, r := range results {
				if err := enc.Encode(map[string]string{"kind": r.Kind, "stream": r.Stream, "name": r.Name, "action": string(r.Action)}); err != nil {
					return err
				}
			}
			return nil
		}
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "KIND\tSTREAM\tNAME\tACTION")
		for _, r := range results {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Kind, r.Stream, r.Name, r.Action)
		}
		return tw.Flush()
	}
	streams.AddCommand(apply)
	return streams
}

func newConfigCmd() *cobra.Command {
	c := &cobra.Command{Use: "config", Short: "Inspect the effective configuration"}
	show := &cobra.Command{
		Use:   "show",
		Short: "Print the effective configuration, secrets redacted, and every problem Validate finds",
		Args:  cobra.NoArgs,
	}
	cf := newConfigFlags(show.Flags())
	cf.common()
	show.RunE = func(cmd *cobra.Command, _ []string) error {
		cfg, err := cf.load()
		if cfg == nil {
			return err
		}
		red := cfg.Redacted()
		keys := make([]string, 0, len(red))
		for k := range red {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			fmt.Fprintf(cmd.OutOrStdout(), "%s=%s\n", k, red[k])
		}
		return nil
	}
	c.AddCommand(show)
	return c
}

func newValidateCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Validate fields: JSONL {\"id\",\"field\",\"value\"} in, {\"id\",\"threats\",\"verdict\"} out",
		Long: `escai validate reads one JSON object per line on stdin,
{"id":…,"field":"data.arguments.sql","value":"…"}, and writes one line per
input line, in order: {"id":…,"threats":[…],"verdict":"clean|flagged|rejected"}.
The field path decides what the value is expected to hold (SQL in a sql
field is clean; the same text in a path field is not). A bad line gets an
error object on its line; nothing stops the run.`,
		Args: cobra.NoArgs,
	}
	level := cmd.Flags().String("level", "", "permissive, standard or strict (default: ESCAI_VALIDATION_LEVEL, else standard)")
	rules := cmd.Flags().String("rules", "", "custom rules file (default: ESCAI_VALIDATION_RULES_FILE)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		cfg, err := config.Load(os.LookupEnv, config.OSFiles{})
		if err != nil {
			return err
		}
		if *level != "" {
			cfg.ValidationLevel = config.ValidationLevel(*level)
		}
		if *rules != "" {
			cfg.ValidationRulesFile = *rules
		}
		v, err := pipeline.NewValidator(cfg)
		if err != nil {
			return &ExitError{Code: 2, Err: err}
		}
		return validate.RunJSONL(cmd.Context(), v, cmd.InOrStdin(), cmd.OutOrStdout())
	}
	return cmd
}
