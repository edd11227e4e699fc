package config

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/parser"
	"github.com/redis/go-redis/v9"

	"github.com/seintje/seintje/bot/texts"
)

// Options tells Load where to read from. Nil functions use the real
// process environment and file system.
type Options struct {
	// Demo relaxes the requirements ("seintje serve --demo"): Redis and
	// Twilio are optional and missing settings get safe local defaults.
	Demo bool
	// Getenv returns an environment variable, "" when unset. Default os.Getenv.
	Getenv func(string) string
	// ReadFile reads the YAML file and secret files. Default os.ReadFile.
	ReadFile func(string) ([]byte, error)
	// Path is the YAML file; it overrides SEINTJE_CONFIG (for a --config
	// flag). Empty and SEINTJE_CONFIG unset means: no file.
	Path string
}

// fileConfig is the YAML file. Secrets only appear as *_file paths.
type fileConfig struct {
	Addr           string `yaml:"addr"`
	Agency         string `yaml:"agency"`
	PublicURL      string `yaml:"public_url"`
	FlowsDir       string `yaml:"flows_dir"`
	Retention      string `yaml:"retention"`
	AuditRetention string `yaml:"audit_retention"`
	LogLevel       string `yaml:"log_level"`
	HashKeyFile    string `yaml:"hash_key_file"`
	APITokensFile  string `yaml:"api_tokens_file"`
	Redis          struct {
		URL            string   `yaml:"url"`
		ClusterAddrs   []string `yaml:"cluster_addrs"`
		SentinelAddrs  []string `yaml:"sentinel_addrs"`
		SentinelMaster string   `yaml:"sentinel_master"`
		PasswordFile   string   `yaml:"password_file"`
		KeyPrefix      string   `yaml:"key_prefix"`
	} `yaml:"redis"`
	Callback struct {
		Number string            `yaml:"number"`
		Hours  map[string]string `yaml:"hours"`
	} `yaml:"callback"`
	Twilio struct {
		AccountSID          string   `yaml:"account_sid"`
		AuthTokenFile       string   `yaml:"auth_token_file"`
		From                string   `yaml:"from"`
		MessagingServiceSID string   `yaml:"messaging_service_sid"`
		APIURL              string   `yaml:"api_url"`
		Rate                *float64 `yaml:"rate"`
	} `yaml:"twilio"`
	Telegram struct {
		TokenFile         string `yaml:"token_file"`
		WebhookSecretFile string `yaml:"webhook_secret_file"`
		BotUsername       string `yaml:"bot_username"`
		APIURL            string `yaml:"api_url"`
		LinkTTL           string `yaml:"link_ttl"`
	} `yaml:"telegram"`
	WhatsApp fileWhatsApp `yaml:"whatsapp"`
	Sending  struct {
		QuietHours    string `yaml:"quiet_hours"`
		GoodFriday    *bool  `yaml:"good_friday"`
		LiberationDay *bool  `yaml:"liberation_day"`
		WeeklyLimit   *int   `yaml:"weekly_limit"`
	} `yaml:"sending"`
	Jobs struct {
		Queue string `yaml:"queue"`
	} `yaml:"jobs"`
	Experiments struct {
		MaxHoldout *float64 `yaml:"max_holdout"`
	} `yaml:"experiments"`
	Werkplaats struct {
		ClaimTTL string `yaml:"claim_ttl"`
	} `yaml:"werkplaats"`
	Spool struct {
		Dir string `yaml:"dir"`
		Max *int   `yaml:"max"`
	} `yaml:"spool"`
	Console consoleFile `yaml:"console"`
	Events  fileEvents  `yaml:"events"`
}

// yamlSecrets are keys that must never hold a secret in the YAML file,
// with the environment variable that should be used instead.
func yamlSecrets() []struct{ key, env string } {
	return []struct{ key, env string }{
		{"hash_key", "SEINTJE_HASH_KEY"},
		{"api_tokens", "SEINTJE_API_TOKENS"},
		{"redis.password", "REDIS_PASSWORD"},
		{"twilio.auth_token", "TWILIO_AUTH_TOKEN"},
		{"telegram.token", "TELEGRAM_BOT_TOKEN"},
		{"telegram.bot_token", "TELEGRAM_BOT_TOKEN"},
		{"telegram.webhook_secret", "TELEGRAM_WEBHOOK_SECRET"},
	}
}

// loader carries the state of one Load call.
type loader struct {
	o    Options
	path string // YAML file, "" if none
	dir  string // directory of the YAML file, for relative *_file paths
	f    fileConfig
	errs []error
}

func (l *loader) failf(format string, args ...any) {
	l.errs = append(l.errs, fmt.Errorf("config: "+format, args...))
}

