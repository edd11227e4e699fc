package console

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/seintje/seintje/bot/batch"
)

// BatchData is the batch dashboard.
type BatchData struct {
	B        *batch.Batch
	Rejected []batch.Rejection
	Previews []batch.Preview
	Done     int // first messages no longer waiting to go out
	Percent  int
	Live     bool // still changing: the figures refresh
	Chart    template.HTML
	Today    string
}

// batchShow is the batch dashboard: rejected rows, preview, send, progress,
// figures, the replies chart and the results download.
func (c *Console) batchShow(w http.ResponseWriter, r *http.Request, s *Session) {
	d, ok := c.batchData(w, r, true)
	if !ok {
		return
	}
	c.html(w, r, http.StatusOK, "batch", c.page(r, "batch.title", d))
}

// batchProgress is the live part of the dashboard (htmx polls it).
func (c *Console) batchProgress(w http.ResponseWriter, r *http.Request, s *Session) {
	d, ok := c.batchData(w, r, false)
	if !ok {
		return
	}
	c.fragment(w, r, "batch", "batchlive", c.page(r, "batch.title", d))
}

func (c *Console) batchData(w http.ResponseWriter, r *http.Request, full bool) (*BatchData, bool) {
	ctx := r.Context()
	b, err := c.d.Batches.Get(ctx, r.PathValue("id"))
	if errors.Is(err, batch.ErrNotFound) {
		c.notFound(w, r)
		return nil, false
	}
	if err != nil {
		c.serverError(w, r, err)
		return nil, false
	}
	d := &BatchData{B: b, Live: b.State == batch.Sending || b.State == batch.Scheduled, Today: c.d.Now().In(c.loc).Format(time.DateOnly)}
	d.Done = b.Counts.Handled() + b.Counts.Existing + b.Counts.Refused
	if b.Valid > 0 {
		d.Percent = min(100, d.Done*100/b.Valid)
	}
	if full {
		if d.Rejected, err = c.d.Batches.Rejected(ctx, b.ID, 0, 1000); err != nil {
			c.serverError(w, r, err)
			return nil, false
		}
		if b.State == batch.Checked {
			if d.Previews, err = c.d.Batches.Previews(ctx, b.ID, 3); err != nil {
				c.serverError(w, r, err)
				return nil, false
			}
		}
	}
	hours, err := c.d.Batches.RepliesPerHour(ctx, b.ID)
	if err != nil {
		c.serverError(w, r, err)
		return nil, false
	}
	d.Chart = repliesChart(hours, c.texts.locale(r), c.loc)
	return d, true
}

// repliesChart draws the replies per hour as an SVG bar chart, with a text
// alternative for screen readers.
func repliesChart(hours map[time.Time]int, l Locale, loc *time.Location) template.HTML {
	if len(hours) == 0 {
		return template.HTML(`<p class="utrecht-paragraph" id="chart-empty">` + template.HTMLEscapeString(l.T("batch.chart.empty")) + `</p>`)
	}
	keys := make([]time.Time, 0, len(hours))
	for t := range hours {
		keys = append(keys, t)
	}
	slices.SortFunc(keys, func(a, b time.Time) int { return a.Compare(b) })
	first, last := keys[0], keys[len(keys)-1]
	n := int(last.Sub(first).Hours()) + 1
	if n > 72 { // the last three days
		first = last.Add(-71 * time.Hour)
		n = 72
	}
	peak := 1
	for _, v := range hours {
		peak = max(peak, v)
	}
	const width, height, pad = 640, 160, 20
	bw := float64(width-2*pad) / float64(n)
	var sb strings.Builder
	total := 0
	for _, v := range hours {
		total += v
	}
	desc := l.T("batch.chart.desc", total, first.In(loc).Format("02-01 15:00"), last.In(loc).Format("02-01 15:00"), peak)
	fmt.Fprintf(&sb, `<svg class="sj-chart" id="replies-chart" role="img" aria-labelledby="chart-title chart-desc" viewBox="0 0 %d %d" width="100%%" preserveAspectRatio="xMinYMin meet">`, width, height+pad)
	fmt.Fprintf(&sb, `<title id="chart-title">%s</title><desc id="chart-desc">%s</desc>`, template.HTMLEscapeString(l.T("batch.chart.title")), template.HTMLEscapeString(desc))
	fmt.Fprintf(&sb, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#4b4b4b" stroke-width="1"/>`, pad, height, width-pad, height)
	for i := range n {
		t := first.Add(time.Duration(i) * time.Hour)
		v := hours[t]
		if v == 0 {
			continue
		}
		h := float64(v) / float64(peak) * float64(height-pad)
		fmt.Fprintf(&sb, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#1c5f8a" data-hour="%s" data-replies="%d"><title>%s: %d</title></rect>`,
			float64(pad)+float64(i)*bw+1, float64(height)-h, max(1, bw-2), h, t.Format(time.RFC3339), v, t.In(loc).Format("02-01 15:00"), v)
	}
	fmt.Fprintf(&sb, `<text x="%d" y="%d" font-size="12" fill="#4b4b4b">%s</text>`, pad, height+pad-4, first.In(loc).Format("02-01 15:00"))
	fmt.Fprintf(&sb, `<text x="%d" y="%d" font-size="12" fill="#4b4b4b" text-anchor="end">%s</text>`, width-pad, height+pad-4, last.In(loc).Format("02-01 15:00"))
	sb.WriteString(`</svg>`)
	return template.HTML(sb.String())
}
