package outreach

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/seintje/seintje/bot/audit"
	"github.com/seintje/seintje/bot/experiment"
	"github.com/seintje/seintje/bot/flow"
	"github.com/seintje/seintje/bot/store"
)

// ActionReportOutcome is the audit action for an outcome reported for a
// nudge (by the case system, or by Seintje for its own events).
const ActionReportOutcome = "report_outcome"

// armFor returns the arm of the person in the flow's experiment: the one
// stored for them, else a keyed hash of the case reference and the
// experiment id mapped onto the arms' shares (stable across nudges). It
// returns "" when the flow runs no experiment or it is stopped.
func (s *Service) armFor(ctx context.Context, f *flow.Flow, tag, ref string) (string, error) {
	e := f.Experiment
	if e == nil || e.Stopped {
		return "", nil
	}
	stored, err := s.Store.ArmOf(ctx, tag, e.ID)
	if err != nil {
		return "", err
	}
	if stored != "" && e.Arm(stored) != nil {
		return stored, nil
	}
	unit := ref
	if unit == "" {
		unit = "tag:" + tag
	}
	i := experiment.Assign(s.Keyer, e.ID, unit, e.Shares())
	if i < 0 {
		return "", fmt.Errorf("experiment %s has no arm with a share", e.ID)
	}
	return e.Arms[i].Name, nil
}

// enroll records the person's arm (once) and counts them.
func (s *Service) enroll(ctx context.Context, f *flow.Flow, tag, arm, nudgeID string, now time.Time) error {
	if arm == "" || f.Experiment == nil {
		return nil
	}
	design, err := json.Marshal(f.Design())
	if err != nil {
		return fmt.Errorf("encode experiment design: %w", err)
	}
	_, err = s.Store.Enroll(ctx, tag, f.Experiment.ID, arm, nudgeID, now, design)
	return err
}

// ErrUnknownNudge is returned when an outcome names no known nudge.
var ErrUnknownNudge = errors.New("unknown nudge")

// OutcomeRequest is an outcome reported by the case system, for a nudge
// by id or for the newest nudge of a flow for a case reference.
type OutcomeRequest struct {
	Nudge   string
	Ref     string
	Flow    string
	Outcome string
	At      time.Time
	By      string // API token name
}

// OutcomeResult is the outcome as recorded.
type OutcomeResult struct {
	Nudge    *store.Nudge
	Record   store.OutcomeRecord
	Existing bool // the same outcome had been reported before
}

// RecordOutcome validates an outcome against the nudge's flow version and
// stores it once (idempotent); the nudge's experiment counts it.
func (s *Service) RecordOutcome(ctx context.Context, req OutcomeRequest) (OutcomeResult, error) {
	n, err := s.outcomeNudge(ctx, req)
	if err != nil {
		return OutcomeResult{}, err
	}
	f, err := s.Flows.Version(ctx, n.Flow)
	if err != nil {
		return OutcomeResult{}, fmt.Errorf("load flow of nudge: %w", err)
	}
	if flow.IsSystemOutcome(req.Outcome) || !f.HasOutcome(req.Outcome) {
		names := make([]string, 0, len(f.Outcomes))
		for _, o := range f.Outcomes {
			names = append(names, o.Name)
		}
		msg := fmt.Sprintf("flow %s declares no outcome %q", f.ID, req.Outcome)
		switch {
		case flow.IsSystemOutcome(req.Outcome):
			msg = fmt.Sprintf("%q is recorded by Seintje itself; the case system reports the flow's own outcomes", req.Outcome)
		case len(names) == 0:
			msg += "; it declares none"
		default:
			msg += "; it declares: " + strings.Join(names, ", ")
		}
		return OutcomeResult{}, &FieldError{Field: "outcome", Code: "unknown_outcome", Message: msg}
	}
	if req.At.After(s.Now().Add(5 * time.Minute)) {
		return OutcomeResult{}, &FieldError{Field: "at", Code: "invalid_field", Message: "at lies in the future; report an outcome once it happened"}
	}
	return s.recordOutcome(ctx, n, f, req.Outcome, req.At, req.By)
}

func (s *Service) outcomeNudge(ctx context.Context, req OutcomeRequest) (*store.Nudge, error) {
	if req.Nudge != "" {
		n, err := s.Store.Nudge(ctx, req.Nudge)
		if errors.Is(err, store.ErrNotFound) {
			return nil, ErrUnknownNudge
		}
		return n, err
	}
	ns, err := s.NudgesOf(ctx, req.Ref, 200)
	if errors.Is(err, ErrUnknownRecipient) {
		return nil, ErrUnknownNudge
	}
	if err != nil {
		return nil, err
	}
	// Newest first: the newest nudge of the flow started before the
	// outcome happened, else the oldest one of the flow.
	var last *store.Nudge
	for _, n := range ns {
		if n.Flow.ID != req.Flow {
			continue
		}
		if !n.StartedAt.After(req.At) {
			return n, nil
		}
		last = n
	}
	if last == nil {
		return nil, ErrUnknownNudge
	}
	return last, nil
}

