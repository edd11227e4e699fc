// Package sms analyses outgoing SMS text: which encoding a message needs
// (GSM 03.38 7-bit default alphabet or UCS-2), how many units it takes and
// into how many concatenated segments a carrier will split it.
package sms

import (
	"fmt"
	"strings"
	"unicode/utf16"
)

// Encoding is the character encoding an SMS is sent in.
type Encoding string

// Supported encodings.
const (
	GSM7 Encoding = "GSM-7"
	UCS2 Encoding = "UCS-2"
)

// Segment capacities. A multipart message loses room in every part to the
// 6-byte user data header used for concatenation.
const (
	gsmSingle  = 160
	gsmMulti   = 153
	ucs2Single = 70
	ucs2Multi  = 67
)

// Info describes how a text is sent as SMS.
type Info struct {
	Encoding Encoding
	// Units is the message length: septets for GSM-7 (extension-table
	// characters count 2), UTF-16 code units for UCS-2.
	Units int
	// Segments is the number of SMS parts; 0 for empty text.
	Segments int
	// PerSegment is the capacity of one part: 160/153 (GSM-7) or 70/67
	// (UCS-2) for a single-part or multipart message.
	PerSegment int
	// Offending lists, for UCS-2, the distinct characters that are not in
	// the GSM-7 alphabet, in order of first appearance.
	Offending []rune
}

// gsmBasic is the GSM 03.38 default alphabet (one septet each), excluding
// the escape code 0x1B itself.
const gsmBasic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
	"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"

// gsmExtension is the GSM 03.38 extension table (escape + code, two septets
// each): form feed, ^ { } \ [ ~ ] | €.
const gsmExtension = "\f^{}\\[~]|€"

// gsmSeptets returns how many septets r takes in GSM-7, or 0 if r is not
// representable.
func gsmSeptets(r rune) int {
	switch {
	case strings.ContainsRune(gsmBasic, r):
		return 1
	case strings.ContainsRune(gsmExtension, r):
		return 2
	}
	return 0
}

// Analyze reports the encoding, length and segment count of text.
// Invalid UTF-8 bytes are treated as U+FFFD, which forces UCS-2.
func Analyze(text string) Info {
	var offending []rune
	for _, r := range text {
		if gsmSeptets(r) == 0 && !containsRune(offending, r) {
			offending = append(offending, r)
		}
	}
	if len(offending) == 0 {
		return pack(text, GSM7, gsmSingle, gsmMulti, gsmSeptets, nil)
	}
	return pack(text, UCS2, ucs2Single, ucs2Multi, utf16.RuneLen, offending)
}

func containsRune(rs []rune, r rune) bool {
	for _, x := range rs {
		if x == r {
			return true
		}
	}
	return false
}

// pack counts units and segments. A character never straddles two parts:
// when it does not fit in the remaining room of a part it starts the next
// one (an escaped GSM-7 pair and a UTF-16 surrogate pair stay together).
func pack(text string, enc Encoding, single, multi int, cost func(rune) int, offending []rune) Info {
	units := 0
	for _, r := range text {
		units += cost(r)
	}
	info := Info{Encoding: enc, Units: units, PerSegment: single, Offending: offending}
	switch {
	case units == 0:
		return info
	case units <= single:
		info.Segments = 1
		return info
	}
	info.PerSegment = multi
	segments, used := 1, 0
	for _, r := range text {
		c := cost(r)
		if used+c > multi {
			segments++
			used = 0
		}
		used += c
	}
	info.Segments = segments
	return info
}

// String summarises the analysis, e.g. "1 segment, GSM-7, 142/160" or
// "3 segments, UCS-2 (because of 'ë'), 150 units".
func (i Info) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d segment", i.Segments)
	if i.Segments != 1 {
		b.WriteByte('s')
	}
	b.WriteString(", ")
	b.WriteString(string(i.Encoding))
	if len(i.Offending) > 0 {
		const maxShown = 3
		b.WriteString(" (because of ")
		for n, r := range i.Offending {
			if n == maxShown {
				fmt.Fprintf(&b, " and %d more", len(i.Offending)-maxShown)
				break
			}
			if n > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%q", r)
		}
		b.WriteByte(')')
	}
	if i.Segments <= 1 {
		fmt.Fprintf(&b, ", %d/%d", i.Units, i.PerSegment)
	} else {
		fmt.Fprintf(&b, ", %d units", i.Units)
	}
	return b.String()
}
