// Package twilio implements channel.Sender for SMS through the Twilio REST
// API (github.com/twilio/twilio-go), plus the plain helpers the HTTP layer
// needs for Twilio webhooks: signature validation and parsing of inbound
// messages and delivery status callbacks.
//
// twilio-go has no base-URL setting, no context support and no retries. This
// package adds the first two with a per-Send http.RoundTripper; retries are
// deliberately left to the caller (a durable queue), which uses the
// *channel.Error returned by Send to decide.
package twilio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	twiliosdk "github.com/twilio/twilio-go"
	twclient "github.com/twilio/twilio-go/client"
	twapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/seintje/seintje/bot/channel"
)

// DefaultTimeout is the whole-request timeout of the HTTP client New builds
// when Config.HTTPClient is nil.
const DefaultTimeout = 10 * time.Second

// Twilio error codes this package treats specially.
const (
	// CodeUnsubscribed: the recipient replied STOP (or was unsubscribed).
	CodeUnsubscribed = 21610
)

// Config configures a Sender.
type Config struct {
	// AccountSID ("AC...") and AuthToken authenticate against the REST API
	// (HTTP basic auth) and sign webhooks.
	AccountSID, AuthToken string
	// From is the E.164 sender number. Leave empty when MessagingServiceSID is
	// set; exactly one of the two must be set.
	From string
	// MessagingServiceSID ("MG...") lets Twilio pick the sender from a pool.
	MessagingServiceSID string
	// APIURL optionally replaces https://api.twilio.com (tests, local runs),
	// e.g. "http://127.0.0.1:4567". Scheme and host of every request are
	// rewritten; path and query are kept.
	APIURL string
	// StatusCallbackURL is the public URL of the delivery status webhook
	// (public URL + "/webhooks/twilio/status"); it is set on every message.
	StatusCallbackURL string
	// HTTPClient is optional; by default a client with a 10s timeout that does
	// not follow redirects (like twilio-go's default) is used. It is never
	// modified.
	HTTPClient *http.Client
}

// Client creates Messages through the Twilio REST API with twilio-go: it
// supplies what the library lacks (a base URL, the caller's context) and
// turns failures into a *channel.Error. The SMS Sender and the WhatsApp
// sender (package whatsapp) share it. It is safe for concurrent use.
type Client struct {
	accountSID        string
	authToken         string
	statusCallbackURL string
	apiURL            *url.URL // nil: talk to Twilio itself
	httpClient        *http.Client
}

// Sender sends SMS through Twilio. It is safe for concurrent use.
type Sender struct {
	*Client
	from                string
	messagingServiceSID string
}

var _ channel.Sender = (*Sender)(nil)

// e164 matches an E.164 phone number: "+", country code, at most 15 digits.
var e164 = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)

// IsE164 reports whether s is an E.164 phone number.
func IsE164(s string) bool { return e164.MatchString(s) }

// alphanumeric mirrors twilio-go's credential check: it refuses (with a
// made-up 400 error) credentials containing anything else.
var alphanumeric = regexp.MustCompile(`^[A-Za-z0-9]+$`)

// New validates cfg and returns a Sender. The error names every missing or
// malformed setting.
func New(cfg Config) (*Sender, error) {
	errs := SenderErrors(cfg.From, cfg.MessagingServiceSID, "From", "MessagingServiceSID")
	c, err := newClient(cfg, errs)
	if err != nil {
		return nil, err
	}
	return &Sender{Client: c, from: cfg.From, messagingServiceSID: cfg.MessagingServiceSID}, nil
}

// NewClient validates the account part of cfg (From and
// MessagingServiceSID are not looked at) and returns a Client.
func NewClient(cfg Config) (*Client, error) { return newClient(cfg, nil) }

// SenderErrors checks a sender setting: exactly one of an E.164 number
// (named fromName) and a Messaging Service SID (named mgName).
func SenderErrors(from, mg, fromName, mgName string) []error {
	switch {
	case from == "" && mg == "":
		return []error{fmt.Errorf("one of %s or %s is required", fromName, mgName)}
	case from != "" && mg != "":
		return []error{fmt.Errorf("set only one of %s and %s, not both", fromName, mgName)}
	case from != "" && !e164.MatchString(from):
		return []error{fmt.Errorf("%s must be an E.164 phone number such as +31612345678", fromName)}
	case mg != "" && (!strings.HasPrefix(mg, "MG") || !alphanumeric.MatchString(mg)):
		return []error{fmt.Errorf("%s must look like MG followed by letters and digits", mgName)}
	}
	return nil
}

