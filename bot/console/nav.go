package console

// NavItem is one entry of the main menu.
type NavItem struct {
	Path  string
	Key   string   // text key
	Roles []string // who sees it
}

// menu is the main menu in order. A new screen adds its line here and its
// route in routes.go (with the same roles).
var menu = []NavItem{
	{Path: "/console/", Key: "nav.home"},
	{Path: "/console/send", Key: "nav.send", Roles: []string{RoleCaseworker, RoleAdmin}},
	{Path: "/console/inbox", Key: "nav.inbox", Roles: []string{RoleCaseworker, RoleAdmin}},
	{Path: "/console/flows", Key: "nav.flows", Roles: []string{RoleCoordinator, RoleAdmin}},
	{Path: "/console/experiments", Key: "nav.experiments", Roles: []string{RoleCoordinator, RoleCaseworker, RoleAdmin}},
	{Path: "/console/queue", Key: "nav.queue", Roles: []string{RoleWerkplaats, RoleAdmin}},
	{Path: "/console/batches", Key: "nav.batches", Roles: []string{RoleCaseworker, RoleAdmin}},
	{Path: "/console/search", Key: "nav.search", Roles: []string{RoleCaseworker, RoleWerkplaats, RoleAdmin}},
	{Path: "/console/admin/optouts", Key: "nav.optouts", Roles: []string{RoleAdmin}},
	{Path: "/console/admin/audit", Key: "nav.audit", Roles: []string{RoleAdmin}},
	{Path: "/console/admin/events", Key: "nav.events", Roles: []string{RoleAdmin}},
}

// nav returns the menu entries s may use.
func (c *Console) nav(s *Session) []NavItem {
	var out []NavItem
	for _, it := range menu {
		if len(it.Roles) == 0 || s.Has(it.Roles...) {
			out = append(out, it)
		}
	}
	return out
}
