package console

import (
	"compress/gzip"
	"io"
	"net/http"
	"strings"
)

// mermaidScript serves the vendored Mermaid (static/vendor/mermaid), which
// is kept gzip-compressed in the binary (it is large: see
// static/vendor/VERSIONS): as it is to browsers that accept gzip (all of
// them), unpacked for any other client.
func (c *Console) mermaidScript(w http.ResponseWriter, r *http.Request) {
	f, err := files.Open("static/vendor/mermaid/mermaid.min.js.gz")
	if err != nil {
		c.notFound(w, r)
		return
	}
	defer f.Close()
	h := w.Header()
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("Cache-Control", "public, max-age=86400")
	h.Add("Vary", "Accept-Encoding")
	if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		h.Set("Content-Encoding", "gzip")
		_, _ = io.Copy(w, f)
		return
	}
	zr, err := gzip.NewReader(f)
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	defer zr.Close()
	_, _ = io.Copy(w, zr)
}
