package cli

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/escai-framework/escai/internal/auditwriter"
	"github.com/escai-framework/escai/pkg/events"
	"github.com/escai-framework/escai/pkg/security/audit"
)

// maxProofFile bounds what verify-proof reads: a proof holds one record
// (≤ 16 MiB, base64) and a short path.
const maxProofFile = 24 << 20

// newAuditProve replays the partition that holds an event (the partition of
// --tenant/--agent, or every partition until found), keeping the Merkle
// tree, and prints the inclusion proof of the event's record against the
// newest signed checkpoint that covers it: a JSON document (audit.Proof)
// with the record itself, which a third party checks offline with
// `escai audit verify-proof` and the trusted keys alone.
func newAuditProve() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "prove <event-id>",
		Short: "Print an inclusion proof of an event's audit record against the newest checkpoint",
		Args:  cobra.ExactArgs(1),
	}
	af := newAuditFlags(cmd)
	tenant := cmd.Flags().String("tenant", "", "tenant of the event (with --agent: read only its partition)")
	agent := cmd.Flags().String("agent", "", "agent of the event")
	out := cmd.Flags().StringP("out", "o", "-", "file to write the proof to (\"-\": standard output)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		eventID := args[0]
		ctx, stop := signalContext(cmd)
		defer stop()
		s, err := af.open(ctx, "escai-audit-prove")
		if err != nil {
			return err
		}
		defer s.nc.Close()
		parts := s.partitions()
		if *tenant != "" && *agent != "" {
			if !events.ValidIdentifier(*tenant) || !events.ValidIdentifier(*agent) {
				return &ExitError{Code: 2, Err: errors.New("--tenant and --agent must be identifiers ([a-z0-9][a-z0-9_-]{0,63})")}
			}
			parts = []int{auditwriter.Partition(*tenant, *agent, s.cfg.AuditPartitions)}
		}
		for _, p := range parts {
			proof, err := provePartition(cmd, s, p, eventID, *tenant, *agent)
			if err != nil {
				return err
			}
			if proof == nil {
				continue
			}
			b, err := proof.MarshalJSON()
			if err != nil {
				return err
			}
			b = append(b, '\n')
			if *out == "-" {
				_, err = cmd.OutOrStdout().Write(b)
				return err
			}
			if err := writeFileAtomic(*out, b, 0o600); err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.ErrOrStderr(), "proof of %s (%s pseq %d, checkpoint of size %d) written to %s\n", eventID, proof.Origin, proof.LeafIndex, proof.TreeSize, *out)
			return err
		}
		return &ExitError{Code: 1, Err: fmt.Errorf("no audit record of event %q covered by a signed checkpoint", eventID)}
	}
	return cmd
}

// provePartition replays partition p with the tree kept and returns the
// proof of the event's record, nil when the partition does not hold it.
func provePartition(cmd *cobra.Command, s *auditSession, p int, eventID, tenant, agent string) (*audit.Proof, error) {
	origin := audit.Origin(s.logName, uint32(p))
	var record []byte
	var pseq uint64
	rep, tree, err := verifyPartition(cmd.Context(), s.js, audit.VerifierConfig{
		Origin: origin, Partition: uint32(p), Trusted: s.trusted,
		IntegrityKey: s.keys.Integrity, RequireGenesis: true, KeepTree: true,
	}, nil, func(data []byte) {
		if record != nil {
			return
		}
		if r, err := audit.DecodeRecord(data); err == nil && r.EventID == eventID &&
			(tenant == "" || r.Tenant == tenant) && (agent == "" || r.Agent == agent) {
			record, pseq = append([]byte(nil), data...), r.PSeq
		}
	})
	if err != nil {
		return nil, err
	}
	if f := rep.Finding; f != nil {
		// A proof from a log that does not verify would prove nothing.
		return nil, &ExitError{Code: 1, Err: fmt.Errorf("partition %d does not verify: %s at pseq %d (stream seq %d): %s", p, f.Code, f.PSeq, f.StreamSeq, f.Detail)}
	}
	if record == nil {
		return nil, nil
	}
	var newest *audit.SignedCheckpoint
	if rep.Checkpoint != nil {
		newest, err = audit.OpenCheckpoint([]byte(rep.Checkpoint.Note), s.trusted)
		if err != nil {
			return nil, err
		}
	}
	if newest == nil || newest.Size <= pseq {
		return nil, &ExitError{Code: 1, Err: fmt.Errorf("event %q is %s pseq %d, which no signed checkpoint covers yet", eventID, origin, pseq)}
	}
	proof, err := tree.Prove(pseq, newest)
	if err != nil {
		return nil, err
	}
	proof.Record = record
	return proof, nil
}

// newAuditVerifyProof checks a proof from `escai audit prove` offline: no
// broker, no secret key, only the trusted checkpoint keys. Exit 0 when the
// record is included in the signed checkpoint, 1 when it is not.
func newAuditVerifyProof() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "verify-proof <proof.json|->",
		Short: "Check an inclusion proof offline against the trusted checkpoint keys (exit 0 valid, 1 not)",
		Args:  cobra.ExactArgs(1),
	}
	vkeys := cmd.Flags().StringArray("checkpoint-key", nil, "trusted checkpoint verifier key (note vkey); repeat for rotated keys. Required")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if len(*vkeys) == 0 {
			return &ExitError{Code: 2, Err: errors.New("--checkpoint-key is required: a proof is only as good as the key its checkpoint is checked with")}
		}
		trusted, err := audit.TrustedKeys(*vkeys...)
		if err != nil {
			return &ExitError{Code: 2, Err: fmt.Errorf("--checkpoint-key: %w", err)}
		}
		var r io.Reader = cmd.InOrStdin()
		if args[0] != "-" {
			f, err := os.Open(args[0])
			if err != nil {
				return &ExitError{Code: 2, Err: err}
			}
			defer f.Close()
			r = f
		}
		b, err := io.ReadAll(io.LimitReader(r, maxProofFile+1))
		if err != nil {
			return &ExitError{Code: 2, Err: err}
		}
		if len(b) > maxProofFile {
			return &ExitError{Code: 1, Err: fmt.Errorf("proof larger than %d bytes", maxProofFile)}
		}
		proof, err := audit.ParseProof(b)
		if err != nil {
			return &ExitError{Code: 1, Err: fmt.Errorf("not a valid proof: %w", err)}
		}
		sc, err := audit.VerifyProof(proof, nil, trusted)
		if err != nil {
			return &ExitError{Code: 1, Err: fmt.Errorf("proof does not verify: %w", err)}
		}
		what := "leaf"
		if proof.Record != nil {
			if r, err := audit.DecodeRecord(proof.Record); err == nil {
				what = fmt.Sprintf("record of event %q (tenant %s, agent %s, %s)", r.EventID, r.Tenant, r.Agent, r.EventType)
			}
		}
		_, err = fmt.Fprintf(cmd.OutOrStdout(), "OK: %s is pseq %d of %s, included in the checkpoint of size %d signed %s by %v\n",
			what, proof.LeafIndex, proof.Origin, sc.Size, sc.Time.UTC().Format("2006-01-02T15:04:05Z"), sc.SignedBy)
		return err
	}
	return cmd
}
