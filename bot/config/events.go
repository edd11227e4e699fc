package config

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Events holds the subscribers that are told what happens to nudges
// (bot/events, docs/events.md).
type Events struct {
	Subscribers []EventSubscriber
	// RetryBase is the first retry delay of a failed delivery; it doubles
	// each time (SEINTJE_EVENTS_RETRY_BASE, yaml events.retry_base;
	// default 30s).
	RetryBase time.Duration
	// RetryFor is how long a delivery is retried before it goes to the
	// dead-letter list (SEINTJE_EVENTS_RETRY_FOR, yaml events.retry_for;
	// default 24h).
	RetryFor time.Duration
}

// Default retry settings of event deliveries.
const (
	DefaultEventsRetryBase = 30 * time.Second
	DefaultEventsRetryFor  = 24 * time.Hour
	MinEventSecretLength   = 16
)

// EventSubscriber is one receiver of events. Its String and GoString
// methods never show the secret.
type EventSubscriber struct {
	Name string // SEINTJE_EVENTS_SUBSCRIBERS lists names; yaml events.subscribers[].name
	URL  string // SEINTJE_EVENTS_<NAME>_URL, yaml url: https, or http on loopback
	// Secret signs every delivery (SEINTJE_EVENTS_<NAME>_SECRET(_FILE),
	// yaml secret_file).
	Secret []byte
	// Types it wants (SEINTJE_EVENTS_<NAME>_TYPES comma separated, yaml
	// types); empty: every type. Checked against bot/events at start-up.
	Types []string
}

// String returns "name → url [types]".
func (s EventSubscriber) String() string {
	return fmt.Sprintf("%s → %s %v", s.Name, s.URL, s.Types)
}

// GoString keeps %#v from printing the secret.
func (s EventSubscriber) GoString() string {
	return fmt.Sprintf("config.EventSubscriber{Name:%q, URL:%q, Secret:%q, Types:%q}", s.Name, s.URL, mask(string(s.Secret)), s.Types)
}

type fileEvents struct {
	RetryBase   string `yaml:"retry_base"`
	RetryFor    string `yaml:"retry_for"`
	Subscribers []struct {
		Name       string   `yaml:"name"`
		URL        string   `yaml:"url"`
		Types      []string `yaml:"types"`
		SecretFile string   `yaml:"secret_file"`
	} `yaml:"subscribers"`
}

var subscriberNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)

// envName is the part of a subscriber's environment variables: "case-suite"
// → "CASE_SUITE".
func envName(name string) string { return strings.ToUpper(strings.ReplaceAll(name, "-", "_")) }

func (l *loader) events() Events {
	e := Events{
		RetryBase: l.duration("SEINTJE_EVENTS_RETRY_BASE", "events.retry_base", l.f.Events.RetryBase, DefaultEventsRetryBase),
		RetryFor:  l.duration("SEINTJE_EVENTS_RETRY_FOR", "events.retry_for", l.f.Events.RetryFor, DefaultEventsRetryFor),
	}
	type fromFile struct {
		url, secretFile string
		types           []string
	}
	yml := map[string]fromFile{}
	var yamlNames []string
	for _, s := range l.f.Events.Subscribers {
		yml[s.Name] = fromFile{url: s.URL, secretFile: s.SecretFile, types: s.Types}
		yamlNames = append(yamlNames, s.Name)
	}
	names, src := l.list("SEINTJE_EVENTS_SUBSCRIBERS", "events.subscribers", yamlNames)
	seen := map[string]bool{}
	for _, name := range names {
		if !subscriberNameRE.MatchString(name) {
			l.failf("%s: subscriber name %q: use 1 to 32 lowercase letters, digits, _ or -, e.g. zaaksysteem", src, name)
			continue
		}
		if seen[name] {
			l.failf("%s: subscriber %q is listed twice", src, name)
			continue
		}
		seen[name] = true
		f := yml[name]
		pre := "SEINTJE_EVENTS_" + envName(name) + "_"
		s := EventSubscriber{Name: name}
		var usrc string
		s.URL, usrc = l.value(pre+"URL", "events.subscribers["+name+"].url", f.url)
		if u, err := url.Parse(s.URL); s.URL == "" || err != nil || u.Host == "" ||
			(u.Scheme != "https" && !(u.Scheme == "http" && (l.o.Demo || loopback(u.Hostname())))) {
			l.failf("%s %q: give the https URL the events are posted to, e.g. https://zaken.gemeente.nl/seintje-events (http only on loopback)", usrc, s.URL)
		}
		sec, ssrc, ok := l.secret(pre+"SECRET", "events.subscribers["+name+"].secret_file", f.secretFile)
		switch {
		case !ok:
		case len(sec) < MinEventSecretLength:
			l.failf("%s: subscriber %q needs a signing secret of at least %d characters, e.g. from `openssl rand -hex 32`", ssrc, name, MinEventSecretLength)
		default:
			s.Secret = sec
		}
		types, _ := l.list(pre+"TYPES", "events.subscribers["+name+"].types", f.types)
		s.Types = types
		e.Subscribers = append(e.Subscribers, s)
	}
	for _, n := range yamlNames {
		if !seen[n] {
			l.failf("events.subscribers: subscriber %q is in %s but not in SEINTJE_EVENTS_SUBSCRIBERS: add it there or remove it from the file", n, l.path)
		}
	}
	return e
}

func loopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}
