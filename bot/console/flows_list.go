package console

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/seintje/seintje/bot/flow"
)

// FlowsData is the list of flows for coordinators.
type FlowsData struct {
	Flows []FlowRow
}

// FlowRow is one flow in the list.
type FlowRow struct {
	ID, Description, File string
	Version               int // live version; 0: none (only a file with errors)
	InUse                 string
	Errors                int
}

// flowsList lists the live flows with the versions running conversations
// use and the files that wait with errors.
func (c *Console) flowsList(w http.ResponseWriter, r *http.Request, _ *Session) {
	use, err := c.d.Store.FlowUse(r.Context())
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	l := c.texts.locale(r)
	var d FlowsData
	for _, in := range c.d.Registry.List() {
		d.Flows = append(d.Flows, FlowRow{ID: in.ID, Description: strings.TrimSpace(in.Description), File: in.File,
			Version: in.Version, Errors: len(in.PendingError), InUse: inUse(l, in.ID, use)})
	}
	c.html(w, r, http.StatusOK, "flows", c.page(r, "flows.title", d))
}

// inUse says how many waiting conversations each version of flow id has:
// "v4: 3 · v3: 1", or "none".
func inUse(l Locale, id string, use map[flow.Ref]int) string {
	var parts []string
	for _, v := range versionsInUse(id, use) {
		parts = append(parts, fmt.Sprintf("v%d: %d", v.Version, v.Count))
	}
	if len(parts) == 0 {
		return l.T("flows.inuse.none")
	}
	return strings.Join(parts, " · ")
}

// VersionUse is one version of a flow with its waiting conversations.
type VersionUse struct {
	Version int
	Digest  string
	Count   int
	Live    bool
}

// versionsInUse lists the versions of flow id with waiting conversations,
// newest first.
func versionsInUse(id string, use map[flow.Ref]int) []VersionUse {
	var out []VersionUse
	for ref, n := range use {
		if ref.ID == id && n > 0 {
			out = append(out, VersionUse{Version: ref.Version, Digest: ref.Digest, Count: n})
		}
	}
	slices.SortFunc(out, func(a, b VersionUse) int {
		if a.Version != b.Version {
			return b.Version - a.Version
		}
		return strings.Compare(a.Digest, b.Digest)
	})
	return out
}
