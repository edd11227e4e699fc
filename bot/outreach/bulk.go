package outreach

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/seintje/seintje/bot/audit"
	"github.com/seintje/seintje/bot/channel"
	"github.com/seintje/seintje/bot/phone"
	"github.com/seintje/seintje/bot/store"
)

// TriggerMany starts the nudges of many requests at once (a batch's
// chunk), with the same rules per person as Trigger: opt-out, one active
// conversation per flow, idempotency. What it saves is round trips: the
// recipients' channels are read in one pipeline, every nudge is created by
// the same script as Trigger's in one pipeline for all (store.CreateMany,
// each with its outbox pointer, so a crash at any point strands nothing),
// the work each new nudge queues is queued by queueCommitted as for a
// single nudge, parallel at most parallel at once, and the audit entries
// are written in one pipeline.
//
// A request that needs more than that goes through Trigger itself: a flow
// with a Telegram link or an experiment, a chosen channel or a WhatsApp
// opt-in, and a person for whom the script found the same event (already
// sent) or an active conversation of the flow (replaced first). It returns
// one result and one error per request; a Redis failure of the whole round
// trip is the error of every request (none, some or all may have been
// created: triggering them again finds the same event).
func (s *Service) TriggerMany(ctx context.Context, reqs []TriggerRequest, parallel int) ([]TriggerResult, []error) {
	out := make([]TriggerResult, len(reqs))
	errs := make([]error, len(reqs))
	now := s.Now()
	var slow []int // through Trigger
	type pending struct {
		i   int
		v   Valid
		rcp store.Recipient
	}
	var fast []pending
	for i, req := range reqs {
		v, err := s.Validate(req)
		if err != nil {
			errs[i] = err
			continue
		}
		f := v.Flow
		if f.Var(TelegramLinkVar) != nil || (f.Experiment != nil && !f.Experiment.Stopped) || req.Channel != "" || req.WhatsAppOptIn != nil {
			slow = append(slow, i)
			continue
		}
		fast = append(fast, pending{i: i, v: v, rcp: recipientOf(v, reqs[i])})
	}
	tags := make([]string, len(fast))
	for k, p := range fast {
		tags[k] = p.v.Tag
	}
	chans, err := s.channelsFor(ctx, tags)
	if err != nil {
		for _, p := range fast {
			errs[p.i] = err
		}
		fast = nil
	}
	items := make([]store.CreateItem, 0, len(fast))
	idx := make([]int, 0, len(fast))
	for k, p := range fast {
		it, err := s.newNudge(p.v, reqs[p.i], p.rcp, chans[k], "", now)
		if err != nil {
			errs[p.i] = err
			continue
		}
		items = append(items, it)
		idx = append(idx, p.i)
	}
	if _, ok := s.Queue.(sendGrouper); ok {
		assignGroups(items, now)
	}
	res, cerrs, err := s.Store.CreateMany(ctx, items)
	if err != nil {
		for _, i := range idx {
			errs[i] = err
		}
		return out, errs
	}
	var created []int // positions in items
	for k, r := range res {
		i := idx[k]
		switch {
		case errors.Is(cerrs[k], store.ErrOptedOut):
			errs[i] = ErrOptedOut
		case cerrs[k] != nil:
			errs[i] = cerrs[k]
		case r.Existing != "" || r.Active != "":
			slow = append(slow, i) // Trigger handles the same event and the replacement
		default:
			created = append(created, k)
		}
	}
	s.queueAll(ctx, items, created, parallel)
	entries := make([]audit.Entry, 0, len(created))
	for _, k := range created {
		it, i := items[k], idx[k]
		n := it.Nudge
		s.Log.InfoContext(ctx, "nudge created", "nudge", n.ID, "flow", n.Flow.String(), "by", reqs[i].TriggeredBy, "to", phone.Mask(it.Recipient.Phone))
		entries = append(entries, audit.Entry{Action: audit.ActionTrigger, Nudge: n.ID, Subject: n.Tag, Channel: n.Channel, Detail: n.Flow.String()})
		out[i] = TriggerResult{ID: n.ID, Status: string(n.Status), Lang: n.Lang, Notes: n.Notes}
	}
	// After the nudges and their work are stored, as in Trigger: a failed
	// trail write fails the requests, whose retry finds the same events.
	if err := s.audit(ctx, entries...); err != nil {
		for _, k := range created {
			out[idx[k]], errs[idx[k]] = TriggerResult{}, err
		}
	}
	parallelDo(len(slow), parallel, func(k int) {
		i := slow[k]
		out[i], errs[i] = s.Trigger(ctx, reqs[i])
	})
	return out, errs
}