func newClient(cfg Config, errs []error) (*Client, error) {
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf(format, args...))
	}
	switch {
	case cfg.AccountSID == "":
		bad("AccountSID is required")
	case !strings.HasPrefix(cfg.AccountSID, "AC") || !alphanumeric.MatchString(cfg.AccountSID):
		bad("AccountSID must look like AC followed by letters and digits")
	}
	switch {
	case cfg.AuthToken == "":
		bad("AuthToken is required")
	case !alphanumeric.MatchString(cfg.AuthToken):
		bad("AuthToken must contain only letters and digits")
	}
	if cfg.StatusCallbackURL == "" {
		bad("StatusCallbackURL is required")
	} else if err := checkAbsURL(cfg.StatusCallbackURL); err != nil {
		bad("StatusCallbackURL: %w", err)
	}
	var apiURL *url.URL
	if cfg.APIURL != "" {
		if err := checkAbsURL(cfg.APIURL); err != nil {
			bad("APIURL: %w", err)
		} else {
			apiURL, _ = url.Parse(cfg.APIURL)
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("twilio: invalid config: %w", errors.Join(errs...))
	}

	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{
			Transport: http.DefaultTransport.(*http.Transport).Clone(),
			Timeout:   DefaultTimeout,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		}
	}
	return &Client{
		accountSID:        cfg.AccountSID,
		authToken:         cfg.AuthToken,
		statusCallbackURL: cfg.StatusCallbackURL,
		apiURL:            apiURL,
		httpClient:        hc,
	}, nil
}

func checkAbsURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("parse %q: %w", raw, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http(s) URL", raw)
	}
	return nil
}

// Name returns channel.SMS.
func (s *Sender) Name() channel.Name { return channel.SMS }

// Send creates one Twilio Message. It never retries: failures come back as a
// *channel.Error (Temporary, Permanent or OptedOut) for the caller to act on.
// ctx cancels the HTTP request.
func (s *Sender) Send(ctx context.Context, m channel.Message) (channel.Receipt, error) {
	if !e164.MatchString(m.To) {
		return channel.Receipt{}, &channel.Error{Kind: channel.Permanent, Err: fmt.Errorf("twilio: send message %s: recipient is not an E.164 phone number", m.ID)}
	}
	if strings.TrimSpace(m.Body) == "" {
		return channel.Receipt{}, &channel.Error{Kind: channel.Permanent, Err: fmt.Errorf("twilio: send message %s: empty body", m.ID)}
	}

	params := &twapi.CreateMessageParams{}
	params.SetTo(m.To)
	params.SetBody(m.Body)
	if s.messagingServiceSID != "" {
		params.SetMessagingServiceSid(s.messagingServiceSID)
	} else {
		params.SetFrom(s.from)
	}
	return s.Create(ctx, m.ID, params)
}

// Create sends one CreateMessage request with params (To, From or
// MessagingServiceSid and Body or ContentSid set by the caller; the
// account and the status callback are added here). id is Seintje's
// message id, for errors. It never retries: failures come back as a
// *channel.Error (Temporary, Permanent or OptedOut). ctx cancels the
// HTTP request.
func (c *Client) Create(ctx context.Context, id string, params *twapi.CreateMessageParams) (channel.Receipt, error) {
	if err := ctx.Err(); err != nil {
		return channel.Receipt{}, &channel.Error{Kind: channel.Temporary, Err: fmt.Errorf("twilio: send message %s: %w", id, err)}
	}
	// twilio-go builds every request with context.Background() and has no
	// base-URL option, so each call gets its own lightweight client whose
	// transport applies ctx, rewrites the host and remembers the raw response
	// (twilio-go drops the status code and headers of failed calls).
	rt := &sendTransport{ctx: ctx, base: c.httpClient.Transport, apiURL: c.apiURL}
	defer rt.discard()
	tc := &twclient.Client{
		Credentials: twclient.NewCredentials(c.accountSID, c.authToken),
		HTTPClient: &http.Client{
			Transport:     rt,
			Timeout:       c.httpClient.Timeout,
			CheckRedirect: c.httpClient.CheckRedirect,
			Jar:           c.httpClient.Jar,
		},
	}
	// With a custom Client, NewRestClientWithParams ignores Username,
	// Password and AccountSid, so the SID must be set on the client itself or
	// the URL path would read /Accounts//Messages.json.
	tc.SetAccountSid(c.accountSID)
	rc := twiliosdk.NewRestClientWithParams(twiliosdk.ClientParams{
		Username:   c.accountSID,
		Password:   c.authToken,
		AccountSid: c.accountSID,
		Client:     tc,
	})
	params.SetPathAccountSid(c.accountSID)
	params.SetStatusCallback(c.statusCallbackURL)

	msg, err := rc.Api.CreateMessage(params)
	if err != nil {
		ce := classify(err, rt.status, rt.header)
		ce.Err = fmt.Errorf("twilio: send message %s: %w", id, ce.Err)
		return channel.Receipt{}, ce
	}
	if msg.Sid == nil || *msg.Sid == "" {
		// Twilio said yes but we cannot track the message. Temporary, like any
		// unknown outcome: a duplicate nudge is better than a silent drop.
		return channel.Receipt{}, &channel.Error{Kind: channel.Temporary, Code: rt.status,
			Err: fmt.Errorf("twilio: send message %s: response without message sid", id)}
	}
	r := channel.Receipt{ProviderID: *msg.Sid}
	if msg.Status != nil {
		r.Status = *msg.Status
	}
	return r, nil
}

