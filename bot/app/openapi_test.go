package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"

	"github.com/seintje/seintje/bot/app"
	"github.com/seintje/seintje/bot/channel/telegram/telegramtest"
	"github.com/seintje/seintje/bot/config"
	"github.com/seintje/seintje/bot/internal/apitest"
)

// TestOpenAPIMatchesRouter holds docs/openapi.yaml to the router: every
// /v1 and service route Seintje answers (with every optional part switched
// on) is described, and every described operation exists. Adding or
// changing a route fails here until the description says the same.
func TestOpenAPIMatchesRouter(t *testing.T) {
	spec, err := apitest.Load()
	if err != nil {
		t.Fatal(err)
	}
	mr := miniredis.RunT(t)
	const tgToken = "123456789:AAopenapi-test_0123456789"
	tg := telegramtest.New(t, tgToken)
	env := map[string]string{
		"REDIS_URL":               "redis://" + mr.Addr() + "/0",
		"SEINTJE_PUBLIC_URL":      testPublicURL,
		"SEINTJE_HASH_KEY":        "test-hash-key-0123456789abcdef0123456789",
		"SEINTJE_API_TOKENS":      "ad:admin:" + tokAdmin,
		"SEINTJE_CALLBACK_NUMBER": "088 123 45 67",
		"SEINTJE_CALLBACK_HOURS":  "maandag tot en met vrijdag van 9 tot 17 uur",
		"SEINTJE_FLOWS_DIR":       "../../flows",
		"TWILIO_ACCOUNT_SID":      testSID,
		"TWILIO_AUTH_TOKEN":       testAuthToken,
		"TWILIO_FROM":             testFrom,
		"TELEGRAM_BOT_TOKEN":      tgToken,
		"TELEGRAM_WEBHOOK_SECRET": "webhook-secret_0123456789",
		"TELEGRAM_BOT_USERNAME":   "GemeenteSeintjeBot",
		"TELEGRAM_API_URL":        tg.URL,
		// An events subscriber switches the dead-letter endpoints on.
		"SEINTJE_EVENTS_SUBSCRIBERS":  "zaken",
		"SEINTJE_EVENTS_ZAKEN_URL":    "https://zaken.test/seintje-events",
		"SEINTJE_EVENTS_ZAKEN_SECRET": "events-secret-0123456789abcdef",
	}
	cfg, err := config.Load(config.Options{Getenv: func(k string) string { return env[k] }})
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(context.Background(), cfg, app.Options{Redis: redis.NewClient(&redis.Options{Addr: mr.Addr()}), NoWorker: true})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	engine, ok := a.Handler.(*gin.Engine)
	if !ok {
		t.Fatalf("app.Handler is a %T, not the gin engine: teach this test to reach the router", a.Handler)
	}
	var routes []string
	for _, r := range engine.Routes() {
		if apitest.Described(r.Path) {
			routes = append(routes, apitest.GinRoute(r.Method, r.Path))
		}
	}
	described := spec.Operations()
	for _, r := range routes {
		if !slices.Contains(described, r) {
			t.Errorf("%s is served but not described in docs/openapi.yaml: describe it (request, responses, problems)", r)
		}
	}
	for _, op := range described {
		if !slices.Contains(routes, op) {
			t.Errorf("docs/openapi.yaml describes %s, which the router does not serve", op)
		}
	}

	// The served description is the source, as JSON.
	srv := httptest.NewServer(a.Handler)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var served struct {
		OpenAPI string         `json:"openapi"`
		Paths   map[string]any `json:"paths"`
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET /openapi.json: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if err := json.NewDecoder(resp.Body).Decode(&served); err != nil {
		t.Fatal(err)
	}
	if served.OpenAPI == "" || len(served.Paths) != len(spec.Doc.Paths.Map()) {
		t.Errorf("served description: openapi %q with %d paths, source has %d", served.OpenAPI, len(served.Paths), len(spec.Doc.Paths.Map()))
	}
}
