package twilio

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/seintje/seintje/bot/channel"
	"github.com/seintje/seintje/bot/channel/twilio/twiliotest"
)

const publicInboundURL = "https://seintje.example.nl/webhooks/twilio/inbound"

func inboundForm() url.Values {
	return url.Values{
		"MessageSid": {"SM0123456789abcdef0123456789abcdef"},
		"AccountSid": {testSID},
		"From":       {testTo},
		"To":         {testFrom},
		"Body":       {"1 nieuwe afspraak graag"},
		"NumMedia":   {"0"},
	}
}

// webhookRequest builds the POST Twilio would make to the internal address
// (behind a proxy), signed with sig when sig is not empty.
func webhookRequest(form url.Values, sig string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "http://10.0.0.7:8080/webhooks/twilio/inbound", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if sig != "" {
		r.Header.Set(SignatureHeader, sig)
	}
	return r
}

func TestValidate(t *testing.T) {
	form := inboundForm()
	good := twiliotest.Sign(testToken, publicInboundURL, form)
	tampered := inboundForm()
	tampered.Set("Body", "STOP")

	tests := []struct {
		name      string
		req       func() *http.Request
		publicURL string
		token     string
		wantErr   error // nil: success; ErrBadSignature; errAny: any other error
	}{
		{"correctly signed", func() *http.Request { return webhookRequest(form, good) }, publicInboundURL, testToken, nil},
		{"signed with explicit :443", func() *http.Request {
			return webhookRequest(form, twiliotest.Sign(testToken, "https://seintje.example.nl:443/webhooks/twilio/inbound", form))
		}, publicInboundURL, testToken, nil},
		{"missing signature", func() *http.Request { return webhookRequest(form, "") }, publicInboundURL, testToken, ErrBadSignature},
		{"forged signature", func() *http.Request { return webhookRequest(form, "bm90IGEgc2lnbmF0dXJl") }, publicInboundURL, testToken, ErrBadSignature},
		{"signed with another token", func() *http.Request {
			return webhookRequest(form, twiliotest.Sign("ffffffffffffffffffffffffffffffff", publicInboundURL, form))
		}, publicInboundURL, testToken, ErrBadSignature},
		{"signed for a different URL", func() *http.Request {
			return webhookRequest(form, twiliotest.Sign(testToken, "https://evil.example.com/webhooks/twilio/inbound", form))
		}, publicInboundURL, testToken, ErrBadSignature},
		{"validated against the internal URL", func() *http.Request { return webhookRequest(form, good) },
			"http://10.0.0.7:8080/webhooks/twilio/inbound", testToken, ErrBadSignature},
		{"tampered body", func() *http.Request { return webhookRequest(tampered, good) }, publicInboundURL, testToken, ErrBadSignature},
		{"validator without token", func() *http.Request { return webhookRequest(form, good) }, publicInboundURL, "", ErrBadSignature},
		{"GET", func() *http.Request {
			r := webhookRequest(form, good)
			r.Method = http.MethodGet
			return r
		}, publicInboundURL, testToken, errAny},
		{"JSON body", func() *http.Request {
			r := webhookRequest(form, good)
			r.Header.Set("Content-Type", "application/json")
			return r
		}, publicInboundURL, testToken, errAny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NewValidator(tt.token).Validate(tt.req(), tt.publicURL)
			switch {
			case tt.wantErr == nil:
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				if !reflect.DeepEqual(got, form) {
					t.Errorf("form = %v, want %v", got, form)
				}
			case errors.Is(tt.wantErr, errAny):
				if err == nil || errors.Is(err, ErrBadSignature) {
					t.Errorf("Validate error = %v, want a non-signature error", err)
				}
			default:
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("Validate error = %v, want %v", err, tt.wantErr)
				}
			}
		})
	}
}

var errAny = errors.New("any error")

func TestValidateKeepsBodyReadable(t *testing.T) {
	form := inboundForm()
	r := webhookRequest(form, twiliotest.Sign(testToken, publicInboundURL, form))
	if _, err := NewValidator(testToken).Validate(r, publicInboundURL); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if got := r.PostFormValue("Body"); got != form.Get("Body") {
		t.Errorf("PostFormValue(Body) after Validate = %q, want %q", got, form.Get("Body"))
	}
}

