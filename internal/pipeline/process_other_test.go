//go:build !linux

package pipeline_test

import "os/exec"

// dieWithParent has no portable form; on Linux it is Pdeathsig.
func dieWithParent(*exec.Cmd) {}
