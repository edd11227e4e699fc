package console_test

import (
	"slices"
	"testing"

	"github.com/seintje/seintje/bot/console/browsertest"
	"github.com/seintje/seintje/bot/console/consoletest"
)

// One Chromium for this test binary.
func TestMain(m *testing.M) { browsertest.Main(m) }

func newSite(t testing.TB, env map[string]string) *consoletest.Site { return consoletest.New(t, env) }

func contains(list []string, s string) bool { return slices.Contains(list, s) }

const (
	tokCaseworker = consoletest.TokCaseworker
	tokWerkplaats = consoletest.TokWerkplaats
	tokAdmin      = consoletest.TokAdmin
)
