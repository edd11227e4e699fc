// Package config loads Seintje's settings from an optional YAML file and
// environment variables (the environment wins), fills in defaults and
// validates everything before start-up.
//
// Secrets (the hash key, API tokens, the Redis password, the Twilio auth
// token and the Telegram bot token and webhook secret) are never read from
// the YAML file itself, so the file can live in a repository. Each secret
// comes from its environment variable, from a file named by the
// environment variable <VAR>_FILE, or from a file named by the matching
// *_file key in the YAML file.
//
// Every problem is reported as one line that names the setting and says how
// to fix it; Load returns all problems joined, the first one first.
package config

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
)

// Defaults used when a setting is not given.
const (
	DefaultAddr           = ":8080"
	DefaultAgency         = "uw gemeente"
	DefaultFlowsDir       = "flows"
	DefaultRetention      = 90 * 24 * time.Hour
	DefaultAuditRetention = 365 * 24 * time.Hour
	DefaultLogLevel       = "info"
	DefaultKeyPrefix      = "sj"
	DefaultSMSRate        = 10.0
	DefaultLinkTTL        = 14 * 24 * time.Hour
	DefaultQuietHours     = "mon-sat 09:00-20:00"
	DefaultWeeklyLimit    = 3
	DefaultJobsQueue      = "seintje"
	DefaultClaimTTL       = 30 * time.Minute
	MinClaimTTL           = time.Minute
	MaxClaimTTL           = 24 * time.Hour
	DemoCallbackNumber    = "088 123 45 67"
	DemoCallbackHoursNL   = "maandag tot en met vrijdag van 9 tot 17 uur"
	DemoCallbackHoursEN   = "Monday to Friday, 9am to 5pm"
	MinHashKeyBytes       = 32
	MinTokenSecretLength  = 16
)

// Roles an API token can have.
const (
	RoleCaseworker  = "caseworker"
	RoleCoordinator = "coordinator"
	RoleAdmin       = "admin"
	RoleWerkplaats  = "werkplaats"
)

// Config is the complete, validated configuration.
type Config struct {
	Addr      string        // SEINTJE_ADDR, yaml addr
	Agency    string        // SEINTJE_AGENCY, yaml agency: who sends the messages, e.g. "gemeente Zaanstad"
	PublicURL string        // SEINTJE_PUBLIC_URL, yaml public_url; no trailing slash
	FlowsDir  string        // SEINTJE_FLOWS_DIR, yaml flows_dir
	Retention time.Duration // SEINTJE_RETENTION, yaml retention
	// AuditRetention is how long the audit trail keeps entries
	// (SEINTJE_AUDIT_RETENTION, yaml audit_retention; default 365 days).
	AuditRetention time.Duration
	LogLevel       string  // SEINTJE_LOG_LEVEL, yaml log_level: debug, info, warn or error
	HashKey        []byte  // SEINTJE_HASH_KEY(_FILE), yaml hash_key_file (secret)
	APITokens      []Token // SEINTJE_API_TOKENS(_FILE), yaml api_tokens_file (secret)
	Redis          Redis
	Callback       Callback
	Twilio         Twilio
	Telegram       Telegram
	WhatsApp       WhatsApp
	Sending        Sending
	Experiments    Experiments
	Jobs           Jobs
	Werkplaats     Werkplaats
	Spool          Spool
	Console        Console
	Events         Events

	// Demo reports whether the configuration was loaded in demo mode.
	Demo bool
}

// Token is one API token. Its String, GoString and LogValue methods never
// show the secret.
type Token struct {
	Name   string
	Role   string
	Secret string
}

// String returns "name (role)".
func (t Token) String() string { return fmt.Sprintf("%s (%s)", t.Name, t.Role) }

// GoString keeps %#v from printing the secret.
func (t Token) GoString() string {
	return fmt.Sprintf("config.Token{Name:%q, Role:%q, Secret:%q}", t.Name, t.Role, mask(t.Secret))
}

// LogValue keeps slog from printing the secret.
func (t Token) LogValue() slog.Value {
	return slog.GroupValue(slog.String("name", t.Name), slog.String("role", t.Role))
}

// Callback is the phone number people can call, and when.
type Callback struct {
	Number string            // SEINTJE_CALLBACK_NUMBER, yaml callback.number, e.g. "088 123 45 67"
	Hours  map[string]string // yaml callback.hours by language; SEINTJE_CALLBACK_HOURS sets "nl"
}

