package flow

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// positions finds line:col for paths in one parsed YAML file.
type positions struct {
	file *ast.File
	name string
}

// at returns the position of the node at path (built by p()), falling back
// to the nearest existing parent, and finally to 1:1.
func (ps positions) at(path ...any) (int, int) {
	for n := len(path); n >= 0; n-- {
		b := (&yaml.PathBuilder{}).Root()
		for _, el := range path[:n] {
			switch v := el.(type) {
			case string:
				b = b.Child(v)
			case int:
				b = b.Index(uint(v))
			}
		}
		if ps.file == nil {
			break
		}
		node, err := b.Build().FilterFile(ps.file)
		if err != nil || node == nil {
			continue
		}
		tok := node.GetToken()
		if tok == nil || tok.Position == nil {
			continue
		}
		// For a mapping value, point at its key: that is where people look.
		return tok.Position.Line, tok.Position.Column
	}
	return 1, 1
}

// Parse reads one flow file. It returns the flow (nil when it cannot be used)
// and every diagnostic found: errors and warnings.
func Parse(file string, src []byte) (*Flow, Diagnostics) {
	var ds Diagnostics
	add := func(line, col int, code, msg, hint string) {
		ds = append(ds, Diagnostic{Severity: Error, File: file, Line: line, Col: col, Code: code, Message: msg, Hint: hint})
	}
	astFile, err := parser.ParseBytes(src, 0)
	if err != nil {
		line, col, msg := yamlErrorPos(err)
		add(line, col, "yaml-syntax", "YAML syntax: "+msg, "check the indentation (spaces, not tabs) and that every text with a colon is quoted")
		return nil, ds
	}
	if len(astFile.Docs) == 0 || astFile.Docs[0].Body == nil {
		add(1, 1, "empty-file", "the file is empty", "start from one of the shipped flows, e.g. flows/no-show.yaml")
		return nil, ds
	}
	f := &Flow{}
	if err := yaml.NodeToValue(astFile.Docs[0].Body, f, yaml.DisallowUnknownField()); err != nil {
		line, col, msg := yamlErrorPos(err)
		hint := "check the spelling and the type of this field against the schema (flows/flow.schema.json)"
		if strings.Contains(msg, "unknown field") {
			hint = "remove it or correct the spelling; allowed step fields are id, say, simple, replies, otherwise, wait, action, reason, outcome, next, reminders, priority, preferred, whatsapp"
		}
		add(line, col, "yaml-field", msg, hint)
		return nil, ds
	}
	f.File = file
	f.Source = src
	sum := sha256.Sum256(src)
	f.Digest = hex.EncodeToString(sum[:])[:12]
	pos := positions{file: astFile, name: file}
	ds = append(ds, check(f, pos)...)
	if ds.HasErrors() {
		ds.Sort()
		return nil, ds
	}
	ds.Sort()
	return f, ds
}

// ParseFile reads and parses a flow file from disk.
func ParseFile(path string) (*Flow, Diagnostics, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read flow file: %w", err)
	}
	f, ds := Parse(path, src)
	return f, ds, nil
}

// LoadDir parses every *.yaml / *.yml flow file in dir. It returns the flows
// by id and all diagnostics; a flow id used twice is an error.
func LoadDir(dir string) (map[string]*Flow, Diagnostics, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("read flows directory %q: %w", dir, err)
	}
	var names []string
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || strings.HasPrefix(n, ".") || strings.HasPrefix(n, "_") {
			continue
		}
		if strings.HasSuffix(n, ".yaml") || strings.HasSuffix(n, ".yml") {
			if strings.HasSuffix(n, ".test.yaml") || strings.HasSuffix(n, ".test.yml") {
				continue // conversation test files live next to the flows
			}
			names = append(names, n)
		}
	}
	sort.Strings(names)
	flows := map[string]*Flow{}
	var all Diagnostics
	for _, n := range names {
		path := filepath.Join(dir, n)
		f, ds, err := ParseFile(path)
		if err != nil {
			return nil, nil, err
		}
		all = append(all, ds...)
		if f == nil {
			continue
		}
		if prev, ok := flows[f.ID]; ok {
			all = append(all, Diagnostic{Severity: Error, File: path, Line: 1, Col: 1, Code: "duplicate-id",
				Message: fmt.Sprintf("flow id %q is already used by %s", f.ID, prev.File),
				Hint:    "give each flow file its own id"})
			continue
		}
		flows[f.ID] = f
	}
	if len(names) == 0 {
		all = append(all, Diagnostic{Severity: Error, File: dir, Line: 1, Col: 1, Code: "no-flows",
			Message: "no flow files (*.yaml) in this directory", Hint: "set SEINTJE_FLOWS_DIR to the folder with the flow files"})
	}
	all.Sort()
	return flows, all, nil
}

var posRe = regexp.MustCompile(`^\[(\d+):(\d+)\]\s*`)

// yamlErrorPos extracts line, column and a one-line message from a goccy/go-yaml error.
func yamlErrorPos(err error) (int, int, string) {
	var ye yaml.Error
	if errors.As(err, &ye) {
		msg := ye.GetMessage()
		if tok := ye.GetToken(); tok != nil && tok.Position != nil {
			return tok.Position.Line, tok.Position.Column, firstLine(msg)
		}
		return 1, 1, firstLine(msg)
	}
	msg := err.Error()
	if m := posRe.FindStringSubmatch(msg); m != nil {
		var l, c int
		fmt.Sscan(m[1], &l)
		fmt.Sscan(m[2], &c)
		return l, c, firstLine(posRe.ReplaceAllString(msg, ""))
	}
	return 1, 1, firstLine(msg)
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return strings.TrimSpace(s[:i])
	}
	return strings.TrimSpace(s)
}
