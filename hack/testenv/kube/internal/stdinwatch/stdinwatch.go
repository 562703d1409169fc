// Package stdinwatch ends the process when its stdin closes, so a test binary
// never outlives the test process that started it, even one killed by SIGKILL:
// the parent holds the write end of a pipe on our stdin, and the kernel closes
// it when the parent dies.
package stdinwatch

import (
	"fmt"
	"io"
	"os"
)

// EnvVar switches the watch on; without it stdin is left alone, so the binary
// behaves as upstream's when run by hand.
const EnvVar = "TESTENV_EXIT_ON_STDIN_EOF"

// Start begins watching stdin when EnvVar is "1".
func Start(name string) {
	if os.Getenv(EnvVar) != "1" {
		return
	}
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		fmt.Fprintf(os.Stderr, "%s: stdin closed, the test process is gone; exiting\n", name)
		os.Exit(0)
	}()
}
