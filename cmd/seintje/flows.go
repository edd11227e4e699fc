package main

import (
	"context"
	"fmt"
	"io"

	"github.com/seintje/seintje/bot/flow"
)

// runFlows is the coordinators' toolbox. For now: check.
func runFlows(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "check" {
		fmt.Fprintln(stderr, "Usage: seintje flows check [dir]")
		return 2
	}
	dir := "flows"
	if len(args) > 1 {
		dir = args[1]
	}
	_, ds, err := flow.LoadDir(dir)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	for _, d := range ds {
		fmt.Fprintln(stdout, d)
	}
	if ds.HasErrors() {
		return 1
	}
	return 0
}
