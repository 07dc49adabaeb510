package streams_test

import (
	"encoding/json"
	"io/fs"
	"slices"
	"strings"
	"testing"

	"github.com/escai-framework/escai/streams"
)

// TestContract pins the stream names and subjects of DESIGN.md: scripts,
// RBAC roles and other services rely on them.
func TestContract(t *testing.T) {
	t.Parallel()
	want := map[string]struct {
		name, subject, retention string
	}{
		"ESCAI_IN.json":           {"ESCAI_IN", "escai.in.>", "workqueue"},
		"ESCAI_VALID.json":        {"ESCAI_VALID", "escai.valid.>", "workqueue"},
		"ESCAI_REJECTED.json":     {"ESCAI_REJECTED", "escai.rejected.>", "limits"},
		"ESCAI_CLEAN_TENANT.json": {"ESCAI_CLEAN_{{tenant}}", "escai.clean.{{tenant}}.>", "limits"},
		"ESCAI_SECURITY.json":     {"ESCAI_SECURITY", "escai.security.>", "limits"},
		"ESCAI_AUDIT.json":        {"ESCAI_AUDIT", "escai.audit.>", "limits"},
	}
	for file, w := range want {
		t.Run(file, func(t *testing.T) {
			t.Parallel()
			var got struct {
				Name      string   `json:"name"`
				Subjects  []string `json:"subjects"`
				Retention string   `json:"retention"`
			}
			readJSON(t, file, &got)
			if got.Name != w.name || !slices.Equal(got.Subjects, []string{w.subject}) || got.Retention != w.retention {
				t.Errorf("got name %q subjects %q retention %q; want %q [%q] %q",
					got.Name, got.Subjects, got.Retention, w.name, w.subject, w.retention)
			}
		})
	}

	// Every consumer belongs to a stream file and names its durable as its
	// file name does.
	files, err := fs.Glob(streams.FS, "*.consumer.json")
	if err != nil {
		t.Fatal(err)
	}
	wantConsumers := []string{
		"ESCAI_CLEAN_TENANT.audit-writer.consumer.json",
		"ESCAI_IN.ingest.consumer.json",
		"ESCAI_SECURITY.audit-writer.consumer.json",
		"ESCAI_VALID.pii-worker.consumer.json",
	}
	if !slices.Equal(files, wantConsumers) {
		t.Fatalf("consumer files %q, want %q", files, wantConsumers)
	}
	for _, f := range files {
		parts := strings.Split(f, ".")
		var got struct {
			Durable string `json:"durable_name"`
		}
		readJSON(t, f, &got)
		if _, ok := want[parts[0]+".json"]; !ok || got.Durable != parts[1] {
			t.Errorf("%s: durable %q, stream file %s.json", f, got.Durable, parts[0])
		}
	}
}

func readJSON(t *testing.T, file string, v any) {
	t.Helper()
	b, err := streams.FS.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}
