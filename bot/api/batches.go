package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/seintje/seintje/bot/batch"
	"github.com/seintje/seintje/bot/outreach"
)

// MaxBatchBody is the largest batch upload: 100,000 rows fit with room.
const MaxBatchBody = 40 << 20

// Problem codes of the batch endpoints.
const (
	CodeNoValidRows  = "no_valid_rows"
	CodeBatchState   = "batch_state"
	CodeBadSpreadsht = "invalid_file"
)

// nameJSON is {"name": ...}.
type nameJSON struct {
	Name string `json:"name"`
}

// batchItem is a POST /v1/nudges body without the flow.
type batchItem struct {
	Recipient struct {
		Ref      string `json:"ref"`
		Phone    string `json:"phone"`
		Name     string `json:"name"`
		Language string `json:"language"`
	} `json:"recipient"`
	Vars           map[string]any `json:"vars"`
	Caseworker     nameJSON       `json:"caseworker"`
	IdempotencyKey string         `json:"idempotency_key"`
}

type batchRequest struct {
	Flow   string      `json:"flow"`
	Items  []batchItem `json:"items"`
	SendAt *time.Time  `json:"send_at"`
	Start  bool        `json:"start"`
	// Caseworker signs the items that name none.
	Caseworker nameJSON `json:"caseworker"`
}

// problemWith writes a problem with extension members (the rejected rows,
// the row and column of a file problem).
func problemWith(c *gin.Context, status int, code, detail, field string, ext map[string]any) {
	out := map[string]any{"type": "urn:seintje:problem:" + code, "title": http.StatusText(status), "status": status,
		"detail": detail, "instance": c.Request.URL.Path, "code": code}
	if field != "" {
		out["field"] = field
	}
	for k, v := range ext {
		out[k] = v
	}
	c.Header("Content-Type", "application/problem+json")
	c.AbortWithStatusJSON(status, out)
}

func (s *Server) createBatch(c *gin.Context) {
	body, err := io.ReadAll(c.Request.Body)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		problem(c, http.StatusRequestEntityTooLarge, CodeTooLarge,
			fmt.Sprintf("the upload is larger than %d MB; split the file (at most %d people per batch)", MaxBatchBody>>20, batch.MaxRows), "")
		return
	}
	if err != nil {
		problem(c, http.StatusBadRequest, CodeMalformed, "the upload could not be read", "")
		return
	}
	idem := c.GetHeader("Idempotency-Key")
	if len(idem) > 200 {
		problem(c, http.StatusBadRequest, CodeMalformed, "Idempotency-Key is longer than 200 characters", "Idempotency-Key")
		return
	}
	req := batch.NewRequest{IdempotencyKey: idem, By: Caller(c)}
	ct, _, _ := mime.ParseMediaType(c.GetHeader("Content-Type"))
	switch ct {
	case "application/json":
		if !s.batchFromJSON(c, body, &req) {
			return
		}
	case "text/csv", "application/csv", "text/plain", "application/vnd.ms-excel",
		"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "application/octet-stream":
		if !s.batchFromFile(c, body, &req) {
			return
		}
	default:
		problem(c, http.StatusUnsupportedMediaType, CodeUnsupportedType,
			"send the people as JSON (application/json), CSV (text/csv) or Excel (application/vnd.openxmlformats-officedocument.spreadsheetml.sheet)", "")
		return
	}
	res, err := s.d.Batches.Create(c.Request.Context(), req)
	if !s.batchError(c, err) {
		return
	}
	out := gin.H{"batch": res.Batch, "rejected": orEmpty(res.Rejected), "existing": res.Existing}
	status := http.StatusCreated
	if res.Existing {
		status = http.StatusOK
		out["message"] = "this upload (or Idempotency-Key) already made batch " + res.Batch.ID + "; nothing new was created and nothing is sent twice"
	}
	c.Header("Location", "/v1/batches/"+res.Batch.ID)
	c.JSON(status, out)
}