func TestValidateAfterParseForm(t *testing.T) {
	form := inboundForm()
	r := webhookRequest(form, twiliotest.Sign(testToken, publicInboundURL, form))
	if err := r.ParseForm(); err != nil {
		t.Fatal(err)
	}
	if rest, _ := io.ReadAll(r.Body); len(rest) != 0 {
		t.Fatalf("body not consumed by ParseForm")
	}
	if _, err := NewValidator(testToken).Validate(r, publicInboundURL); err != nil {
		t.Fatalf("Validate after ParseForm: %v", err)
	}
}

func TestValidateQueryString(t *testing.T) {
	form := url.Values{"MessageSid": {"SM1"}, "MessageStatus": {"delivered"}}
	const public = "https://seintje.example.nl/webhooks/twilio/status"
	sig := twiliotest.Sign(testToken, public+"?mid=m42", form)
	r := httptest.NewRequest(http.MethodPost, "http://10.0.0.7:8080/webhooks/twilio/status?mid=m42", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set(SignatureHeader, sig)
	if _, err := NewValidator(testToken).Validate(r, public); err != nil {
		t.Fatalf("Validate with query string: %v", err)
	}
}

func TestParseInbound(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	tests := []struct {
		name    string
		form    url.Values
		want    channel.Inbound
		wantErr string
	}{
		{"full", inboundForm(), channel.Inbound{Channel: channel.SMS, ProviderID: "SM0123456789abcdef0123456789abcdef",
			From: testTo, Body: "1 nieuwe afspraak graag", ReceivedAt: now}, ""},
		{"empty body", url.Values{"MessageSid": {"SM1"}, "From": {testTo}}, channel.Inbound{Channel: channel.SMS,
			ProviderID: "SM1", From: testTo, ReceivedAt: now}, ""},
		{"legacy SmsMessageSid", url.Values{"SmsMessageSid": {"SM2"}, "From": {testTo}, "Body": {"ja"}},
			channel.Inbound{Channel: channel.SMS, ProviderID: "SM2", From: testTo, Body: "ja", ReceivedAt: now}, ""},
		{"missing sid", url.Values{"From": {testTo}, "Body": {"ja"}}, channel.Inbound{}, "MessageSid"},
		{"missing from", url.Values{"MessageSid": {"SM1"}, "Body": {"ja"}}, channel.Inbound{}, "From"},
		{"empty form", url.Values{}, channel.Inbound{}, "MessageSid and From"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseInbound(tt.form, now)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseInbound error = %v, want it to mention %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseInbound: %v", err)
			}
			if got != tt.want {
				t.Errorf("ParseInbound = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseStatus(t *testing.T) {
	tests := []struct {
		name    string
		form    url.Values
		want    StatusUpdate
		wantErr string
	}{
		{"delivered", url.Values{"MessageSid": {"SM1"}, "MessageStatus": {"delivered"}, "To": {testTo}},
			StatusUpdate{MessageSid: "SM1", Status: "delivered", To: testTo}, ""},
		{"undelivered opt-out", url.Values{"MessageSid": {"SM1"}, "MessageStatus": {"undelivered"}, "To": {testTo}, "ErrorCode": {"21610"}},
			StatusUpdate{MessageSid: "SM1", Status: "undelivered", To: testTo, ErrorCode: 21610, Reason: "recipient unsubscribed (replied STOP)"}, ""},
		{"failed unreachable", url.Values{"MessageSid": {"SM1"}, "MessageStatus": {"failed"}, "ErrorCode": {"30003"}},
			StatusUpdate{MessageSid: "SM1", Status: "failed", ErrorCode: 30003, Reason: "unreachable handset"}, ""},
		{"unknown code", url.Values{"MessageSid": {"SM1"}, "MessageStatus": {"failed"}, "ErrorCode": {"30410"}},
			StatusUpdate{MessageSid: "SM1", Status: "failed", ErrorCode: 30410, Reason: "delivery failed (Twilio error 30410)"}, ""},
		{"legacy fields", url.Values{"SmsSid": {"SM9"}, "SmsStatus": {"Sent"}},
			StatusUpdate{MessageSid: "SM9", Status: "sent"}, ""},
		{"empty error code", url.Values{"MessageSid": {"SM1"}, "MessageStatus": {"sent"}, "ErrorCode": {""}},
			StatusUpdate{MessageSid: "SM1", Status: "sent"}, ""},
		{"bad error code", url.Values{"MessageSid": {"SM1"}, "MessageStatus": {"failed"}, "ErrorCode": {"abc"}}, StatusUpdate{}, "ErrorCode"},
		{"missing sid", url.Values{"MessageStatus": {"sent"}}, StatusUpdate{}, "MessageSid"},
		{"missing status", url.Values{"MessageSid": {"SM1"}}, StatusUpdate{}, "MessageStatus"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseStatus(tt.form)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseStatus error = %v, want it to mention %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseStatus: %v", err)
			}
			if tt.want.Channel == "" {
				tt.want.Channel = channel.SMS // no whatsapp: prefix
			}
			if got != tt.want {
				t.Errorf("ParseStatus = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestReason(t *testing.T) {
	tests := []struct {
		code   int
		want   string
		optOut bool
	}{
		{21610, "recipient unsubscribed (replied STOP)", true},
		{30003, "unreachable handset", false},
		{30004, "message blocked", false},
		{30005, "unknown or inactive number", false},
		{30006, "landline or unreachable carrier", false},
		{30007, "filtered as spam by the carrier", false},
		{30008, "unknown error", false},
		{0, "", false},
		{21211, "", false},
	}
	for _, tt := range tests {
		if got := Reason(tt.code); got != tt.want {
			t.Errorf("Reason(%d) = %q, want %q", tt.code, got, tt.want)
		}
		if got := IsOptOutCode(tt.code); got != tt.optOut {
			t.Errorf("IsOptOutCode(%d) = %v, want %v", tt.code, got, tt.optOut)
		}
	}
}

// WhatsApp arrives on the same webhooks: the channel comes from the
// whatsapp: prefix, and a button press routes by its payload.
func TestParseWhatsApp(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	in, err := ParseInbound(url.Values{"MessageSid": {"SM1"}, "From": {"whatsapp:+31612345678"}, "To": {"whatsapp:+3197010000002"},
		"Body": {"2 Bel mij terug"}, "ButtonText": {"2 Bel mij terug"}, "ButtonPayload": {"2"}}, now)
	if err != nil {
		t.Fatal(err)
	}
	if in.Channel != channel.WhatsApp || in.From != "+31612345678" || in.Body != "2" {
		t.Errorf("button press = %+v", in)
	}
	in, _ = ParseInbound(url.Values{"MessageSid": {"SM2"}, "From": {"whatsapp:+31612345678"}, "Body": {"Hallo"}}, now)
	if in.Channel != channel.WhatsApp || in.Body != "Hallo" {
		t.Errorf("text = %+v", in)
	}
	in, _ = ParseInbound(url.Values{"MessageSid": {"SM3"}, "From": {"+31612345678"}, "Body": {"2"}, "ButtonPayload": {"9"}}, now)
	if in.Channel != channel.SMS || in.Body != "2" {
		t.Errorf("sms = %+v", in)
	}
	u, err := ParseStatus(url.Values{"MessageSid": {"SM4"}, "MessageStatus": {"read"}, "To": {"whatsapp:+31612345678"}})
	if err != nil || u.Channel != channel.WhatsApp || u.To != "+31612345678" || u.Status != "read" {
		t.Errorf("status = %+v %v", u, err)
	}
	u, _ = ParseStatus(url.Values{"MessageSid": {"SM5"}, "MessageStatus": {"failed"}, "To": {"whatsapp:+31612345678"}, "ErrorCode": {"63016"}})
	if u.ErrorCode != 63016 || !strings.Contains(u.Reason, "24 hours") {
		t.Errorf("63016 = %+v", u)
	}
}
