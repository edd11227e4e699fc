package console

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"time"
)

// Page is what every view template gets: the layout's data plus the
// screen's own in Data.
type Page struct {
	L      Locale
	User   *Session // nil on public pages
	CSRF   string   // the session's token (or the sign-in form's)
	Demo   bool
	Nav    []NavItem
	Active string // path of the current screen, for the menu
	Title  string // <title> and <h1>
	Path   string // request path, for the language switch
	Flash  string // one line after a redirect (translated)
	// Scripts are the screen's own scripts (static paths), after the
	// common ones.
	Scripts []string
	// Refresh sends the browser on to this URL at once (a meta refresh,
	// for a navigation the CSP's form-action would block as a redirect).
	Refresh string
	Data    any
}

// views holds one parsed template per screen: the common templates
// (layout, pagination, ...) plus templates/views/<name>.html.
type views map[string]*template.Template

func parseViews(fsys fs.FS, loc *time.Location) (views, error) {
	funcs := template.FuncMap{
		"datetime": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.In(loc).Format("02-01-2006 15:04")
		},
		"isotime": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"dict": func(kv ...any) map[string]any {
			m := map[string]any{}
			for i := 0; i+1 < len(kv); i += 2 {
				m[fmt.Sprint(kv[i])] = kv[i+1]
			}
			return m
		},
		"join":  strings.Join,
		"prev":  func(n int) int { return n - 1 },
		"next":  func(n int) int { return n + 1 },
		"plus":  func(a, b int) int { return a + b },
		"minus": func(a, b int) int { return b - a },
		// textdir is the dir attribute of a text Seintje writes in a language.
		"textdir": textDir,
	}
	names, err := fs.Glob(fsys, "templates/views/*.html")
	if err != nil {
		return nil, err
	}
	v := views{}
	for _, n := range names {
		name := strings.TrimSuffix(path.Base(n), ".html")
		t, err := template.New(name).Funcs(funcs).ParseFS(fsys, "templates/common/*.html", n)
		if err != nil {
			return nil, fmt.Errorf("console template %s: %w", n, err)
		}
		v[name] = t
	}
	return v, nil
}

// html renders view inside the layout. The page is rendered to a buffer
// first, so a template error answers 500 instead of half a page.
func (c *Console) html(w http.ResponseWriter, r *http.Request, status int, view string, p *Page) {
	t, ok := c.views[view]
	if !ok {
		c.serverError(w, r, fmt.Errorf("no view %q", view))
		return
	}
	c.fill(r, p)
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		c.serverError(w, r, fmt.Errorf("render %s: %w", view, err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// fragment renders one named template of a view without the layout (an
// htmx swap or a polling refresh).
func (c *Console) fragment(w http.ResponseWriter, r *http.Request, view, name string, p *Page) {
	t, ok := c.views[view]
	if !ok {
		c.serverError(w, r, fmt.Errorf("no view %q", view))
		return
	}
	c.fill(r, p)
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, name, p); err != nil {
		c.serverError(w, r, fmt.Errorf("render %s/%s: %w", view, name, err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = buf.WriteTo(w)
}

// fill sets the layout's fields every page shares.
func (c *Console) fill(r *http.Request, p *Page) {
	p.L = c.texts.locale(r)
	p.Demo = c.d.Demo
	p.Path = r.URL.Path
	if s := sessionFrom(r); s != nil {
		p.User = s
		p.CSRF = s.CSRF
		p.Nav = c.nav(s)
	}
	if p.Active == "" {
		p.Active = r.URL.Path
	}
	if p.Flash == "" {
		if f := r.URL.Query().Get("flash"); f != "" && p.L.Has("flash."+f) {
			p.Flash = p.L.T("flash." + f)
		}
	}
}

// page is a Page for the request with a title key and data.
func (c *Console) page(r *http.Request, titleKey string, data any) *Page {
	return &Page{Title: c.texts.locale(r).T(titleKey), Data: data}
}

// redirect answers 303 See Other (after a POST: the browser GETs next).
func (c *Console) redirect(w http.ResponseWriter, r *http.Request, to string) {
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// ErrorData is the data of the error page.
type ErrorData struct {
	Status  int
	Message string
}

func (c *Console) errorPage(w http.ResponseWriter, r *http.Request, status int, titleKey, msgKey string) {
	l := c.texts.locale(r)
	c.html(w, r, status, "error", &Page{Title: l.T(titleKey), Data: ErrorData{Status: status, Message: l.T(msgKey)}})
}

func (c *Console) forbidden(w http.ResponseWriter, r *http.Request) {
	c.errorPage(w, r, http.StatusForbidden, "error.forbidden.title", "error.forbidden.body")
}

func (c *Console) notFound(w http.ResponseWriter, r *http.Request) {
	c.errorPage(w, r, http.StatusNotFound, "error.notfound.title", "error.notfound.body")
}

func (c *Console) badRequest(w http.ResponseWriter, r *http.Request) {
	c.errorPage(w, r, http.StatusBadRequest, "error.badrequest.title", "error.badrequest.body")
}

// serverError logs err (never personal data: errors carry ids only) and
// shows a plain apology.
func (c *Console) serverError(w http.ResponseWriter, r *http.Request, err error) {
	c.d.Log.LogAttrs(r.Context(), slog.LevelError, "console request failed", slog.String("path", r.Pattern), slog.Any("err", err))
	l := c.texts.locale(r)
	if t, ok := c.views["error"]; ok {
		p := &Page{Title: l.T("error.server.title"), Data: ErrorData{Status: 500, Message: l.T("error.server.body")}}
		c.fill(r, p)
		var buf bytes.Buffer
		if t.ExecuteTemplate(&buf, "layout", p) == nil {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = buf.WriteTo(w)
			return
		}
	}
	http.Error(w, "internal error", http.StatusInternalServerError)
}
