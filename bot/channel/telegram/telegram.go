// Package telegram is Seintje's Telegram channel, built on go-telegram/bot:
// a channel.Sender (sendMessage with an inline keyboard), answering callback
// queries, registering the webhook, decoding webhook updates, and keeping
// the updates of one chat in order.
//
// The library is used for its HTTP client and models only. Updates are not
// passed through the library's dispatcher: it runs handlers in goroutines
// (so a chat's updates could be handled out of order) and its default
// handlers print whole updates, which hold personal data.
package telegram

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/seintje/seintje/bot/channel"
)

// Limits of the Bot API.
const (
	MaxCallbackData = 64   // bytes of callback_data
	MaxText         = 4096 // characters of a message text
	MaxButtonText   = 64   // we keep button labels short; Telegram has no hard documented limit
)

// Config configures a Client.
type Config struct {
	Token  string
	APIURL string // default https://api.telegram.org
	// PerChat is the minimum time between two messages to one chat
	// (Telegram: about one per second). Default 1s.
	PerChat time.Duration
	// MaxChats bounds the per-chat limiter memory. Default 10000.
	MaxChats   int
	HTTPClient *http.Client
	Log        *slog.Logger
}

// Client talks to the Telegram Bot API. It is safe for concurrent use.
type Client struct {
	b       *bot.Bot
	log     *slog.Logger
	perChat time.Duration
	chats   *chatLimits
	now     func() time.Time
}

// New returns a Client. It does not call Telegram (no getMe at start).
func New(c Config) (*Client, error) {
	if c.PerChat <= 0 {
		c.PerChat = time.Second
	}
	if c.MaxChats <= 0 {
		c.MaxChats = 10000
	}
	log := c.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	hc := c.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	opts := []bot.Option{
		bot.WithSkipGetMe(),
		bot.WithNotAsyncHandlers(),
		bot.WithHTTPClient(30*time.Second, hc),
		// The library's defaults print whole updates and raw response
		// bodies (personal data) with the standard logger. Replace all.
		bot.WithDefaultHandler(func(context.Context, *bot.Bot, *models.Update) {}),
		bot.WithDebugHandler(func(string, ...any) {}),
		bot.WithErrorsHandler(func(err error) {
			// Library-internal errors may quote response bodies; log the type only.
			log.Warn("telegram library error", "type", fmt.Sprintf("%T", err))
		}),
	}
	if c.APIURL != "" {
		opts = append(opts, bot.WithServerURL(strings.TrimRight(c.APIURL, "/")))
	}
	b, err := bot.New(c.Token, opts...)
	if err != nil {
		return nil, fmt.Errorf("telegram: %w", err)
	}
	return &Client{b: b, log: log, perChat: c.PerChat, chats: newChatLimits(c.MaxChats), now: time.Now}, nil
}

// Name is channel.Telegram.
func (c *Client) Name() channel.Name { return channel.Telegram }

// Send sends m.Body to chat m.To with m.Buttons as an inline keyboard. It
// waits for the chat's one-message-per-second slot (and for a retry_after
// Telegram gave for this chat) as long as ctx allows.
func (c *Client) Send(ctx context.Context, m channel.Message) (channel.Receipt, error) {
	chatID, err := strconv.ParseInt(m.To, 10, 64)
	if err != nil || strings.HasPrefix(m.To, "+") || chatID == 0 {
		return channel.Receipt{}, &channel.Error{Kind: channel.Permanent, Err: errors.New("telegram: address is not a chat id")}
	}
	text := m.Body
	if utf8.RuneCountInString(text) > MaxText {
		text = string([]rune(text)[:MaxText-1]) + "…"
	}
	if strings.TrimSpace(text) == "" {
		return channel.Receipt{}, &channel.Error{Kind: channel.Permanent, Err: errors.New("telegram: empty message text")}
	}
	p := &bot.SendMessageParams{ChatID: chatID, Text: text}
	if kb := Keyboard(m.Buttons); kb != nil {
		p.ReplyMarkup = kb
	}
	if err := c.chats.wait(ctx, chatID, c.perChat, c.now); err != nil {
		return channel.Receipt{}, &channel.Error{Kind: channel.Temporary, Err: fmt.Errorf("telegram: wait for chat slot: %w", err)}
	}
	msg, err := c.b.SendMessage(ctx, p)
	if err != nil {
		ce := Classify(err)
		if ce.RetryAfter > 0 {
			c.chats.block(chatID, c.now().Add(ce.RetryAfter))
		}
		return channel.Receipt{}, ce
	}
	return channel.Receipt{ProviderID: strconv.FormatInt(chatID, 10) + ":" + strconv.Itoa(msg.ID), Status: "sent"}, nil
}

// AnswerCallback answers a button press (stops the spinner on the
// person's phone). text may be empty.
func (c *Client) AnswerCallback(ctx context.Context, id, text string) error {
	if _, err := c.b.AnswerCallbackQuery(ctx, &bot.AnswerCallbackQueryParams{CallbackQueryID: id, Text: text}); err != nil {
		return Classify(err)
	}
	return nil
}

// AllowedUpdates are the update types Seintje handles.
func AllowedUpdates() []string { return []string{"message", "callback_query"} }

