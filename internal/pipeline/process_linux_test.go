package pipeline_test

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes the kernel kill a service process when the test
// binary dies without running its cleanups (a -timeout panic, a kill), so
// no orphan keeps consuming from a later run's streams.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
