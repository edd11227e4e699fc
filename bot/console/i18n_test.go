package console

import (
	"io/fs"
	"regexp"
	"slices"
	"testing"

	"github.com/seintje/seintje/bot/channel"
	"github.com/seintje/seintje/bot/outreach"
)

// Every text exists in Dutch and English, and every key a template names
// literally has a text.
func TestTextsComplete(t *testing.T) {
	c, err := loadCatalog(files)
	if err != nil {
		t.Fatal(err)
	}
	if m := c.missing(); len(m) > 0 {
		slices.Sort(m)
		t.Errorf("texts missing in one language:\n%v", m)
	}
	re := regexp.MustCompile(`\.L\.T "([a-z0-9_.]+)"`)
	err = fs.WalkDir(files, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := fs.ReadFile(files, p)
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			if _, ok := c[LangNL][m[1]]; !ok {
				t.Errorf("%s uses text %q, which i18n/nl.json lacks", p, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/console/queue?x=1": "/console/queue?x=1",
		"https://evil.test/": "/console/",
		"//evil.test":        "/console/",
		"/console\\@evil":    "/console/",
		"":                   "/console/",
		"/consolex":          "/consolex",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

// Every note code the service writes on a nudge has a label on the nudge
// page, in both languages (a missing one shows the bare code).
func TestNoteCodesHaveLabels(t *testing.T) {
	c, err := loadCatalog(files)
	if err != nil {
		t.Fatal(err)
	}
	codes := []string{outreach.CodeLanguageFallback, "caseworker_note", "ended_by_caseworker", "wrong_number"}
	for _, ch := range []channel.Name{channel.SMS, channel.WhatsApp, channel.Telegram} {
		codes = append(codes, "fallback_"+string(ch)) // outreach.Service.moveTo
	}
	for _, lang := range []string{LangNL, LangEN} {
		l := Locale{Lang: lang, c: c}
		for _, code := range codes {
			if !l.Has("note." + code) {
				t.Errorf("%s: no text note.%s", lang, code)
			}
		}
	}
}
