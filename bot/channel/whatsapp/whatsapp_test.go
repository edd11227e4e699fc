package whatsapp_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/seintje/seintje/bot/channel"
	"github.com/seintje/seintje/bot/channel/twilio"
	"github.com/seintje/seintje/bot/channel/twilio/twiliotest"
	"github.com/seintje/seintje/bot/channel/whatsapp"
)

const (
	sid     = "AC00000000000000000000000000000001"
	token   = "0123456789abcdef0123456789abcdef"
	from    = "+3197010000002"
	to      = "+31612345678"
	tplSID  = "HX0123456789abcdef0123456789abcdef"
	btn2SID = "HX22222222222222222222222222222222"
)

func newSender(t *testing.T, mutate func(*whatsapp.Config)) (*whatsapp.Sender, *twiliotest.Server) {
	t.Helper()
	srv := twiliotest.New(t, sid, token)
	t.Cleanup(func() {
		if v := srv.Violations(); len(v) > 0 {
			t.Errorf("Twilio API contract violations: %v", v)
		}
	})
	cfg := whatsapp.Config{
		Twilio:  twilio.Config{AccountSID: sid, AuthToken: token, APIURL: srv.URL, StatusCallbackURL: "https://seintje.test/webhooks/twilio/status"},
		From:    from,
		Buttons: map[int]string{2: btn2SID},
	}
	if mutate != nil {
		mutate(&cfg)
	}
	s, err := whatsapp.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s, srv
}

// The real twilio-go requests: whatsapp: on both sides, free text as Body,
// a template as ContentSid plus ContentVariables (JSON), buttons through
// the quick-reply template.
func TestSendRequests(t *testing.T) {
	buttons := []channel.Button{{Label: "1 Nieuwe afspraak", Reply: "1"}, {Label: "2 Bel mij terug, graag zo snel mogelijk", Reply: "2"}}
	cases := []struct {
		name     string
		msg      channel.Message
		wantBody string
		wantSID  string
		wantVars map[string]string
	}{
		{"free text", channel.Message{ID: "m1", To: to, Body: "Hallo Sanne"}, "Hallo Sanne", "", nil},
		{"address already prefixed", channel.Message{ID: "m2", To: "whatsapp:" + to, Body: "Hallo"}, "Hallo", "", nil},
		{"template", channel.Message{ID: "m3", To: to, Body: "Hallo Sanne (rendered)", Buttons: buttons,
			Template: &channel.Template{SID: tplSID, Variables: map[string]string{"1": "Sanne", "2": "vrijdag 20 november om 10:00"}}},
			"", tplSID, map[string]string{"1": "Sanne", "2": "vrijdag 20 november om 10:00"}},
		{"two buttons", channel.Message{ID: "m4", To: to, Body: "Stuur 1 of 2", Buttons: buttons}, "", btn2SID,
			map[string]string{"1": "Stuur 1 of 2", "2": "1 Nieuwe afspraak", "3": "1", "4": "2 Bel mij terug, gra", "5": "2"}},
		{"three buttons without a template: text", channel.Message{ID: "m5", To: to, Body: "Kies", Buttons: append(buttons, channel.Button{Label: "3", Reply: "3"})},
			"Kies", "", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, srv := newSender(t, nil)
			rc, err := s.Send(context.Background(), tc.msg)
			if err != nil {
				t.Fatal(err)
			}
			req := srv.Requests()[0]
			if rc.ProviderID != req.SID || req.To != "whatsapp:"+to || req.From != "whatsapp:"+from {
				t.Fatalf("to %q from %q sid %q/%q", req.To, req.From, rc.ProviderID, req.SID)
			}
			if req.Body != tc.wantBody || req.ContentSid != tc.wantSID {
				t.Errorf("body %q content %q, want %q %q", req.Body, req.ContentSid, tc.wantBody, tc.wantSID)
			}
			if tc.wantVars != nil {
				var got map[string]string
				if err := json.Unmarshal([]byte(req.Form.Get("ContentVariables")), &got); err != nil {
					t.Fatalf("ContentVariables %q: %v", req.Form.Get("ContentVariables"), err)
				}
				if len(got) != len(tc.wantVars) {
					t.Errorf("ContentVariables = %v, want %v", got, tc.wantVars)
				}
				for k, v := range tc.wantVars {
					if got[k] != v {
						t.Errorf("ContentVariables[%s] = %q, want %q", k, got[k], v)
					}
				}
			} else if req.Form.Has("ContentVariables") {
				t.Errorf("ContentVariables sent with free text")
			}
			if req.StatusCallback != "https://seintje.test/webhooks/twilio/status" {
				t.Errorf("status callback %q", req.StatusCallback)
			}
		})
	}
}

func TestMessagingService(t *testing.T) {
	s, srv := newSender(t, func(c *whatsapp.Config) { c.From, c.MessagingServiceSID = "", "MG00000000000000000000000000000001" })
	if _, err := s.Send(context.Background(), channel.Message{ID: "m1", To: to, Body: "Hallo"}); err != nil {
		t.Fatal(err)
	}
	if req := srv.Requests()[0]; req.From != "" || req.MessagingServiceSid != "MG00000000000000000000000000000001" || req.To != "whatsapp:"+to {
		t.Errorf("request %+v", req)
	}
}

// Errors come back typed, with Twilio's code, like SMS (shared mapping).
func TestSendErrors(t *testing.T) {
	s, srv := newSender(t, nil)
	srv.FailNext(1, http.StatusBadRequest, 63016)
	_, err := s.Send(context.Background(), channel.Message{ID: "m1", To: to, Body: "Hallo"})
	var ce *channel.Error
	if !errors.As(err, &ce) || ce.Kind != channel.Permanent || ce.Code != 63016 {
		t.Fatalf("63016: %v", err)
	}
	srv.FailNextRateLimited(1, 3*time.Second)
	_, err = s.Send(context.Background(), channel.Message{ID: "m2", To: to, Body: "Hallo"})
	if !errors.As(err, &ce) || ce.Kind != channel.Temporary || ce.RetryAfter != 3*time.Second {
		t.Fatalf("429: %v", err)
	}
	if _, err := s.Send(context.Background(), channel.Message{ID: "m3", To: "0612345678", Body: "Hallo"}); channel.KindOf(err) != channel.Permanent {
		t.Errorf("not E.164: %v", err)
	}
	if n := len(srv.Requests()); n != 2 {
		t.Errorf("%d requests, want 2 (the bad address never leaves)", n)
	}
}

func TestConfig(t *testing.T) {
	base := twilio.Config{AccountSID: sid, AuthToken: token, StatusCallbackURL: "https://seintje.test/webhooks/twilio/status"}
	for _, cfg := range []whatsapp.Config{
		{Twilio: base},
		{Twilio: base, From: "whatsapp:+31"},
		{Twilio: base, From: from, MessagingServiceSID: "MG00000000000000000000000000000001"},
		{Twilio: base, From: from, Buttons: map[int]string{4: btn2SID}},
		{Twilio: base, From: from, Buttons: map[int]string{2: "HXnope"}},
	} {
		if _, err := whatsapp.New(cfg); err == nil {
			t.Errorf("config %+v accepted", cfg)
		}
	}
}
