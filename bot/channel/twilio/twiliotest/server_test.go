package twiliotest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	twclient "github.com/twilio/twilio-go/client"
)

const (
	sid   = "AC0123456789abcdef0123456789abcdef"
	token = "0123456789abcdef0123456789abcdef"
)

func post(t *testing.T, s *Server, path, user, pass, contentType string, form url.Values) (*http.Response, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("decode response: %v", err)
	}
	return resp, body
}

func TestServerChecksRequests(t *testing.T) {
	const path = "/2010-04-01/Accounts/" + sid + "/Messages.json"
	const form = "application/x-www-form-urlencoded"
	valid := func() url.Values {
		return url.Values{"To": {"+31612345678"}, "From": {"+3197010000000"}, "Body": {"hallo"}, "StatusCallback": {"https://x/cb"}}
	}
	with := func(mutate func(url.Values)) url.Values {
		v := valid()
		mutate(v)
		return v
	}
	tests := []struct {
		name        string
		path        string
		user, pass  string
		contentType string
		form        url.Values
		wantStatus  int
		wantCode    int
	}{
		{"valid", path, sid, token, form, valid(), 201, 0},
		{"valid with service", path, sid, token, form, with(func(v url.Values) { v.Del("From"); v.Set("MessagingServiceSid", "MG1") }), 201, 0},
		{"wrong sid in path", "/2010-04-01/Accounts/ACother/Messages.json", sid, token, form, valid(), 404, 20404},
		{"empty sid in path", "/2010-04-01/Accounts//Messages.json", sid, token, form, valid(), 404, 20404},
		{"no auth", path, "", "", form, valid(), 401, 20003},
		{"wrong token", path, sid, "nope", form, valid(), 401, 20003},
		{"json", path, sid, token, "application/json", valid(), 400, 20001},
		{"national To", path, sid, token, form, with(func(v url.Values) { v.Set("To", "0612345678") }), 400, 21211},
		{"no To", path, sid, token, form, with(func(v url.Values) { v.Del("To") }), 400, 21604},
		{"empty Body", path, sid, token, form, with(func(v url.Values) { v.Set("Body", "") }), 400, 21602},
		{"long Body", path, sid, token, form, with(func(v url.Values) { v.Set("Body", strings.Repeat("a", 1601)) }), 400, 21617},
		{"no sender", path, sid, token, form, with(func(v url.Values) { v.Del("From") }), 400, 21603},
		{"both senders", path, sid, token, form, with(func(v url.Values) { v.Set("MessagingServiceSid", "MG1") }), 400, 21603},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(t, sid, token)
			resp, body := post(t, s, tt.path, tt.user, tt.pass, tt.contentType, tt.form)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d (%v)", resp.StatusCode, tt.wantStatus, body)
			}
			if tt.wantStatus == 201 {
				if v := s.Violations(); len(v) != 0 {
					t.Errorf("violations = %v, want none", v)
				}
				if !regexp.MustCompile(`^SM[0-9a-f]{32}$`).MatchString(body["sid"].(string)) || body["status"] != "queued" {
					t.Errorf("message = %v", body)
				}
				return
			}
			if got := int(body["code"].(float64)); got != tt.wantCode || int(body["status"].(float64)) != tt.wantStatus || body["more_info"] == "" {
				t.Errorf("error body = %v, want code %d", body, tt.wantCode)
			}
			if v := s.Violations(); len(v) != 1 {
				t.Errorf("violations = %v, want one", v)
			}
		})
	}
}

func TestServerFailNext(t *testing.T) {
	s := New(t, sid, token)
	s.FailNext(2, http.StatusServiceUnavailable, 20503)
	path := "/2010-04-01/Accounts/" + sid + "/Messages.json"
	form := url.Values{"To": {"+31612345678"}, "From": {"+3197010000000"}, "Body": {"hallo"}}
	for i, want := range []int{503, 503, 201} {
		resp, _ := post(t, s, path, sid, token, "application/x-www-form-urlencoded", form)
		if resp.StatusCode != want {
			t.Errorf("request %d: status %d, want %d", i, resp.StatusCode, want)
		}
	}
	reqs := s.WaitForRequests(t, 3, time.Second)
	if reqs[0].HTTPStatus != 503 || reqs[2].HTTPStatus != 201 || reqs[2].SID == "" {
		t.Errorf("requests = %+v", reqs)
	}
	if v := s.Violations(); len(v) != 0 {
		t.Errorf("violations = %v", v)
	}
}

func TestSignMatchesTwilioGo(t *testing.T) {
	tests := []struct {
		name string
		url  string
		form url.Values
	}{
		{"inbound", "https://seintje.example.nl/webhooks/twilio/inbound",
			url.Values{"MessageSid": {"SM1"}, "From": {"+31612345678"}, "Body": {"Ja, graag! €5 & 100%"}}},
		{"with query", "https://seintje.example.nl/webhooks/twilio/status?mid=m1",
			url.Values{"MessageSid": {"SM1"}, "MessageStatus": {"delivered"}}},
		{"empty form", "https://seintje.example.nl/x", url.Values{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			params := map[string]string{}
			for k, v := range tt.form {
				params[k] = v[0]
			}
			rv := twclient.NewRequestValidator(token)
			if !rv.Validate(tt.url, params, Sign(token, tt.url, tt.form)) {
				t.Errorf("twilio-go rejects Sign's signature")
			}
			if rv.Validate(tt.url, params, Sign("other", tt.url, tt.form)) {
				t.Errorf("twilio-go accepts a signature made with another token")
			}
		})
	}
}
