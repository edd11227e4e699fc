package console

import (
	"compress/gzip"
	"errors"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
)

// staticFiles serves static/ under /console/static/. The large vendored
// assets (the NL Design System CSS, Mermaid: see static/vendor/VERSIONS)
// are kept gzip-compressed in the binary as <name>.gz, which keeps the
// binary and the container image small: a request for <name> gets them as
// they are, with Content-Encoding: gzip, when the client accepts gzip (every
// browser does), and unpacked otherwise.
type staticFiles struct {
	fsys  fs.FS
	files http.Handler
}

func newStaticFiles(fsys fs.FS) *staticFiles {
	return &staticFiles{fsys: fsys, files: http.FileServerFS(fsys)}
}

func (s *staticFiles) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
	if _, err := fs.Stat(s.fsys, name); err == nil || !errors.Is(err, fs.ErrNotExist) {
		s.files.ServeHTTP(w, r)
		return
	}
	f, err := s.fsys.Open(name + ".gz")
	if err != nil {
		s.files.ServeHTTP(w, r) // its 404
		return
	}
	defer f.Close()
	h := w.Header()
	if ct := mime.TypeByExtension(path.Ext(name)); ct != "" {
		h.Set("Content-Type", ct)
	}
	h.Set("Cache-Control", "public, max-age=86400")
	h.Add("Vary", "Accept-Encoding")
	if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		h.Set("Content-Encoding", "gzip")
		_, _ = io.Copy(w, f)
		return
	}
	zr, err := gzip.NewReader(f)
	if err != nil {
		http.Error(w, "broken asset", http.StatusInternalServerError)
		return
	}
	defer zr.Close()
	_, _ = io.Copy(w, zr)
}
