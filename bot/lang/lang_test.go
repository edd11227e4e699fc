package lang

import (
	"slices"
	"testing"
)

func TestCodes(t *testing.T) {
	for _, tc := range []struct {
		in, base string
		valid    bool
	}{
		{"nl", "nl", true}, {"AR", "ar", true}, {"ar-MA", "ar", true}, {"pt_BR", "pt", true},
		{" uk ", "uk", true}, {"zh-Hant-TW", "zh", true}, {"pap", "pap", true},
		{"", "", false}, {"x", "x", false}, {"dutch", "dutch", false}, {"12", "12", false},
		{"nl-", "nl", false}, {"n l", "n l", false}, {"ar-MA-toolongsubtag", "ar", false}, {"عربي", "عربي", false},
	} {
		if got := Base(tc.in); got != tc.base {
			t.Errorf("Base(%q) = %q, want %q", tc.in, got, tc.base)
		}
		if got := Valid(tc.in); got != tc.valid {
			t.Errorf("Valid(%q) = %v, want %v", tc.in, got, tc.valid)
		}
	}
}

func TestShipped(t *testing.T) {
	got := Shipped()
	if got[0] != Default || len(got) != 6 {
		t.Fatalf("Shipped() = %v: Dutch first, six languages", got)
	}
	for _, l := range got {
		if Name(l) == l {
			t.Errorf("no name for %s", l)
		}
	}
	got[0] = "xx"
	if !slices.Contains(Shipped(), Default) {
		t.Error("Shipped() shares its slice with callers")
	}
	if !RTL("ar") || !RTL("ar-MA") || RTL("nl") || RTL("uk") {
		t.Error("RTL: only Arabic (and other right-to-left scripts) is right to left")
	}
	if got := Isolate("088 123 45 67"); got != "\u2066088 123 45 67\u2069" || Isolate("") != "" {
		t.Errorf("Isolate = %q", got)
	}
}