func orEmpty(r []batch.Rejection) []batch.Rejection {
	if r == nil {
		return []batch.Rejection{}
	}
	return r
}

func (s *Server) batchFromJSON(c *gin.Context, body []byte, req *batch.NewRequest) bool {
	var in batchRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		if errors.Is(err, io.EOF) {
			problem(c, http.StatusBadRequest, CodeMalformed, "the body is empty; send {\"flow\": ..., \"items\": [...]}", "")
		} else {
			problem(c, http.StatusBadRequest, CodeMalformed, "the body is not valid JSON for this endpoint: "+err.Error(), jsonField(err))
		}
		return false
	}
	if strings.TrimSpace(in.Flow) == "" {
		problem(c, http.StatusUnprocessableEntity, CodeInvalidField, "flow is required, e.g. \"no-show\"", "flow")
		return false
	}
	if len(in.Items) > batch.MaxRows {
		problemWith(c, http.StatusUnprocessableEntity, "too_many_rows",
			fmt.Sprintf("%d items; at most %d fit in one batch", len(in.Items), batch.MaxRows), "items", map[string]any{"row": batch.MaxRows + 1})
		return false
	}
	req.Flow, req.Source, req.Start, req.Names = in.Flow, "json", in.Start, batch.JSONNames
	req.Caseworker = strings.TrimSpace(in.Caseworker.Name)
	if in.SendAt != nil {
		req.SendAt = *in.SendAt
	}
	for i, it := range in.Items {
		req.Items = append(req.Items, batch.Item{Row: i + 1, Ref: strings.TrimSpace(it.Recipient.Ref), Phone: it.Recipient.Phone,
			Name: strings.TrimSpace(it.Recipient.Name), Language: it.Recipient.Language, Caseworker: strings.TrimSpace(it.Caseworker.Name),
			Vars: it.Vars, IdempotencyKey: it.IdempotencyKey})
	}
	return true
}

func (s *Server) batchFromFile(c *gin.Context, body []byte, req *batch.NewRequest) bool {
	q := c.Request.URL.Query()
	req.Flow = q.Get("flow")
	if req.Flow == "" {
		problem(c, http.StatusUnprocessableEntity, CodeInvalidField, "name the flow in the query: POST /v1/batches?flow=no-show", "flow")
		return false
	}
	f, ok := s.d.Service.Flows.Current(req.Flow)
	if !ok {
		problem(c, http.StatusUnprocessableEntity, CodeUnknownFlow, fmt.Sprintf("there is no flow %q", req.Flow), "flow")
		return false
	}
	if v := q.Get("send_at"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			problem(c, http.StatusUnprocessableEntity, CodeInvalidField, "send_at must be a date and time like 2026-12-01T09:00:00+01:00", "send_at")
			return false
		}
		req.SendAt = t
	}
	req.Start = q.Get("start") == "true"
	req.Caseworker = strings.TrimSpace(q.Get("caseworker"))
	file, err := batch.ReadFile(f, body, batch.MappingFrom(q), s.d.Batches.Location())
	if err != nil {
		s.batchError(c, err)
		return false
	}
	req.Source, req.Names, req.Items = file.Table.Format, file.Columns.Name, file.Items
	return true
}