func (l *loader) env(name string) string { return strings.TrimSpace(l.o.Getenv(name)) }

// value returns the environment variable if set, else the YAML value, and
// a name for the source to use in messages.
func (l *loader) value(env, yamlKey, yamlVal string) (val, src string) {
	if v := l.env(env); v != "" {
		return v, env
	}
	if v := strings.TrimSpace(yamlVal); v != "" {
		return v, l.yamlName(yamlKey)
	}
	return "", env
}

func (l *loader) yamlName(key string) string {
	return fmt.Sprintf("%s (in %s)", key, l.path)
}

// secret reads a secret from env, env_FILE or the YAML *_file key. One
// trailing line ending of a file is dropped.
// ok is false when a problem was recorded; val is then nil.
func (l *loader) secret(env, yamlKey, yamlFile string) (val []byte, src string, ok bool) {
	v, vf := l.env(env), l.env(env+"_FILE")
	switch {
	case v != "" && vf != "":
		l.failf("both %s and %s_FILE are set: unset one of them", env, env)
		return nil, env, false
	case v != "":
		return []byte(v), env, true
	case vf != "":
		b, ok := l.readSecret(env+"_FILE", vf)
		return b, env + "_FILE", ok
	case strings.TrimSpace(yamlFile) != "":
		p := strings.TrimSpace(yamlFile)
		if !filepath.IsAbs(p) && l.dir != "" {
			p = filepath.Join(l.dir, p)
		}
		b, ok := l.readSecret(l.yamlName(yamlKey), p)
		return b, l.yamlName(yamlKey), ok
	}
	return nil, env, true
}

func (l *loader) readSecret(src, path string) ([]byte, bool) {
	b, err := l.o.ReadFile(path)
	if err != nil {
		l.failf("%s: cannot read the secret file: %v", src, err)
		return nil, false
	}
	b = bytes.TrimSuffix(b, []byte("\n"))
	b = bytes.TrimSuffix(b, []byte("\r"))
	if len(b) == 0 {
		l.failf("%s: the secret file %s is empty", src, path)
		return nil, false
	}
	return b, true
}

// Load reads, merges and validates the configuration.
func Load(o Options) (*Config, error) {
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.ReadFile == nil {
		o.ReadFile = os.ReadFile
	}
	l := &loader{o: o, path: o.Path}
	if l.path == "" {
		l.path = l.env("SEINTJE_CONFIG")
	}
	if l.path != "" {
		l.dir = filepath.Dir(l.path)
		if err := l.readYAML(); err != nil {
			return nil, err
		}
	}
	c := l.build()
	if len(l.errs) > 0 {
		return nil, errors.Join(l.errs...)
	}
	return c, nil
}

