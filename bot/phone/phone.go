// Package phone normalises phone numbers to E.164, masks them for logs and
// lists, and turns them into keyed hashes so no raw number is ever part of
// a Redis key name.
package phone

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// Errors returned by Normalize.
var (
	ErrInvalid   = errors.New("not a valid phone number")
	ErrNotMobile = errors.New("not a mobile number (an SMS cannot reach it)")
)

// Normalize parses a number in Dutch ("06 12345678", "0612345678") or
// international notation ("+31 6 1234 5678", "0031612345678") and returns
// it in E.164 ("+31612345678"). Only mobile numbers are accepted.
func Normalize(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", fmt.Errorf("%w: empty", ErrInvalid)
	}
	if e164, ok := dutchMobile(s); ok {
		return e164, nil
	}
	return parse(s)
}

// parse is Normalize through libphonenumber (the slow path).
func parse(s string) (string, error) {
	if strings.HasPrefix(s, "00") {
		s = "+" + s[2:]
	}
	n, err := phonenumbers.Parse(s, "NL")
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if !phonenumbers.IsValidNumber(n) {
		return "", ErrInvalid
	}
	switch phonenumbers.GetNumberType(n) {
	case phonenumbers.MOBILE, phonenumbers.FIXED_LINE_OR_MOBILE:
	default:
		return "", ErrNotMobile
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}

// dutchMobile is Normalize's fast path for the common case, a Dutch
// mobile number written as 06xxxxxxxx, +316xxxxxxxx or 00316xxxxxxxx
// (spaces and dashes allowed): parsing with phonenumbers costs about 100
// times more, and a batch has up to 100,000 of them. It gives what the
// slow path gives for these forms: libphonenumber's metadata for NL says
// a national number 6[1-58] followed by 7 digits is a valid MOBILE number
// and matches no other number type (TestDutchMobileFastPath compares both
// paths over every 06 prefix). Anything else (ok false) takes the slow
// path.
func dutchMobile(s string) (string, bool) {
	var b [16]byte
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '-':
			continue
		case (c >= '0' && c <= '9') || (c == '+' && n == 0):
		default:
			return "", false
		}
		if n == len(b) {
			return "", false
		}
		b[n] = c
		n++
	}
	d := string(b[:n])
	var nat string
	switch {
	case len(d) == 10 && d[0] == '0':
		nat = d[1:]
	case len(d) == 12 && d[:3] == "+31":
		nat = d[3:]
	case len(d) == 13 && d[:4] == "0031":
		nat = d[4:]
	default:
		return "", false
	}
	if len(nat) != 9 || nat[0] != '6' || !strings.ContainsRune("123458", rune(nat[1])) {
		return "", false
	}
	for i := 2; i < len(nat); i++ {
		if nat[i] < '0' || nat[i] > '9' {
			return "", false
		}
	}
	return "+31" + nat, true
}

// IsE164 reports whether s is already in E.164 form ("+" and 8 to 15
// digits, no leading zero), as providers deliver sender numbers.
func IsE164(s string) bool {
	if len(s) < 9 || len(s) > 16 || s[0] != '+' || s[1] == '0' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Mask hides all but the country code and the last two digits:
// "+31612345678" → "+31*******78". Safe for logs and lists.
func Mask(e164 string) string {
	if len(e164) < 6 {
		return "***"
	}
	cc := 3 // "+31"
	if !strings.HasPrefix(e164, "+") {
		cc = 0
	}
	return e164[:cc] + strings.Repeat("*", len(e164)-cc-2) + e164[len(e164)-2:]
}

// Keyer makes stable, keyed hashes of identifiers (phone numbers, case
// references). Without the key the hash cannot be reversed by trying all
// numbers, which a plain hash of a phone number can.
type Keyer struct{ key []byte }

// NewKeyer returns a Keyer; key must be at least 32 bytes.
func NewKeyer(key []byte) (*Keyer, error) {
	if len(key) < 32 {
		return nil, fmt.Errorf("hash key must be at least 32 bytes, got %d", len(key))
	}
	return &Keyer{key: append([]byte(nil), key...)}, nil
}

// Hash returns 24 hex characters (96 bits) of HMAC-SHA256(key, domain|s).
func (k *Keyer) Hash(domain, s string) string {
	m := hmac.New(sha256.New, k.key)
	m.Write([]byte(domain))
	m.Write([]byte{0})
	m.Write([]byte(s))
	return hex.EncodeToString(m.Sum(nil))[:24]
}
