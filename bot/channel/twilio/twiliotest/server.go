// Package twiliotest is a fake Twilio REST API for tests. It implements
// CreateMessage (POST /2010-04-01/Accounts/{sid}/Messages.json), checks the
// request the real twilio-go client sends, and records it. WhatsApp
// messages ("whatsapp:+31…" in To and From) are checked as Twilio does:
// both sides on WhatsApp, and either a Body or a ContentSid ("HX…") with
// ContentVariables that are a JSON object of strings.
//
// Requests that break the API contract (wrong path, auth, content type,
// missing fields, ...) are answered with a Twilio-style 400/401/404/405 and
// recorded in Violations, so a test can fail on them:
//
//	srv := twiliotest.New(t, sid, token)
//	t.Cleanup(func() { if v := srv.Violations(); len(v) > 0 { t.Errorf("%v", v) } })
package twiliotest

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// MaxBodyLength is Twilio's limit on a message body (error 21617 above it).
const MaxBodyLength = 1600

// Request is one CreateMessage call the fake received (valid or not).
type Request struct {
	To                  string
	From                string
	MessagingServiceSid string
	Body                string
	StatusCallback      string
	// ContentSid and ContentVariables (decoded) of a Content template send.
	ContentSid       string
	ContentVariables map[string]string
	Form             url.Values // the full decoded form
	Time             time.Time
	// HTTPStatus is what the fake answered; SID is the message sid on 201.
	HTTPStatus int
	SID        string
}

// Server is the fake Twilio API. It is safe for concurrent use.
type Server struct {
	// URL is the base URL to use as twilio.Config.APIURL.
	URL string

	accountSID string
	authToken  string

	hs *httptest.Server

	mu         sync.Mutex
	requests   []Request
	violations []string
	fails      []failure
	delay      time.Duration
}

type failure struct {
	httpStatus int
	code       int
	retryAfter string
}

// New starts a fake for the given credentials; it is closed by t.Cleanup.
func New(t testing.TB, accountSID, authToken string) *Server {
	t.Helper()
	s := Start(accountSID, authToken)
	t.Cleanup(s.Close)
	return s
}

// Start starts a fake on loopback outside a test (the fault bench); the
// caller closes it.
func Start(accountSID, authToken string) *Server {
	s := &Server{accountSID: accountSID, authToken: authToken}
	s.hs = httptest.NewServer(http.HandlerFunc(s.handle))
	s.URL = s.hs.URL
	return s
}

// Close stops the fake.
func (s *Server) Close() { s.hs.Close() }

// Requests returns a copy of every CreateMessage received so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	copy(out, s.requests)
	return out
}

// Violations returns the contract violations seen so far.
func (s *Server) Violations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.violations...)
}

// FailNext makes the next n valid requests fail with httpStatus and a Twilio
// JSON error body carrying twilioCode. Calls queue up.
func (s *Server) FailNext(n int, httpStatus int, twilioCode int) {
	s.failNext(n, failure{httpStatus: httpStatus, code: twilioCode})
}

// FailNextRateLimited makes the next n valid requests fail with 429 (Twilio
// code 20429) and a Retry-After header of retryAfter (whole seconds).
func (s *Server) FailNextRateLimited(n int, retryAfter time.Duration) {
	s.failNext(n, failure{
		httpStatus: http.StatusTooManyRequests,
		code:       20429,
		retryAfter: strconv.Itoa(int(retryAfter / time.Second)),
	})
}

func (s *Server) failNext(n int, f failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.fails = append(s.fails, f)
	}
}

