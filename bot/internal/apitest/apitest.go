// Package apitest holds HTTP API tests to Seintje's OpenAPI description
// (docs/openapi.yaml): it validates real responses against it and compares
// the described routes with the router's.
package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/seintje/seintje/docs"
)

// Spec is the loaded and validated OpenAPI description.
type Spec struct {
	Doc    *openapi3.T
	router routers.Router
}

var registerProblem sync.Once

// Load parses and validates docs/openapi.yaml.
func Load() (*Spec, error) {
	registerProblem.Do(func() {
		openapi3filter.RegisterBodyDecoder("application/problem+json", openapi3filter.JSONBodyDecoder)
	})
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(docs.OpenAPI)
	if err != nil {
		return nil, fmt.Errorf("docs/openapi.yaml: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("docs/openapi.yaml is not valid OpenAPI 3: %w", err)
	}
	doc.Servers = nil // match requests to any test server
	r, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("docs/openapi.yaml: %w", err)
	}
	return &Spec{Doc: doc, router: r}, nil
}

// Described reports whether path is one the description covers: the /v1
// API and the service endpoints it lists. Provider webhooks, /metrics and
// the console's pages are not part of it.
func Described(path string) bool {
	return strings.HasPrefix(path, "/v1/") || slices.Contains([]string{"/healthz", "/readyz", "/openapi.json"}, path)
}

// ValidateResponse checks one exchange against the description: the route
// must be described, and the status, headers and body must match it
// (problem+json errors included).
func (s *Spec) ValidateResponse(req *http.Request, status int, header http.Header, body []byte) error {
	route, params, err := s.router.FindRoute(req)
	if err != nil {
		if status >= 400 {
			// No such route or method: still a problem+json answer.
			return s.validateProblem(req, status, header, body)
		}
		return fmt.Errorf("%s %s is not in docs/openapi.yaml: %w", req.Method, req.URL.Path, err)
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
	err = openapi3filter.ValidateResponse(req.Context(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: status, Header: header, Body: io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	})
	if err != nil {
		return fmt.Errorf("%s %s answered %d, which does not match docs/openapi.yaml: %w\nbody: %.500s", req.Method, req.URL.Path, status, err, body)
	}
	return nil
}

func (s *Spec) validateProblem(req *http.Request, status int, header http.Header, body []byte) error {
	if ct := header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		return fmt.Errorf("%s %s answered %d with Content-Type %q, not application/problem+json", req.Method, req.URL.Path, status, ct)
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return fmt.Errorf("%s %s answered %d with a body that is not JSON: %w", req.Method, req.URL.Path, status, err)
	}
	if err := s.Doc.Components.Schemas["Problem"].Value.VisitJSON(v); err != nil {
		return fmt.Errorf("%s %s answered %d with a problem that does not match the Problem schema: %w", req.Method, req.URL.Path, status, err)
	}
	return nil
}

var ginParam = regexp.MustCompile(`[:*]([A-Za-z_][A-Za-z0-9_]*)`)

// Operations lists the described operations as "METHOD /path/{param}".
func (s *Spec) Operations() []string {
	var out []string
	for path, item := range s.Doc.Paths.Map() {
		for method := range item.Operations() {
			out = append(out, strings.ToUpper(method)+" "+path)
		}
	}
	slices.Sort(out)
	return out
}

// GinRoute turns a gin route ("GET", "/v1/nudges/:id") into the
// description's form ("GET /v1/nudges/{id}").
func GinRoute(method, path string) string {
	return method + " " + ginParam.ReplaceAllString(path, "{$1}")
}