// Twilio holds the SMS settings.
type Twilio struct {
	AccountSID          string  // TWILIO_ACCOUNT_SID
	AuthToken           string  // TWILIO_AUTH_TOKEN(_FILE), yaml twilio.auth_token_file (secret)
	From                string  // TWILIO_FROM, E.164
	MessagingServiceSID string  // TWILIO_MESSAGING_SERVICE_SID; exactly one of From and this
	APIURL              string  // TWILIO_API_URL, optional base URL override (no trailing slash)
	Rate                float64 // SEINTJE_SMS_RATE, messages per second
}

// Configured reports whether SMS can be sent.
func (t Twilio) Configured() bool {
	return t.AccountSID != "" && t.AuthToken != "" && (t.From != "" || t.MessagingServiceSID != "")
}

// String masks the auth token.
func (t Twilio) String() string {
	return fmt.Sprintf("{AccountSID:%s AuthToken:%s From:%s MessagingServiceSID:%s APIURL:%s Rate:%g}",
		t.AccountSID, mask(t.AuthToken), t.From, t.MessagingServiceSID, t.APIURL, t.Rate)
}

// GoString masks the auth token.
func (t Twilio) GoString() string { return "config.Twilio" + t.String() }

// Telegram holds the Telegram bot settings.
type Telegram struct {
	Token       string        // TELEGRAM_BOT_TOKEN(_FILE), yaml telegram.token_file (secret)
	Secret      string        // TELEGRAM_WEBHOOK_SECRET(_FILE), yaml telegram.webhook_secret_file (secret)
	BotUsername string        // TELEGRAM_BOT_USERNAME, without "@"
	APIURL      string        // TELEGRAM_API_URL, optional (no trailing slash)
	LinkTTL     time.Duration // SEINTJE_TELEGRAM_LINK_TTL
}

// Configured reports whether the Telegram bot is set up.
func (t Telegram) Configured() bool { return t.Token != "" }

// String masks the token and webhook secret.
func (t Telegram) String() string {
	return fmt.Sprintf("{Token:%s Secret:%s BotUsername:%s APIURL:%s LinkTTL:%s}",
		mask(t.Token), mask(t.Secret), t.BotUsername, t.APIURL, t.LinkTTL)
}

// GoString masks the token and webhook secret.
func (t Telegram) GoString() string { return "config.Telegram" + t.String() }

// Sending holds the rules for when and how often nudges go out.
type Sending struct {
	QuietHours    string // SEINTJE_QUIET_HOURS, e.g. "mon-sat 09:00-20:00" or "off"; parsed elsewhere
	GoodFriday    bool   // SEINTJE_HOLIDAY_GOOD_FRIDAY: treat Goede Vrijdag as a holiday
	LiberationDay bool   // SEINTJE_HOLIDAY_LIBERATION_DAY: treat Bevrijdingsdag as a holiday every year
	WeeklyLimit   int    // SEINTJE_WEEKLY_LIMIT: at most this many nudges per person per week
}

// Experiments holds the guards for experiments in flow files.
type Experiments struct {
	// MaxHoldout is the largest share (percent) a hold-out arm may have
	// (SEINTJE_EXPERIMENT_MAX_HOLDOUT, yaml experiments.max_holdout).
	MaxHoldout float64
}

// DefaultMaxHoldout: at most 20% of the people get no message.
const DefaultMaxHoldout = 20.0

// Jobs holds the durable queue settings.
type Jobs struct {
	// Queue is the asynq queue name (SEINTJE_JOBS_QUEUE, yaml jobs.queue):
	// separate Seintjes sharing one Redis each use their own.
	Queue string
}

// Spool holds the settings of the local inbound spool (bot/spool).
type Spool struct {
	// Dir is where webhook requests are kept while Redis does not answer
	// (SEINTJE_SPOOL_DIR, yaml spool.dir): on persistent storage, one per
	// instance. Empty: a temporary directory (demo; lost on reboot).
	Dir string
	// Max is the most requests it holds (SEINTJE_SPOOL_MAX, yaml
	// spool.max); when full, webhooks answer 503.
	Max int
}