// SetDelay makes every answer wait d (or until the client goes away), to
// test timeouts and cancellation.
func (s *Server) SetDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// WaitForRequests polls until at least n requests arrived and returns them;
// it fails the test on timeout. Call it from the test goroutine.
func (s *Server) WaitForRequests(t testing.TB, n int, timeout time.Duration) []Request {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		reqs := s.Requests()
		if len(reqs) >= n {
			return reqs
		}
		if time.Now().After(deadline) {
			t.Fatalf("twiliotest: got %d requests after %v, want %d", len(reqs), timeout, n)
			return nil
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Sign computes X-Twilio-Signature the way Twilio does for a form POST:
// base64(HMAC-SHA1(authToken, url + each key and value, keys sorted)).
// Repeated keys contribute every value, values sorted.
func Sign(authToken, fullURL string, form url.Values) string {
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(fullURL)
	for _, k := range keys {
		vs := append([]string(nil), form[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			b.WriteString(k)
			b.WriteString(v)
		}
	}
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

var (
	e164        = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)
	contentSID  = regexp.MustCompile(`^HX[0-9a-fA-F]{32}$`)
	messagesURL = regexp.MustCompile(`^/2010-04-01/Accounts/([^/]+)/Messages\.json$`)
)

// apiError is Twilio's JSON error body.
type apiError struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
	Status   int    `json:"status"`
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	now := time.Now().UTC()
	// Read the whole body first: only then does net/http watch the
	// connection and cancel r.Context() when the client goes away.
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		s.violate(w, nil, http.StatusBadRequest, 20001, fmt.Sprintf("read body: %v", err))
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))

	s.mu.Lock()
	delay := s.delay
	s.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}

	// Routing and auth come first, like the real API.
	m := messagesURL.FindStringSubmatch(r.URL.Path)
	if m == nil {
		s.violate(w, nil, http.StatusNotFound, 20404, fmt.Sprintf("unexpected path %s", r.URL.Path))
		return
	}
	if m[1] != s.accountSID {
		s.violate(w, nil, http.StatusNotFound, 20404, fmt.Sprintf("account sid in path is %q, want %q", m[1], s.accountSID))
		return
	}
	if user, pass, ok := r.BasicAuth(); !ok || user != s.accountSID || pass != s.authToken {
		s.violate(w, nil, http.StatusUnauthorized, 20003, "missing or wrong basic auth")
		return
	}
	if r.Method != http.MethodPost {
		s.violate(w, nil, http.StatusMethodNotAllowed, 20004, fmt.Sprintf("method %s, want POST", r.Method))
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/x-www-form-urlencoded" {
		s.violate(w, nil, http.StatusBadRequest, 20001, fmt.Sprintf("content type %q, want application/x-www-form-urlencoded", r.Header.Get("Content-Type")))
		return
	}
	if err := r.ParseForm(); err != nil {
		s.violate(w, nil, http.StatusBadRequest, 20001, fmt.Sprintf("unparsable form: %v", err))
		return
	}
	form := r.PostForm
	req := &Request{
		To:                  form.Get("To"),
		From:                form.Get("From"),
		MessagingServiceSid: form.Get("MessagingServiceSid"),
		Body:                form.Get("Body"),
		StatusCallback:      form.Get("StatusCallback"),
		ContentSid:          form.Get("ContentSid"),
		Form:                form,
		Time:                now,
	}
	to, waTo := strings.CutPrefix(req.To, "whatsapp:")
	_, waFrom := strings.CutPrefix(req.From, "whatsapp:")
	var varsErr error
	if raw := form.Get("ContentVariables"); raw != "" {
		varsErr = json.Unmarshal([]byte(raw), &req.ContentVariables)
	}

	switch {
	case req.To == "":
		s.violate(w, req, http.StatusBadRequest, 21604, "A 'To' phone number is required.")
		return
	case !e164.MatchString(to):
		s.violate(w, req, http.StatusBadRequest, 21211, fmt.Sprintf("The 'To' number %s is not a valid E.164 phone number.", req.To))
		return
	case req.From != "" && waTo != waFrom:
		s.violate(w, req, http.StatusBadRequest, 21910, "Invalid From and To pair. From and To should be of the same channel.")
		return
	case req.ContentSid != "" && !contentSID.MatchString(req.ContentSid):
		s.violate(w, req, http.StatusBadRequest, 21655, fmt.Sprintf("The ContentSid %q is invalid.", req.ContentSid))
		return
	case varsErr != nil:
		s.violate(w, req, http.StatusBadRequest, 21656, "The ContentVariables Parameter is invalid: not a JSON object of strings.")
		return
	case req.ContentSid != "" && req.Body != "":
		s.violate(w, req, http.StatusBadRequest, 21619, "Send either a Body or a ContentSid, not both.")
		return
	case req.ContentSid == "" && strings.TrimSpace(req.Body) == "":
		s.violate(w, req, http.StatusBadRequest, 21602, "Message body is required.")
		return
	case len([]rune(req.Body)) > MaxBodyLength:
		s.violate(w, req, http.StatusBadRequest, 21617, "The concatenated message body exceeds the 1600 character limit.")
		return
	case req.From == "" && req.MessagingServiceSid == "":
		s.violate(w, req, http.StatusBadRequest, 21603, "A 'From' or 'MessagingServiceSid' parameter is required to send a message.")
		return
	case req.From != "" && req.MessagingServiceSid != "":
		s.violate(w, req, http.StatusBadRequest, 21603, "Send either 'From' or 'MessagingServiceSid', not both.")
		return
	}

	s.mu.Lock()
	var f *failure
	if len(s.fails) > 0 {
		f = &s.fails[0]
		s.fails = s.fails[1:]
	}
	s.mu.Unlock()
	if f != nil {
		if f.retryAfter != "" {
			w.Header().Set("Retry-After", f.retryAfter)
		}
		req.HTTPStatus = f.httpStatus
		s.record(*req)
		writeError(w, f.httpStatus, f.code, fmt.Sprintf("injected failure (code %d)", f.code))
		return
	}

	req.SID = newSID("SM")
	req.HTTPStatus = http.StatusCreated
	s.record(*req)
	writeJSON(w, http.StatusCreated, s.message(req, now))
}

