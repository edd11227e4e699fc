// Package telegramtest is a fake Telegram Bot API for tests. It implements
// sendMessage, answerCallbackQuery and setWebhook, checks the multipart
// requests go-telegram/bot really sends against the Bot API contract, and
// builds webhook updates (messages and button presses).
//
// Requests that break the contract are answered like Telegram answers them
// (400 with a description) and recorded in Violations, so a test can fail
// on them:
//
//	srv := telegramtest.New(t, token)
//	t.Cleanup(func() { if v := srv.Violations(); len(v) > 0 { t.Errorf("%v", v) } })
package telegramtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// Button is one inline keyboard button as received.
type Button struct {
	Text         string
	CallbackData string
}

// Request is one Bot API call the fake received.
type Request struct {
	Method     string
	Fields     map[string]string
	ChatID     int64
	Text       string
	Keyboard   [][]Button
	HTTPStatus int
	MessageID  int
	Time       time.Time
}

// Failure is a scripted error answer for the next sendMessage to a chat.
type Failure struct {
	Code        int // 403, 429, 400, 500
	Description string
	RetryAfter  int // seconds, for 429
}

// Server is the fake Bot API. It is safe for concurrent use.
type Server struct {
	// URL is the base URL for bot.WithServerURL / TELEGRAM_API_URL.
	URL string

	token string
	srv   *httptest.Server

	mu         sync.Mutex
	requests   []Request
	violations []string
	failures   map[int64][]Failure
	callbacks  map[string]bool // issued callback query id → answered
	nextMsg    int
	nextUpdate int64
	nextCB     int
}

// New starts a fake Bot API for token; it is closed when the test ends.
func New(t testing.TB, token string) *Server {
	s := &Server{token: token, failures: map[int64][]Failure{}, callbacks: map[string]bool{}, nextMsg: 100, nextUpdate: 1000}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	t.Cleanup(s.srv.Close)
	return s
}

// Fail scripts the next sendMessage calls to chat to fail, in order.
func (s *Server) Fail(chat int64, fs ...Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures[chat] = append(s.failures[chat], fs...)
}

// Requests returns every request received, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Sent returns the sendMessage calls to chat that succeeded.
func (s *Server) Sent(chat int64) []Request {
	var out []Request
	for _, r := range s.Requests() {
		if r.Method == "sendMessage" && r.ChatID == chat && r.HTTPStatus == http.StatusOK {
			out = append(out, r)
		}
	}
	return out
}

// Attempts returns every sendMessage call to chat, failed ones included.
func (s *Server) Attempts(chat int64) []Request {
	var out []Request
	for _, r := range s.Requests() {
		if r.Method == "sendMessage" && r.ChatID == chat {
			out = append(out, r)
		}
	}
	return out
}

// Answered reports whether callback query id was answered.
func (s *Server) Answered(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.callbacks[id]
}

// Violations lists requests that broke the Bot API contract.
func (s *Server) Violations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.violations...)
}

// MessageUpdate returns a webhook body: chat (a private chat with user
// chat) sent text. id 0 takes the next update id.
func (s *Server) MessageUpdate(id, chat int64, text string) []byte {
	s.mu.Lock()
	if id == 0 {
		s.nextUpdate++
		id = s.nextUpdate
	}
	s.nextMsg++
	mid := s.nextMsg
	s.mu.Unlock()
	u := map[string]any{"update_id": id, "message": map[string]any{
		"message_id": mid, "date": time.Now().Unix(), "text": text,
		"from": map[string]any{"id": chat, "is_bot": false, "first_name": "Sanne", "language_code": "nl"},
		"chat": map[string]any{"id": chat, "type": "private", "first_name": "Sanne"},
	}}
	if strings.HasPrefix(text, "/") {
		cmd, _, _ := strings.Cut(text, " ")
		u["message"].(map[string]any)["entities"] = []any{map[string]any{"type": "bot_command", "offset": 0, "length": len(cmd)}}
	}
	b, _ := json.Marshal(u)
	return b
}

// CallbackUpdate returns a webhook body: the person in chat pressed the
// button with data under message messageID. It returns the callback query
// id to check Answered with.
func (s *Server) CallbackUpdate(id, chat int64, messageID int, data string) ([]byte, string) {
	s.mu.Lock()
	if id == 0 {
		s.nextUpdate++
		id = s.nextUpdate
	}
	s.nextCB++
	qid := fmt.Sprintf("cbq%d", s.nextCB)
	s.callbacks[qid] = false
	s.mu.Unlock()
	u := map[string]any{"update_id": id, "callback_query": map[string]any{
		"id": qid, "chat_instance": "42", "data": data,
		"from": map[string]any{"id": chat, "is_bot": false, "first_name": "Sanne", "language_code": "nl"},
		"message": map[string]any{"message_id": messageID, "date": time.Now().Unix(), "text": "…",
			"chat": map[string]any{"id": chat, "type": "private", "first_name": "Sanne"}},
	}}
	b, _ := json.Marshal(u)
	return b, qid
}