// Werkplaats holds the settings of the callback queue.
type Werkplaats struct {
	// ClaimTTL is how long a claim on a callback task lasts before it
	// lapses and the task is open again (SEINTJE_CLAIM_TTL, yaml
	// werkplaats.claim_ttl).
	ClaimTTL time.Duration
}

// String renders the configuration with secrets masked.
// It has a value receiver so printing a Config value is safe too.
func (c Config) String() string {
	var b strings.Builder
	writeAttrs(&b, "", c.LogValue().Group())
	return b.String()
}

// GoString keeps %#v from printing secrets.
func (c Config) GoString() string { return "config.Config{" + c.String() + "}" }

func writeAttrs(b *strings.Builder, prefix string, attrs []slog.Attr) {
	for _, a := range attrs {
		v := a.Value.Resolve()
		if v.Kind() == slog.KindGroup {
			writeAttrs(b, prefix+a.Key+".", v.Group())
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(b, "%s%s=%s", prefix, a.Key, v)
	}
}

// LogValue shows every setting with secrets masked, for a start-up log line.
func (c Config) LogValue() slog.Value {
	tokens := make([]string, len(c.APITokens))
	for i, t := range c.APITokens {
		tokens[i] = t.String()
	}
	hours := make([]slog.Attr, 0, len(c.Callback.Hours))
	for _, lang := range sortedKeys(c.Callback.Hours) {
		hours = append(hours, slog.String(lang, c.Callback.Hours[lang]))
	}
	return slog.GroupValue(
		slog.Bool("demo", c.Demo),
		slog.String("addr", c.Addr),
		slog.String("public_url", c.PublicURL),
		slog.String("flows_dir", c.FlowsDir),
		slog.Duration("retention", c.Retention),
		slog.Duration("audit_retention", c.AuditRetention),
		slog.String("log_level", c.LogLevel),
		slog.String("hash_key", maskBytes(c.HashKey)),
		slog.String("api_tokens", strings.Join(tokens, ", ")),
		slog.Group("redis",
			slog.String("mode", c.Redis.mode()),
			slog.String("url", redactURL(c.Redis.URL)),
			slog.String("cluster_addrs", strings.Join(c.Redis.ClusterAddrs, ",")),
			slog.String("sentinel_addrs", strings.Join(c.Redis.SentinelAddrs, ",")),
			slog.String("sentinel_master", c.Redis.SentinelMaster),
			slog.String("password", mask(c.Redis.Password)),
			slog.String("key_prefix", c.Redis.KeyPrefix),
		),
		slog.Group("callback",
			slog.String("number", c.Callback.Number),
			slog.Attr{Key: "hours", Value: slog.GroupValue(hours...)},
		),
		slog.Group("twilio",
			slog.Bool("configured", c.Twilio.Configured()),
			slog.String("account_sid", c.Twilio.AccountSID),
			slog.String("auth_token", mask(c.Twilio.AuthToken)),
			slog.String("from", c.Twilio.From),
			slog.String("messaging_service_sid", c.Twilio.MessagingServiceSID),
			slog.String("api_url", c.Twilio.APIURL),
			slog.Float64("rate", c.Twilio.Rate),
		),
		slog.Group("telegram",
			slog.Bool("configured", c.Telegram.Configured()),
			slog.String("token", mask(c.Telegram.Token)),
			slog.String("webhook_secret", mask(c.Telegram.Secret)),
			slog.String("bot_username", c.Telegram.BotUsername),
			slog.String("api_url", c.Telegram.APIURL),
			slog.Duration("link_ttl", c.Telegram.LinkTTL),
		),
		slog.Group("sending",
			slog.String("quiet_hours", c.Sending.QuietHours),
			slog.Bool("good_friday", c.Sending.GoodFriday),
			slog.Bool("liberation_day", c.Sending.LiberationDay),
			slog.Int("weekly_limit", c.Sending.WeeklyLimit),
		),
		slog.Group("jobs", slog.String("queue", c.Jobs.Queue)),
		slog.Group("werkplaats", slog.Duration("claim_ttl", c.Werkplaats.ClaimTTL)),
		slog.Group("spool", slog.String("dir", c.Spool.Dir), slog.Int("max", c.Spool.Max)),
	)
}

func mask(s string) string {
	if s == "" {
		return "(unset)"
	}
	return "(set)"
}

func maskBytes(b []byte) string {
	if len(b) == 0 {
		return "(unset)"
	}
	return "(set)"
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
