package twilio

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	twclient "github.com/twilio/twilio-go/client"

	"github.com/seintje/seintje/bot/channel"
	"github.com/seintje/seintje/bot/channel/twilio/twiliotest"
)

const (
	testSID      = "AC0123456789abcdef0123456789abcdef"
	testToken    = "0123456789abcdef0123456789abcdef"
	testFrom     = "+3197010000000"
	testMG       = "MG0123456789abcdef0123456789abcdef"
	testCallback = "https://seintje.example.nl/webhooks/twilio/status"
	testTo       = "+31612345678"
)

var smSID = regexp.MustCompile(`^SM[0-9a-f]{32}$`)

// newFake starts the fake API and fails the test on any contract violation.
func newFake(t *testing.T) *twiliotest.Server {
	t.Helper()
	srv := twiliotest.New(t, testSID, testToken)
	t.Cleanup(func() {
		for _, v := range srv.Violations() {
			t.Errorf("twilio contract violation: %s", v)
		}
	})
	return srv
}

func testConfig(apiURL string) Config {
	return Config{
		AccountSID:        testSID,
		AuthToken:         testToken,
		From:              testFrom,
		APIURL:            apiURL,
		StatusCallbackURL: testCallback,
	}
}

func mustNew(t *testing.T, cfg Config) *Sender {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

func TestNewValidatesConfig(t *testing.T) {
	valid := testConfig("")
	tests := []struct {
		name    string
		mutate  func(*Config)
		wantErr string // substring; "" means success
	}{
		{"valid with From", func(*Config) {}, ""},
		{"valid with messaging service", func(c *Config) { c.From, c.MessagingServiceSID = "", testMG }, ""},
		{"valid with API URL", func(c *Config) { c.APIURL = "http://127.0.0.1:4567" }, ""},
		{"missing account sid", func(c *Config) { c.AccountSID = "" }, "AccountSID is required"},
		{"malformed account sid", func(c *Config) { c.AccountSID = "XX123" }, "AccountSID must"},
		{"missing auth token", func(c *Config) { c.AuthToken = "" }, "AuthToken is required"},
		{"auth token with symbols", func(c *Config) { c.AuthToken = "abc$def" }, "AuthToken must"},
		{"neither From nor service", func(c *Config) { c.From = "" }, "one of From or MessagingServiceSID"},
		{"both From and service", func(c *Config) { c.MessagingServiceSID = testMG }, "not both"},
		{"From not E.164", func(c *Config) { c.From = "0612345678" }, "From must be an E.164"},
		{"malformed service sid", func(c *Config) { c.From, c.MessagingServiceSID = "", "XY1" }, "MessagingServiceSID must"},
		{"missing callback", func(c *Config) { c.StatusCallbackURL = "" }, "StatusCallbackURL is required"},
		{"relative callback", func(c *Config) { c.StatusCallbackURL = "/webhooks/twilio/status" }, "StatusCallbackURL"},
		{"bad API URL", func(c *Config) { c.APIURL = "127.0.0.1:4567" }, "APIURL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := valid
			tt.mutate(&cfg)
			s, err := New(cfg)
			if tt.wantErr == "" {
				if err != nil || s == nil {
					t.Fatalf("New() = %v, %v; want sender", s, err)
				}
				if s.Name() != channel.SMS {
					t.Errorf("Name() = %q, want %q", s.Name(), channel.SMS)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("New() error = %v, want it to mention %q", err, tt.wantErr)
			}
		})
	}

	t.Run("names every problem at once", func(t *testing.T) {
		_, err := New(Config{})
		for _, want := range []string{"AccountSID", "AuthToken", "From or MessagingServiceSID", "StatusCallbackURL"} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("New(Config{}) error = %v, want it to mention %s", err, want)
			}
		}
	})
}

