package app_test

import (
	"os"
	"testing"
)

// TestMain says how many integration tests were skipped for want of Redis.
func TestMain(m *testing.M) { os.Exit(itest.Main(m)) }
