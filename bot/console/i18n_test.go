package console

import (
	"io/fs"
	"regexp"
	"slices"
	"testing"
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
