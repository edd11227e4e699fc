package console

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"strings"
)

// Languages of the console: Dutch first, English second.
const (
	LangNL = "nl"
	LangEN = "en"
)

// LangCookie remembers the chosen language.
const LangCookie = "seintje_lang"

// catalog holds the console's texts per language (i18n/<lang>.json). It
// is read once at start and never changed.
type catalog map[string]map[string]string

func loadCatalog(fsys fs.FS) (catalog, error) {
	c := catalog{}
	for _, lang := range []string{LangNL, LangEN} {
		b, err := fs.ReadFile(fsys, "i18n/"+lang+".json")
		if err != nil {
			return nil, fmt.Errorf("console texts: %w", err)
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("console texts i18n/%s.json: %w", lang, err)
		}
		c[lang] = m
	}
	return c, nil
}

// Locale translates for one request.
type Locale struct {
	Lang string
	c    catalog
}

// T returns the text for key, formatted with args (fmt verbs). A key
// missing in English falls back to Dutch; a key missing everywhere shows
// itself, so a test can catch it.
func (l Locale) T(key string, args ...any) string {
	s, ok := l.c[l.Lang][key]
	if !ok {
		s, ok = l.c[LangNL][key]
	}
	if !ok {
		return "[" + key + "]"
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// Has reports whether key has a text.
func (l Locale) Has(key string) bool {
	_, ok := l.c[l.Lang][key]
	return ok
}

// Other is the language one can switch to.
func (l Locale) Other() string {
	if l.Lang == LangEN {
		return LangNL
	}
	return LangEN
}

func (c catalog) locale(r *http.Request) Locale {
	lang := LangNL
	if ck, err := r.Cookie(LangCookie); err == nil && ck.Value == LangEN {
		lang = LangEN
	}
	return Locale{Lang: lang, c: c}
}

// missing lists keys present in one language and not the other.
func (c catalog) missing() []string {
	var out []string
	for k := range c[LangNL] {
		if _, ok := c[LangEN][k]; !ok {
			out = append(out, "en: "+k)
		}
	}
	for k := range c[LangEN] {
		if _, ok := c[LangNL][k]; !ok {
			out = append(out, "nl: "+k)
		}
	}
	return out
}

// safeNext returns next when it is a path inside the console, else the
// console's home: redirects never leave the site.
func safeNext(next string) string {
	if strings.HasPrefix(next, "/console") && !strings.HasPrefix(next, "//") && !strings.ContainsAny(next, "\\\r\n") {
		return next
	}
	return "/console/"
}
