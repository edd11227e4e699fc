package twilio

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	twclient "github.com/twilio/twilio-go/client"

	"github.com/seintje/seintje/bot/channel"
)

// EmptyTwiML is the reply to an inbound message webhook when Seintje answers
// later through the REST API (or not at all).
const EmptyTwiML = `<?xml version="1.0" encoding="UTF-8"?><Response></Response>`

// ErrBadSignature is returned by Validate for a missing or wrong
// X-Twilio-Signature. Answer 403.
var ErrBadSignature = errors.New("twilio: missing or invalid X-Twilio-Signature")

// SignatureHeader is the header Twilio signs webhooks with.
const SignatureHeader = "X-Twilio-Signature"

// maxWebhookBody bounds how much of a webhook body Validate reads. Twilio
// SMS webhooks are a few KB at most.
const maxWebhookBody = 64 << 10

// Validator checks Twilio webhook signatures. It is safe for concurrent use.
type Validator struct {
	configured bool
	rv         twclient.RequestValidator
}

// NewValidator returns a Validator for the account's auth token. With an
// empty token every request is rejected.
func NewValidator(authToken string) *Validator {
	return &Validator{configured: authToken != "", rv: twclient.NewRequestValidator(authToken)}
}

// Validate checks X-Twilio-Signature for a form POST. publicURL is the full
// URL Twilio called (SEINTJE_PUBLIC_URL + path, NOT the internal one); when
// it has no query string the request's own query string is appended, since
// Twilio signs it too. Returns the parsed POST form on success.
//
// The body is restored after reading, so r.ParseForm or gin's binding keep
// working afterwards. A missing or wrong signature yields ErrBadSignature;
// other errors mean a malformed request.
func (v *Validator) Validate(r *http.Request, publicURL string) (url.Values, error) {
	if r.Method != http.MethodPost {
		return nil, fmt.Errorf("twilio: webhook: method %s, want POST", r.Method)
	}
	form, err := postForm(r)
	if err != nil {
		return nil, err
	}
	sig := r.Header.Get(SignatureHeader)
	if sig == "" || !v.configured {
		return nil, ErrBadSignature
	}
	if !strings.Contains(publicURL, "?") && r.URL != nil && r.URL.RawQuery != "" {
		publicURL += "?" + r.URL.RawQuery
	}
	// twilio-go's validator takes one value per key (map[string]string).
	// Twilio's SMS webhooks never repeat a key; if one does, the signature
	// simply fails to match (fail closed).
	params := make(map[string]string, len(form))
	for k, vs := range form {
		if len(vs) > 0 {
			params[k] = vs[0]
		}
	}
	if !v.rv.Validate(publicURL, params, sig) {
		return nil, ErrBadSignature
	}
	return form, nil
}

// postForm reads and parses the url-encoded body of r without consuming it.
func postForm(r *http.Request) (url.Values, error) {
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, fmt.Errorf("twilio: webhook: content type %q, want application/x-www-form-urlencoded", ct)
	}
	if r.PostForm != nil {
		// An earlier ParseForm (e.g. gin's PostForm) already consumed the body.
		return cloneValues(r.PostForm), nil
	}
	if r.Body == nil || r.Body == http.NoBody {
		return url.Values{}, nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxWebhookBody+1))
	_ = r.Body.Close()
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("twilio: webhook: read body: %w", err)
	}
	if len(body) > maxWebhookBody {
		return nil, fmt.Errorf("twilio: webhook: body larger than %d bytes", maxWebhookBody)
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, fmt.Errorf("twilio: webhook: parse form: %w", err)
	}
	return form, nil
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// ParseInbound turns an inbound-message webhook form into a channel.Inbound.
// MessageSid and From are required; Body may be empty (e.g. a picture only).
func ParseInbound(form url.Values, now time.Time) (channel.Inbound, error) {
	sid := first(form, "MessageSid", "SmsMessageSid", "SmsSid")
	from := form.Get("From")
	var missing []string
	if sid == "" {
		missing = append(missing, "MessageSid")
	}
	if from == "" {
		missing = append(missing, "From")
	}
	if len(missing) > 0 {
		return channel.Inbound{}, fmt.Errorf("twilio: inbound webhook: missing %s", strings.Join(missing, " and "))
	}
	in := channel.Inbound{
		Channel:    channel.SMS,
		ProviderID: sid,
		From:       from,
		Body:       form.Get("Body"),
		ReceivedAt: now,
	}
	if f, ok := strings.CutPrefix(from, WhatsAppPrefix); ok {
		// WhatsApp on the same webhook: "whatsapp:+31…". A quick-reply
		// button press carries the route's reply as ButtonPayload (Body is
		// the button's title): it routes exactly like typing it.
		in.Channel, in.From = channel.WhatsApp, f
		if p := strings.TrimSpace(form.Get("ButtonPayload")); p != "" {
			in.Body = p
		}
	}
	return in, nil
}

