package console

import (
	"net/http"
	"strconv"
	"time"

	"github.com/seintje/seintje/bot/store"
)

// TaskRow is one task in the queue.
type TaskRow struct {
	store.Callback
	Effective string // open, claimed, done
	Mine      bool   // claimed by the viewer
	Overdue   bool
}

// QueueData is the werkplaats queue.
type QueueData struct {
	Filter  string
	Filters []string
	Counts  map[string]int64
	Tasks   []TaskRow
	Page    int
	More    bool
	Refresh string // URL the list polls
}

var queueFilters = []string{store.QueueOpen, store.QueueMine, store.QueueOverdue, store.QueueDoneToday}

// queuePerPage keeps a page fast and readable with 10,000 open tasks.
const queuePerPage = 50

// queueShow shows the werkplaats queue: open tasks by due time, then
// priority, with filters and their counts. The list refreshes itself.
func (c *Console) queueShow(w http.ResponseWriter, r *http.Request, s *Session) {
	d, err := c.queueData(r, s)
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	p := c.page(r, "queue.title", d)
	p.Active = "/console/queue"
	c.html(w, r, http.StatusOK, "queue", p)
}

// queueList is the polled part of the queue (htmx, every 2 s).
func (c *Console) queueList(w http.ResponseWriter, r *http.Request, s *Session) {
	d, err := c.queueData(r, s)
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	c.fragment(w, r, "queue", "queuelist", c.page(r, "queue.title", d))
}

func (c *Console) queueData(r *http.Request, s *Session) (QueueData, error) {
	q := r.URL.Query()
	d := QueueData{Filter: q.Get("filter"), Filters: queueFilters}
	switch d.Filter {
	case store.QueueMine, store.QueueOverdue, store.QueueDoneToday:
	default:
		d.Filter = store.QueueOpen
	}
	d.Page, _ = strconv.Atoi(q.Get("page"))
	d.Page = max(0, min(d.Page, 10000))
	now := c.d.Now()
	local := now.In(c.loc)
	midnight := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, c.loc)
	ctx := r.Context()
	counts, err := c.d.Store.QueueCounts(ctx, s.Actor, now, midnight)
	if err != nil {
		return d, err
	}
	d.Counts = map[string]int64{store.QueueOpen: counts.Open, store.QueueMine: counts.Mine,
		store.QueueOverdue: counts.Overdue, store.QueueDoneToday: counts.DoneToday}
	page, err := c.d.Store.Queue(ctx, store.QueueQuery{Filter: d.Filter, Me: s.Actor, Now: now, Midnight: midnight,
		Page: d.Page, PerPage: queuePerPage})
	if err != nil {
		return d, err
	}
	d.More = page.More
	for _, cb := range page.Tasks {
		eff := cb.EffectiveStatus(now)
		d.Tasks = append(d.Tasks, TaskRow{Callback: cb, Effective: eff, Mine: eff == store.CallbackClaimed && cb.ClaimedBy == s.Actor,
			Overdue: eff != store.CallbackDone && cb.Due.Before(now)})
	}
	d.Refresh = "/console/queue/list?filter=" + d.Filter + "&page=" + strconv.Itoa(d.Page)
	return d, nil
}
