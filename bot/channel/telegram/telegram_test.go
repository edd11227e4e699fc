package telegram_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/seintje/seintje/bot/channel"
	"github.com/seintje/seintje/bot/channel/telegram"
	"github.com/seintje/seintje/bot/channel/telegram/telegramtest"
)

const token = "123456789:AAtest-token_0123456789abcdefghijkl"

func newClient(t *testing.T, perChat time.Duration) (*telegram.Client, *telegramtest.Server) {
	t.Helper()
	srv := telegramtest.New(t, token)
	c, err := telegram.New(telegram.Config{Token: token, APIURL: srv.URL, PerChat: perChat})
	if err != nil {
		t.Fatal(err)
	}
	return c, srv
}

func TestSend(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 70)
	tests := []struct {
		name     string
		msg      channel.Message
		fail     []telegramtest.Failure
		wantKind channel.Kind // 0: success
		wantCode int
		wantWait time.Duration
		wantKB   [][]telegramtest.Button
		wantViol bool
	}{
		{name: "text and buttons", msg: channel.Message{ID: "m1", To: "4242", Body: "Hallo Sanne", Buttons: []channel.Button{{Label: "1 Nieuwe afspraak", Reply: "1"}, {Label: "2 Bel mij terug", Reply: "2"}}},
			wantKB: [][]telegramtest.Button{{{Text: "1 Nieuwe afspraak", CallbackData: "r:1"}}, {{Text: "2 Bel mij terug", CallbackData: "r:2"}}}},
		{name: "reply too long for callback data is left out", msg: channel.Message{To: "4242", Body: "x", Buttons: []channel.Button{{Label: "a", Reply: long}, {Label: "b", Reply: "2"}}},
			wantKB: [][]telegramtest.Button{{{Text: "b", CallbackData: "r:2"}}}},
		{name: "no buttons", msg: channel.Message{To: "4242", Body: "x"}},
		{name: "blocked", msg: channel.Message{To: "4242", Body: "x"}, fail: []telegramtest.Failure{{Code: 403, Description: "Forbidden: bot was blocked by the user"}},
			wantKind: channel.OptedOut, wantCode: 403},
		{name: "deactivated", msg: channel.Message{To: "4242", Body: "x"}, fail: []telegramtest.Failure{{Code: 403, Description: "Forbidden: user is deactivated"}},
			wantKind: channel.OptedOut, wantCode: 403},
		{name: "flood", msg: channel.Message{To: "4242", Body: "x"}, fail: []telegramtest.Failure{{Code: 429, Description: "Too Many Requests: retry after 3", RetryAfter: 3}},
			wantKind: channel.Temporary, wantCode: 429, wantWait: 3 * time.Second},
		{name: "bad request", msg: channel.Message{To: "4242", Body: "x"}, fail: []telegramtest.Failure{{Code: 400, Description: "Bad Request: chat not found"}},
			wantKind: channel.Permanent, wantCode: 400},
		{name: "server error", msg: channel.Message{To: "4242", Body: "x"}, fail: []telegramtest.Failure{{Code: 502, Description: "Bad Gateway"}},
			wantKind: channel.Temporary},
		{name: "not a chat id", msg: channel.Message{To: "+31612345678", Body: "x"}, wantKind: channel.Permanent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, srv := newClient(t, time.Millisecond)
			srv.Fail(4242, tt.fail...)
			rc, err := c.Send(context.Background(), tt.msg)
			if tt.wantKind == 0 {
				if err != nil {
					t.Fatalf("Send: %v", err)
				}
				if rc.ProviderID == "" {
					t.Error("no provider id")
				}
				sent := srv.Sent(4242)
				if len(sent) != 1 {
					t.Fatalf("sent %d messages", len(sent))
				}
				if got := sent[0].Keyboard; len(got) != len(tt.wantKB) || (len(got) > 0 && !equalKB(got, tt.wantKB)) {
					t.Errorf("keyboard = %v, want %v", got, tt.wantKB)
				}
			} else {
				var ce *channel.Error
				if !errors.As(err, &ce) {
					t.Fatalf("err = %v, want *channel.Error", err)
				}
				if ce.Kind != tt.wantKind || ce.Code != tt.wantCode || ce.RetryAfter != tt.wantWait {
					t.Errorf("got kind %s code %d wait %s, want %s %d %s", ce.Kind, ce.Code, ce.RetryAfter, tt.wantKind, tt.wantCode, tt.wantWait)
				}
			}
			if v := srv.Violations(); len(v) > 0 {
				t.Errorf("contract violations: %v", v)
			}
		})
	}
}

