// Package docs is Seintje's documentation. It embeds the OpenAPI
// description (openapi.yaml, the source) so the service can serve it at
// GET /openapi.json and the tests can hold the router and the responses to it.
package docs

import _ "embed"

// OpenAPI is docs/openapi.yaml.
//
//go:embed openapi.yaml
var OpenAPI []byte
