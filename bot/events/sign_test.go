package events_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/seintje/seintje/bot/events"
	"github.com/seintje/seintje/bot/store"
)

func TestVerify(t *testing.T) {
	secret := []byte("zaken-signing-secret-0123456789")
	body := []byte(`{"specversion":"1.0","id":"x"}`)
	at := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	good := events.Sign(secret, body, at)
	tests := []struct {
		name   string
		secret []byte
		body   []byte
		header string
		now    time.Time
		want   error
	}{
		{"as sent", secret, body, good, at.Add(time.Minute), nil},
		{"rotating: a second v1 matches", secret, body, strings.Replace(good, ",v1=", ",v1=00,v1=", 1), at, nil},
		{"other secret", []byte("another-secret-0123456789abcdef"), body, good, at, events.ErrBadSignature},
		{"body changed", secret, []byte(`{"specversion":"1.0","id":"y"}`), good, at, events.ErrBadSignature},
		{"replayed an hour later", secret, body, good, at.Add(time.Hour), events.ErrStale},
		{"no header", secret, body, "", at, events.ErrNoSignature},
		{"no timestamp", secret, body, good[strings.Index(good, ",")+1:], at, events.ErrNoSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := events.Verify(tt.secret, tt.body, tt.header, tt.now, events.DefaultTolerance)
			if !errors.Is(err, tt.want) {
				t.Errorf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
	if !strings.HasPrefix(good, "t=1796202000,v1=") || len(good) != len("t=1796202000,v1=")+64 {
		t.Errorf("header %q, want t=<unix>,v1=<64 hex>", good)
	}
}

func TestTypeOfStatus(t *testing.T) {
	for state, want := range map[string]string{
		"queued": events.MessageSent, "sent": events.MessageSent, "delivered": events.MessageDelivered,
		"read": events.MessageRead, "undelivered": events.MessageFailed, "failed": events.MessageFailed,
		"suppressed": events.MessageFailed, "pending": "", "deferred": "",
	} {
		if got := events.TypeOfStatus(state); got != want {
			t.Errorf("TypeOfStatus(%q) = %q, want %q", state, got, want)
		}
	}
	for _, typ := range events.Types() {
		if !events.Known(typ) || !events.Known(events.TypePrefix+typ) {
			t.Errorf("Known(%q) = false", typ)
		}
	}
	if events.Known("message.body") {
		t.Error("Known accepts an invented type")
	}
}

func TestBuildCarriesNoPersonalData(t *testing.T) {
	at := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	b, err := events.Build("https://seintje.gemeente.nl", store.CaseEvent{ID: "e1", Type: events.MessageFailed, Nudge: "n1",
		Ref: "C-1", Flow: "no-show", Msg: "m1", State: "undelivered", Code: 30003, Channel: "sms", At: at}).Encode()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"specversion":"1.0","id":"e1","source":"https://seintje.gemeente.nl","type":"nl.seintje.message.failed",` +
		`"subject":"n1","time":"2026-12-02T09:00:00Z","datacontenttype":"application/json","data":{"nudge":"n1","ref":"C-1",` +
		`"flow":"no-show","status":"undelivered","message":"m1","channel":"sms","code":30003}}`
	if string(b) != want {
		t.Errorf("event\n got %s\nwant %s", b, want)
	}
}