// batchError answers err as a problem; it returns true when err is nil.
func (s *Server) batchError(c *gin.Context, err error) bool {
	var ie *batch.InputError
	var nv *batch.NoValidRows
	var fe *outreach.FieldError
	switch {
	case err == nil:
		return true
	case errors.As(err, &ie):
		ext := map[string]any{}
		if ie.Row > 0 {
			ext["row"] = ie.Row
		}
		if ie.Column != "" {
			ext["column"] = ie.Column
		}
		problemWith(c, http.StatusUnprocessableEntity, ie.Code, ie.Message, ie.Column, ext)
	case errors.As(err, &nv):
		problemWith(c, http.StatusUnprocessableEntity, CodeNoValidRows, nv.Error(), "", map[string]any{"rejected": nv.Rejected})
	case errors.As(err, &fe):
		code := CodeInvalidField
		if fe.Code == "unknown_flow" {
			code = CodeUnknownFlow
		}
		problem(c, http.StatusUnprocessableEntity, code, fe.Message, fe.Field)
	case errors.Is(err, batch.ErrNotFound):
		problem(c, http.StatusNotFound, CodeNotFound, "no batch with this id (it may have expired after the retention period)", "")
	case errors.Is(err, batch.ErrState):
		problem(c, http.StatusConflict, CodeBatchState, err.Error(), "")
	default:
		s.internal(c, err)
	}
	return false
}

func (s *Server) getBatch(c *gin.Context) {
	ctx := c.Request.Context()
	b, err := s.d.Batches.Get(ctx, c.Param("id"))
	if !s.batchError(c, err) {
		return
	}
	offset, _ := strconv.Atoi(c.Query("rejected_offset"))
	const page = 1000
	rej, err := s.d.Batches.Rejected(ctx, b.ID, max(0, offset), page)
	if !s.batchError(c, err) {
		return
	}
	replies, err := s.d.Batches.RepliesPerHour(ctx, b.ID)
	if !s.batchError(c, err) {
		return
	}
	type hour struct {
		Hour    time.Time `json:"hour"`
		Replies int       `json:"replies"`
	}
	hours := []hour{}
	for t, n := range replies {
		hours = append(hours, hour{t, n})
	}
	slices.SortFunc(hours, func(a, b hour) int { return a.Hour.Compare(b.Hour) })
	c.JSON(http.StatusOK, gin.H{"batch": b, "rejected": orEmpty(rej), "rejected_offset": max(0, offset),
		"rejected_more": max(0, offset)+len(rej) < b.Rejected, "replies_per_hour": hours})
}

func (s *Server) listBatches(c *gin.Context) {
	bs, err := s.d.Batches.List(c.Request.Context(), 100)
	if !s.batchError(c, err) {
		return
	}
	c.JSON(http.StatusOK, gin.H{"batches": bs})
}

func (s *Server) startBatch(c *gin.Context) {
	var in struct {
		SendAt *time.Time `json:"send_at"`
	}
	if c.Request.ContentLength != 0 && !decodeJSON(c, &in) {
		return
	}
	at := time.Time{}
	if in.SendAt != nil {
		at = *in.SendAt
	}
	err := s.d.Batches.Start(c.Request.Context(), c.Param("id"), at)
	if !s.batchError(c, err) {
		return
	}
	b, err := s.d.Batches.Get(c.Request.Context(), c.Param("id"))
	if !s.batchError(c, err) {
		return
	}
	c.JSON(http.StatusAccepted, gin.H{"batch": b})
}

func (s *Server) cancelBatch(c *gin.Context) {
	err := s.d.Batches.Cancel(c.Request.Context(), c.Param("id"))
	if !s.batchError(c, err) {
		return
	}
	b, err := s.d.Batches.Get(c.Request.Context(), c.Param("id"))
	if !s.batchError(c, err) {
		return
	}
	c.JSON(http.StatusOK, gin.H{"batch": b})
}

func (s *Server) batchResults(c *gin.Context) {
	id := c.Param("id")
	if _, err := s.d.Batches.Get(c.Request.Context(), id); !s.batchError(c, err) {
		return
	}
	comma := ','
	if c.Query("sep") == ";" {
		comma = ';'
	}
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", `attachment; filename="batch-`+id+`-results.csv"`)
	c.Status(http.StatusOK)
	if err := s.d.Batches.WriteResults(c.Request.Context(), id, c.Writer, comma); err != nil {
		s.d.Log.ErrorContext(c.Request.Context(), "write batch results", "batch", id, "err", err)
	}
}