var (
	methodPath = regexp.MustCompile(`^/bot([^/]+)/([A-Za-z]+)$`)
	secretRe   = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)
)

type apiError struct {
	code int
	desc string
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	m := methodPath.FindStringSubmatch(r.URL.Path)
	if m == nil {
		s.fail(w, Request{Method: r.URL.Path}, apiError{404, "Not Found"}, "unknown path "+r.URL.Path)
		return
	}
	req := Request{Method: m[2], Time: time.Now()}
	if m[1] != s.token {
		s.fail(w, req, apiError{401, "Unauthorized"}, "wrong bot token")
		return
	}
	if r.Method != http.MethodPost {
		s.fail(w, req, apiError{400, "Bad Request: method must be POST"}, "HTTP method "+r.Method)
		return
	}
	fields, err := readMultipart(r)
	if err != nil {
		s.fail(w, req, apiError{400, "Bad Request: " + err.Error()}, req.Method+": "+err.Error())
		return
	}
	req.Fields = fields
	switch req.Method {
	case "sendMessage":
		s.sendMessage(w, req)
	case "answerCallbackQuery":
		s.answerCallback(w, req)
	case "setWebhook":
		s.setWebhook(w, req)
	default:
		s.fail(w, req, apiError{404, "Not Found: method not found"}, "method not implemented by the fake: "+req.Method)
	}
}

func readMultipart(r *http.Request) (map[string]string, error) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return nil, fmt.Errorf("content type %q is not multipart/form-data", r.Header.Get("Content-Type"))
	}
	mr := multipart.NewReader(r.Body, params["boundary"])
	out := map[string]string{}
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("bad multipart body: %v", err)
		}
		if p.FileName() != "" {
			return nil, fmt.Errorf("unexpected file part %q", p.FormName())
		}
		b, err := io.ReadAll(p)
		if err != nil {
			return nil, err
		}
		if _, dup := out[p.FormName()]; dup {
			return nil, fmt.Errorf("field %q twice", p.FormName())
		}
		out[p.FormName()] = string(b)
	}
}

func (s *Server) sendMessage(w http.ResponseWriter, req Request) {
	f := req.Fields
	for k := range f {
		switch k {
		case "chat_id", "text", "reply_markup", "parse_mode", "disable_notification", "protect_content":
		default:
			s.fail(w, req, apiError{400, "Bad Request: unexpected field " + k}, "sendMessage: unexpected field "+k)
			return
		}
	}
	chat, err := strconv.ParseInt(f["chat_id"], 10, 64)
	if err != nil || chat == 0 {
		s.fail(w, req, apiError{400, "Bad Request: chat not found"}, "sendMessage: chat_id "+strconv.Quote(f["chat_id"]))
		return
	}
	req.ChatID, req.Text = chat, f["text"]
	if strings.TrimSpace(req.Text) == "" {
		s.fail(w, req, apiError{400, "Bad Request: message text is empty"}, "sendMessage: empty text")
		return
	}
	if utf8.RuneCountInString(req.Text) > 4096 {
		s.fail(w, req, apiError{400, "Bad Request: message is too long"}, "sendMessage: text longer than 4096")
		return
	}
	if rm, ok := f["reply_markup"]; ok {
		kb, verr := checkKeyboard(rm)
		if verr != "" {
			s.fail(w, req, apiError{400, "Bad Request: " + verr}, "sendMessage: "+verr)
			return
		}
		req.Keyboard = kb
	}
	s.mu.Lock()
	if fs := s.failures[chat]; len(fs) > 0 {
		fl := fs[0]
		s.failures[chat] = fs[1:]
		s.mu.Unlock()
		s.answerError(w, req, fl)
		return
	}
	s.nextMsg++
	req.MessageID = s.nextMsg
	req.HTTPStatus = http.StatusOK
	s.requests = append(s.requests, req)
	s.mu.Unlock()
	writeOK(w, map[string]any{"message_id": req.MessageID, "date": time.Now().Unix(), "text": req.Text,
		"chat": map[string]any{"id": chat, "type": "private"}})
}

