package api

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/seintje/seintje/bot/channel"
	"github.com/seintje/seintje/bot/outreach"
	"github.com/seintje/seintje/bot/phone"
	"github.com/seintje/seintje/bot/recipient"
)

// Problem codes of the channel endpoints.
const (
	CodeTelegramOff = "telegram_not_configured"
	CodeNotLinked   = "telegram_not_linked"
	CodeWhatsAppOff = "whatsapp_not_configured"
	CodeNoOptIn     = "whatsapp_no_optin"
)

// optInRequest is a consent the case system records: where and when the
// person gave it.
type optInRequest struct {
	Given  *bool     `json:"given"` // default true; false withdraws it
	Source string    `json:"source"`
	At     time.Time `json:"at"`
}

func (o *optInRequest) update() *outreach.ConsentUpdate {
	if o == nil {
		return nil
	}
	return &outreach.ConsentUpdate{Given: o.Given == nil || *o.Given, Source: strings.TrimSpace(o.Source), At: o.At}
}

// channelsRequest is the body of PUT /v1/recipients/{ref}/channels; every
// member is optional.
type channelsRequest struct {
	Preferred *string  `json:"preferred"`
	Fallback  []string `json:"fallback"`
	Channels  map[string]struct {
		Consent *optInRequest `json:"consent"`
	} `json:"channels"`
}

// getChannels: GET /v1/recipients/{ref}/channels.
func (s *Server) getChannels(c *gin.Context) {
	v, err := s.d.Service.Channels(c.Request.Context(), c.Param("ref"))
	if s.refError(c, err) {
		return
	}
	c.JSON(http.StatusOK, s.channelsView(v))
}

// putChannels: PUT /v1/recipients/{ref}/channels.
func (s *Server) putChannels(c *gin.Context) {
	var req channelsRequest
	if !decodeJSON(c, &req) {
		return
	}
	var u outreach.ChannelsUpdate
	if req.Preferred != nil {
		ch := channel.Name(strings.TrimSpace(*req.Preferred))
		if !recipient.Valid(ch) {
			problem(c, http.StatusUnprocessableEntity, CodeInvalidField, `preferred must be "sms", "whatsapp" or "telegram"`, "preferred")
			return
		}
		u.Preferred = &ch
	}
	if req.Fallback != nil {
		u.Fallback = []channel.Name{}
		for _, f := range req.Fallback {
			ch := channel.Name(strings.TrimSpace(f))
			if !recipient.Valid(ch) {
				problem(c, http.StatusUnprocessableEntity, CodeInvalidField, `fallback lists channels: "sms", "whatsapp" or "telegram"`, "fallback")
				return
			}
			u.Fallback = append(u.Fallback, ch)
		}
	}
	for name, cs := range req.Channels {
		ch := channel.Name(name)
		field := "channels." + name + ".consent"
		switch {
		case cs.Consent == nil:
			continue
		case ch == channel.Telegram:
			problem(c, http.StatusUnprocessableEntity, CodeInvalidField, "Telegram consent is given by the person in Telegram itself: create a link with POST /v1/recipients/{ref}/telegram-link", field)
			return
		case ch != channel.WhatsApp:
			problem(c, http.StatusUnprocessableEntity, CodeInvalidField, "only a WhatsApp opt-in can be recorded here (SMS needs none)", field)
			return
		}
		cu := cs.Consent.update()
		if cu.Given && cu.Source == "" {
			problem(c, http.StatusUnprocessableEntity, CodeInvalidField, `say where the person gave the opt-in, e.g. "source": "intake form"`, field+".source")
			return
		}
		if u.Consent == nil {
			u.Consent = map[channel.Name]outreach.ConsentUpdate{}
		}
		u.Consent[ch] = *cu
	}
	v, err := s.d.Service.UpdateChannels(c.Request.Context(), c.Param("ref"), u, Caller(c))
	if s.channelError(c, err) {
		return
	}
	c.JSON(http.StatusOK, s.channelsView(v))
}

// channelError writes the problem of a channel change; false when err is nil.
func (s *Server) channelError(c *gin.Context, err error) bool {
	switch {
	case errors.Is(err, outreach.ErrNotLinked):
		problem(c, http.StatusConflict, CodeNotLinked, "the recipient has not linked Telegram; create a link with POST /v1/recipients/{ref}/telegram-link", "preferred")
	case errors.Is(err, outreach.ErrNoOptIn):
		problem(c, http.StatusConflict, CodeNoOptIn, "the recipient has no recorded WhatsApp opt-in; record it first (channels.whatsapp.consent)", "preferred")
	case errors.Is(err, outreach.ErrNotConfigured):
		code := CodeInvalidField
		switch {
		case strings.HasSuffix(err.Error(), string(channel.WhatsApp)):
			code = CodeWhatsAppOff
		case strings.HasSuffix(err.Error(), string(channel.Telegram)):
			code = CodeTelegramOff
		}
		problem(c, http.StatusUnprocessableEntity, code, "that channel is not configured on this Seintje", "")
	default:
		return s.refError(c, err)
	}
	return true
}

