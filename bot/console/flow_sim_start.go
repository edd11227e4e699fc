package console

import (
	"net/http"
	"net/url"
	"slices"

	"github.com/seintje/seintje/bot/console/form"
	"github.com/seintje/seintje/bot/lang"
)

// flowSimStart starts a simulation of the flow in a sandbox of its own and
// shows its first messages.
func (c *Console) flowSimStart(w http.ResponseWriter, r *http.Request, s *Session) {
	id := r.PathValue("id")
	f, ok := c.d.Registry.Current(id)
	if !ok || c.d.Simulator == nil {
		c.notFound(w, r)
		return
	}
	var in SimStartForm
	errs := form.Decode(r, &in)
	if in.Lang != "" && !slices.Contains(f.Languages(), in.Lang) {
		errs.Add("lang", form.CodeInvalid, "")
	}
	vars := simVars(r, f, errs)
	l := c.texts.locale(r)
	if !errs.Any() {
		sim, err := c.d.Simulator.Start(r.Context(), s.Actor, f.ID, lang.Canon(in.Lang), vars, in.Start, l.Lang == LangNL)
		if err == nil {
			c.redirect(w, r, "/console/flows/"+url.PathEscape(f.ID)+"?sim="+url.QueryEscape(sim)+"#sim")
			return
		}
		errs.Add("", "sim", c.simProblem(l, err))
	}
	c.flowSimError(w, r, s, errs)
}

// flowSimError shows the flow page again with the simulator's errors.
func (c *Console) flowSimError(w http.ResponseWriter, r *http.Request, s *Session, errs form.Errors) {
	r2 := r.Clone(r.Context())
	r2.URL.RawQuery = ""
	rec := &simErrors{errs: errs}
	c.flowShowWith(w, r2, s, rec, http.StatusUnprocessableEntity)
}

// simErrors carries a failed form back into the page.
type simErrors struct{ errs form.Errors }
