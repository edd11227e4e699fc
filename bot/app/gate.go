package app

import (
	"fmt"

	"github.com/seintje/seintje/bot/calendar"
	"github.com/seintje/seintje/bot/config"
	"github.com/seintje/seintje/bot/outreach"
)

// newGate builds the sending hours and weekly limit from the config
// (SEINTJE_QUIET_HOURS, SEINTJE_HOLIDAY_*, SEINTJE_WEEKLY_LIMIT).
func newGate(cfg *config.Config) (*outreach.Gate, error) {
	spec := cfg.Sending.QuietHours
	if spec == "" {
		spec = calendar.DefaultSpec
	}
	w, err := calendar.ParseWindow(spec, calendar.HolidayOptions{GoodFriday: cfg.Sending.GoodFriday, LiberationDay: cfg.Sending.LiberationDay})
	if err != nil {
		return nil, fmt.Errorf("SEINTJE_QUIET_HOURS: %w", err)
	}
	return &outreach.Gate{Window: w, WeeklyLimit: cfg.Sending.WeeklyLimit}, nil
}
