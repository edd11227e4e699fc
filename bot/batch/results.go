package batch

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// ResultsHeader is the header of results.csv.
var ResultsHeader = []string{"row", "ref", "nudge_id", "result", "status", "outcome", "delivery", "delivery_reason", "replied", "asked_to_be_called", "opted_out", "arm"}

// WriteResults writes one CSV row per person started (or refused) by the
// batch, by case reference: nudge id, what happened at the start, the
// conversation's status and outcome, the first message's delivery, and the
// experiment arm the person is in (empty outside an experiment). No
// phone numbers, no message bodies. It reads the batch's own figures, a
// chunk at a time, never the nudges themselves.
func (s *Service) WriteResults(ctx context.Context, id string, w io.Writer, comma rune) error {
	if _, err := s.Get(ctx, id); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.Comma = comma
	if err := cw.Write(ResultsHeader); err != nil {
		return err
	}
	n, err := s.rdb.LLen(ctx, s.key(id, "res")).Result()
	if err != nil {
		return fmt.Errorf("batch %s results: %w", id, err)
	}
	for i := int64(0); i < n; i++ {
		raw, err := s.rdb.LIndex(ctx, s.key(id, "res"), i).Result()
		if err != nil {
			return fmt.Errorf("batch %s results: %w", id, err)
		}
		var rs []result
		if err := json.Unmarshal([]byte(raw), &rs); err != nil {
			return fmt.Errorf("batch %s results: %w", id, err)
		}
		ids := make([]string, 0, len(rs))
		flags := make([]string, 0, 3*len(rs))
		for _, r := range rs {
			if r.Nudge != "" {
				ids = append(ids, r.Nudge)
				flags = append(flags, r.Nudge+":replied", r.Nudge+":callback", r.Nudge+":opted_out")
			}
		}
		dl, cv, fl := map[string]string{}, map[string]string{}, map[string]bool{}
		if len(ids) > 0 {
			pipe := s.rdb.Pipeline()
			d := pipe.HMGet(ctx, s.key(id, "dl"), ids...)
			c := pipe.HMGet(ctx, s.key(id, "cv"), ids...)
			f := pipe.HMGet(ctx, s.key(id, "fl"), flags...)
			if _, err := pipe.Exec(ctx); err != nil {
				return fmt.Errorf("batch %s results: %w", id, err)
			}
			for k, nid := range ids {
				dl[nid], _ = d.Val()[k].(string)
				cv[nid], _ = c.Val()[k].(string)
			}
			for k, name := range flags {
				fl[name] = f.Val()[k] != nil
			}
		}
		for _, r := range rs {
			status, outcome, _ := strings.Cut(cv[r.Nudge], "|")
			delivery, reason := "", ""
			if v := dl[r.Nudge]; v != "" {
				parts := strings.SplitN(v, "|", 3)
				if len(parts) == 3 {
					delivery, reason = parts[1], parts[2]
				}
			}
			yes := func(f string) string {
				if r.Nudge != "" && fl[r.Nudge+":"+f] {
					return "yes"
				}
				return ""
			}
			if err := cw.Write([]string{strconv.Itoa(r.Row), safeCell(r.Ref), r.Nudge, r.Result, status, outcome, delivery, reason,
				yes("replied"), yes("callback"), yes("opted_out"), safeCell(r.Arm)}); err != nil {
				return err
			}
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// safeCell keeps a spreadsheet from reading a value as a formula.
func safeCell(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}
