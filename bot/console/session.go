package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"
)

// Session is one signed-in person. It lives in Redis under a hash of an
// opaque random id; the browser only holds the id, in an HttpOnly,
// Secure, SameSite=Lax cookie.
type Session struct {
	id      string
	Subject string   `json:"sub"`   // the provider's subject (or demo:<name>)
	Actor   string   `json:"actor"` // who the audit trail names
	Name    string   `json:"name"`  // shown in the header
	Roles   []string `json:"roles"`
	CSRF    string   `json:"csrf"` // synchronizer token for forms
	Demo    bool     `json:"demo,omitempty"`
	// IDToken is the provider's ID token of the sign-in, sent back as
	// id_token_hint when signing out at the provider. It lives and dies
	// with the session (same TTL).
	IDToken string    `json:"id_token,omitempty"`
	Created time.Time `json:"created"`
	Seen    time.Time `json:"seen"`
}

// Has reports whether the person has one of roles.
func (s *Session) Has(roles ...string) bool {
	for _, r := range roles {
		if slices.Contains(s.Roles, r) {
			return true
		}
	}
	return false
}

// Role is the first role, for the audit trail.
func (s *Session) Role() string {
	if len(s.Roles) == 0 {
		return ""
	}
	return s.Roles[0]
}

// SessionCookie is the name of the session cookie.
const SessionCookie = "seintje_session"

// sessions keeps sessions in Redis with an idle and an absolute timeout.
type sessions struct {
	rdb    redis.UniversalClient
	prefix string
	idle   time.Duration
	maxAge time.Duration
	now    func() time.Time
}

func (m *sessions) key(id string) string {
	sum := sha256.Sum256([]byte(id))
	return m.prefix + ":console:sess:" + hex.EncodeToString(sum[:16])
}

func randomToken() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// create stores a new session for s and returns it with its id.
func (m *sessions) create(ctx context.Context, s Session) (*Session, error) {
	now := m.now()
	s.id, s.CSRF, s.Created, s.Seen = randomToken(), randomToken(), now, now
	if err := m.save(ctx, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

func (m *sessions) save(ctx context.Context, s *Session) error {
	ttl := min(m.idle, s.Created.Add(m.maxAge).Sub(s.Seen))
	if ttl <= 0 {
		return errSessionOver
	}
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("encode session: %w", err)
	}
	if err := m.rdb.Set(ctx, m.key(s.id), b, ttl).Err(); err != nil {
		return fmt.Errorf("save session: %w", err)
	}
	return nil
}

var errSessionOver = errors.New("session over")

// load returns the live session for id, touching it (idle timeout); nil
// when there is none or it is over.
func (m *sessions) load(ctx context.Context, id string) (*Session, error) {
	if id == "" || len(id) > 100 {
		return nil, nil
	}
	v, err := m.rdb.Get(ctx, m.key(id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load session: %w", err)
	}
	var s Session
	if err := json.Unmarshal(v, &s); err != nil {
		return nil, fmt.Errorf("decode session: %w", err)
	}
	s.id = id
	now := m.now()
	if !now.Before(s.Created.Add(m.maxAge)) || !now.Before(s.Seen.Add(m.idle)) {
		m.rdb.Del(ctx, m.key(id))
		return nil, nil
	}
	// Touch at most once a minute: one write, not one per request.
	if now.Sub(s.Seen) >= time.Minute {
		s.Seen = now
		if err := m.save(ctx, &s); errors.Is(err, errSessionOver) {
			return nil, nil
		} else if err != nil {
			return nil, err
		}
	}
	return &s, nil
}

func (m *sessions) destroy(ctx context.Context, id string) error {
	if err := m.rdb.Del(ctx, m.key(id)).Err(); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

func sessionCookie(value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: SessionCookie, Value: value, Path: "/console", MaxAge: maxAge,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode}
}

// validCSRF compares a submitted token with the session's in constant time.
func validCSRF(s *Session, token string) bool {
	return token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(s.CSRF)) == 1
}

type sessionKey struct{}

// sessionFrom returns the signed-in person of a request behind requireSession.
func sessionFrom(r *http.Request) *Session {
	s, _ := r.Context().Value(sessionKey{}).(*Session)
	return s
}
