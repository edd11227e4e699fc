package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// Problem is an RFC 9457 problem details body. Code is a stable,
// machine-readable member clients can switch on; Field names the one
// request field that is wrong, when there is one.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
	Code     string `json:"code"`
	Field    string `json:"field,omitempty"`
}

// Stable problem codes.
const (
	CodeMalformed       = "malformed_request"
	CodeUnauthorized    = "unauthorized"
	CodeForbidden       = "forbidden"
	CodeNotFound        = "not_found"
	CodeOptedOut        = "recipient_opted_out"
	CodeInvalidField    = "invalid_field"
	CodeUnknownFlow     = "unknown_flow"
	CodeInvalidVar      = "invalid_var"
	CodeInvalidPhone    = "invalid_phone"
	CodeNotMobile       = "not_mobile"
	CodeConflict        = "conflict"
	CodeInternal        = "internal_error"
	CodeUnavailable     = "unavailable"
	CodeTooLarge        = "request_too_large"
	CodeMethodNotAllow  = "method_not_allowed"
	CodeUnsupportedType = "unsupported_media_type"
)

// problem writes a problem+json response and aborts the request.
func problem(c *gin.Context, status int, code, detail, field string) {
	p := Problem{
		Type:     "urn:seintje:problem:" + code, // a stable identifier, not a page we host
		Title:    http.StatusText(status),
		Status:   status,
		Detail:   detail,
		Instance: c.Request.URL.Path,
		Code:     code,
		Field:    field,
	}
	c.Header("Content-Type", "application/problem+json")
	c.AbortWithStatusJSON(status, p)
}