// parallelDo calls fn(0) … fn(n-1), at most parallel at once.
func parallelDo(n, parallel int, fn func(k int)) {
	if n == 0 {
		return
	}
	parallel = max(1, min(parallel, n))
	next := make(chan int)
	var wg sync.WaitGroup
	for range parallel {
		wg.Go(func() {
			for k := range next {
				fn(k)
			}
		})
	}
	for k := range n {
		next <- k
	}
	close(next)
	wg.Wait()
}

// sendGrouper is a Queue that queues several messages as one task
// (jobs.Queue).
type sendGrouper interface {
	EnqueueSends(ctx context.Context, group string, sends []store.SendRef) error
	GroupHas(ctx context.Context, group string, msgs []string) ([]bool, error)
}

// sendGroup is how many nudges' first messages go in one grouped task.
const sendGroup = 50

// assignGroups gives the items whose work is only their messages a group
// (store.Work.Group), sendGroup items to a group, before they are stored:
// the outbox entry names the task that will send them.
func assignGroups(items []store.CreateItem, now time.Time) {
	prefix := store.NewID(now)
	n := 0
	for _, it := range items {
		if w := it.Work; w != nil && len(w.Sends) > 0 && len(w.Events) == 0 && w.Status == nil && w.Link == nil && len(w.Audit) == 0 {
			w.Group = prefix + "-" + strconv.Itoa(n/sendGroup)
			n++
		}
	}
}

// queueAll queues the work of the created items (positions in items),
// parallel at most parallel at once. Nudges of one group
// (assignGroups) are queued as one task (EnqueueSends): one enqueue,
// dequeue and acknowledgement for fifty first messages. The others go
// through queueCommitted, as for a single nudge. Either way a failure
// leaves the work in the outbox for the recovery pass.
func (s *Service) queueAll(ctx context.Context, items []store.CreateItem, created []int, parallel int) {
	g, grouped := s.Queue.(sendGrouper)
	var rest []int
	var groups [][]int
	at := map[string]int{}
	for _, k := range created {
		w := items[k].Work
		if !grouped || w == nil || w.Group == "" || !sendsOnly(w) {
			rest = append(rest, k)
			continue
		}
		j, ok := at[w.Group]
		if !ok {
			j = len(groups)
			at[w.Group] = j
			groups = append(groups, nil)
		}
		groups[j] = append(groups[j], k)
	}
	parallelDo(len(groups), parallel, func(j int) {
		var refs []store.SendRef
		for _, k := range groups[j] {
			it := items[k]
			ix := it.Work.Ix
			for _, id := range it.Work.Sends {
				refs = append(refs, store.SendRef{Tag: it.Outbox.Tag, Msg: id, Ix: ix})
				ix = nil
			}
		}
		if err := g.EnqueueSends(ctx, items[groups[j][0]].Work.Group, refs); err != nil {
			s.Log.WarnContext(ctx, "work stays in the outbox for the recovery pass", "nudges", len(groups[j]), "err", err)
			return
		}
		for _, k := range groups[j] {
			s.Store.OutboxDoneSoon(items[k].Outbox)
		}
	})
	parallelDo(len(rest), parallel, func(j int) {
		it := items[rest[j]]
		s.queueCommitted(ctx, it.Outbox, it.Work)
	})
}

// sendsOnly reports whether w is messages to send (with the index entries
// of their change) and nothing else to queue.
func sendsOnly(w *store.Work) bool {
	return w != nil && len(w.Sends) > 0 && (len(w.Timers) == 0 || w.TimersWritten) &&
		len(w.Events) == 0 && w.Status == nil && w.Link == nil && len(w.Audit) == 0
}

// channelsFor picks the channel of a new nudge for each recipient, as
// channelFor does, reading the recipients in one round trip (none when SMS
// is the only channel configured: then it is SMS for everyone).
func (s *Service) channelsFor(ctx context.Context, tags []string) ([]channel.Name, error) {
	out := make([]channel.Name, len(tags))
	if s.onlySMS() || len(tags) == 0 {
		for i := range out {
			out[i] = channel.SMS
		}
		return out, nil
	}
	cs, err := s.Store.ChannelsMany(ctx, tags)
	if err != nil {
		return nil, err
	}
	for i, c := range cs {
		out[i] = c.Pick(s.configured)
	}
	return out, nil
}
