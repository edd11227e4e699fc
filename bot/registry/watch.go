package registry

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/seintje/seintje/bot/flow"
)

// Reload reads dir again and installs every flow file that passes the
// checks. Reload is per file: a file with errors keeps its previous version
// live and its errors are recorded as pending (GET /v1/flows), while the
// other files go live. A file that was removed keeps its last version live
// (conversations may still use it; remove a flow by restarting). A file
// whose content changed while its `version:` did not go up (compared with
// the live version) is installed all the same, with a warning in List. It
// returns the ids of the flows whose live version changed.
func (r *Registry) Reload(ctx context.Context, dir string, now time.Time) ([]string, error) {
	flows, ds, err := flow.LoadDir(dir)
	if err != nil {
		return nil, err
	}
	if r.Check != nil {
		for _, f := range flows {
			ds = append(ds, r.Check(f)...)
		}
	}
	// Errors by file.
	bad := map[string][]string{}
	for _, d := range ds.Errors() {
		bad[d.File] = append(bad[d.File], d.String())
	}
	install := map[string]*flow.Flow{}
	warnings := map[string][]string{}
	var changed []string
	for id, f := range flows {
		if len(bad[f.File]) > 0 {
			continue
		}
		cur, ok := r.Current(id)
		if ok && cur.Digest == f.Digest {
			continue
		}
		if ok {
			if w := versionWarning(cur, f); w != "" {
				warnings[id] = []string{w}
			}
		}
		install[id] = f
		changed = append(changed, id)
	}
	if len(install) > 0 {
		if err := r.install(ctx, install, now, warnings); err != nil {
			return nil, err
		}
	}
	// Pending errors: by the id of the flow live from that file, else by file.
	byFile := map[string]string{}
	for _, in := range r.List() {
		if in.Version > 0 {
			byFile[filepath.Clean(in.File)] = in.ID
		}
	}
	r.mu.Lock()
	for key := range r.pending {
		if strings.HasSuffix(key, ".yaml") || strings.HasSuffix(key, ".yml") {
			delete(r.pending, key) // recomputed below
		}
	}
	for id, f := range r.current {
		if len(bad[f.File]) == 0 {
			delete(r.pending, id)
		}
	}
	for file, lines := range bad {
		key := file
		if id, ok := byFile[filepath.Clean(file)]; ok {
			key = id
		}
		r.pending[key] = lines
	}
	r.mu.Unlock()
	sort.Strings(changed)
	return changed, nil
}

// versionWarning says when next changes the content of live flow cur
// without raising its version; "" when the version went up.
func versionWarning(cur, next *flow.Flow) string {
	if next.Version > cur.Version {
		return ""
	}
	how := "did not go up"
	if next.Version < cur.Version {
		how = fmt.Sprintf("went down from %d", cur.Version)
	}
	return fmt.Sprintf("%s: the content changed (%s → %s) but version %d %s; it is live anyway. Raise `version:` by one on every change, so conversations and reports can tell the versions apart",
		next.File, cur.Digest, next.Digest, next.Version, how)
}

// WatchOptions tune Watch.
type WatchOptions struct {
	// Debounce waits this long after the last change before reloading, so an
	// editor's save (write, rename, chmod) reloads once. Default 200ms.
	Debounce time.Duration
	Log      *slog.Logger
	Now      func() time.Time
	// OnReload is called after every reload (tests).
	OnReload func(changed []string, err error)
}

// Watcher reloads a flows directory when its files change.
type Watcher struct {
	fsw  *fsnotify.Watcher
	done chan struct{}
	wg   sync.WaitGroup
}

// Watch starts watching dir (fsnotify) and calls Reload after changes.
// Stop it with Close.
func (r *Registry) Watch(dir string, o WatchOptions) (*Watcher, error) {
	if o.Debounce <= 0 {
		o.Debounce = 200 * time.Millisecond
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watch flows: %w", err)
	}
	// Watch the directory, not the files: editors replace files on save.
	if err := fsw.Add(dir); err != nil {
		fsw.Close()
		return nil, fmt.Errorf("watch flows directory %q: %w", dir, err)
	}
	w := &Watcher{fsw: fsw, done: make(chan struct{})}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		r.watchLoop(w, dir, o)
	}()
	o.Log.Info("watching flow files", "dir", dir)
	return w, nil
}

func (r *Registry) watchLoop(w *Watcher, dir string, o WatchOptions) {
	var timer *time.Timer
	var fire <-chan time.Time
	for {
		select {
		case <-w.done:
			if timer != nil {
				timer.Stop()
			}
			return
		case ev, ok := <-w.fsw.Events:
			if !ok {
				return
			}
			name := filepath.Base(ev.Name)
			if !(strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml")) || strings.HasPrefix(name, ".") {
				continue
			}
			if timer == nil {
				timer = time.NewTimer(o.Debounce)
			} else {
				timer.Reset(o.Debounce)
			}
			fire = timer.C
		case err, ok := <-w.fsw.Errors:
			if !ok {
				return
			}
			o.Log.Error("watching flow files", "err", err)
		case <-fire:
			fire = nil
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			changed, err := r.Reload(ctx, dir, o.Now())
			cancel()
			switch {
			case err != nil:
				o.Log.Error("reload flows", "err", err)
			default:
				for _, id := range changed {
					f, _ := r.Current(id)
					o.Log.Info("flow reloaded", "flow", id, "version", f.Version, "digest", f.Digest)
					if w := r.warningsOf(id); len(w) > 0 {
						o.Log.Warn("flow changed without a higher version", "flow", id, "version", f.Version, "digest", f.Digest,
							"warning", strings.Join(w, "\n"))
					}
				}
				for _, in := range r.List() {
					if len(in.PendingError) > 0 {
						o.Log.Warn("flow change refused: the previous version keeps running",
							"flow", in.ID, "live_version", in.Version, "errors", strings.Join(in.PendingError, "\n"))
					}
				}
			}
			if o.OnReload != nil {
				o.OnReload(changed, err)
			}
		}
	}
}

func (r *Registry) warningsOf(id string) []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.warnings[id]
}

// Close stops watching and waits for a running reload to finish.
func (w *Watcher) Close() error {
	close(w.done)
	err := w.fsw.Close()
	w.wg.Wait()
	if err != nil {
		return fmt.Errorf("stop watching flows: %w", err)
	}
	return nil
}