func TestSendRequest(t *testing.T) {
	tests := []struct {
		name    string
		from    string
		service string
	}{
		{"from number", testFrom, ""},
		{"messaging service", "", testMG},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFake(t)
			cfg := testConfig(srv.URL)
			cfg.From, cfg.MessagingServiceSID = tt.from, tt.service
			s := mustNew(t, cfg)

			body := "Hoi! Vergeet je afspraak morgen om 10:00 niet. Antwoord 1 voor een nieuwe afspraak."
			rcpt, err := s.Send(context.Background(), channel.Message{ID: "m1", To: testTo, Body: body})
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			reqs := srv.Requests()
			if len(reqs) != 1 {
				t.Fatalf("fake got %d requests, want 1", len(reqs))
			}
			got := reqs[0]
			if got.To != testTo || got.Body != body || got.StatusCallback != testCallback {
				t.Errorf("request To=%q Body=%q StatusCallback=%q", got.To, got.Body, got.StatusCallback)
			}
			if got.From != tt.from || got.MessagingServiceSid != tt.service {
				t.Errorf("request From=%q MessagingServiceSid=%q, want %q %q", got.From, got.MessagingServiceSid, tt.from, tt.service)
			}
			if !smSID.MatchString(rcpt.ProviderID) || rcpt.ProviderID != got.SID {
				t.Errorf("receipt ProviderID = %q, want the fake's sid %q", rcpt.ProviderID, got.SID)
			}
			if rcpt.Status != "queued" {
				t.Errorf("receipt Status = %q, want queued", rcpt.Status)
			}
		})
	}
}

func TestSendConcurrent(t *testing.T) {
	srv := newFake(t)
	s := mustNew(t, testConfig(srv.URL))
	const n = 20
	errs := make(chan error, n)
	for i := range n {
		go func() {
			_, err := s.Send(context.Background(), channel.Message{ID: fmt.Sprint(i), To: testTo, Body: "hallo"})
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Errorf("Send: %v", err)
		}
	}
	srv.WaitForRequests(t, n, time.Second)
}

func TestSendClassifiesAPIErrors(t *testing.T) {
	tests := []struct {
		name           string
		httpStatus     int
		twilioCode     int
		wantKind       channel.Kind
		wantCode       int
		wantRetryAfter time.Duration
	}{
		{"rate limited", http.StatusTooManyRequests, 20429, channel.Temporary, 20429, 0},
		{"internal error", http.StatusInternalServerError, 20500, channel.Temporary, 20500, 0},
		{"unavailable", http.StatusServiceUnavailable, 20503, channel.Temporary, 20503, 0},
		{"invalid To", http.StatusBadRequest, 21211, channel.Permanent, 21211, 0},
		{"unsubscribed", http.StatusBadRequest, 21610, channel.OptedOut, 21610, 0},
		{"bad credentials", http.StatusUnauthorized, 20003, channel.Permanent, 20003, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFake(t)
			s := mustNew(t, testConfig(srv.URL))
			srv.FailNext(1, tt.httpStatus, tt.twilioCode)

			rcpt, err := s.Send(context.Background(), channel.Message{ID: "m1", To: testTo, Body: "hallo"})
			assertChannelError(t, err, tt.wantKind, tt.wantCode, tt.wantRetryAfter)
			if rcpt != (channel.Receipt{}) {
				t.Errorf("receipt = %+v, want zero", rcpt)
			}
			var tre *twclient.TwilioRestError
			if !errors.As(err, &tre) || tre.Code != tt.twilioCode {
				t.Errorf("error does not wrap the TwilioRestError with code %d: %v", tt.twilioCode, err)
			}
			// No retries inside Send.
			if n := len(srv.Requests()); n != 1 {
				t.Errorf("fake got %d requests, want exactly 1", n)
			}
		})
	}

	t.Run("429 with Retry-After", func(t *testing.T) {
		srv := newFake(t)
		s := mustNew(t, testConfig(srv.URL))
		srv.FailNextRateLimited(1, 7*time.Second)
		_, err := s.Send(context.Background(), channel.Message{ID: "m1", To: testTo, Body: "hallo"})
		assertChannelError(t, err, channel.Temporary, 20429, 7*time.Second)

		// The failure is consumed; the next send goes through.
		if _, err := s.Send(context.Background(), channel.Message{ID: "m1", To: testTo, Body: "hallo"}); err != nil {
			t.Fatalf("second Send: %v", err)
		}
	})
}