// readYAML loads the file strictly. Problems here stop loading at once,
// because the rest of the file cannot be trusted.
func (l *loader) readYAML() error {
	data, err := l.o.ReadFile(l.path)
	if err != nil {
		return fmt.Errorf("config: SEINTJE_CONFIG: cannot read the config file: %v (unset SEINTJE_CONFIG to run without one)", err)
	}
	file, err := parser.ParseBytes(data, 0)
	if err != nil {
		return l.yamlError(err)
	}
	var errs []error
	for _, s := range yamlSecrets() {
		p, err := yaml.PathString("$." + s.key)
		if err != nil {
			return fmt.Errorf("config: internal error: bad YAML path %q: %v", s.key, err)
		}
		node, err := p.FilterFile(file)
		if err != nil || node == nil {
			continue
		}
		pos := node.GetToken().Position
		errs = append(errs, fmt.Errorf(
			"config: %s:%d:%d: %s is a secret and is never read from the config file (keep secrets out of repositories): remove it and set %s, %s_FILE or %s_file",
			l.path, pos.Line, pos.Column, s.key, s.env, s.env, s.key))
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if err := yaml.UnmarshalWithOptions(data, &l.f, yaml.DisallowUnknownField()); err != nil {
		return l.yamlError(err)
	}
	if u := strings.TrimSpace(l.f.Redis.URL); u != "" {
		if pu, err := url.Parse(u); err == nil && pu.User != nil {
			if _, ok := pu.User.Password(); ok {
				return fmt.Errorf("config: %s: redis.url contains a password, and secrets are never read from the config file: remove it from the URL and set REDIS_PASSWORD, REDIS_PASSWORD_FILE or redis.password_file, or set the whole URL in REDIS_URL", l.path)
			}
		}
	}
	return nil
}

// yamlError turns a go-yaml error into one line with file:line:col.
func (l *loader) yamlError(err error) error {
	var ye yaml.Error
	if errors.As(err, &ye) && ye.GetToken() != nil {
		pos := ye.GetToken().Position
		msg := ye.GetMessage()
		var uf *yaml.UnknownFieldError
		if errors.As(err, &uf) {
			msg += " (check the spelling; config/seintje.example.yaml lists every setting)"
		}
		msg = strings.ReplaceAll(msg, "Go struct field fileConfig.", "setting ")
		return fmt.Errorf("config: %s:%d:%d: %s", l.path, pos.Line, pos.Column, msg)
	}
	return fmt.Errorf("config: %s: %s", l.path, strings.ReplaceAll(err.Error(), "\n", " "))
}

func (l *loader) build() *Config {
	demo := l.o.Demo
	c := &Config{Demo: demo}

	// Redis first: without it nothing works, and its message points new
	// users to demo mode.
	c.Redis = l.redis(demo)

	// Addr.
	var src string
	c.Addr, src = l.value("SEINTJE_ADDR", "addr", l.f.Addr)
	if c.Addr == "" {
		c.Addr = DefaultAddr
	} else if _, port, err := net.SplitHostPort(c.Addr); err != nil || !validPort(port) {
		l.failf("%s %q is not a listen address: use host:port or :port, e.g. :8080", src, c.Addr)
	}

	// Agency: who the messages come from (HELP answer).
	c.Agency, _ = l.value("SEINTJE_AGENCY", "agency", l.f.Agency)
	if c.Agency == "" {
		c.Agency = DefaultAgency
	}

	// PublicURL.
	c.PublicURL, src = l.value("SEINTJE_PUBLIC_URL", "public_url", l.f.PublicURL)
	switch {
	case c.PublicURL == "" && demo:
		c.PublicURL = demoPublicURL(c.Addr)
	case c.PublicURL == "":
		l.failf("SEINTJE_PUBLIC_URL is required (the https URL Twilio calls, e.g. https://seintje.gemeente.nl); set it in the environment or as public_url in the config file")
	default:
		if u, ok := l.baseURL(src, c.PublicURL, "https://seintje.gemeente.nl"); ok {
			c.PublicURL = u
		}
	}

	// FlowsDir.
	c.FlowsDir, _ = l.value("SEINTJE_FLOWS_DIR", "flows_dir", l.f.FlowsDir)
	if c.FlowsDir == "" {
		c.FlowsDir = DefaultFlowsDir
	}

	// Retention.
	c.Retention = l.duration("SEINTJE_RETENTION", "retention", l.f.Retention, DefaultRetention)
	c.AuditRetention = l.duration("SEINTJE_AUDIT_RETENTION", "audit_retention", l.f.AuditRetention, DefaultAuditRetention)

	// LogLevel.
	c.LogLevel, src = l.value("SEINTJE_LOG_LEVEL", "log_level", l.f.LogLevel)
	c.LogLevel = strings.ToLower(c.LogLevel)
	switch c.LogLevel {
	case "":
		c.LogLevel = DefaultLogLevel
	case "debug", "info", "warn", "error":
	default:
		l.failf("%s %q is not a log level: use debug, info, warn or error", src, c.LogLevel)
	}

	// HashKey.
	key, src, ok := l.secret("SEINTJE_HASH_KEY", "hash_key_file", l.f.HashKeyFile)
	switch {
	case !ok:
	case len(key) == 0 && demo:
		key = make([]byte, MinHashKeyBytes)
		_, _ = rand.Read(key) // crypto/rand.Read never fails
	case len(key) == 0:
		l.failf("SEINTJE_HASH_KEY is required (the secret key that hides phone numbers in Redis key names): set SEINTJE_HASH_KEY, SEINTJE_HASH_KEY_FILE or hash_key_file to at least %d random bytes, e.g. from `openssl rand -hex 32`; never change it later", MinHashKeyBytes)
	case len(key) < MinHashKeyBytes:
		l.failf("%s is %d bytes; it must be at least %d, e.g. from `openssl rand -hex 32`", src, len(key), MinHashKeyBytes)
	}
	c.HashKey = key

	// APITokens.
	raw, src, ok := l.secret("SEINTJE_API_TOKENS", "api_tokens_file", l.f.APITokensFile)
	if len(raw) > 0 {
		c.APITokens = l.tokens(src, string(raw))
	} else if ok && !demo {
		l.failf("SEINTJE_API_TOKENS is required: set SEINTJE_API_TOKENS, SEINTJE_API_TOKENS_FILE or api_tokens_file to name:role:secret entries separated by commas, e.g. anna:caseworker:<secret of at least %d characters>", MinTokenSecretLength)
	}

	c.Callback = l.callback(demo)
	c.Twilio = l.twilio()
	c.Telegram = l.telegram()
	c.WhatsApp = l.whatsapp(c.Twilio)
	c.Sending = l.sending()
	c.Experiments = l.experiments()
	c.Jobs = l.jobs()
	c.Werkplaats = l.werkplaats()
	c.Spool = l.spool()
	c.Console = l.console()
	c.Events = l.events()

	if !demo && !c.Twilio.Configured() && !c.Telegram.Configured() && !l.twilioMentioned() && !l.telegramMentioned() {
		l.failf("no channel configured: set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM (or TWILIO_MESSAGING_SERVICE_SID) for SMS, or TELEGRAM_BOT_TOKEN for Telegram")
	}
	return c
}

func validPort(p string) bool {
	n, err := strconv.Atoi(p)
	return err == nil && n >= 0 && n <= 65535
}

// demoPublicURL derives a local URL from the listen address.
func demoPublicURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://localhost:8080"
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// baseURL validates an absolute http(s) URL and trims trailing slashes.
func (l *loader) baseURL(src, s, example string) (string, bool) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		l.failf("%s %q is not an absolute http(s) URL without query: use e.g. %s", src, s, example)
		return "", false
	}
	return strings.TrimRight(s, "/"), true
}