// refError writes the problem for err (unknown ref, internal); false when nil.
func (s *Server) refError(c *gin.Context, err error) bool { return refProblem(c, err, s.d.Log) }

// refProblem writes the problem for err of an endpoint under
// /v1/recipients/{ref}: 404 for an unknown reference, else 500 (logged).
// False when err is nil.
func refProblem(c *gin.Context, err error, log *slog.Logger) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, outreach.ErrUnknownRecipient):
		problem(c, http.StatusNotFound, CodeNotFound, "no recipient with this reference (a recipient is known after a first nudge)", "")
	default:
		log.ErrorContext(c.Request.Context(), "request failed", "route", c.FullPath(), "err", err)
		problem(c, http.StatusInternalServerError, CodeInternal, "internal error; nothing was changed unless the response said so", "")
	}
	return true
}

// channelsView is the JSON of a recipient's channels.
func (s *Server) channelsView(v outreach.ChannelView) gin.H {
	chans := gin.H{}
	for _, ch := range []channel.Name{channel.SMS, channel.WhatsApp, channel.Telegram} {
		st := v.Channels.Get(ch)
		cv := gin.H{"configured": s.d.Service.Configured(ch), "usable": v.Channels.Usable(ch)}
		if p := v.Channels.Problem(ch); p != "" {
			cv["problem"] = p
		}
		if st.Address != "" {
			if ch == channel.Telegram {
				cv["address"] = "(linked chat)"
			} else {
				cv["address"] = phone.Mask(st.Address)
			}
		}
		if st.Consent != nil {
			cv["consent"] = st.Consent
		} else if recipient.NeedsConsent(ch) {
			cv["consent"] = nil
		}
		if !st.OptedOut.IsZero() {
			cv["opted_out_at"] = st.OptedOut
		}
		if ch == channel.WhatsApp && !v.WindowOpenUntil.IsZero() {
			cv["window_open_until"] = v.WindowOpenUntil
		}
		chans[string(ch)] = cv
	}
	fallback := []string{}
	for _, f := range v.Channels.Fallback {
		fallback = append(fallback, string(f))
	}
	order := []string{}
	for _, o := range v.Channels.Order(s.d.Service.Configured) {
		order = append(order, string(o))
	}
	return gin.H{"preferred": string(v.Channels.Preferred), "fallback": fallback, "order": order, "channels": chans, "events": v.Events}
}

// getChannel: GET /v1/recipients/{ref}/channel, the older Telegram-era
// view (kept for clients written against it).
func (s *Server) getChannel(c *gin.Context) {
	v, err := s.d.Service.Channels(c.Request.Context(), c.Param("ref"))
	if s.refError(c, err) {
		return
	}
	tg := v.Channels.Get(channel.Telegram)
	linked := tg.Consent != nil
	out := gin.H{"preferred": string(v.Channels.Preferred), "telegram": gin.H{"linked": linked, "configured": s.d.Service.Configured(channel.Telegram)},
		"opted_out": []string{}, "events": v.Events}
	if linked {
		out["telegram"].(gin.H)["linked_at"] = tg.Consent.At
	}
	var opted []string
	for _, ch := range v.Channels.Opted() {
		opted = append(opted, string(ch))
	}
	if opted != nil {
		out["opted_out"] = opted
	}
	c.JSON(http.StatusOK, out)
}

// putChannel: PUT /v1/recipients/{ref}/channel {"channel": "..."}, the
// older form of PUT .../channels {"preferred": "..."}.
func (s *Server) putChannel(c *gin.Context) {
	var req struct {
		Channel string `json:"channel"`
	}
	if !decodeJSON(c, &req) {
		return
	}
	ch := channel.Name(strings.TrimSpace(req.Channel))
	if !recipient.Valid(ch) {
		problem(c, http.StatusUnprocessableEntity, CodeInvalidField, `channel must be "sms", "whatsapp" or "telegram"`, "channel")
		return
	}
	err := s.d.Service.SetPreferredChannel(c.Request.Context(), c.Param("ref"), ch, Caller(c))
	if s.channelError(c, err) {
		return
	}
	c.JSON(http.StatusOK, gin.H{"preferred": string(ch)})
}