func TestSendNonJSONErrorBody(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		wantKind channel.Kind
	}{
		{"bad gateway from a proxy", http.StatusBadGateway, channel.Temporary},
		{"forbidden from a proxy", http.StatusForbidden, channel.Permanent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(tt.status)
				fmt.Fprint(w, "<html>oops</html>")
			}))
			t.Cleanup(hs.Close)
			s := mustNew(t, testConfig(hs.URL))
			_, err := s.Send(context.Background(), channel.Message{ID: "m1", To: testTo, Body: "hallo"})
			assertChannelError(t, err, tt.wantKind, tt.status, 0)
		})
	}
}

func TestSendUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	s := mustNew(t, testConfig("http://"+addr))
	_, err = s.Send(context.Background(), channel.Message{ID: "m1", To: testTo, Body: "hallo"})
	assertChannelError(t, err, channel.Temporary, 0, 0)
	var ue *url.Error
	if !errors.As(err, &ue) {
		t.Errorf("error does not wrap the *url.Error: %v", err)
	}
}

func TestSendHonoursContext(t *testing.T) {
	tests := []struct {
		name    string
		ctx     func() (context.Context, context.CancelFunc)
		wantErr error
	}{
		{"cancelled before send", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx, cancel
		}, context.Canceled},
		{"cancelled during request", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(50*time.Millisecond, cancel)
			return ctx, cancel
		}, context.Canceled},
		{"deadline during request", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 50*time.Millisecond)
		}, context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFake(t)
			srv.SetDelay(5 * time.Second) // well under the client's 10s timeout
			s := mustNew(t, testConfig(srv.URL))
			ctx, cancel := tt.ctx()
			defer cancel()

			start := time.Now()
			_, err := s.Send(ctx, channel.Message{ID: "m1", To: testTo, Body: "hallo"})
			if took := time.Since(start); took > time.Second {
				t.Errorf("Send returned after %v, want prompt return", took)
			}
			assertChannelError(t, err, channel.Temporary, 0, 0)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("error = %v, want it to wrap %v", err, tt.wantErr)
			}
		})
	}
}

func TestSendHTTPClientTimeout(t *testing.T) {
	srv := newFake(t)
	srv.SetDelay(5 * time.Second)
	cfg := testConfig(srv.URL)
	cfg.HTTPClient = &http.Client{Timeout: 50 * time.Millisecond}
	s := mustNew(t, cfg)
	start := time.Now()
	_, err := s.Send(context.Background(), channel.Message{ID: "m1", To: testTo, Body: "hallo"})
	if took := time.Since(start); took > time.Second {
		t.Errorf("Send returned after %v, want the client timeout to apply", took)
	}
	assertChannelError(t, err, channel.Temporary, 0, 0)
}