func equalKB(a, b [][]telegramtest.Button) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return false
		}
		for j := range a[i] {
			if a[i][j] != b[i][j] {
				return false
			}
		}
	}
	return true
}

// The library's own keyboard type always encodes "copy_text":{"text":""};
// the fake refuses it like Telegram does. Seintje's keyboard does not.
func TestLibraryKeyboardSendsEmptyCopyText(t *testing.T) {
	t.Parallel()
	srv := telegramtest.New(t, token)
	b, err := bot.New(token, bot.WithServerURL(srv.URL), bot.WithSkipGetMe())
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.SendMessage(context.Background(), &bot.SendMessageParams{ChatID: 1, Text: "x",
		ReplyMarkup: models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{{{Text: "1", CallbackData: "r:1"}}}}})
	if err == nil || !strings.Contains(err.Error(), "BUTTON_COPY_TEXT_INVALID") {
		t.Fatalf("library keyboard: err = %v, want BUTTON_COPY_TEXT_INVALID", err)
	}
}

func TestPerChatSpacing(t *testing.T) {
	t.Parallel()
	const gap = 150 * time.Millisecond
	c, srv := newClient(t, gap)
	var wg sync.WaitGroup
	for _, to := range []string{"1", "1", "1", "2"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.Send(context.Background(), channel.Message{To: to, Body: "x"}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	one := srv.Sent(1)
	if len(one) != 3 {
		t.Fatalf("chat 1 got %d", len(one))
	}
	for i := 1; i < len(one); i++ {
		if d := one[i].Time.Sub(one[i-1].Time); d < gap-20*time.Millisecond {
			t.Errorf("messages %d and %d to one chat %s apart, want >= %s", i-1, i, d, gap)
		}
	}
	if two := srv.Sent(2); len(two) != 1 || two[0].Time.Sub(one[0].Time) > gap {
		t.Errorf("another chat waited for chat 1")
	}
}

func TestRetryAfterBlocksChat(t *testing.T) {
	t.Parallel()
	c, srv := newClient(t, time.Millisecond)
	srv.Fail(7, telegramtest.Failure{Code: 429, Description: "Too Many Requests: retry after 1", RetryAfter: 1})
	start := time.Now()
	if _, err := c.Send(context.Background(), channel.Message{To: "7", Body: "x"}); channel.KindOf(err) != channel.Temporary {
		t.Fatalf("first send: %v", err)
	}
	if _, err := c.Send(context.Background(), channel.Message{To: "7", Body: "x"}); err != nil {
		t.Fatalf("second send: %v", err)
	}
	if d := time.Since(start); d < 900*time.Millisecond {
		t.Errorf("second send after %s; retry_after of 1s not honoured", d)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	srv.Fail(8, telegramtest.Failure{Code: 429, Description: "Too Many Requests", RetryAfter: 5})
	_, _ = c.Send(context.Background(), channel.Message{To: "8", Body: "x"})
	if _, err := c.Send(ctx, channel.Message{To: "8", Body: "x"}); channel.KindOf(err) != channel.Temporary {
		t.Errorf("send during retry_after with a short deadline: %v, want temporary", err)
	}
	if got := len(srv.Attempts(8)); got != 1 {
		t.Errorf("chat 8 got %d attempts during retry_after, want 1 (no tight loop)", got)
	}
}

func TestSetWebhook(t *testing.T) {
	t.Parallel()
	c, srv := newClient(t, 0)
	if err := c.SetWebhook(context.Background(), "https://seintje.test/webhooks/telegram", "s3cret_token-1", 1, false); err != nil {
		t.Fatal(err)
	}
	var got map[string]string
	for _, r := range srv.Requests() {
		if r.Method == "setWebhook" && r.HTTPStatus == http.StatusOK {
			got = r.Fields
		}
	}
	want := map[string]string{"url": "https://seintje.test/webhooks/telegram", "secret_token": "s3cret_token-1",
		"allowed_updates": `["message","callback_query"]`, "max_connections": "1"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if err := c.SetWebhook(context.Background(), "http://insecure", "x", 1, false); err == nil {
		t.Error("http webhook accepted")
	}
}

func TestParse(t *testing.T) {
	t.Parallel()
	srv := telegramtest.New(t, token)
	cb, qid := srv.CallbackUpdate(5, 77, 10, "r:1")
	tests := []struct {
		name string
		body string
		want telegram.Update
	}{
		{"message", string(srv.MessageUpdate(3, 77, "hallo")), telegram.Update{ID: 3, ChatID: 77, Private: true, Text: "hallo", Lang: "nl"}},
		{"callback", string(cb), telegram.Update{ID: 5, ChatID: 77, Private: true, Text: "r:1", CallbackID: qid, Lang: "nl"}},
		{"group", `{"update_id":9,"message":{"message_id":1,"date":1,"text":"hi","chat":{"id":-100,"type":"group"}}}`, telegram.Update{ID: 9, ChatID: -100, Text: "hi"}},
		{"other kind", `{"update_id":10,"edited_message":{"message_id":1,"date":1,"chat":{"id":1,"type":"private"}}}`, telegram.Update{ID: 10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := telegram.Parse([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
	if _, err := telegram.Parse([]byte("{")); err == nil {
		t.Error("bad JSON accepted")
	}
}

func TestStartPayload(t *testing.T) {
	t.Parallel()
	tests := []struct {
		text  string
		tok   string
		start bool
	}{
		{"/start abc_DEF-1", "abc_DEF-1", true},
		{"/start", "", true},
		{"/start@SeintjeBot abc", "abc", true},
		{"start abc", "", false},
		{"/stop", "", false},
	}
	for _, tt := range tests {
		tok, ok := telegram.Update{Text: tt.text}.StartPayload()
		if tok != tt.tok || ok != tt.start {
			t.Errorf("%q: got %q %v, want %q %v", tt.text, tok, ok, tt.tok, tt.start)
		}
	}
}

func TestSequencerOrdersAChat(t *testing.T) {
	t.Parallel()
	seq := telegram.NewSequencer(50 * time.Millisecond)
	var mu sync.Mutex
	var order []int64
	var wg sync.WaitGroup
	// Arrive in reverse order, at the same moment.
	for _, id := range []int64{13, 12, 11, 10} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = seq.Do(context.Background(), 1, id, func() error {
				mu.Lock()
				order = append(order, id)
				mu.Unlock()
				time.Sleep(5 * time.Millisecond)
				return nil
			})
		}()
		time.Sleep(2 * time.Millisecond)
	}
	wg.Wait()
	want := []int64{10, 11, 12, 13}
	for i := range want {
		if order[i] != want[i] {
			t.Fatalf("order = %v, want %v", order, want)
		}
	}
	wantErr := errors.New("boom")
	if err := seq.Do(context.Background(), 2, 1, func() error { return wantErr }); !errors.Is(err, wantErr) {
		t.Errorf("error not returned: %v", err)
	}
	if err := seq.Do(context.Background(), 2, 2, func() error { panic("x") }); err == nil {
		t.Error("panic not turned into an error")
	}
}