// parseDuration accepts Go durations ("2160h") plus whole days ("90d") and
// weeks ("12w").
func parseDuration(s string) (time.Duration, error) {
	unit := time.Duration(0)
	switch {
	case strings.HasSuffix(s, "d"):
		unit = 24 * time.Hour
	case strings.HasSuffix(s, "w"):
		unit = 7 * 24 * time.Hour
	}
	if unit != 0 {
		n, err := strconv.ParseInt(s[:len(s)-1], 10, 64)
		if err != nil {
			return 0, err
		}
		if n > int64(math.MaxInt64/unit) || n < 0 {
			return 0, errors.New("out of range")
		}
		return time.Duration(n) * unit, nil
	}
	return time.ParseDuration(s)
}

func (l *loader) duration(env, yamlKey, yamlVal string, def time.Duration) time.Duration {
	s, src := l.value(env, yamlKey, yamlVal)
	if s == "" {
		return def
	}
	d, err := parseDuration(strings.ToLower(s))
	if err != nil || d <= 0 {
		l.failf("%s %q is not a positive duration: use e.g. 90d, 12w or 2160h", src, s)
		return def
	}
	return d
}

var tokenNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$`)

// Roles lists the valid token roles.
func Roles() []string {
	return []string{RoleCaseworker, RoleCoordinator, RoleAdmin, RoleWerkplaats}
}

// tokens parses "name:role:secret" entries separated by commas or new
// lines; lines starting with # are comments. Messages never show secrets.
func (l *loader) tokens(src, raw string) []Token {
	var out []Token
	names := map[string]bool{}
	secrets := map[string]string{}
	n := 0
	for line := range strings.SplitSeq(raw, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		for entry := range strings.SplitSeq(line, ",") {
			entry = strings.TrimSpace(entry)
			if entry == "" {
				continue
			}
			n++
			parts := strings.SplitN(entry, ":", 3)
			if len(parts) != 3 {
				l.failf("%s: entry %d is not name:role:secret", src, n)
				continue
			}
			t := Token{Name: strings.TrimSpace(parts[0]), Role: strings.ToLower(strings.TrimSpace(parts[1])), Secret: strings.TrimSpace(parts[2])}
			ok := true
			if !tokenNameRE.MatchString(t.Name) {
				l.failf("%s: entry %d has name %q: use letters, digits, _ . @ or - (at most 64)", src, n, t.Name)
				ok = false
			}
			if !slices.Contains(Roles(), t.Role) {
				l.failf("%s: token %q has role %q: use one of %s", src, t.Name, t.Role, strings.Join(Roles(), ", "))
				ok = false
			}
			if len(t.Secret) < MinTokenSecretLength {
				l.failf("%s: token %q has a secret of %d characters: use at least %d, e.g. from `openssl rand -hex 24`", src, t.Name, len(t.Secret), MinTokenSecretLength)
				ok = false
			}
			if names[t.Name] {
				l.failf("%s: token name %q is used twice: names must be unique", src, t.Name)
				ok = false
			}
			if other, dup := secrets[t.Secret]; dup && t.Secret != "" {
				l.failf("%s: tokens %q and %q have the same secret: give each its own", src, other, t.Name)
				ok = false
			}
			names[t.Name] = true
			secrets[t.Secret] = t.Name
			if ok {
				out = append(out, t)
			}
		}
	}
	if n == 0 {
		l.failf("%s has no tokens: add name:role:secret entries", src)
	}
	return out
}

// list splits a comma separated environment variable, or takes the YAML list.
func (l *loader) list(env, yamlKey string, yamlVal []string) ([]string, string) {
	raw, src := l.env(env), env
	items := yamlVal
	if raw != "" {
		items = strings.Split(raw, ",")
	} else if len(yamlVal) > 0 {
		src = l.yamlName(yamlKey)
	}
	var out []string
	for _, it := range items {
		if it = strings.TrimSpace(it); it != "" {
			out = append(out, it)
		}
	}
	return out, src
}

func (l *loader) addrs(src string, addrs []string) {
	for _, a := range addrs {
		if host, port, err := net.SplitHostPort(a); err != nil || host == "" || !validPort(port) {
			l.failf("%s: %q is not host:port, e.g. redis-1.gemeente.local:6379", src, a)
		}
	}
}

func (l *loader) redis(demo bool) Redis {
	var r Redis
	var urlSrc, clusterSrc, sentinelSrc, src string
	r.URL, urlSrc = l.value("REDIS_URL", "redis.url", l.f.Redis.URL)
	r.ClusterAddrs, clusterSrc = l.list("REDIS_CLUSTER_ADDRS", "redis.cluster_addrs", l.f.Redis.ClusterAddrs)
	r.SentinelAddrs, sentinelSrc = l.list("REDIS_SENTINEL_ADDRS", "redis.sentinel_addrs", l.f.Redis.SentinelAddrs)
	r.SentinelMaster, _ = l.value("REDIS_SENTINEL_MASTER", "redis.sentinel_master", l.f.Redis.SentinelMaster)
	pw, _, _ := l.secret("REDIS_PASSWORD", "redis.password_file", l.f.Redis.PasswordFile)
	r.Password = string(pw)
	r.KeyPrefix, src = l.value("SEINTJE_KEY_PREFIX", "redis.key_prefix", l.f.Redis.KeyPrefix)
	if r.KeyPrefix == "" {
		r.KeyPrefix = DefaultKeyPrefix
	} else if strings.ContainsAny(r.KeyPrefix, " \t\r\n") || len(r.KeyPrefix) > 32 {
		l.failf("%s %q must be at most 32 characters without spaces, e.g. sj", src, r.KeyPrefix)
	}

	set := 0
	for _, b := range []bool{r.URL != "", len(r.ClusterAddrs) > 0, len(r.SentinelAddrs) > 0} {
		if b {
			set++
		}
	}
	switch {
	case set == 0 && !demo:
		l.failf(`REDIS_URL is not set: Seintje keeps all state in Redis. Set REDIS_URL=redis://host:6379/0, or run "seintje serve --demo" to try it with an embedded Redis`)
	case set > 1:
		l.failf("Redis is configured more than once: set only one of REDIS_URL, REDIS_CLUSTER_ADDRS and REDIS_SENTINEL_ADDRS")
	}
	if r.URL != "" {
		u, err := url.Parse(r.URL)
		if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
			l.failf("%s %s is not a redis:// or rediss:// URL: use e.g. redis://redis.gemeente.local:6379/0", urlSrc, redactURL(r.URL))
		} else if _, err := redis.ParseURL(r.URL); err != nil {
			l.failf("%s %s: %v", urlSrc, redactURL(r.URL), err)
		} else if _, has := u.User.Password(); has && r.Password != "" {
			l.failf("the Redis password is set twice: in REDIS_URL and in REDIS_PASSWORD; keep one")
		}
	}
	l.addrs(clusterSrc, r.ClusterAddrs)
	l.addrs(sentinelSrc, r.SentinelAddrs)
	if len(r.SentinelAddrs) > 0 && r.SentinelMaster == "" {
		l.failf("REDIS_SENTINEL_MASTER is required with REDIS_SENTINEL_ADDRS: set it to the master name the sentinels monitor, e.g. mymaster")
	}
	if r.SentinelMaster != "" && len(r.SentinelAddrs) == 0 {
		l.failf("REDIS_SENTINEL_MASTER is set but REDIS_SENTINEL_ADDRS is not: set the sentinel addresses, e.g. sentinel-1:26379,sentinel-2:26379")
	}
	return r
}

