package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/escai-framework/escai/internal/auditwriter"
	"github.com/escai-framework/escai/pkg/events"
)

// ShredReport is the data of the escai.security.audit_shred event that
// records a crypto-shred in the audit trail itself.
type ShredReport struct {
	Actor  string   `json:"actor"`
	Tenant string   `json:"tenant"`
	KeyIDs []string `json:"key_ids"`
}

// newAuditShred crypto-shreds one tenant (GDPR erasure): its audit data
// keys are erased from the AUDIT_KEYS bucket and replaced by tombstones,
// so its records' bodies can never be decrypted again while every chain,
// tree and checkpoint still verifies. The shred is recorded first, as an
// escai.security.audit_shred event; without --yes it only says what it
// would shred.
func newAuditShred() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "shred",
		Short: "Make one tenant's audit payloads unreadable for ever (crypto-shredding); the trail still verifies",
		Args:  cobra.NoArgs,
	}
	af := newAuditFlags(cmd)
	tenant := cmd.Flags().String("tenant", "", "tenant to shred (required)")
	yes := cmd.Flags().Bool("yes", false, "really shred: this cannot be undone")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if !events.ValidIdentifier(*tenant) {
			return &ExitError{Code: 2, Err: fmt.Errorf("--tenant %q is not an identifier ([a-z0-9][a-z0-9_-]{0,63})", *tenant)}
		}
		ctx, stop := signalContext(cmd)
		defer stop()
		s, err := af.open(ctx, "escai-audit-shred")
		if err != nil {
			return err
		}
		defer s.nc.Close()
		ids, err := auditwriter.TenantKeyIDs(ctx, s.js, *tenant)
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			return &ExitError{Code: 1, Err: fmt.Errorf("tenant %q has no data keys of its own: nothing to shred (records sealed while ESCAI_AUDIT_TENANT_KEYS was off, or in clear, cannot be shredded alone)", *tenant)}
		}
		if !*yes {
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "would shred %d data keys of tenant %s: %s\nrun again with --yes to shred them; this cannot be undone\n",
				len(ids), *tenant, strings.Join(ids, " "))
			if err == nil {
				err = &ExitError{Code: 2}
			}
			return err
		}
		if err := recordAccess(ctx, s.js, "audit_shred", *tenant, ShredReport{Actor: actor(), Tenant: *tenant, KeyIDs: ids}); err != nil {
			return fmt.Errorf("the shred could not be recorded, so it is not done: %w", err)
		}
		shredded, err := auditwriter.ShredTenant(ctx, s.js, s.kek, *tenant)
		if err != nil {
			return err
		}
		if len(shredded) == 0 {
			return errors.New("no key was shredded: the bucket changed meanwhile; run again")
		}
		_, err = fmt.Fprintf(cmd.OutOrStdout(), "shredded %d data keys of tenant %s; its audit payloads can no longer be decrypted\n", len(shredded), *tenant)
		return err
	}
	return cmd
}
