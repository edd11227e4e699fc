package console

import (
	"net/http"
	"net/url"

	"github.com/seintje/seintje/bot/console/form"
)

// flowSimReply types a line (an answer, STOP, HELP, /time +2h, ...) into
// the person's running simulation. htmx gets the new transcript; without
// JavaScript the page is shown again.
func (c *Console) flowSimReply(w http.ResponseWriter, r *http.Request, s *Session) {
	id, sim := r.PathValue("id"), r.PathValue("sim")
	f, ok := c.d.Registry.Current(id)
	if !ok || c.d.Simulator == nil {
		c.notFound(w, r)
		return
	}
	var in SimReplyForm
	errs := form.Decode(r, &in)
	l := c.texts.locale(r)
	if !errs.Any() {
		if err := c.d.Simulator.Do(r.Context(), s.Actor, sim, in.Line); err != nil {
			errs.Add("", "sim", c.simProblem(l, err))
		}
	}
	if r.Header.Get("HX-Request") == "true" {
		d := c.simData(r, s, f, sim)
		if e, ok := errs["answer"]; ok {
			d.Errors = form.Errors{"answer": e}
		}
		if e, ok := errs[""]; ok {
			d.Problem = e.Message
		}
		c.fragment(w, r, "flow", "simlog", c.page(r, "flow.title", FlowData{ID: id, Sim: d}))
		return
	}
	if errs.Any() {
		r.URL.RawQuery = "sim=" + url.QueryEscape(sim)
		c.flowShowWith(w, r, s, &simErrors{errs: errs}, http.StatusUnprocessableEntity)
		return
	}
	c.redirect(w, r, "/console/flows/"+url.PathEscape(id)+"?sim="+url.QueryEscape(sim)+"#sim")
}
