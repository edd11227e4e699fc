package config

import (
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

const (
	testSID       = "AC0123456789abcdef0123456789abcdef"
	testMGSID     = "MG0123456789abcdef0123456789abcdef"
	testAuthToken = "twilio-auth-token-very-secret"
	testHashKey   = "hashkey-for-tests-only-32-bytes-min"
	testSecretA   = "anna-secret-0123456789"
	testSecretB   = "bert-secret-0123456789"
	testBotToken  = "123456789:AAbbCCddEEff_gg-HH"
)

// validEnv is a complete production configuration.
func validEnv() map[string]string {
	return map[string]string{
		"REDIS_URL":               "redis://127.0.0.1:6379/0",
		"SEINTJE_PUBLIC_URL":      "https://seintje.gemeente.nl/",
		"SEINTJE_HASH_KEY":        testHashKey,
		"SEINTJE_API_TOKENS":      "anna:caseworker:" + testSecretA + ", bert:admin:" + testSecretB,
		"SEINTJE_CALLBACK_NUMBER": "088 123 45 67",
		"SEINTJE_CALLBACK_HOURS":  "maandag tot en met vrijdag van 9 tot 17 uur",
		"TWILIO_ACCOUNT_SID":      testSID,
		"TWILIO_AUTH_TOKEN":       testAuthToken,
		"TWILIO_FROM":             "+3197010000000",
	}
}

// with returns base changed by kv pairs; an empty value removes the key.
func with(base map[string]string, kv ...string) map[string]string {
	out := make(map[string]string, len(base)+len(kv)/2)
	for k, v := range base {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			delete(out, kv[i])
		} else {
			out[kv[i]] = kv[i+1]
		}
	}
	return out
}

func testOptions(demo bool, env, files map[string]string) Options {
	return Options{
		Demo:   demo,
		Getenv: func(k string) string { return env[k] },
		ReadFile: func(name string) ([]byte, error) {
			if b, ok := files[name]; ok {
				return []byte(b), nil
			}
			return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
		},
	}
}

const exampleYAML = `# test file
addr: ":9090"
public_url: https://seintje.utrecht.nl/
flows_dir: /srv/seintje/flows
retention: 12w
log_level: debug
hash_key_file: secrets/hash_key
api_tokens_file: /run/secrets/api_tokens
redis:
  url: redis://redis.utrecht.local:6379/2
  key_prefix: utr
callback:
  number: "030 286 00 00"
  hours:
    nl: maandag tot en met vrijdag van 8 tot 17 uur
    en: Monday to Friday, 8am to 5pm
twilio:
  account_sid: ` + testSID + `
  auth_token_file: /run/secrets/twilio
  messaging_service_sid: ` + testMGSID + `
  rate: 2.5
telegram:
  token_file: /run/secrets/telegram
  webhook_secret_file: /run/secrets/telegram_webhook
  bot_username: "@UtrechtSeintjeBot"
  link_ttl: 7d
sending:
  quiet_hours: mon-fri 09:00-18:00
  good_friday: true
  liberation_day: true
  weekly_limit: 2
jobs:
  queue: utrecht
werkplaats:
  claim_ttl: 45m
`

func exampleFiles() map[string]string {
	return map[string]string{
		"/etc/seintje/seintje.yaml":       exampleYAML,
		"/etc/seintje/secrets/hash_key":   testHashKey + "\n",
		"/run/secrets/api_tokens":         "# name:role:secret\nanna:caseworker:" + testSecretA + "\nwp:werkplaats:" + testSecretB + "\n",
		"/run/secrets/twilio":             testAuthToken + "\n",
		"/run/secrets/telegram":           testBotToken + "\n",
		"/run/secrets/telegram_webhook":   "webhook_secret-123\r\n",
		"/run/secrets/hash_key_from_env":  testHashKey,
		"/run/secrets/redis_password":     "redis-pw",
		"/run/secrets/empty":              "\n",
		"/etc/seintje/unknown.yaml":       "addr: \":8080\"\nredis:\n  url: redis://x:6379\n  prefix: sj\n",
		"/etc/seintje/secret.yaml":        "addr: \":8080\"\ntwilio:\n  account_sid: " + testSID + "\n  auth_token: abc\n",
		"/etc/seintje/badtype.yaml":       "sending:\n  weekly_limit: many\n",
		"/etc/seintje/redispw.yaml":       "redis:\n  url: redis://:hunter2@redis:6379/0\n",
		"/etc/seintje/twilio_rate_0.yaml": "twilio:\n  rate: 0\n",
		"/etc/seintje/claim_ttl_1d.yaml":  "werkplaats:\n  claim_ttl: 2d\n",
		"/etc/seintje/queue_space.yaml":   "jobs:\n  queue: seintje utrecht\n",
	}
}