func TestSendRejectsBadMessagesLocally(t *testing.T) {
	tests := []struct {
		name string
		msg  channel.Message
	}{
		{"empty To", channel.Message{ID: "m1", Body: "hallo"}},
		{"national number", channel.Message{ID: "m1", To: "0612345678", Body: "hallo"}},
		{"empty body", channel.Message{ID: "m1", To: testTo, Body: " \n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFake(t)
			s := mustNew(t, testConfig(srv.URL))
			_, err := s.Send(context.Background(), tt.msg)
			assertChannelError(t, err, channel.Permanent, 0, 0)
			if n := len(srv.Requests()); n != 0 {
				t.Errorf("fake got %d requests, want none", n)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name     string
		err      error
		status   int
		header   http.Header
		wantKind channel.Kind
		wantCode int
	}{
		{"network", &url.Error{Op: "Post", URL: "x", Err: errors.New("connection refused")}, 0, nil, channel.Temporary, 0},
		{"unknown error without response", errors.New("boom"), 0, nil, channel.Temporary, 0},
		{"rest error, status from body only", &twclient.TwilioRestError{Code: 21211, Status: 400}, 0, nil, channel.Permanent, 21211},
		{"credential check in twilio-go", &twclient.TwilioRestError{Code: 21222, Status: 400}, 0, nil, channel.Permanent, 21222},
		{"opt-out wins over status", &twclient.TwilioRestError{Code: 21610, Status: 400}, 400, nil, channel.OptedOut, 21610},
		{"transport status wins over body", &twclient.TwilioRestError{Code: 20500}, 500, nil, channel.Temporary, 20500},
		{"v1 error", &twclient.RestErrorV1{Code: 20429, HttpStatusCode: 429}, 0, nil, channel.Temporary, 20429},
		{"decode error on 503", fmt.Errorf("decode: %w", errors.New("invalid character")), 503, nil, channel.Temporary, 503},
		{"decode error on 404", fmt.Errorf("decode: %w", errors.New("invalid character")), 404, nil, channel.Permanent, 404},
		{"unreadable success body", errors.New("unexpected EOF"), 201, nil, channel.Temporary, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := classify(tt.err, tt.status, tt.header)
			if got.Kind != tt.wantKind || got.Code != tt.wantCode {
				t.Errorf("classify() = %v/%d, want %v/%d", got.Kind, got.Code, tt.wantKind, tt.wantCode)
			}
			if !errors.Is(got, tt.err) {
				t.Errorf("classify() does not wrap the original error")
			}
		})
	}

	t.Run("API error text hides the phone number", func(t *testing.T) {
		tre := &twclient.TwilioRestError{Code: 21211, Status: 400, Message: "The 'To' number " + testTo + " is not a valid phone number.",
			MoreInfo: "https://www.twilio.com/docs/errors/21211"}
		got := classify(tre, 400, nil)
		if strings.Contains(got.Error(), testTo) {
			t.Errorf("Error() = %q leaks the phone number", got.Error())
		}
		if !strings.Contains(got.Error(), "21211") {
			t.Errorf("Error() = %q, want the Twilio code", got.Error())
		}
		var back *twclient.TwilioRestError
		if !errors.As(got, &back) || back != tre {
			t.Errorf("original TwilioRestError not reachable via errors.As")
		}
	})

	t.Run("retry-after", func(t *testing.T) {
		for _, tc := range []struct {
			header string
			want   time.Duration
		}{
			{"", 0},
			{"30", 30 * time.Second},
			{"-1", 0},
			{"soon", 0},
			{now.Add(90 * time.Second).UTC().Format(http.TimeFormat), 89 * time.Second},
			{now.Add(-time.Minute).UTC().Format(http.TimeFormat), 0},
		} {
			h := http.Header{}
			if tc.header != "" {
				h.Set("Retry-After", tc.header)
			}
			got := retryAfter(h, now)
			// HTTP dates have second precision.
			if got < tc.want || got > tc.want+time.Second {
				t.Errorf("retryAfter(%q) = %v, want about %v", tc.header, got, tc.want)
			}
		}
	})
}

func assertChannelError(t *testing.T, err error, kind channel.Kind, code int, retryAfter time.Duration) {
	t.Helper()
	var ce *channel.Error
	if !errors.As(err, &ce) {
		t.Fatalf("error = %v (%T), want *channel.Error", err, err)
	}
	if ce.Kind != kind || ce.Code != code || ce.RetryAfter != retryAfter {
		t.Errorf("error kind/code/retryAfter = %v/%d/%v, want %v/%d/%v (%v)", ce.Kind, ce.Code, ce.RetryAfter, kind, code, retryAfter, err)
	}
	if strings.Contains(err.Error(), testTo) || strings.Contains(err.Error(), "hallo") {
		t.Errorf("error text leaks the phone number or body: %v", err)
	}
}