func (s *Service) recordOutcome(ctx context.Context, n *store.Nudge, f *flow.Flow, name string, at time.Time, by string) (OutcomeResult, error) {
	window := time.Duration(-1)
	if w, ok := f.Window(name); ok && f.Experiment.ID == n.Experiment {
		window = w
	}
	rec, existing, err := s.Store.RecordOutcome(ctx, n, store.OutcomeRecord{Outcome: name, At: at.UTC(), By: by, RecordedAt: s.Now().UTC()}, window)
	if err != nil {
		return OutcomeResult{}, err
	}
	// Reports by the case system are audited; Seintje's own events are
	// already in the trail or the transcript as what they are.
	if !existing && by != "seintje" {
		detail := name
		if n.Arm != "" {
			detail += " (" + n.Experiment + ": " + n.Arm + ")"
		}
		if err := s.audit(ctx, audit.Entry{Action: ActionReportOutcome, Nudge: n.ID, Subject: n.Tag, Detail: detail}); err != nil {
			return OutcomeResult{}, err
		}
	}
	return OutcomeResult{Nudge: n, Record: rec, Existing: existing}, nil
}

// SystemOutcome records one of Seintje's own events (replied, asked for a
// call, reached by the werkplaats, opted out, undelivered) as an outcome
// of nudge n. It never fails the caller's work: errors are logged.
func (s *Service) SystemOutcome(ctx context.Context, n *store.Nudge, name string, at time.Time) {
	if n == nil || n.ID == "" {
		return
	}
	f, err := s.Flows.Version(ctx, n.Flow)
	if err != nil {
		s.Log.WarnContext(ctx, "outcome: load flow", "nudge", n.ID, "err", err)
		f = nil
	}
	if _, err := s.recordOutcome(ctx, n, f, name, at, "seintje"); err != nil {
		s.Log.WarnContext(ctx, "outcome not recorded", "nudge", n.ID, "outcome", name, "err", err)
	}
}

// systemOutcomeOf is SystemOutcome for a nudge known by id.
func (s *Service) systemOutcomeOf(ctx context.Context, nudgeID, name string, at time.Time) {
	if nudgeID == "" || nudgeID == "_" {
		return
	}
	n, err := s.Store.Nudge(ctx, nudgeID)
	if err != nil {
		return
	}
	s.SystemOutcome(ctx, n, name, at)
}

// ErrUnknownExperiment is returned for an experiment nobody was assigned to
// and no live flow declares.
var ErrUnknownExperiment = errors.New("unknown experiment")

// ExperimentReport computes an experiment's report from its counters: per
// arm the people, the outcome rates with Wilson intervals, the difference
// with the control arm (Newcombe) and the relative risk, the sample-ratio
// check and the people still needed. Late lists outcomes reported after
// their window (not counted), by outcome and arm.
func (s *Service) ExperimentReport(ctx context.Context, id string) (experiment.Report, map[string]map[string]int, error) {
	counts, raw, err := s.Store.Experiment(ctx, id)
	if err != nil {
		return experiment.Report{}, nil, err
	}
	var d experiment.Design
	found := false
	if f := s.flowWithExperiment(id); f != nil {
		d, found = f.Design(), true
	} else if len(raw) > 0 {
		if err := json.Unmarshal(raw, &d); err != nil {
			return experiment.Report{}, nil, fmt.Errorf("decode experiment design: %w", err)
		}
		// No live flow declares it any more, so nobody is assigned: it
		// has stopped, whatever the stored copy said when it ran.
		d.Stopped, found = true, true
	}
	if !found {
		return experiment.Report{}, nil, ErrUnknownExperiment
	}
	return experiment.Analyze(d, experiment.Counts{People: counts.People, Outcomes: counts.Counted}), counts.Late, nil
}

// Experiments lists the experiments of the live flows and every one that
// ever assigned someone.
func (s *Service) Experiments(ctx context.Context) ([]string, error) {
	ids, err := s.Store.Experiments(ctx)
	if err != nil {
		return nil, err
	}
	if l, ok := s.Flows.(interface{ All() []*flow.Flow }); ok {
		for _, f := range l.All() {
			if f.Experiment != nil && !slices.Contains(ids, f.Experiment.ID) {
				ids = append(ids, f.Experiment.ID)
			}
		}
	}
	return ids, nil
}

func (s *Service) flowWithExperiment(id string) *flow.Flow {
	l, ok := s.Flows.(interface{ All() []*flow.Flow })
	if !ok {
		return nil
	}
	for _, f := range l.All() {
		if f.Experiment != nil && f.Experiment.ID == id {
			return f
		}
	}
	return nil
}
