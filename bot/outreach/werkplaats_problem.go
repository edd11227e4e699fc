package outreach

import (
	"errors"
	"net/http"
)

// Stable codes of the werkplaats errors: the API's problem code and, in
// the console, the key of the message next to the task. One table, so the
// API and the console refuse the same things in the same way.
const (
	CodeCallbackClaimed    = "callback_claimed"
	CodeCallbackNotClaimed = "callback_not_claimed"
	CodeCallbackDone       = "callback_done"
	CodeCallbackMoment     = "callback_moment_out_of_range"
)

// WerkplaatsProblem classifies an error of ClaimCallback, CompleteCallback,
// ReleaseCallback or RescheduleCallback: its stable code and HTTP status
// ("" and 0 for any other error).
func WerkplaatsProblem(err error) (code string, status int) {
	switch {
	case errors.Is(err, ErrClaimed):
		return CodeCallbackClaimed, http.StatusConflict
	case errors.Is(err, ErrNotClaimed):
		return CodeCallbackNotClaimed, http.StatusConflict
	case errors.Is(err, ErrTaskDone):
		return CodeCallbackDone, http.StatusConflict
	case errors.Is(err, ErrBadMoment):
		return CodeCallbackMoment, http.StatusUnprocessableEntity
	}
	return "", 0
}