// sendTransport is the per-Send RoundTripper: it attaches the caller's ctx,
// points the request at apiURL and records the last response.
type sendTransport struct {
	ctx    context.Context
	base   http.RoundTripper // nil: http.DefaultTransport
	apiURL *url.URL

	// Written by RoundTrip, read by Send after the (synchronous) call returned.
	status int
	header http.Header
	body   io.ReadCloser
}

func (t *sendTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(t.ctx)
	if t.apiURL != nil {
		r.URL.Scheme = t.apiURL.Scheme
		r.URL.Host = t.apiURL.Host
		r.Host = "" // let the Host header follow the URL
	}
	base := t.base
	if base == nil {
		base = http.DefaultTransport
	}
	resp, err := base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	t.status, t.header, t.body = resp.StatusCode, resp.Header, resp.Body
	return resp, nil
}

// discard drains and closes the last response body: twilio-go does not close
// it when it returns an API error, which would leak the connection.
func (t *sendTransport) discard() {
	if t.body == nil {
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(t.body, 64<<10))
	_ = t.body.Close()
}

// classify turns an error returned by twilio-go into a *channel.Error.
// status and header are the raw HTTP response as seen by the transport
// (0 and nil when no response arrived).
//
// twilio-go surfaces failures as:
//   - the http.Client error (*url.Error) for network problems, timeouts and
//     cancelled contexts;
//   - *client.TwilioRestError{Code, Status, Message, MoreInfo} decoded from
//     the JSON body of a non-2xx/3xx response;
//   - *client.RestErrorV1 for APIs using the "v1.0" standard (not Messages);
//   - a wrapped JSON decode error when an error body is not JSON (a proxy's
//     HTML 502), or when a success body cannot be decoded.
func classify(err error, status int, header http.Header) *channel.Error {
	code := 0
	var tre *twclient.TwilioRestError
	var v1 *twclient.RestErrorV1
	switch {
	case errors.As(err, &tre):
		code = tre.Code
		if status == 0 {
			status = tre.Status
		}
		err = &apiError{code: tre.Code, status: tre.Status, moreInfo: tre.MoreInfo, err: err}
	case errors.As(err, &v1):
		code = v1.Code
		if status == 0 {
			status = v1.HttpStatusCode
		}
		err = &apiError{code: v1.Code, status: v1.HttpStatusCode, err: err}
	}

	var ue *url.Error
	switch {
	case code == CodeUnsubscribed:
		return &channel.Error{Kind: channel.OptedOut, Code: code, Err: err}
	case status == 0 || errors.As(err, &ue):
		// No HTTP answer: network error, timeout, cancelled ctx, or something
		// unexpected. Unknown outcomes are retried.
		return &channel.Error{Kind: channel.Temporary, Code: code, Err: err}
	case status >= 200 && status < 400:
		// The request was accepted but the answer was unreadable.
		return &channel.Error{Kind: channel.Temporary, Code: code, Err: err}
	case status == http.StatusTooManyRequests || status >= 500:
		return &channel.Error{Kind: channel.Temporary, Code: codeOr(code, status),
			RetryAfter: retryAfter(header, time.Now()), Err: err}
	default:
		return &channel.Error{Kind: channel.Permanent, Code: codeOr(code, status), Err: err}
	}
}

// apiError hides the message of a Twilio API error from Error(): Twilio
// puts the recipient's phone number in it ("The 'To' number +316... is not a
// valid phone number"), and error strings end up in logs. The original error
// stays reachable through errors.As.
type apiError struct {
	code, status int
	moreInfo     string
	err          error
}

func (e *apiError) Error() string {
	s := fmt.Sprintf("twilio API error %d (HTTP %d)", e.code, e.status)
	if e.moreInfo != "" {
		s += ", see " + e.moreInfo
	}
	return s
}

func (e *apiError) Unwrap() error { return e.err }

func codeOr(code, status int) int {
	if code != 0 {
		return code
	}
	return status
}

// retryAfter parses a Retry-After header (delay in seconds or an HTTP date);
// zero when absent or unparsable.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil {
		if secs < 0 {
			return 0
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}