// checkKeyboard validates reply_markup as an inline keyboard of callback
// buttons. An empty copy_text object (what go-telegram/bot's own
// InlineKeyboardButton encodes) is refused the way Telegram refuses it.
func checkKeyboard(rm string) ([][]Button, string) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(rm), &raw); err != nil {
		return nil, "can't parse reply keyboard markup JSON object"
	}
	rows, ok := raw["inline_keyboard"]
	if !ok || len(raw) != 1 {
		return nil, "reply_markup must be exactly an inline_keyboard"
	}
	var btns [][]map[string]json.RawMessage
	if err := json.Unmarshal(rows, &btns); err != nil {
		return nil, "can't parse inline keyboard"
	}
	var out [][]Button
	for _, row := range btns {
		var r []Button
		for _, b := range row {
			if _, ok := b["copy_text"]; ok {
				return nil, "BUTTON_COPY_TEXT_INVALID"
			}
			var text, data string
			if json.Unmarshal(b["text"], &text) != nil || strings.TrimSpace(text) == "" {
				return nil, "BUTTON_TEXT_INVALID"
			}
			if json.Unmarshal(b["callback_data"], &data) != nil || data == "" {
				return nil, "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
			}
			if len(data) > 64 {
				return nil, "BUTTON_DATA_INVALID"
			}
			for k := range b {
				if k != "text" && k != "callback_data" {
					return nil, "unexpected button field " + k
				}
			}
			r = append(r, Button{Text: text, CallbackData: data})
		}
		out = append(out, r)
	}
	return out, ""
}

func (s *Server) answerCallback(w http.ResponseWriter, req Request) {
	id := req.Fields["callback_query_id"]
	s.mu.Lock()
	answered, issued := s.callbacks[id]
	if issued && !answered {
		s.callbacks[id] = true
	}
	s.mu.Unlock()
	switch {
	case !issued:
		s.fail(w, req, apiError{400, "Bad Request: query is too old and response timeout expired or query ID is invalid"}, "answerCallbackQuery: unknown id "+strconv.Quote(id))
		return
	case answered:
		s.fail(w, req, apiError{400, "Bad Request: query is too old and response timeout expired or query ID is invalid"}, "answerCallbackQuery: answered twice")
		return
	}
	s.record(req, http.StatusOK)
	writeOK(w, true)
}

func (s *Server) setWebhook(w http.ResponseWriter, req Request) {
	f := req.Fields
	if !strings.HasPrefix(f["url"], "https://") {
		s.fail(w, req, apiError{400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"}, "setWebhook: url "+strconv.Quote(f["url"]))
		return
	}
	if st, ok := f["secret_token"]; ok && !secretRe.MatchString(st) {
		s.fail(w, req, apiError{400, "Bad Request: secret token contains unallowed characters"}, "setWebhook: bad secret_token")
		return
	}
	if au, ok := f["allowed_updates"]; ok {
		var list []string
		if json.Unmarshal([]byte(au), &list) != nil {
			s.fail(w, req, apiError{400, "Bad Request: can't parse allowed updates"}, "setWebhook: allowed_updates "+au)
			return
		}
	}
	if mc, ok := f["max_connections"]; ok {
		if n, err := strconv.Atoi(mc); err != nil || n < 1 || n > 100 {
			s.fail(w, req, apiError{400, "Bad Request: bad max_connections"}, "setWebhook: max_connections "+mc)
			return
		}
	}
	s.record(req, http.StatusOK)
	writeOK(w, true)
}

func (s *Server) record(req Request, status int) {
	req.HTTPStatus = status
	s.mu.Lock()
	s.requests = append(s.requests, req)
	s.mu.Unlock()
}

func (s *Server) answerError(w http.ResponseWriter, req Request, fl Failure) {
	s.record(req, fl.Code)
	body := map[string]any{"ok": false, "error_code": fl.Code, "description": fl.Description}
	if fl.RetryAfter > 0 {
		body["parameters"] = map[string]any{"retry_after": fl.RetryAfter}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(fl.Code)
	_ = json.NewEncoder(w).Encode(body)
}

// fail answers a contract violation and records it.
func (s *Server) fail(w http.ResponseWriter, req Request, e apiError, violation string) {
	s.mu.Lock()
	s.violations = append(s.violations, violation)
	s.mu.Unlock()
	s.answerError(w, req, Failure{Code: e.code, Description: e.desc})
}

func writeOK(w http.ResponseWriter, result any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "result": result})
}