func (s *Server) record(req Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, req)
}

// violate records a contract violation (and the request, when it got that
// far) and answers with a Twilio-style error.
func (s *Server) violate(w http.ResponseWriter, req *Request, httpStatus, code int, msg string) {
	s.mu.Lock()
	s.violations = append(s.violations, fmt.Sprintf("%d %d: %s", httpStatus, code, msg))
	if req != nil {
		req.HTTPStatus = httpStatus
		s.requests = append(s.requests, *req)
	}
	s.mu.Unlock()
	writeError(w, httpStatus, code, msg)
}

func writeError(w http.ResponseWriter, httpStatus, code int, msg string) {
	writeJSON(w, httpStatus, apiError{
		Code:     code,
		Message:  msg,
		MoreInfo: fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code),
		Status:   httpStatus,
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// message is the Message resource as Twilio returns it on creation.
func (s *Server) message(req *Request, now time.Time) map[string]any {
	date := now.Format(time.RFC1123Z)
	var from, mg any
	if req.From != "" {
		from = req.From
	}
	if req.MessagingServiceSid != "" {
		mg = req.MessagingServiceSid
	}
	uri := fmt.Sprintf("/2010-04-01/Accounts/%s/Messages/%s", s.accountSID, req.SID)
	return map[string]any{
		"account_sid":           s.accountSID,
		"api_version":           "2010-04-01",
		"body":                  req.Body,
		"date_created":          date,
		"date_sent":             nil,
		"date_updated":          date,
		"direction":             "outbound-api",
		"error_code":            nil,
		"error_message":         nil,
		"from":                  from,
		"messaging_service_sid": mg,
		"num_media":             "0",
		"num_segments":          "1",
		"price":                 nil,
		"price_unit":            "USD",
		"sid":                   req.SID,
		"status":                "queued",
		"subresource_uris": map[string]string{
			"media": uri + "/Media.json",
		},
		"to":  req.To,
		"uri": uri + ".json",
	}
}

// newSID returns prefix + 32 lowercase hex characters, like Twilio sids.
func newSID(prefix string) string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}
