package deploy_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
)

// TestGoReleaserConfig checks .goreleaser.yaml builds the six targets CI
// cross-compiles (.ci/run RELEASE_TARGETS), and that every file it packs
// exists (flows, docs), so a release never misses them silently.
func TestGoReleaserConfig(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, ".goreleaser.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Builds []struct {
			Main   string   `yaml:"main"`
			Env    []string `yaml:"env"`
			Tags   []string `yaml:"tags"`
			GOOS   []string `yaml:"goos"`
			GOARCH []string `yaml:"goarch"`
		} `yaml:"builds"`
		Archives []struct {
			Files []string `yaml:"files"`
		} `yaml:"archives"`
		Checksum struct {
			Name string `yaml:"name_template"`
		} `yaml:"checksum"`
	}
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		t.Fatalf(".goreleaser.yaml: %v", err)
	}
	if len(cfg.Builds) != 1 || cfg.Builds[0].Main != "./cmd/seintje" {
		t.Fatalf("want one build of ./cmd/seintje, got %+v", cfg.Builds)
	}
	bld := cfg.Builds[0]
	if !slices.Contains(bld.Env, "CGO_ENABLED=0") || !slices.Contains(bld.Tags, "nomsgpack") {
		t.Errorf("build env %v tags %v: want CGO_ENABLED=0 and nomsgpack, like the image", bld.Env, bld.Tags)
	}
	var targets []string
	for _, os := range bld.GOOS {
		for _, arch := range bld.GOARCH {
			targets = append(targets, os+"/"+arch)
		}
	}
	slices.Sort(targets)
	ci, err := os.ReadFile(filepath.Join(root, ".ci", "run"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^RELEASE_TARGETS="([^"]*)"`).FindSubmatch(ci)
	if m == nil {
		t.Fatal(".ci/run has no RELEASE_TARGETS")
	}
	ciTargets := strings.Fields(string(m[1]))
	slices.Sort(ciTargets)
	want := []string{"darwin/amd64", "darwin/arm64", "linux/amd64", "linux/arm64", "windows/amd64", "windows/arm64"}
	if !slices.Equal(targets, want) || !slices.Equal(ciTargets, want) {
		t.Errorf("targets: goreleaser %v, CI %v, want %v", targets, ciTargets, want)
	}
	if cfg.Checksum.Name == "" {
		t.Error("no checksum file")
	}
	if len(cfg.Archives) == 0 {
		t.Fatal("no archives")
	}
	var packsFlows, packsDocs bool
	for _, pat := range cfg.Archives[0].Files {
		got, err := filepath.Glob(filepath.Join(root, pat))
		if err != nil || len(got) == 0 {
			t.Errorf(".goreleaser.yaml packs %q, which matches no file", pat)
		}
		packsFlows = packsFlows || strings.HasPrefix(pat, "flows/")
		packsDocs = packsDocs || strings.HasPrefix(pat, "docs/")
	}
	if !packsFlows || !packsDocs {
		t.Error("the archives must hold the flows and the docs")
	}
}
