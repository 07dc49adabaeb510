//go:build !linux

package redisx

import (
	"os"
	"os/exec"
	"syscall"
)

var sigTerm os.Signal = syscall.SIGTERM

// setParentDeathSignal is a no-op where the kernel offers no parent-death
// signal; Stop must be called to end the server.
func setParentDeathSignal(*exec.Cmd) {}
