package phone

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want string
		err  error
	}{
		{"06 12345678", "+31612345678", nil},
		{"0612345678", "+31612345678", nil},
		{"+31 6 1234 5678", "+31612345678", nil},
		{"0031612345678", "+31612345678", nil},
		{"+31 (0)6-12345678", "+31612345678", nil},
		{"+32 470 12 34 56", "+32470123456", nil}, // Belgian mobile
		{"030 123 4567", "", ErrNotMobile},        // Utrecht landline
		{"12345", "", ErrInvalid},
		{"", "", ErrInvalid},
		{"hallo", "", ErrInvalid},
	}
	for _, tt := range tests {
		got, err := Normalize(tt.in)
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("Normalize(%q) err = %v, want %v", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Normalize(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestMask(t *testing.T) {
	t.Parallel()
	if got := Mask("+31612345678"); got != "+31*******78" {
		t.Errorf("Mask = %q", got)
	}
	if strings.Contains(Mask("+31612345678"), "123456") {
		t.Error("mask leaks digits")
	}
	if Mask("12") != "***" {
		t.Error("short input must be fully masked")
	}
}

func TestKeyer(t *testing.T) {
	t.Parallel()
	if _, err := NewKeyer([]byte("short")); err == nil {
		t.Fatal("short key accepted")
	}
	k1, _ := NewKeyer([]byte(strings.Repeat("a", 32)))
	k2, _ := NewKeyer([]byte(strings.Repeat("b", 32)))
	a, b := k1.Hash("phone", "+31612345678"), k2.Hash("phone", "+31612345678")
	if a == b || len(a) != 24 {
		t.Fatalf("hashes %q %q", a, b)
	}
	if k1.Hash("phone", "+31612345678") != a {
		t.Fatal("not stable")
	}
	if k1.Hash("ref", "+31612345678") == a {
		t.Fatal("domain not separated")
	}
	if strings.Contains(a, "612345678") {
		t.Fatal("raw number in hash")
	}
}

func TestIsE164(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]bool{"+31612345678": true, "+447911123456": true, "0612345678": false, "+3161234567a": false, "+0123456789": false, "+31": false, "": false} {
		if got := IsE164(s); got != want {
			t.Errorf("IsE164(%q) = %v", s, got)
		}
	}
}

// The fast path for Dutch mobile numbers gives what phonenumbers gives, for
// every 06 prefix (valid or not), in every form it accepts.
func TestDutchMobileFastPath(t *testing.T) {
	t.Parallel()
	suffixes := []string{"0000000", "1234567", "9999999", "5550123"}
	for p := range 100 {
		for _, sfx := range suffixes {
			nat := fmt.Sprintf("6%02d%s", p, sfx)[:9]
			for _, in := range []string{"0" + nat, "+31" + nat, "0031" + nat, "0" + nat[:1] + " " + nat[1:], "+31 " + nat[:1] + " " + nat[1:5] + " " + nat[5:], "0" + nat[:1] + "-" + nat[1:]} {
				fast, ok := dutchMobile(in)
				slow, err := parse(strings.TrimSpace(in))
				switch {
				case ok && (err != nil || fast != slow):
					t.Errorf("%q: fast %q, slow %q %v", in, fast, slow, err)
				case !ok && err == nil && strings.HasPrefix(slow, "+316"):
					t.Errorf("%q: fast path missed the valid mobile %q", in, slow)
				}
			}
		}
	}
	for _, in := range []string{"0612345678x", "+3161234567", "06123456789", "+32612345678", "0031 6 1234 567", "06+12345678", ""} {
		if got, ok := dutchMobile(in); ok {
			t.Errorf("%q: fast path took it as %q", in, got)
		}
	}
}

func BenchmarkNormalize(b *testing.B) {
	for range b.N {
		_, _ = Normalize("06 12345678")
	}
}
