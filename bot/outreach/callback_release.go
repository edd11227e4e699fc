package outreach

import (
	"context"
	"errors"
	"time"

	"github.com/seintje/seintje/bot/audit"
	"github.com/seintje/seintje/bot/store"
)

// ErrBadMoment is a reschedule to a moment in the past or too far ahead.
var ErrBadMoment = errors.New("choose a moment from now up to 60 days ahead")

// ReleaseCallback gives a claimed task back to the queue unchanged (the
// caller could not call now). Only the holder may release it.
func (s *Service) ReleaseCallback(ctx context.Context, id, by string) (*store.Callback, error) {
	return s.changeClaimed(ctx, id, by, audit.ActionRelease, "", func(cb *store.Callback, now time.Time) {
		cb.Events = append(cb.Events, store.Event{At: now, By: by, Action: "released"})
	})
}

// RescheduleCallback moves a task to another moment (the person asked to
// be called then) and puts it back in the queue. The caller must hold the
// task, or it must be open.
func (s *Service) RescheduleCallback(ctx context.Context, id, by string, at time.Time) (*store.Callback, error) {
	now := s.Now()
	if at.Before(now.Add(-time.Minute)) || at.After(now.Add(60*24*time.Hour)) {
		return nil, ErrBadMoment
	}
	return s.changeClaimed(ctx, id, by, audit.ActionReschedule, at.UTC().Format(time.RFC3339), func(cb *store.Callback, now time.Time) {
		cb.Due = at
		cb.Events = append(cb.Events, store.Event{At: now, By: by, Action: "rescheduled to " + at.UTC().Format(time.RFC3339)})
	})
}

// changeClaimed applies change to a task the caller holds (or an open one
// for a reschedule), makes it open again and records action.
func (s *Service) changeClaimed(ctx context.Context, id, by, action, detail string, change func(*store.Callback, time.Time)) (*store.Callback, error) {
	for attempt := 0; attempt < 8; attempt++ {
		cb, err := s.Store.Callback(ctx, id)
		if err != nil {
			return nil, err
		}
		now := s.Now()
		switch eff := cb.EffectiveStatus(now); {
		case cb.Status == store.CallbackDone:
			return cb, ErrTaskDone
		case eff == store.CallbackClaimed && cb.ClaimedBy != by:
			return cb, ErrClaimed
		case action == audit.ActionRelease && !(cb.Status == store.CallbackClaimed && cb.ClaimedBy == by):
			return cb, ErrNotClaimed
		}
		old := cb.Status
		change(cb, now)
		cb.Status, cb.ClaimedBy, cb.ClaimedUntil = store.CallbackOpen, "", time.Time{}
		err = s.Store.UpdateCallback(ctx, cb, old)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return nil, err
		}
		tag, _ := store.TagOf(id)
		if err := s.audit(ctx, audit.Entry{Action: action, Task: id, Nudge: cb.NudgeID, Subject: tag, Detail: detail}); err != nil {
			return cb, err
		}
		return cb, nil
	}
	return nil, store.ErrConflict
}

// ViewPhone returns the full phone number of a task the caller holds,
// recording the view in the audit trail first.
func (s *Service) ViewPhone(ctx context.Context, id, by string) (string, error) {
	cb, err := s.Store.Callback(ctx, id)
	if err != nil {
		return "", err
	}
	if cb.EffectiveStatus(s.Now()) != store.CallbackClaimed || cb.ClaimedBy != by {
		return "", ErrNotClaimed
	}
	tag, _ := store.TagOf(id)
	rcp, err := s.Store.Recipient(ctx, tag)
	if err != nil {
		return "", err
	}
	if err := s.audit(ctx, audit.Entry{Action: audit.ActionViewPhone, Task: id, Nudge: cb.NudgeID, Subject: tag}); err != nil {
		return "", err
	}
	return rcp.Phone, nil
}
