package deploy_test

import (
	"os"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"

	"github.com/seintje/seintje/bot/store"
)

// The Redis that compose.yaml starts has every setting Seintje's key layout
// is made for (store.RecommendedRedis), so the memory figures in
// docs/performance.md hold for it.
func TestComposeRedisHasRecommendedSettings(t *testing.T) {
	b, err := os.ReadFile("compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Services map[string]struct {
			Command []string `yaml:"command"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	cmd := strings.Join(c.Services["redis"].Command, " ")
	if !strings.HasPrefix(cmd, "redis-server ") {
		t.Fatalf("redis command = %q", cmd)
	}
	if want := strings.Join(store.RedisArgs(), " "); !strings.Contains(cmd, want) {
		t.Errorf("redis command %q does not set %q", cmd, want)
	}
}
