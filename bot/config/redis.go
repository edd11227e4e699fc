package config

import (
	"errors"
	"fmt"
	"net/url"

	"github.com/redis/go-redis/v9"
)

// Redis says how to reach Redis. Exactly one of URL, ClusterAddrs and
// SentinelAddrs is set once the configuration is valid (none in demo mode
// when the embedded Redis is used).
type Redis struct {
	URL            string   // REDIS_URL, yaml redis.url: redis:// or rediss://, a single node
	ClusterAddrs   []string // REDIS_CLUSTER_ADDRS (comma separated), yaml redis.cluster_addrs
	SentinelAddrs  []string // REDIS_SENTINEL_ADDRS (comma separated), yaml redis.sentinel_addrs
	SentinelMaster string   // REDIS_SENTINEL_MASTER, yaml redis.sentinel_master
	Password       string   // REDIS_PASSWORD(_FILE), yaml redis.password_file (secret)
	KeyPrefix      string   // SEINTJE_KEY_PREFIX, yaml redis.key_prefix
}

// Configured reports whether an external Redis is configured.
func (r Redis) Configured() bool {
	return r.URL != "" || len(r.ClusterAddrs) > 0 || len(r.SentinelAddrs) > 0
}

func (r Redis) mode() string {
	switch {
	case r.URL != "":
		return "single"
	case len(r.ClusterAddrs) > 0:
		return "cluster"
	case len(r.SentinelAddrs) > 0:
		return "sentinel"
	default:
		return "none"
	}
}

// String masks the password, also the one inside the URL.
func (r Redis) String() string {
	return fmt.Sprintf("{URL:%s ClusterAddrs:%v SentinelAddrs:%v SentinelMaster:%s Password:%s KeyPrefix:%s}",
		redactURL(r.URL), r.ClusterAddrs, r.SentinelAddrs, r.SentinelMaster, mask(r.Password), r.KeyPrefix)
}

// GoString masks the password.
func (r Redis) GoString() string { return "config.Redis" + r.String() }

// ErrRedisNotConfigured is returned by NewClient and UniversalOptions when no
// Redis is configured (demo mode without REDIS_URL).
var ErrRedisNotConfigured = errors.New("config: no Redis configured")

// urlOptions parses URL and applies Password when the URL carries none.
func (r Redis) urlOptions() (*redis.Options, error) {
	o, err := redis.ParseURL(r.URL)
	if err != nil {
		return nil, fmt.Errorf("config: REDIS_URL: %v", err)
	}
	if o.Password == "" && r.Password != "" {
		o.Password = r.Password
	}
	return o, nil
}

// UniversalOptions returns options for redis.NewUniversalClient. For
// ClusterAddrs it sets IsClusterMode, so even a single configuration
// endpoint gives a cluster client. Prefer NewClient, which picks the client
// type explicitly.
func (r Redis) UniversalOptions() (*redis.UniversalOptions, error) {
	switch {
	case r.URL != "":
		o, err := r.urlOptions()
		if err != nil {
			return nil, err
		}
		return &redis.UniversalOptions{
			Addrs:           []string{o.Addr},
			ClientName:      o.ClientName,
			DB:              o.DB,
			Protocol:        o.Protocol,
			Username:        o.Username,
			Password:        o.Password,
			MaxRetries:      o.MaxRetries,
			MinRetryBackoff: o.MinRetryBackoff,
			MaxRetryBackoff: o.MaxRetryBackoff,
			DialTimeout:     o.DialTimeout,
			ReadTimeout:     o.ReadTimeout,
			WriteTimeout:    o.WriteTimeout,
			PoolFIFO:        o.PoolFIFO,
			PoolSize:        o.PoolSize,
			PoolTimeout:     o.PoolTimeout,
			MinIdleConns:    o.MinIdleConns,
			MaxIdleConns:    o.MaxIdleConns,
			MaxActiveConns:  o.MaxActiveConns,
			ConnMaxIdleTime: o.ConnMaxIdleTime,
			ConnMaxLifetime: o.ConnMaxLifetime,
			TLSConfig:       o.TLSConfig,
		}, nil
	case len(r.ClusterAddrs) > 0:
		return &redis.UniversalOptions{
			Addrs:         append([]string(nil), r.ClusterAddrs...),
			Password:      r.Password,
			IsClusterMode: true,
		}, nil
	case len(r.SentinelAddrs) > 0:
		return &redis.UniversalOptions{
			Addrs:      append([]string(nil), r.SentinelAddrs...),
			MasterName: r.SentinelMaster,
			Password:   r.Password,
		}, nil
	default:
		return nil, ErrRedisNotConfigured
	}
}

// NewClient builds the right client: redis.NewClient for URL,
// redis.NewClusterClient for ClusterAddrs (also with one address) and
// redis.NewFailoverClient for SentinelAddrs. It does not connect; the caller
// should Ping and Close.
func (r Redis) NewClient() (redis.UniversalClient, error) {
	switch {
	case r.URL != "":
		o, err := r.urlOptions()
		if err != nil {
			return nil, err
		}
		// Deadlines on a request's context bound every Redis call, so a
		// stalled Redis cannot hold a webhook past its deadline.
		o.ContextTimeoutEnabled = true
		return redis.NewClient(o), nil
	case len(r.ClusterAddrs) > 0:
		return redis.NewClusterClient(&redis.ClusterOptions{
			Addrs:                 append([]string(nil), r.ClusterAddrs...),
			Password:              r.Password,
			ContextTimeoutEnabled: true,
		}), nil
	case len(r.SentinelAddrs) > 0:
		return redis.NewFailoverClient(&redis.FailoverOptions{
			MasterName:            r.SentinelMaster,
			SentinelAddrs:         append([]string(nil), r.SentinelAddrs...),
			Password:              r.Password,
			ContextTimeoutEnabled: true,
		}), nil
	default:
		return nil, ErrRedisNotConfigured
	}
}

// redactURL hides a password in a URL.
func redactURL(s string) string {
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable)"
	}
	return u.Redacted()
}
