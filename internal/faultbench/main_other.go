//go:build !unix

// Command faultbench needs Unix signals (SIGKILL, SIGSTOP); see main.go.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "faultbench: runs on Linux or macOS only (it sends SIGKILL and SIGSTOP)")
	os.Exit(2)
}
