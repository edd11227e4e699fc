// Package testflows provides the flow files Go tests run on: frozen copies
// of the shipped flows, so a coordinator's edit to flows/ (wording,
// version) never breaks a Go test. The shipped flows are covered by their
// own conversation tests (flows/*.test.yaml) and by generic checks.
package testflows

import (
	"embed"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/seintje/seintje/bot/flow"
)

//go:embed testdata/*.yaml
var files embed.FS

// Source returns the fixture file of flow id (e.g. "no-show").
func Source(t testing.TB, id string) []byte {
	t.Helper()
	b, err := files.ReadFile("testdata/" + id + ".yaml")
	if err != nil {
		t.Fatalf("testflows: no fixture %q: %v", id, err)
	}
	return b
}

// Dir writes every fixture flow into a new temporary directory and
// returns it, ready for flow.LoadDir or SEINTJE_FLOWS_DIR.
func Dir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	Copy(t, dir)
	return dir
}

// Copy writes every fixture flow into dir.
func Copy(t testing.TB, dir string) {
	t.Helper()
	if err := Write(dir); err != nil {
		t.Fatalf("testflows: %v", err)
	}
}

// Write writes every fixture flow into dir (outside a test: the fault
// bench).
func Write(dir string) error {
	return fs.WalkDir(files, "testdata", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, filepath.Base(p)), b, 0o644)
	})
}

//go:embed extra/*.yaml
var extra embed.FS

// CopyExtra writes the extra fixture flow id into dir. Extra fixtures are
// left out of Dir and Copy, so tests that count flows are not affected:
// "ask-ar" is a short flow in Dutch and Arabic (right-to-left tests).
func CopyExtra(t testing.TB, dir, id string) {
	t.Helper()
	b, err := extra.ReadFile("extra/" + id + ".yaml")
	if err != nil {
		t.Fatalf("testflows: no extra fixture %q: %v", id, err)
	}
	if err := os.WriteFile(filepath.Join(dir, id+".yaml"), b, 0o644); err != nil {
		t.Fatalf("testflows: %v", err)
	}
}

// Load parses every fixture flow and fails the test on any diagnostic.
func Load(t testing.TB) map[string]*flow.Flow {
	t.Helper()
	flows, ds, err := flow.LoadDir(Dir(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		t.Errorf("%s", d)
	}
	if ds.HasErrors() {
		t.FailNow()
	}
	return flows
}