// WhatsAppPrefix marks a WhatsApp address in Twilio's From and To.
const WhatsAppPrefix = "whatsapp:"

// StatusUpdate is a delivery status callback.
type StatusUpdate struct {
	// Channel is channel.WhatsApp for "whatsapp:" addresses, else SMS.
	Channel    channel.Name
	MessageSid string
	Status     string // queued, sent, delivered, undelivered, failed, ...
	To         string
	ErrorCode  int    // Twilio error code, 0 when none
	Reason     string // plain English for case workers; "" when ErrorCode is 0
}

// ParseStatus parses a status callback form. MessageSid and MessageStatus
// are required; a non-numeric ErrorCode is an error. Reason is Reason(code),
// or a generic text naming the code when Reason does not know it.
func ParseStatus(form url.Values) (StatusUpdate, error) {
	u := StatusUpdate{
		MessageSid: first(form, "MessageSid", "SmsSid"),
		Status:     strings.ToLower(first(form, "MessageStatus", "SmsStatus")),
		To:         form.Get("To"),
		Channel:    channel.SMS,
	}
	if to, ok := strings.CutPrefix(u.To, WhatsAppPrefix); ok {
		u.Channel, u.To = channel.WhatsApp, to
	}
	var missing []string
	if u.MessageSid == "" {
		missing = append(missing, "MessageSid")
	}
	if u.Status == "" {
		missing = append(missing, "MessageStatus")
	}
	if len(missing) > 0 {
		return StatusUpdate{}, fmt.Errorf("twilio: status webhook: missing %s", strings.Join(missing, " and "))
	}
	if raw := strings.TrimSpace(form.Get("ErrorCode")); raw != "" {
		code, err := strconv.Atoi(raw)
		if err != nil || code < 0 {
			return StatusUpdate{}, fmt.Errorf("twilio: status webhook: bad ErrorCode %q", raw)
		}
		u.ErrorCode = code
	}
	if u.ErrorCode != 0 {
		u.Reason = Reason(u.ErrorCode)
		if u.Reason == "" {
			u.Reason = fmt.Sprintf("delivery failed (Twilio error %d)", u.ErrorCode)
		}
	}
	return u, nil
}

// Reason explains a Twilio delivery error code in plain English for case
// workers; "" for codes it does not know.
func Reason(code int) string {
	switch code {
	case CodeUnsubscribed:
		return "recipient unsubscribed (replied STOP)"
	case 30003:
		return "unreachable handset"
	case 30004:
		return "message blocked"
	case 30005:
		return "unknown or inactive number"
	case 30006:
		return "landline or unreachable carrier"
	case 30007:
		return "filtered as spam by the carrier"
	case 30008:
		return "unknown error"
	case 63016:
		return "WhatsApp refused free text: more than 24 hours since the person's last message"
	case 63003, 63024:
		return "not reachable on WhatsApp (not on WhatsApp, or not a valid number)"
	case 63032:
		return "the person cannot receive WhatsApp business messages"
	}
	return ""
}

// IsOptOutCode reports whether a Twilio error code means the recipient opted
// out of SMS (21610).
func IsOptOutCode(code int) bool { return code == CodeUnsubscribed }

// first returns the first non-empty value among keys.
func first(form url.Values, keys ...string) string {
	for _, k := range keys {
		if v := form.Get(k); v != "" {
			return v
		}
	}
	return ""
}