var callbackNumberRE = regexp.MustCompile(`^\+?[0-9 -]+$`)

func (l *loader) callback(demo bool) Callback {
	var cb Callback
	var src string
	cb.Number, src = l.value("SEINTJE_CALLBACK_NUMBER", "callback.number", l.f.Callback.Number)
	cb.Hours = make(map[string]string, len(l.f.Callback.Hours)+2)
	for lang, h := range l.f.Callback.Hours {
		if h = strings.TrimSpace(h); h != "" {
			cb.Hours[strings.ToLower(strings.TrimSpace(lang))] = h
		}
	}
	if h := l.env("SEINTJE_CALLBACK_HOURS"); h != "" {
		cb.Hours["nl"] = h
	}
	if demo {
		if cb.Number == "" {
			cb.Number = DemoCallbackNumber
		}
		if cb.Hours["nl"] == "" {
			cb.Hours["nl"] = DemoCallbackHoursNL
		}
		if cb.Hours["en"] == "" {
			cb.Hours["en"] = DemoCallbackHoursEN
		}
		for l, h := range texts.ExampleHours() {
			if cb.Hours[l] == "" {
				cb.Hours[l] = h
			}
		}
	}
	if cb.Number == "" {
		l.failf(`SEINTJE_CALLBACK_NUMBER is required (the number people can call, shown in messages): set it or callback.number, e.g. "088 123 45 67"`)
	} else {
		digits := 0
		for _, r := range cb.Number {
			if r >= '0' && r <= '9' {
				digits++
			}
		}
		if !callbackNumberRE.MatchString(cb.Number) || digits < 8 || digits > 20 {
			l.failf(`%s %q is not a phone number: use 8 to 20 digits with only spaces, "-" and a leading "+", e.g. "088 123 45 67"`, src, cb.Number)
		}
	}
	if cb.Hours["nl"] == "" {
		l.failf(`SEINTJE_CALLBACK_HOURS is required (when people can call, in Dutch): set it or callback.hours.nl, e.g. "maandag tot en met vrijdag van 9 tot 17 uur"`)
	}
	return cb
}

