package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

func TestHealthcheck(t *testing.T) {
	var ready atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/healthz":
			w.WriteHeader(http.StatusOK)
		case r.URL.Path == "/readyz" && ready.Load():
			w.WriteHeader(http.StatusOK)
		default:
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	tests := []struct {
		name  string
		args  []string
		ready bool
		want  int
	}{
		{"live", []string{"--addr", addr}, false, 0},
		{"not ready", []string{"--addr", addr, "--ready"}, false, 1},
		{"ready", []string{"--addr", addr, "--ready"}, true, 0},
		{"nobody listening", []string{"--addr", "127.0.0.1:1"}, false, 1},
		{"bad addr", []string{"--addr", "nonsense"}, false, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ready.Store(tt.ready)
			var out, errOut bytes.Buffer
			if code := runHealthcheck(context.Background(), tt.args, &out, &errOut); code != tt.want {
				t.Errorf("exit %d, want %d (%s%s)", code, tt.want, out.String(), errOut.String())
			}
		})
	}
}
