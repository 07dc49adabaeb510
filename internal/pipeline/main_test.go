package pipeline_test

import (
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/escai-framework/escai/internal/cli"
)

// Every stage, discovery loop and connection must be gone once its test ends.
//
// Run with ESCAI_TEST_SERVICE=<name>, this binary is that service instead
// (startService): tests run real service processes without a separate
// build step.
func TestMain(m *testing.M) {
	if name := os.Getenv(serviceEnv); name != "" {
		os.Exit(runService(name))
	}
	goleak.VerifyTestMain(m)
}

func runService(name string) int {
	services := map[string]func() int{
		"pii-worker": func() int {
			cmd := cli.NewPIIWorker()
			cmd.SetArgs([]string{}) // not the test binary's flags
			return cli.Execute(cmd)
		},
		"audit-writer": func() int {
			cmd := cli.NewAuditWriter()
			cmd.SetArgs([]string{})
			return cli.Execute(cmd)
		},
	}
	run, ok := services[name]
	if !ok {
		os.Stderr.WriteString("unknown " + serviceEnv + " " + name + "\n")
		return 2
	}
	return run()
}
