package experiment

import (
	"encoding/binary"
	"encoding/hex"
)

// Hasher makes a keyed hash (HMAC) of s in a domain, as hex; phone.Keyer
// is one. Keyed, so nobody without the key can predict a person's arm.
type Hasher interface {
	Hash(domain, s string) string
}

// AssignDomain separates assignment hashes from every other keyed hash.
const AssignDomain = "experiment"

// Bucket maps a person (unit: the case reference) in an experiment to a
// number in [0, 1), the same every time: HMAC(key, experiment id ‖ unit).
func Bucket(h Hasher, experimentID, unit string) float64 {
	sum := h.Hash(AssignDomain, experimentID+"\x00"+unit)
	b, err := hex.DecodeString(sum)
	if err != nil || len(b) < 8 {
		// A Hasher returns hex; pad anything shorter with zeros.
		b = append(b, make([]byte, 8)...)
	}
	return float64(binary.BigEndian.Uint64(b[:8])>>11) / (1 << 53)
}

// Pick returns the index of the arm a bucket value u in [0, 1) falls into,
// with the arms laid out one after another by share. Shares need not sum
// to 1 (they are normalised); arms with share 0 are never picked. It
// returns -1 when no arm has a positive share.
func Pick(u float64, shares []float64) int {
	total := 0.0
	last := -1
	for i, s := range shares {
		if s > 0 {
			total += s
			last = i
		}
	}
	if last < 0 {
		return -1
	}
	acc := 0.0
	for i, s := range shares {
		if s <= 0 {
			continue
		}
		acc += s / total
		if u < acc {
			return i
		}
	}
	return last // u rounding past the last boundary
}

// Assign returns the index of the arm of a person: Pick(Bucket(...)).
func Assign(h Hasher, experimentID, unit string, shares []float64) int {
	return Pick(Bucket(h, experimentID, unit), shares)
}
