package redisx

import (
	"os/exec"
	"syscall"
)

var sigTerm = syscall.SIGTERM

// setParentDeathSignal asks the kernel to SIGTERM redis-server when the
// thread that started it exits, so a test binary killed by -timeout or a
// crashed `escai dev` leaves no server behind. Go ends an OS thread only when
// a goroutine locked to it (runtime.LockOSThread) exits without unlocking;
// nothing here does that, and if other code did, the server would stop early
// and loudly rather than leak. SIGTERM rather than SIGKILL lets redis-server
// flush its append-only file.
func setParentDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
