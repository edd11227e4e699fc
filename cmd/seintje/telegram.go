package main

import (
	"context"
	"fmt"
	"io"
)

func runTelegram(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "seintje telegram: not available yet")
	return 2
}