// SetWebhook registers url with Telegram, with the secret token Telegram
// sends back in X-Telegram-Bot-Api-Secret-Token.
func (c *Client) SetWebhook(ctx context.Context, url, secret string, maxConnections int, dropPending bool) error {
	_, err := c.b.SetWebhook(ctx, &bot.SetWebhookParams{URL: url, SecretToken: secret, AllowedUpdates: AllowedUpdates(),
		MaxConnections: maxConnections, DropPendingUpdates: dropPending})
	if err != nil {
		return fmt.Errorf("set webhook: %w", Classify(err))
	}
	return nil
}

// Classify turns a library error into a *channel.Error:
// 403 (bot blocked, user deactivated) → OptedOut; 429 → Temporary with
// RetryAfter; other 4xx → Permanent; network errors and 5xx → Temporary.
func Classify(err error) *channel.Error {
	var tm *bot.TooManyRequestsError
	var mig *bot.MigrateError
	switch {
	case errors.As(err, &tm):
		ra := time.Duration(tm.RetryAfter) * time.Second
		if ra <= 0 {
			ra = 5 * time.Second // never retry a 429 in a tight loop
		}
		return &channel.Error{Kind: channel.Temporary, Code: http.StatusTooManyRequests, RetryAfter: ra, Err: err}
	case errors.Is(err, bot.ErrorForbidden):
		return &channel.Error{Kind: channel.OptedOut, Code: http.StatusForbidden, Err: err}
	case errors.As(err, &mig), errors.Is(err, bot.ErrorBadRequest):
		return &channel.Error{Kind: channel.Permanent, Code: http.StatusBadRequest, Err: err}
	case errors.Is(err, bot.ErrorUnauthorized):
		return &channel.Error{Kind: channel.Permanent, Code: http.StatusUnauthorized, Err: err}
	case errors.Is(err, bot.ErrorNotFound):
		return &channel.Error{Kind: channel.Permanent, Code: http.StatusNotFound, Err: err}
	}
	return &channel.Error{Kind: channel.Temporary, Err: err}
}

// Keyboard builds the inline keyboard for buttons, one button per row, or
// nil when there are none. Buttons whose reply does not fit in
// callback_data are left out (typed replies keep working).
//
// It is Seintje's own type rather than models.InlineKeyboardMarkup: the
// library's InlineKeyboardButton has a non-pointer CopyText field that is
// always encoded as "copy_text":{"text":""}, which Telegram refuses
// (BUTTON_COPY_TEXT_INVALID) or may treat as a copy button. Ours encodes
// exactly text and callback_data.
func Keyboard(bs []channel.Button) *InlineKeyboard {
	var kb InlineKeyboard
	for _, b := range bs {
		data := CallbackReply + b.Reply
		if c, ok := strings.CutPrefix(b.Reply, ConsentMarker); ok {
			data = CallbackConsent + c
		}
		label := strings.TrimSpace(b.Label)
		if b.Reply == "" || len(data) > MaxCallbackData || label == "" {
			continue
		}
		if utf8.RuneCountInString(label) > MaxButtonText {
			label = string([]rune(label)[:MaxButtonText-1]) + "…"
		}
		kb.Rows = append(kb.Rows, []InlineButton{{Text: label, CallbackData: data}})
	}
	if len(kb.Rows) == 0 {
		return nil
	}
	return &kb
}

// Callback data prefixes.
const (
	CallbackReply   = "r:" // a flow reply: r:<reply text>
	CallbackConsent = "c:" // the consent question: c:yes / c:no
	// ConsentMarker starts a Button.Reply that is a consent answer rather
	// than a flow reply (it cannot be typed, so no flow reply has it).
	ConsentMarker = "\x1fconsent:"
)

// InlineKeyboard is reply_markup with an inline keyboard.
type InlineKeyboard struct {
	Rows [][]InlineButton `json:"inline_keyboard"`
}

// InlineButton is a callback button: only text and callback_data.
type InlineButton struct {
	Text         string `json:"text"`
	CallbackData string `json:"callback_data"`
}

// chatLimits spaces messages to one chat. It keeps at most max chats;
// past that the entries whose slot has passed are dropped (they no
// longer constrain anything).
type chatLimits struct {
	mu   sync.Mutex
	max  int
	next map[int64]time.Time // earliest time of the next send
}

func newChatLimits(max int) *chatLimits {
	return &chatLimits{max: max, next: map[int64]time.Time{}}
}

// wait reserves the chat's next slot and sleeps until it.
func (l *chatLimits) wait(ctx context.Context, chat int64, gap time.Duration, now func() time.Time) error {
	l.mu.Lock()
	t := now()
	at := l.next[chat]
	if at.Before(t) {
		at = t
	}
	l.next[chat] = at.Add(gap)
	if len(l.next) > l.max {
		for k, v := range l.next {
			if v.Before(t) {
				delete(l.next, k)
			}
		}
	}
	l.mu.Unlock()
	d := at.Sub(t)
	if d <= 0 {
		return nil
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// block keeps the chat quiet until until (Telegram's retry_after).
func (l *chatLimits) block(chat int64, until time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.next[chat].Before(until) {
		l.next[chat] = until
	}
}