// twilioMentioned reports whether any TWILIO_* setting was given.
func (l *loader) twilioMentioned() bool {
	f := l.f.Twilio
	for _, v := range []string{"TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_AUTH_TOKEN_FILE", "TWILIO_FROM", "TWILIO_MESSAGING_SERVICE_SID", "TWILIO_API_URL"} {
		if l.env(v) != "" {
			return true
		}
	}
	return f.AccountSID != "" || f.AuthTokenFile != "" || f.From != "" || f.MessagingServiceSID != "" || f.APIURL != ""
}

// telegramMentioned reports whether any TELEGRAM_* setting was given.
func (l *loader) telegramMentioned() bool {
	f := l.f.Telegram
	for _, v := range []string{"TELEGRAM_BOT_TOKEN", "TELEGRAM_BOT_TOKEN_FILE", "TELEGRAM_WEBHOOK_SECRET", "TELEGRAM_WEBHOOK_SECRET_FILE", "TELEGRAM_BOT_USERNAME", "TELEGRAM_API_URL"} {
		if l.env(v) != "" {
			return true
		}
	}
	return f.TokenFile != "" || f.WebhookSecretFile != "" || f.BotUsername != "" || f.APIURL != ""
}

var (
	accountSIDRE = regexp.MustCompile(`^AC[0-9a-fA-F]{32}$`)
	serviceSIDRE = regexp.MustCompile(`^MG[0-9a-fA-F]{32}$`)
	e164RE       = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
)

