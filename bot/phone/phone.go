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
