package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/goccy/go-yaml"

	"github.com/seintje/seintje/docs"
)

// OpenAPIJSON returns the OpenAPI description (docs/openapi.yaml) as JSON.
func OpenAPIJSON() ([]byte, error) { return yaml.YAMLToJSON(docs.OpenAPI) }

// serveOpenAPI answers GET /openapi.json from the embedded description,
// converted once.
func serveOpenAPI() gin.HandlerFunc {
	b, err := OpenAPIJSON()
	return func(c *gin.Context) {
		if err != nil {
			problem(c, http.StatusInternalServerError, CodeInternal, "the embedded OpenAPI description does not parse", "")
			return
		}
		c.Header("Cache-Control", "public, max-age=300")
		c.Data(http.StatusOK, "application/json", b)
	}
}
