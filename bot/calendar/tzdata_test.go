package calendar

// Embed the time zone database so the tests pass on hosts without zoneinfo.
import _ "time/tzdata"