func (l *loader) twilio() Twilio {
	f := l.f.Twilio
	var t Twilio
	var sidSrc, fromSrc, msSrc, apiSrc string
	t.AccountSID, sidSrc = l.value("TWILIO_ACCOUNT_SID", "twilio.account_sid", f.AccountSID)
	tok, _, tokOK := l.secret("TWILIO_AUTH_TOKEN", "twilio.auth_token_file", f.AuthTokenFile)
	t.AuthToken = string(tok)
	t.From, fromSrc = l.value("TWILIO_FROM", "twilio.from", f.From)
	t.MessagingServiceSID, msSrc = l.value("TWILIO_MESSAGING_SERVICE_SID", "twilio.messaging_service_sid", f.MessagingServiceSID)
	t.APIURL, apiSrc = l.value("TWILIO_API_URL", "twilio.api_url", f.APIURL)

	t.Rate = DefaultSMSRate
	if s := l.env("SEINTJE_SMS_RATE"); s != "" {
		r, err := strconv.ParseFloat(s, 64)
		if err != nil || !(r > 0) || math.IsInf(r, 0) {
			l.failf("SEINTJE_SMS_RATE %q must be a number of messages per second above 0, e.g. 10", s)
		} else {
			t.Rate = r
		}
	} else if f.Rate != nil {
		if r := *f.Rate; !(r > 0) || math.IsInf(r, 0) {
			l.failf("%s %v must be a number of messages per second above 0, e.g. 10", l.yamlName("twilio.rate"), r)
		} else {
			t.Rate = r
		}
	}

	if !l.twilioMentioned() {
		return t
	}
	if t.AccountSID == "" {
		l.failf("TWILIO_ACCOUNT_SID is required when other TWILIO_* settings are set: set it to your Account SID (AC followed by 32 hex characters) from the Twilio console")
	} else if !accountSIDRE.MatchString(t.AccountSID) {
		l.failf("%s %q is not a Twilio Account SID: it starts with AC and is 34 characters long; copy it from the Twilio console", sidSrc, t.AccountSID)
	}
	if t.AuthToken == "" && tokOK {
		l.failf("TWILIO_AUTH_TOKEN is required for SMS: set TWILIO_AUTH_TOKEN, TWILIO_AUTH_TOKEN_FILE or twilio.auth_token_file")
	}
	switch {
	case t.From == "" && t.MessagingServiceSID == "":
		l.failf("TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID is required for SMS: set one, e.g. TWILIO_FROM=+3197010000000")
	case t.From != "" && t.MessagingServiceSID != "":
		l.failf("both TWILIO_FROM and TWILIO_MESSAGING_SERVICE_SID are set: set only one (the messaging service chooses the sender itself)")
	}
	if t.From != "" && !e164RE.MatchString(t.From) {
		l.failf("%s %q is not an E.164 phone number: use + and the country code without spaces, e.g. +3197010000000", fromSrc, t.From)
	}
	if t.MessagingServiceSID != "" && !serviceSIDRE.MatchString(t.MessagingServiceSID) {
		l.failf("%s %q is not a Messaging Service SID: it starts with MG and is 34 characters long", msSrc, t.MessagingServiceSID)
	}
	if t.APIURL != "" {
		t.APIURL, _ = l.baseURL(apiSrc, t.APIURL, "https://api.twilio.com")
	}
	return t
}

