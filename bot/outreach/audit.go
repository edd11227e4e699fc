package outreach

import (
	"context"

	"github.com/seintje/seintje/bot/audit"
	"github.com/seintje/seintje/bot/channel"
)

// auditOptOut records an opt-out (on) or opt-in on a channel. actor is
// who changed it: "recipient" (a keyword) or "provider" (the provider
// reported it); why is the keyword or the provider's signal, never the
// message text.
func (s *Service) auditOptOut(ctx context.Context, tag, nudge string, ch channel.Name, on bool, actor, why string) error {
	return s.audit(ctx, optOutEntry(tag, nudge, ch, on, actor, why))
}

// optOutEntry is the audit entry of an opt-out (on) or opt-in.
func optOutEntry(tag, nudge string, ch channel.Name, on bool, actor, why string) audit.Entry {
	action := audit.ActionOptIn
	if on {
		action = audit.ActionOptOut
	}
	if nudge == "_" {
		nudge = ""
	}
	return audit.Entry{Actor: actor, Via: "channel", Action: action, Subject: tag, Nudge: nudge,
		Channel: string(ch), Detail: why}
}