func TestLoad(t *testing.T) {
	tests := []struct {
		name  string
		demo  bool
		env   map[string]string
		check func(t *testing.T, c *Config)
	}{
		{
			name: "defaults",
			env:  validEnv(),
			check: func(t *testing.T, c *Config) {
				eq(t, "Addr", c.Addr, ":8080")
				eq(t, "PublicURL", c.PublicURL, "https://seintje.gemeente.nl")
				eq(t, "FlowsDir", c.FlowsDir, "flows")
				eq(t, "Retention", c.Retention, 90*24*time.Hour)
				eq(t, "LogLevel", c.LogLevel, "info")
				eq(t, "HashKey", string(c.HashKey), testHashKey)
				eq(t, "tokens", fmt.Sprint(c.APITokens), "[anna (caseworker) bert (admin)]")
				eq(t, "token secret", c.APITokens[1].Secret, testSecretB)
				eq(t, "KeyPrefix", c.Redis.KeyPrefix, "sj")
				eq(t, "Rate", c.Twilio.Rate, 10.0)
				eq(t, "Twilio.Configured", c.Twilio.Configured(), true)
				eq(t, "Telegram.Configured", c.Telegram.Configured(), false)
				eq(t, "LinkTTL", c.Telegram.LinkTTL, 14*24*time.Hour)
				eq(t, "QuietHours", c.Sending.QuietHours, "mon-sat 09:00-20:00")
				eq(t, "WeeklyLimit", c.Sending.WeeklyLimit, 3)
				eq(t, "GoodFriday", c.Sending.GoodFriday, false)
				eq(t, "hours nl", c.Callback.Hours["nl"], "maandag tot en met vrijdag van 9 tot 17 uur")
				eq(t, "Jobs.Queue", c.Jobs.Queue, "seintje")
				eq(t, "ClaimTTL", c.Werkplaats.ClaimTTL, 30*time.Minute)
			},
		},
		{
			name: "yaml file",
			env:  map[string]string{"SEINTJE_CONFIG": "/etc/seintje/seintje.yaml"},
			check: func(t *testing.T, c *Config) {
				eq(t, "Addr", c.Addr, ":9090")
				eq(t, "PublicURL", c.PublicURL, "https://seintje.utrecht.nl")
				eq(t, "FlowsDir", c.FlowsDir, "/srv/seintje/flows")
				eq(t, "Retention", c.Retention, 12*7*24*time.Hour)
				eq(t, "LogLevel", c.LogLevel, "debug")
				eq(t, "HashKey (relative *_file)", string(c.HashKey), testHashKey)
				eq(t, "tokens", fmt.Sprint(c.APITokens), "[anna (caseworker) wp (werkplaats)]")
				eq(t, "Redis.URL", c.Redis.URL, "redis://redis.utrecht.local:6379/2")
				eq(t, "KeyPrefix", c.Redis.KeyPrefix, "utr")
				eq(t, "Number", c.Callback.Number, "030 286 00 00")
				eq(t, "hours en", c.Callback.Hours["en"], "Monday to Friday, 8am to 5pm")
				eq(t, "AuthToken", c.Twilio.AuthToken, testAuthToken)
				eq(t, "MessagingServiceSID", c.Twilio.MessagingServiceSID, testMGSID)
				eq(t, "Rate", c.Twilio.Rate, 2.5)
				eq(t, "Telegram.Token", c.Telegram.Token, testBotToken)
				eq(t, "Telegram.Secret (CRLF trimmed)", c.Telegram.Secret, "webhook_secret-123")
				eq(t, "BotUsername", c.Telegram.BotUsername, "UtrechtSeintjeBot")
				eq(t, "LinkTTL", c.Telegram.LinkTTL, 7*24*time.Hour)
				eq(t, "QuietHours", c.Sending.QuietHours, "mon-fri 09:00-18:00")
				eq(t, "GoodFriday", c.Sending.GoodFriday, true)
				eq(t, "LiberationDay", c.Sending.LiberationDay, true)
				eq(t, "WeeklyLimit", c.Sending.WeeklyLimit, 2)
				eq(t, "Jobs.Queue", c.Jobs.Queue, "utrecht")
				eq(t, "ClaimTTL", c.Werkplaats.ClaimTTL, 45*time.Minute)
			},
		},
		{
			name: "env overrides yaml",
			env: map[string]string{
				"SEINTJE_CONFIG":                 "/etc/seintje/seintje.yaml",
				"SEINTJE_ADDR":                   "127.0.0.1:8081",
				"SEINTJE_PUBLIC_URL":             "https://seintje.example.nl",
				"SEINTJE_RETENTION":              "2160h",
				"SEINTJE_LOG_LEVEL":              "WARN",
				"REDIS_URL":                      "rediss://redis.example.nl:6380/0",
				"SEINTJE_KEY_PREFIX":             "{sj}",
				"SEINTJE_CALLBACK_HOURS":         "ma t/m vr 9-12 uur",
				"SEINTJE_SMS_RATE":               "0.5",
				"SEINTJE_TELEGRAM_LINK_TTL":      "2w",
				"SEINTJE_HOLIDAY_GOOD_FRIDAY":    "false",
				"SEINTJE_WEEKLY_LIMIT":           "5",
				"SEINTJE_QUIET_HOURS":            "off",
				"SEINTJE_API_TOKENS":             "x:coordinator:" + testSecretA,
				"SEINTJE_HASH_KEY_FILE":          "/run/secrets/hash_key_from_env",
				"SEINTJE_HOLIDAY_LIBERATION_DAY": "no",
				"SEINTJE_JOBS_QUEUE":             "seintje-test_2",
				"SEINTJE_CLAIM_TTL":              "1h30m",
			},
			check: func(t *testing.T, c *Config) {
				eq(t, "Addr", c.Addr, "127.0.0.1:8081")
				eq(t, "PublicURL", c.PublicURL, "https://seintje.example.nl")
				eq(t, "Retention", c.Retention, 90*24*time.Hour)
				eq(t, "LogLevel", c.LogLevel, "warn")
				eq(t, "Redis.URL", c.Redis.URL, "rediss://redis.example.nl:6380/0")
				eq(t, "KeyPrefix", c.Redis.KeyPrefix, "{sj}")
				eq(t, "hours nl", c.Callback.Hours["nl"], "ma t/m vr 9-12 uur")
				eq(t, "hours en kept", c.Callback.Hours["en"], "Monday to Friday, 8am to 5pm")
				eq(t, "Rate", c.Twilio.Rate, 0.5)
				eq(t, "LinkTTL", c.Telegram.LinkTTL, 14*24*time.Hour)
				eq(t, "GoodFriday", c.Sending.GoodFriday, false)
				eq(t, "LiberationDay", c.Sending.LiberationDay, false)
				eq(t, "WeeklyLimit", c.Sending.WeeklyLimit, 5)
				eq(t, "QuietHours", c.Sending.QuietHours, "off")
				eq(t, "tokens", fmt.Sprint(c.APITokens), "[x (coordinator)]")
				eq(t, "HashKey", string(c.HashKey), testHashKey)
				eq(t, "Jobs.Queue", c.Jobs.Queue, "seintje-test_2")
				eq(t, "ClaimTTL", c.Werkplaats.ClaimTTL, 90*time.Minute)
			},
		},
		{
			name: "claim ttl limits are allowed",
			env:  with(validEnv(), "SEINTJE_CLAIM_TTL", "24H"),
			check: func(t *testing.T, c *Config) {
				eq(t, "ClaimTTL", c.Werkplaats.ClaimTTL, 24*time.Hour)
			},
		},
		{
			name: "secrets from _FILE",
			env: with(validEnv(),
				"TWILIO_AUTH_TOKEN", "", "TWILIO_AUTH_TOKEN_FILE", "/run/secrets/twilio",
				"SEINTJE_API_TOKENS", "", "SEINTJE_API_TOKENS_FILE", "/run/secrets/api_tokens",
				"REDIS_URL", "", "REDIS_CLUSTER_ADDRS", "redis-1:6379, redis-2:6379",
				"REDIS_PASSWORD_FILE", "/run/secrets/redis_password",
				"TELEGRAM_BOT_TOKEN_FILE", "/run/secrets/telegram",
				"TELEGRAM_WEBHOOK_SECRET_FILE", "/run/secrets/telegram_webhook",
				"TELEGRAM_BOT_USERNAME", "GemeenteSeintjeBot"),
			check: func(t *testing.T, c *Config) {
				eq(t, "AuthToken", c.Twilio.AuthToken, testAuthToken)
				eq(t, "tokens", len(c.APITokens), 2)
				eq(t, "ClusterAddrs", strings.Join(c.Redis.ClusterAddrs, ","), "redis-1:6379,redis-2:6379")
				eq(t, "Redis.Password", c.Redis.Password, "redis-pw")
				eq(t, "Telegram.Configured", c.Telegram.Configured(), true)
				eq(t, "Telegram.Secret", c.Telegram.Secret, "webhook_secret-123")
			},
		},
		{
			name: "telegram only",
			env: with(validEnv(), "TWILIO_ACCOUNT_SID", "", "TWILIO_AUTH_TOKEN", "", "TWILIO_FROM", "",
				"TELEGRAM_BOT_TOKEN", testBotToken, "TELEGRAM_WEBHOOK_SECRET", "abc_DEF-123",
				"TELEGRAM_BOT_USERNAME", "GemeenteSeintjeBot", "TELEGRAM_API_URL", "http://127.0.0.1:9999/"),
			check: func(t *testing.T, c *Config) {
				eq(t, "Twilio.Configured", c.Twilio.Configured(), false)
				eq(t, "Telegram.Configured", c.Telegram.Configured(), true)
				eq(t, "APIURL", c.Telegram.APIURL, "http://127.0.0.1:9999")
			},
		},
		{
			name: "sentinel",
			env: with(validEnv(), "REDIS_URL", "", "REDIS_SENTINEL_ADDRS", "s1:26379,s2:26379,s3:26379",
				"REDIS_SENTINEL_MASTER", "mymaster", "REDIS_PASSWORD", "pw"),
			check: func(t *testing.T, c *Config) {
				eq(t, "SentinelAddrs", len(c.Redis.SentinelAddrs), 3)
				eq(t, "SentinelMaster", c.Redis.SentinelMaster, "mymaster")
			},
		},
		{
			name: "demo with nothing set",
			demo: true,
			env:  map[string]string{},
			check: func(t *testing.T, c *Config) {
				eq(t, "PublicURL", c.PublicURL, "http://localhost:8080")
				eq(t, "HashKey len", len(c.HashKey), 32)
				eq(t, "Number", c.Callback.Number, "088 123 45 67")
				eq(t, "hours nl", c.Callback.Hours["nl"], DemoCallbackHoursNL)
				eq(t, "hours en", c.Callback.Hours["en"], DemoCallbackHoursEN)
				eq(t, "Redis.Configured", c.Redis.Configured(), false)
				eq(t, "Twilio.Configured", c.Twilio.Configured(), false)
				eq(t, "Demo", c.Demo, true)
			},
		},
		{
			name: "demo public URL follows addr",
			demo: true,
			env:  map[string]string{"SEINTJE_ADDR": "127.0.0.1:9000"},
			check: func(t *testing.T, c *Config) {
				eq(t, "PublicURL", c.PublicURL, "http://127.0.0.1:9000")
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(testOptions(tt.demo, tt.env, exampleFiles()))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			tt.check(t, c)
		})
	}
}