var (
	botTokenRE      = regexp.MustCompile(`^[0-9]+:[A-Za-z0-9_-]+$`)
	webhookSecretRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)
	botUsernameRE   = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{3,31}$`)
)

func (l *loader) telegram() Telegram {
	f := l.f.Telegram
	var t Telegram
	tok, tokSrc, tokOK := l.secret("TELEGRAM_BOT_TOKEN", "telegram.token_file", f.TokenFile)
	t.Token = string(tok)
	sec, secSrc, secOK := l.secret("TELEGRAM_WEBHOOK_SECRET", "telegram.webhook_secret_file", f.WebhookSecretFile)
	t.Secret = string(sec)
	var userSrc, apiSrc string
	t.BotUsername, userSrc = l.value("TELEGRAM_BOT_USERNAME", "telegram.bot_username", f.BotUsername)
	t.BotUsername = strings.TrimPrefix(t.BotUsername, "@")
	t.APIURL, apiSrc = l.value("TELEGRAM_API_URL", "telegram.api_url", f.APIURL)
	t.LinkTTL = l.duration("SEINTJE_TELEGRAM_LINK_TTL", "telegram.link_ttl", f.LinkTTL, DefaultLinkTTL)

	if !l.telegramMentioned() {
		return t
	}
	if t.Token == "" {
		if tokOK {
			l.failf("TELEGRAM_BOT_TOKEN is required when other TELEGRAM_* settings are set: set TELEGRAM_BOT_TOKEN, TELEGRAM_BOT_TOKEN_FILE or telegram.token_file to the token from @BotFather")
		}
	} else if !botTokenRE.MatchString(t.Token) {
		l.failf("%s is not a Telegram bot token: it looks like 123456789:AA... as given by @BotFather", tokSrc)
	}
	if t.Secret == "" {
		if secOK {
			l.failf("TELEGRAM_WEBHOOK_SECRET is required for Telegram (it proves webhook calls come from Telegram): set TELEGRAM_WEBHOOK_SECRET, TELEGRAM_WEBHOOK_SECRET_FILE or telegram.webhook_secret_file, e.g. from `openssl rand -hex 32`")
		}
	} else if !webhookSecretRE.MatchString(t.Secret) {
		l.failf("%s must be 1 to 256 characters of A-Z, a-z, 0-9, _ and -, e.g. from `openssl rand -hex 32`", secSrc)
	}
	if t.BotUsername == "" {
		l.failf("TELEGRAM_BOT_USERNAME is required for Telegram (for the t.me links people use to connect): set it to the bot's username, e.g. GemeenteSeintjeBot")
	} else if !botUsernameRE.MatchString(t.BotUsername) {
		l.failf("%s %q is not a Telegram bot username: 5 to 32 letters, digits or _, e.g. GemeenteSeintjeBot", userSrc, t.BotUsername)
	}
	if t.APIURL != "" {
		t.APIURL, _ = l.baseURL(apiSrc, t.APIURL, "https://api.telegram.org")
	}
	return t
}

func (l *loader) boolean(env string, yamlVal *bool) bool {
	if s := l.env(env); s != "" {
		switch strings.ToLower(s) {
		case "1", "true", "yes", "on":
			return true
		case "0", "false", "no", "off":
			return false
		}
		l.failf("%s %q is not a boolean: use true or false", env, s)
		return false
	}
	return yamlVal != nil && *yamlVal
}

func (l *loader) sending() Sending {
	f := l.f.Sending
	var s Sending
	s.QuietHours, _ = l.value("SEINTJE_QUIET_HOURS", "sending.quiet_hours", f.QuietHours)
	if s.QuietHours == "" {
		s.QuietHours = DefaultQuietHours
	}
	s.GoodFriday = l.boolean("SEINTJE_HOLIDAY_GOOD_FRIDAY", f.GoodFriday)
	s.LiberationDay = l.boolean("SEINTJE_HOLIDAY_LIBERATION_DAY", f.LiberationDay)

	s.WeeklyLimit = DefaultWeeklyLimit
	if v := l.env("SEINTJE_WEEKLY_LIMIT"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			l.failf("SEINTJE_WEEKLY_LIMIT %q must be a whole number of at least 1, e.g. 3", v)
		} else {
			s.WeeklyLimit = n
		}
	} else if f.WeeklyLimit != nil {
		if *f.WeeklyLimit < 1 {
			l.failf("%s %d must be at least 1, e.g. 3", l.yamlName("sending.weekly_limit"), *f.WeeklyLimit)
		} else {
			s.WeeklyLimit = *f.WeeklyLimit
		}
	}
	return s
}

func (l *loader) experiments() Experiments {
	e := Experiments{MaxHoldout: DefaultMaxHoldout}
	if v := l.env("SEINTJE_EXPERIMENT_MAX_HOLDOUT"); v != "" {
		n, err := strconv.ParseFloat(strings.TrimSuffix(v, "%"), 64)
		if err != nil || n < 0 || n > 50 {
			l.failf("SEINTJE_EXPERIMENT_MAX_HOLDOUT %q must be a percentage from 0 to 50, e.g. 20", v)
		} else {
			e.MaxHoldout = n
		}
	} else if f := l.f.Experiments.MaxHoldout; f != nil {
		if *f < 0 || *f > 50 {
			l.failf("%s %g must be a percentage from 0 to 50, e.g. 20", l.yamlName("experiments.max_holdout"), *f)
		} else {
			e.MaxHoldout = *f
		}
	}
	return e
}

var jobsQueueRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

func (l *loader) jobs() Jobs {
	q, src := l.value("SEINTJE_JOBS_QUEUE", "jobs.queue", l.f.Jobs.Queue)
	if q == "" {
		return Jobs{Queue: DefaultJobsQueue}
	}
	if !jobsQueueRE.MatchString(q) {
		l.failf("%s %q is not a queue name: use 1 to 64 letters, digits, _ . or -, e.g. seintje", src, q)
		return Jobs{Queue: DefaultJobsQueue}
	}
	return Jobs{Queue: q}
}

func (l *loader) werkplaats() Werkplaats {
	s, src := l.value("SEINTJE_CLAIM_TTL", "werkplaats.claim_ttl", l.f.Werkplaats.ClaimTTL)
	if s == "" {
		return Werkplaats{ClaimTTL: DefaultClaimTTL}
	}
	d, err := parseDuration(strings.ToLower(s))
	if err != nil || d < MinClaimTTL || d > MaxClaimTTL {
		l.failf("%s %q must be a duration from %s to %s (how long a werkplaats claim on a callback lasts), e.g. 30m or 1h",
			src, s, "1m", "24h")
		return Werkplaats{ClaimTTL: DefaultClaimTTL}
	}
	return Werkplaats{ClaimTTL: d}
}

// DefaultSpoolMax is the default bound of the inbound spool.
const DefaultSpoolMax = 100_000

func (l *loader) spool() Spool {
	dir, _ := l.value("SEINTJE_SPOOL_DIR", "spool.dir", l.f.Spool.Dir)
	sp := Spool{Dir: dir, Max: DefaultSpoolMax}
	yml := ""
	if l.f.Spool.Max != nil {
		yml = strconv.Itoa(*l.f.Spool.Max)
	}
	s, src := l.value("SEINTJE_SPOOL_MAX", "spool.max", yml)
	if s == "" {
		return sp
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 100 || n > 10_000_000 {
		l.failf("%s %q must be a number from 100 to 10000000 (how many webhook requests the local spool holds while Redis is away), e.g. 100000", src, s)
		return sp
	}
	sp.Max = n
	return sp
}
