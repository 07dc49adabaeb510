package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"

	"github.com/escai-framework/escai/internal/pipeline"
	"github.com/escai-framework/escai/pkg/events"
	"github.com/escai-framework/escai/pkg/security/config"
	"github.com/escai-framework/escai/pkg/security/pii"
)

func newPIICmd() *cobra.Command {
	c := &cobra.Command{Use: "pii", Short: "Detect, mask and reveal personal data and secrets"}
	sensitivity := c.PersistentFlags().String("sensitivity", "", "low, medium or high (default: ESCAI_PII_SENSITIVITY)")
	masker := func() (*pii.Masker, error) {
		cfg, err := config.Load(os.LookupEnv, config.OSFiles{})
		if err != nil {
			return nil, err
		}
		if *sensitivity != "" {
			cfg.PIISensitivity = config.Sensitivity(*sensitivity)
		}
		m, err := pipeline.NewMasker(cfg)
		if err != nil {
			return nil, &ExitError{Code: 2, Err: err}
		}
		return m, nil
	}
	scan := &cobra.Command{
		Use:   "scan",
		Short: `JSONL {"id","text"} in, {"id","matches":[{"type","start","end","score"}]} out (UTF-8 byte offsets, end exclusive)`,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			m, err := masker()
			if err != nil {
				return err
			}
			return pii.ScanJSONL(cmd.Context(), m.Detector(), cmd.InOrStdin(), cmd.OutOrStdout())
		},
	}
	mask := &cobra.Command{
		Use:   "mask",
		Short: "JSONL envelopes in, the masked envelopes out (escaipii records the counts)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			m, err := masker()
			if err != nil {
				return err
			}
			return pii.MaskJSONL(cmd.Context(), m, cmd.InOrStdin(), cmd.OutOrStdout())
		},
	}
	c.AddCommand(scan, mask, newPIIReveal())
	return c
}

// newPIIReveal turns encrypt-strategy tokens back into values. Every reveal
// is reported on escai.security.pii_reveal first (who asked, for which
// tenant, why, how many tokens — never the values); when that report cannot
// be stored, nothing is revealed.
func newPIIReveal() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "reveal",
		Short: "Decrypt <TYPE:enc:…> tokens of one tenant read one per line (needs ESCAI_SECRET_KEY; the reveal is audited first)",
		Args:  cobra.NoArgs,
	}
	cf := newConfigFlags(cmd.Flags())
	cf.common()
	tenant := cmd.Flags().String("tenant", "", "tenant whose data is revealed (required; a token reveals only for the tenant it was masked for)")
	reason := cmd.Flags().String("reason", "", "why the values are needed (required; recorded)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if !events.ValidIdentifier(*tenant) || strings.TrimSpace(*reason) == "" {
			return &ExitError{Code: 2, Err: errors.New("--tenant (an identifier) and --reason are required")}
		}
		cfg, err := cf.load()
		if err != nil {
			return err
		}
		key := pipeline.PIIKey(cfg)
		if len(key) == 0 {
			return &ExitError{Code: 2, Err: errors.New("ESCAI_PII_KEY or ESCAI_SECRET_KEY (or their _FILE) is required to reveal")}
		}
		keys, err := pii.KeysFromSecret(key)
		if err != nil {
			return err
		}
		var tokens []string
		sc := bufio.NewScanner(cmd.InOrStdin())
		for sc.Scan() {
			if t := strings.TrimSpace(sc.Text()); t != "" {
				tokens = append(tokens, t)
			}
		}
		if err := sc.Err(); err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(cmd.Context(), 30*time.Second)
		defer cancel()
		nc, err := connectNATS(ctx, cfg, "escai-pii-reveal")
		if err != nil {
			return fmt.Errorf("reveal refused: cannot record it: %w", err)
		}
		defer nc.Close()
		js, err := jetstream.New(nc)
		if err != nil {
			return err
		}
		now := time.Now()
		about := &events.Envelope{ID: fmt.Sprintf("reveal-%d", now.UnixNano()), Tenant: *tenant, AgentID: "operator"}
		se, err := events.NewSecurityEvent("pii_reveal", "escai-cli", about, map[string]any{
			// "actor" is what the audit index files the reveal under.
			"actor": actor(), "reason": *reason, "tokens": len(tokens),
		}, now)
		if err != nil {
			return err
		}
		if _, err := js.Publish(ctx, se.Subject, se.Body, jetstream.WithMsgID(se.MsgID)); err != nil {
			return fmt.Errorf("reveal refused: the security event was not stored: %w", err)
		}
		enc := json.NewEncoder(cmd.OutOrStdout())
		for _, t := range tokens {
			v, err := pii.Reveal(t, *tenant, keys)
			out := map[string]string{"token": t}
			if err != nil {
				out["error"] = err.Error()
			} else {
				out["value"] = v
			}
			if err := enc.Encode(out); err != nil {
				return err
			}
		}
		return nil
	}
	return cmd
}
