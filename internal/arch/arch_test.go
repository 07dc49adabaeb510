package arch

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/escai-framework/escai"

type pkgInfo struct {
	ImportPath string
	Standard   bool
	Deps       []string
	Imports    []string
}

// list runs `go list -deps -json` on patterns and returns the named packages
// (not their dependencies) with their transitive dependencies.
func list(t *testing.T, patterns ...string) []pkgInfo {
	t.Helper()
	args := append([]string{"list", "-json"}, patterns...)
	out, err := exec.Command("go", args...).Output()
	if err != nil {
		t.Fatalf("go %s: %v", strings.Join(args, " "), err)
	}
	var pkgs []pkgInfo
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p pkgInfo
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) == 0 {
		t.Fatalf("go list %v matched nothing", patterns)
	}
	return pkgs
}

func isStd(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}

func TestEventsImportsOnlyStandardLibrary(t *testing.T) {
	for _, p := range list(t, module+"/pkg/events/...") {
		for _, d := range p.Deps {
			if !isStd(d) {
				t.Errorf("%s depends on %s; pkg/events may import only the standard library", p.ImportPath, d)
			}
		}
	}
}

// TestSecurityPackagesArePure: pkg/security/* are libraries of data in,
// decisions out. No broker, no store, no logging or metrics, nothing of
// internal/, and no security package leans on another except config.
func TestSecurityPackagesArePure(t *testing.T) {
	forbidden := []string{
		"github.com/nats-io/",
		"github.com/redis/",
		"go.uber.org/zap",
		"github.com/prometheus/",
		module + "/internal/",
		module + "/cmd/",
	}
	for _, p := range list(t, module+"/pkg/security/...") {
		for _, d := range p.Deps {
			for _, f := range forbidden {
				if strings.HasPrefix(d, f) {
					t.Errorf("%s depends on %s (forbidden in pkg/security)", p.ImportPath, d)
				}
			}
		}
		for _, imp := range p.Imports {
			rest, ok := strings.CutPrefix(imp, module+"/pkg/security/")
			if !ok {
				continue
			}
			own, _ := strings.CutPrefix(p.ImportPath, module+"/pkg/security/")
			if top(rest) != "config" && top(rest) != top(own) {
				t.Errorf("%s imports %s; security packages import only config of each other", p.ImportPath, imp)
			}
		}
	}
}

// TestPkgDoesNotImportInternal keeps pkg/ usable as a library on its own.
func TestPkgDoesNotImportInternal(t *testing.T) {
	for _, p := range list(t, module+"/pkg/...") {
		for _, d := range p.Deps {
			if strings.HasPrefix(d, module+"/internal/") || strings.HasPrefix(d, module+"/cmd/") {
				t.Errorf("%s depends on %s", p.ImportPath, d)
			}
		}
	}
}

func top(path string) string {
	first, _, _ := strings.Cut(path, "/")
	return first
}

// TestRulesCanFail proves the checks see real edges: internal/stage must be
// reported as depending on NATS by the same listing the rules read.
func TestRulesCanFail(t *testing.T) {
	for _, p := range list(t, module+"/internal/stage") {
		found := false
		for _, d := range p.Deps {
			if strings.HasPrefix(d, "github.com/nats-io/") {
				found = true
			}
		}
		if !found {
			t.Fatalf("go list reported no NATS dependency of %s; the architecture rules would check nothing", p.ImportPath)
		}
	}
}
