package outreach

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/seintje/seintje/bot/store"
)

// RecoverResult counts what one recovery pass did.
type RecoverResult struct {
	Queued    int // outbox entries whose work was queued again
	Processed int // stored texts whose processing had not finished
	Dropped   int // pointers to changes that never happened
	Failed    int // left for the next pass
}

// giveUpAfter is how long a stored text may fail to be processed before it
// is filed in the inbox as unprocessed, so a person reads it.
const giveUpAfter = time.Hour

// Recover is the recovery pass: it finds changes whose queued work (sends,
// timers, index entries) or whose received text's processing did not finish
// — a crash, a Redis error or a failover between the change and the
// queueing — and finishes them, once. Only pointers older than grace are
// looked at (younger ones are still being handled by their request). It is
// cheap on a large store: it reads one sorted set per shard, which holds
// only unfinished work. Several instances may run it at once: every step is
// idempotent. Run it at start-up and periodically (RunRecovery).
func (s *Service) Recover(ctx context.Context, grace time.Duration) (RecoverResult, error) {
	var r RecoverResult
	now := s.Now()
	// Entries whose work was queued moments ago are removed first, so the
	// pass does not queue them again.
	if err := s.Store.FlushDone(ctx); err != nil {
		return r, err
	}
	due, err := s.Store.PendingDue(ctx, now.Add(-grace), 200)
	if err != nil {
		return r, err
	}
	var errs []error
	for _, ob := range due {
		if err := s.recoverOne(ctx, ob, now, &r); err != nil {
			r.Failed++
			errs = append(errs, err)
		}
	}
	if r.Queued+r.Processed > 0 {
		s.Log.InfoContext(ctx, "recovery pass finished unfinished work", "queued", r.Queued, "processed", r.Processed, "failed", r.Failed)
	}
	if err := errors.Join(errs...); err != nil {
		return r, fmt.Errorf("recover: %w", err)
	}
	return r, nil
}

func (s *Service) recoverOne(ctx context.Context, ob store.Outbox, now time.Time, r *RecoverResult) error {
	if ob.Kind == store.KindInbound {
		p, err := s.Store.InboundPending(ctx, ob.Tag, ob.ID)
		if err != nil {
			return err
		}
		if p != nil {
			if err := s.processPending(ctx, ob.Tag, ob.ID); err != nil {
				if now.Sub(ob.At) < giveUpAfter {
					return err
				}
				if err := s.giveUp(ctx, ob, err); err != nil {
					return err
				}
			}
			r.Processed++
			if err := s.Store.FlushDone(ctx); err != nil {
				return err
			}
		}
	}
	w, err := s.Store.OutboxWork(ctx, ob.Tag, ob.ID)
	if err != nil {
		return err
	}
	if w == nil {
		if ob.Kind == store.KindOutbox {
			r.Dropped++
		}
		return s.Store.OutboxDone(ctx, ob)
	}
	if err := s.queueWork(ctx, ob, w); err != nil {
		return err
	}
	r.Queued++
	return nil
}

// giveUp files a text that could not be processed for an hour in the
// inbox, marked unprocessed: it may count as a report to the agency.
func (s *Service) giveUp(ctx context.Context, ob store.Outbox, cause error) error {
	m, err := s.Store.Message(ctx, ob.Tag, ob.ID)
	if err != nil {
		return err
	}
	m.Status, m.Route = nil, "(unprocessed)"
	_, err = s.Store.FinishInbound(ctx, store.FinishInbound{In: *m,
		Work: store.Work{Ix: []store.IndexOp{store.InboxIndexOp(m.Tag, m.ID, m.At)}}})
	if err != nil && !errors.Is(err, store.ErrDuplicate) {
		return err
	}
	s.Log.ErrorContext(ctx, "inbound not processed; kept in the inbox", "msg", m.ID, "err", cause)
	return nil
}

// RunRecovery runs Recover at once and then every interval until ctx ends.
func (s *Service) RunRecovery(ctx context.Context, interval, grace time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := s.Recover(ctx, grace); err != nil && ctx.Err() == nil {
			s.Log.WarnContext(ctx, "recovery pass", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