func TestLoadErrors(t *testing.T) {
	noTwilio := with(validEnv(), "TWILIO_ACCOUNT_SID", "", "TWILIO_AUTH_TOKEN", "", "TWILIO_FROM", "")
	tests := []struct {
		name  string
		demo  bool
		env   map[string]string
		first []string // substrings of the first line
		also  []string // substrings anywhere in the error
	}{
		// Required settings.
		{name: "redis missing", env: with(validEnv(), "REDIS_URL", ""),
			first: []string{`config: REDIS_URL is not set: Seintje keeps all state in Redis. Set REDIS_URL=redis://host:6379/0, or run "seintje serve --demo" to try it with an embedded Redis`}},
		{name: "public url missing", env: with(validEnv(), "SEINTJE_PUBLIC_URL", ""),
			first: []string{"config: SEINTJE_PUBLIC_URL is required (the https URL Twilio calls, e.g. https://seintje.gemeente.nl)"}},
		{name: "hash key missing", env: with(validEnv(), "SEINTJE_HASH_KEY", ""), first: []string{"SEINTJE_HASH_KEY is required", "SEINTJE_HASH_KEY_FILE"}},
		{name: "api tokens missing", env: with(validEnv(), "SEINTJE_API_TOKENS", ""), first: []string{"SEINTJE_API_TOKENS is required"}},
		{name: "callback number missing", env: with(validEnv(), "SEINTJE_CALLBACK_NUMBER", ""), first: []string{"SEINTJE_CALLBACK_NUMBER is required"}},
		{name: "callback hours missing", env: with(validEnv(), "SEINTJE_CALLBACK_HOURS", ""), first: []string{"SEINTJE_CALLBACK_HOURS is required", "callback.hours.nl"}},
		{name: "no channel", env: noTwilio, first: []string{"no channel configured", "TWILIO_ACCOUNT_SID"}},
		{name: "first problem first", env: with(validEnv(), "SEINTJE_PUBLIC_URL", "", "REDIS_URL", "", "SEINTJE_API_TOKENS", ""),
			first: []string{"REDIS_URL is not set"}, also: []string{"\nconfig: SEINTJE_API_TOKENS is required", "\nconfig: SEINTJE_PUBLIC_URL is required"}},
		// Bad values.
		{name: "retention abc", env: with(validEnv(), "SEINTJE_RETENTION", "abc"), first: []string{`SEINTJE_RETENTION "abc"`, "90d"}},
		{name: "retention zero", env: with(validEnv(), "SEINTJE_RETENTION", "0d"), first: []string{`SEINTJE_RETENTION "0d"`}},
		{name: "link ttl bad", env: with(validEnv(), "SEINTJE_TELEGRAM_LINK_TTL", "-1h"), first: []string{"SEINTJE_TELEGRAM_LINK_TTL"}},
		{name: "rate 0", env: with(validEnv(), "SEINTJE_SMS_RATE", "0"), first: []string{`SEINTJE_SMS_RATE "0"`, "above 0"}},
		{name: "rate NaN", env: with(validEnv(), "SEINTJE_SMS_RATE", "NaN"), first: []string{`SEINTJE_SMS_RATE "NaN"`}},
		{name: "log level", env: with(validEnv(), "SEINTJE_LOG_LEVEL", "verbose"), first: []string{"SEINTJE_LOG_LEVEL", "debug, info, warn or error"}},
		{name: "addr", env: with(validEnv(), "SEINTJE_ADDR", "8080"), first: []string{`SEINTJE_ADDR "8080"`}},
		{name: "public url not absolute", env: with(validEnv(), "SEINTJE_PUBLIC_URL", "seintje.gemeente.nl"), first: []string{`SEINTJE_PUBLIC_URL "seintje.gemeente.nl"`}},
		{name: "public url ftp", env: with(validEnv(), "SEINTJE_PUBLIC_URL", "ftp://seintje.gemeente.nl"), first: []string{"SEINTJE_PUBLIC_URL"}},
		{name: "short hash key", env: with(validEnv(), "SEINTJE_HASH_KEY", "short"), first: []string{"SEINTJE_HASH_KEY is 5 bytes", "at least 32"}},
		{name: "bad token role", env: with(validEnv(), "SEINTJE_API_TOKENS", "anna:boss:"+testSecretA), first: []string{"SEINTJE_API_TOKENS", `role "boss"`, "caseworker, coordinator, admin, werkplaats"}},
		{name: "short token secret", env: with(validEnv(), "SEINTJE_API_TOKENS", "anna:admin:tooshort"), first: []string{"SEINTJE_API_TOKENS", `"anna"`, "8 characters", "at least 16"}},
		{name: "token without secret", env: with(validEnv(), "SEINTJE_API_TOKENS", "anna:admin"), first: []string{"SEINTJE_API_TOKENS: entry 1 is not name:role:secret"}},
		{name: "duplicate token names", env: with(validEnv(), "SEINTJE_API_TOKENS", "anna:admin:"+testSecretA+",anna:caseworker:"+testSecretB), first: []string{`token name "anna" is used twice`}},
		{name: "duplicate token secrets", env: with(validEnv(), "SEINTJE_API_TOKENS", "anna:admin:"+testSecretA+",bert:caseworker:"+testSecretA), first: []string{`tokens "anna" and "bert" have the same secret`}},
		{name: "account sid prefix", env: with(validEnv(), "TWILIO_ACCOUNT_SID", "XX0123456789abcdef0123456789abcdef"), first: []string{"TWILIO_ACCOUNT_SID", "starts with AC"}},
		{name: "both from and service", env: with(validEnv(), "TWILIO_MESSAGING_SERVICE_SID", testMGSID), first: []string{"both TWILIO_FROM and TWILIO_MESSAGING_SERVICE_SID"}},
		{name: "from not e164", env: with(validEnv(), "TWILIO_FROM", "0612345678"), first: []string{`TWILIO_FROM "0612345678" is not an E.164`}},
		{name: "service sid prefix", env: with(validEnv(), "TWILIO_FROM", "", "TWILIO_MESSAGING_SERVICE_SID", "XX0123456789abcdef0123456789abcdef"), first: []string{"TWILIO_MESSAGING_SERVICE_SID", "starts with MG"}},
		{name: "twilio partial", env: with(noTwilio, "TWILIO_FROM", "+3197010000000"), first: []string{"TWILIO_ACCOUNT_SID is required"}, also: []string{"TWILIO_AUTH_TOKEN is required"}},
		{name: "twilio partial in demo", demo: true, env: map[string]string{"TWILIO_ACCOUNT_SID": testSID}, first: []string{"TWILIO_AUTH_TOKEN is required"}},
		{name: "callback number letters", env: with(validEnv(), "SEINTJE_CALLBACK_NUMBER", "bel ons"), first: []string{`SEINTJE_CALLBACK_NUMBER "bel ons"`}},
		{name: "callback number short", env: with(validEnv(), "SEINTJE_CALLBACK_NUMBER", "14 030"), first: []string{"SEINTJE_CALLBACK_NUMBER", "8 to 20 digits"}},
		{name: "weekly limit 0", env: with(validEnv(), "SEINTJE_WEEKLY_LIMIT", "0"), first: []string{`SEINTJE_WEEKLY_LIMIT "0"`}},
		{name: "hold-out over half", env: with(validEnv(), "SEINTJE_EXPERIMENT_MAX_HOLDOUT", "60"), first: []string{`SEINTJE_EXPERIMENT_MAX_HOLDOUT "60"`, "0 to 50"}},
		{name: "claim ttl abc", env: with(validEnv(), "SEINTJE_CLAIM_TTL", "abc"), first: []string{`SEINTJE_CLAIM_TTL "abc"`, "from 1m to 24h", "e.g. 30m"}},
		{name: "claim ttl zero", env: with(validEnv(), "SEINTJE_CLAIM_TTL", "0"), first: []string{`SEINTJE_CLAIM_TTL "0"`, "from 1m to 24h"}},
		{name: "claim ttl negative", env: with(validEnv(), "SEINTJE_CLAIM_TTL", "-30m"), first: []string{`SEINTJE_CLAIM_TTL "-30m"`}},
		{name: "claim ttl too short", env: with(validEnv(), "SEINTJE_CLAIM_TTL", "30s"), first: []string{`SEINTJE_CLAIM_TTL "30s"`, "from 1m to 24h"}},
		{name: "claim ttl too long", env: with(validEnv(), "SEINTJE_CLAIM_TTL", "25h"), first: []string{`SEINTJE_CLAIM_TTL "25h"`, "from 1m to 24h"}},
		{name: "yaml claim ttl", env: with(validEnv(), "SEINTJE_CONFIG", "/etc/seintje/claim_ttl_1d.yaml"), first: []string{`werkplaats.claim_ttl (in /etc/seintje/claim_ttl_1d.yaml) "2d"`}},
		{name: "jobs queue space", env: with(validEnv(), "SEINTJE_JOBS_QUEUE", "seintje utrecht"), first: []string{`SEINTJE_JOBS_QUEUE "seintje utrecht" is not a queue name`}},
		{name: "jobs queue braces", env: with(validEnv(), "SEINTJE_JOBS_QUEUE", "{seintje}"), first: []string{`SEINTJE_JOBS_QUEUE "{seintje}"`}},
		{name: "yaml jobs queue", env: with(validEnv(), "SEINTJE_CONFIG", "/etc/seintje/queue_space.yaml"), first: []string{`jobs.queue (in /etc/seintje/queue_space.yaml)`, "not a queue name"}},
		{name: "bool", env: with(validEnv(), "SEINTJE_HOLIDAY_GOOD_FRIDAY", "misschien"), first: []string{"SEINTJE_HOLIDAY_GOOD_FRIDAY"}},
		{name: "redis url scheme", env: with(validEnv(), "REDIS_URL", "http://redis:6379"), first: []string{"REDIS_URL", "redis:// or rediss://"}},
		{name: "redis twice", env: with(validEnv(), "REDIS_CLUSTER_ADDRS", "r1:6379"), first: []string{"only one of REDIS_URL, REDIS_CLUSTER_ADDRS"}},
		{name: "cluster addr", env: with(validEnv(), "REDIS_URL", "", "REDIS_CLUSTER_ADDRS", "r1"), first: []string{`REDIS_CLUSTER_ADDRS: "r1" is not host:port`}},
		{name: "sentinel master missing", env: with(validEnv(), "REDIS_URL", "", "REDIS_SENTINEL_ADDRS", "s1:26379"), first: []string{"REDIS_SENTINEL_MASTER is required"}},
		{name: "telegram secret chars", env: with(noTwilio, "TELEGRAM_BOT_TOKEN", testBotToken, "TELEGRAM_WEBHOOK_SECRET", "no spaces allowed", "TELEGRAM_BOT_USERNAME", "GemeenteSeintjeBot"),
			first: []string{"TELEGRAM_WEBHOOK_SECRET must be 1 to 256 characters"}},
		{name: "telegram without token", env: with(validEnv(), "TELEGRAM_BOT_USERNAME", "GemeenteSeintjeBot"), first: []string{"TELEGRAM_BOT_TOKEN is required"}},
		// Secret files.
		{name: "secret and _FILE both", env: with(validEnv(), "SEINTJE_HASH_KEY_FILE", "/run/secrets/hash_key_from_env"), first: []string{"both SEINTJE_HASH_KEY and SEINTJE_HASH_KEY_FILE are set"}},
		{name: "secret file missing", env: with(validEnv(), "TWILIO_AUTH_TOKEN", "", "TWILIO_AUTH_TOKEN_FILE", "/run/secrets/nope"), first: []string{"TWILIO_AUTH_TOKEN_FILE: cannot read", "/run/secrets/nope"}},
		{name: "secret file empty", env: with(validEnv(), "SEINTJE_HASH_KEY", "", "SEINTJE_HASH_KEY_FILE", "/run/secrets/empty"), first: []string{"SEINTJE_HASH_KEY_FILE", "is empty"}},
		// YAML file.
		{name: "config file missing", env: with(validEnv(), "SEINTJE_CONFIG", "/etc/seintje/nope.yaml"), first: []string{"SEINTJE_CONFIG", "/etc/seintje/nope.yaml"}},
		{name: "unknown yaml key", env: with(validEnv(), "SEINTJE_CONFIG", "/etc/seintje/unknown.yaml"), first: []string{"/etc/seintje/unknown.yaml:4:3:", `unknown field "prefix"`}},
		{name: "secret in yaml", env: with(validEnv(), "SEINTJE_CONFIG", "/etc/seintje/secret.yaml"), first: []string{"/etc/seintje/secret.yaml:4:", "twilio.auth_token is a secret", "TWILIO_AUTH_TOKEN_FILE", "twilio.auth_token_file"}},
		{name: "password in yaml redis url", env: with(validEnv(), "SEINTJE_CONFIG", "/etc/seintje/redispw.yaml"), first: []string{"redis.url contains a password", "REDIS_PASSWORD"}},
		{name: "yaml type error", env: with(validEnv(), "SEINTJE_CONFIG", "/etc/seintje/badtype.yaml"), first: []string{"/etc/seintje/badtype.yaml:2:"}},
		{name: "yaml rate 0", env: with(validEnv(), "SEINTJE_CONFIG", "/etc/seintje/twilio_rate_0.yaml"), first: []string{"twilio.rate (in /etc/seintje/twilio_rate_0.yaml)", "above 0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(testOptions(tt.demo, tt.env, exampleFiles()))
			if err == nil {
				t.Fatalf("Load succeeded: %v", c)
			}
			msg := err.Error()
			first, _, _ := strings.Cut(msg, "\n")
			if !strings.HasPrefix(first, "config: ") {
				t.Errorf("first line %q does not start with \"config: \"", first)
			}
			for _, want := range tt.first {
				if !strings.Contains(first, want) {
					t.Errorf("first line %q does not contain %q", first, want)
				}
			}
			for _, want := range tt.also {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not contain %q", msg, want)
				}
			}
			for _, secret := range []string{testSecretA, testSecretB, testAuthToken, testHashKey, testBotToken, "hunter2"} {
				if strings.Contains(msg, secret) {
					t.Errorf("error leaks a secret: %q", msg)
				}
			}
		})
	}
}

