package console

import "testing"

// Arabic messages are shown right to left; anything else by its first
// strong letter (dir="auto").
func TestTextDir(t *testing.T) {
	for code, want := range map[string]string{"ar": "rtl", "ar-MA": "rtl", "fa": "rtl", "nl": "auto", "tr": "auto", "uk": "auto", "ku": "auto", "": "auto"} {
		if got := textDir(code); got != want {
			t.Errorf("textDir(%q) = %q, want %q", code, got, want)
		}
	}
}
