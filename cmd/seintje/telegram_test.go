package main

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/seintje/seintje/bot/channel/telegram/telegramtest"
)

func TestTelegramSetWebhook(t *testing.T) {
	const token = "123456789:AAset-webhook-test_0123456789"
	srv := telegramtest.New(t, token)
	env := map[string]string{
		"REDIS_URL":               "redis://127.0.0.1:6379/0",
		"SEINTJE_PUBLIC_URL":      "https://seintje.test",
		"SEINTJE_HASH_KEY":        "test-hash-key-0123456789abcdef0123456789",
		"SEINTJE_API_TOKENS":      "cw:caseworker:caseworker-secret-0001",
		"SEINTJE_CALLBACK_NUMBER": "088 123 45 67",
		"SEINTJE_CALLBACK_HOURS":  "maandag tot en met vrijdag van 9 tot 17 uur",
		"TELEGRAM_BOT_TOKEN":      token,
		"TELEGRAM_WEBHOOK_SECRET": "webhook-secret_0123456789",
		"TELEGRAM_BOT_USERNAME":   "GemeenteSeintjeBot",
		"TELEGRAM_API_URL":        srv.URL,
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
	}{
		{"no subcommand", nil, 2, ""},
		{"unknown subcommand", []string{"get-webhook"}, 2, ""},
		{"bad max connections", []string{"set-webhook", "--max-connections", "0"}, 2, ""},
		{"set", []string{"set-webhook"}, 0, "webhook set: https://seintje.test/webhooks/telegram"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := runTelegram(context.Background(), tt.args, &out, &errOut)
			if code != tt.wantCode || !strings.Contains(out.String(), tt.wantOut) {
				t.Fatalf("code %d (want %d), out %q, err %q", code, tt.wantCode, out.String(), errOut.String())
			}
			if strings.Contains(out.String()+errOut.String(), token) {
				t.Error("the bot token was printed")
			}
		})
	}
	var set map[string]string
	for _, r := range srv.Requests() {
		if r.Method == "setWebhook" && r.HTTPStatus == http.StatusOK {
			set = r.Fields
		}
	}
	if set["url"] != "https://seintje.test/webhooks/telegram" || set["secret_token"] != env["TELEGRAM_WEBHOOK_SECRET"] ||
		set["allowed_updates"] != `["message","callback_query"]` || set["max_connections"] != "1" {
		t.Errorf("setWebhook fields: %v", set)
	}
	if v := srv.Violations(); len(v) > 0 {
		t.Errorf("violations: %v", v)
	}
}
