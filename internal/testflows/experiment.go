package testflows

import (
	"embed"
	"os"
	"path/filepath"
	"testing"
)

//go:embed experiment/*.yaml
var experimentFiles embed.FS

// ExperimentDir writes the experiment fixture flow (form-exp: two text arms
// and a hold-out, experiment form-exp-test) into a new temporary directory
// and returns it, ready for SEINTJE_FLOWS_DIR or `flows check`.
func ExperimentDir(t testing.TB) string {
	t.Helper()
	b, err := experimentFiles.ReadFile("experiment/form-exp.yaml")
	if err != nil {
		t.Fatalf("testflows: %v", err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "form-exp.yaml"), b, 0o644); err != nil {
		t.Fatalf("testflows: %v", err)
	}
	return dir
}