func TestSecretsNotPrinted(t *testing.T) {
	env := with(validEnv(), "TELEGRAM_BOT_TOKEN", testBotToken, "TELEGRAM_WEBHOOK_SECRET", "abc_DEF-123",
		"TELEGRAM_BOT_USERNAME", "GemeenteSeintjeBot", "REDIS_URL", "redis://:hunter2@127.0.0.1:6379/0")
	c, err := Load(testOptions(false, env, nil))
	if err != nil {
		t.Fatal(err)
	}
	var logged strings.Builder
	slog.New(slog.NewTextHandler(&logged, nil)).Info("config", "config", c)
	outputs := map[string]string{
		"slog":         logged.String(),
		"String":       c.String(),
		"%v":           fmt.Sprintf("%v", c),
		"%+v":          fmt.Sprintf("%+v", c),
		"%#v":          fmt.Sprintf("%#v", c),
		"%+v value":    fmt.Sprintf("%+v", *c),
		"%#v value":    fmt.Sprintf("%#v", *c),
		"slog value":   slog.AnyValue(*c).Resolve().String(),
		"%+v Twilio":   fmt.Sprintf("%+v", c.Twilio),
		"%+v Telegram": fmt.Sprintf("%+v", c.Telegram),
		"%+v Redis":    fmt.Sprintf("%+v", c.Redis),
		"%+v tokens":   fmt.Sprintf("%+v", c.APITokens),
		"%#v tokens":   fmt.Sprintf("%#v", c.APITokens),
		"slog token":   slog.AnyValue(c.APITokens[0]).Resolve().String(),
	}
	for name, out := range outputs {
		for _, secret := range []string{testSecretA, testSecretB, testAuthToken, testHashKey, testBotToken, "abc_DEF-123", "hunter2"} {
			if strings.Contains(out, secret) {
				t.Errorf("%s output leaks %q: %s", name, secret, out)
			}
		}
	}
	if !strings.Contains(logged.String(), "config.twilio.auth_token=(set)") || !strings.Contains(logged.String(), "config.api_tokens=") {
		t.Errorf("log line lacks masked settings: %s", logged.String())
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"90d", 90 * 24 * time.Hour, true},
		{"2160h", 2160 * time.Hour, true},
		{"12w", 12 * 7 * 24 * time.Hour, true},
		{"1h30m", 90 * time.Minute, true},
		{"abc", 0, false},
		{"d", 0, false},
		{"1.5d", 0, false},
		{"99999999999999w", 0, false},
	}
	for _, tt := range tests {
		got, err := parseDuration(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseDuration(%q) = %v, %v; want %v, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestRedisClient(t *testing.T) {
	tests := []struct {
		name     string
		r        Redis
		want     string // "single", "failover" or "cluster"
		wantAddr string
	}{
		{name: "url", r: Redis{URL: "redis://127.0.0.1:6379/3", Password: "pw"}, want: "single", wantAddr: "127.0.0.1:6379"},
		{name: "cluster with one address", r: Redis{ClusterAddrs: []string{"cfg.cache.local:6379"}}, want: "cluster"},
		{name: "cluster with three addresses", r: Redis{ClusterAddrs: []string{"r1:6379", "r2:6379", "r3:6379"}}, want: "cluster"},
		{name: "sentinel", r: Redis{SentinelAddrs: []string{"s1:26379"}, SentinelMaster: "mymaster"}, want: "failover", wantAddr: "FailoverClient"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client, err := tt.r.NewClient()
			if err != nil {
				t.Fatal(err)
			}
			defer client.Close()
			var got, addr string
			switch c := client.(type) {
			case *redis.ClusterClient:
				got = "cluster"
			case *redis.Client:
				got, addr = "single", c.Options().Addr
				if addr == "FailoverClient" {
					got = "failover"
				}
				if tt.r.URL != "" {
					eq(t, "DB", c.Options().DB, 3)
					eq(t, "Password", c.Options().Password, "pw")
				}
			default:
				t.Fatalf("unexpected client type %T", client)
			}
			eq(t, "client", got, tt.want)
			if tt.wantAddr != "" {
				eq(t, "addr", addr, tt.wantAddr)
			}

			// The universal options must give the same kind of client.
			uo, err := tt.r.UniversalOptions()
			if err != nil {
				t.Fatal(err)
			}
			uc := redis.NewUniversalClient(uo)
			defer uc.Close()
			_, isCluster := uc.(*redis.ClusterClient)
			eq(t, "universal client is cluster", isCluster, tt.want == "cluster")
		})
	}

	if _, err := (Redis{}).NewClient(); err == nil {
		t.Error("NewClient without configuration succeeded")
	}
	if _, err := (Redis{}).UniversalOptions(); err == nil {
		t.Error("UniversalOptions without configuration succeeded")
	}
}

func eq[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// TestExampleFile keeps config/seintje.example.yaml loadable.
func TestExampleFile(t *testing.T) {
	const path = "../../config/seintje.example.yaml"
	example, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		path:                                      string(example),
		"/run/secrets/seintje_hash_key":           testHashKey + "\n",
		"/run/secrets/seintje_api_tokens":         "anna:caseworker:" + testSecretA + "\n",
		"/run/secrets/twilio_auth_token":          testAuthToken + "\n",
		"/run/secrets/telegram_bot_token":         testBotToken + "\n",
		"/run/secrets/telegram_webhook_secret":    "webhook_secret-123\n",
		"/run/secrets/seintje_events_zaaksysteem": "events-secret-0123456789abcdef\n",
	}
	c, err := Load(testOptions(false, map[string]string{"SEINTJE_CONFIG": path}, files))
	if err != nil {
		t.Fatalf("example file does not load: %v", err)
	}
	eq(t, "PublicURL", c.PublicURL, "https://seintje.zaanstad.nl")
	eq(t, "Twilio.Configured", c.Twilio.Configured(), true)
	eq(t, "Telegram.Configured", c.Telegram.Configured(), true)
	eq(t, "LiberationDay", c.Sending.LiberationDay, true)
	eq(t, "Jobs.Queue", c.Jobs.Queue, DefaultJobsQueue)
	eq(t, "ClaimTTL", c.Werkplaats.ClaimTTL, DefaultClaimTTL)
	eq(t, "Events.Subscribers", len(c.Events.Subscribers), 1)
	eq(t, "Events.RetryFor", c.Events.RetryFor, DefaultEventsRetryFor)
}

func TestEventSubscribers(t *testing.T) {
	const secret = "events-secret-0123456789abcdef"
	base := with(validEnv(), "SEINTJE_EVENTS_SUBSCRIBERS", "zaken, crm-2", "SEINTJE_EVENTS_ZAKEN_URL", "https://zaken.gemeente.nl/ev",
		"SEINTJE_EVENTS_ZAKEN_SECRET", secret, "SEINTJE_EVENTS_ZAKEN_TYPES", "message.failed,nudge.replied",
		"SEINTJE_EVENTS_CRM_2_URL", "http://127.0.0.1:9000/ev", "SEINTJE_EVENTS_CRM_2_SECRET_FILE", "/run/secrets/crm")
	files := map[string]string{"/run/secrets/crm": secret + "\n"}
	c, err := Load(testOptions(false, base, files))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Events.Subscribers) != 2 {
		t.Fatalf("subscribers = %v", c.Events.Subscribers)
	}
	z, crm := c.Events.Subscribers[0], c.Events.Subscribers[1]
	eq(t, "zaken URL", z.URL, "https://zaken.gemeente.nl/ev")
	eq(t, "zaken types", strings.Join(z.Types, " "), "message.failed nudge.replied")
	eq(t, "crm secret", string(crm.Secret), secret)
	eq(t, "crm types", len(crm.Types), 0)
	if strings.Contains(fmt.Sprintf("%v %#v", z, z), secret) {
		t.Error("a subscriber prints its secret")
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"plain http elsewhere", with(base, "SEINTJE_EVENTS_ZAKEN_URL", "http://zaken.gemeente.nl/ev"), "SEINTJE_EVENTS_ZAKEN_URL"},
		{"no URL", with(base, "SEINTJE_EVENTS_ZAKEN_URL", ""), "give the https URL"},
		{"short secret", with(base, "SEINTJE_EVENTS_ZAKEN_SECRET", "short"), "at least 16 characters"},
		{"no secret", with(base, "SEINTJE_EVENTS_ZAKEN_SECRET", ""), "signing secret"},
		{"bad name", with(base, "SEINTJE_EVENTS_SUBSCRIBERS", "Zaken Systeem"), "subscriber name"},
		{"twice", with(base, "SEINTJE_EVENTS_SUBSCRIBERS", "zaken,zaken"), "listed twice"},
		{"bad retry", with(base, "SEINTJE_EVENTS_RETRY_FOR", "soon"), "SEINTJE_EVENTS_RETRY_FOR"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(testOptions(false, tc.env, files))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Load = %v, want an error about %q", err, tc.want)
			}
		})
	}
}

func TestExperimentMaxHoldout(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		want float64
	}{{validEnv(), DefaultMaxHoldout}, {with(validEnv(), "SEINTJE_EXPERIMENT_MAX_HOLDOUT", "10%"), 10}} {
		env := c.env
		cfg, err := Load(Options{Getenv: func(k string) string { return env[k] }})
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Experiments.MaxHoldout != c.want {
			t.Errorf("max hold-out %v, want %v", cfg.Experiments.MaxHoldout, c.want)
		}
	}
}
