package flow

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// positions finds line:col for paths in one parsed YAML file.
type positions struct {
	file *ast.File
	name string
	src  []byte
}

// node returns the node at exactly path, or nil.
func (ps positions) node(path ...any) ast.Node {
	if ps.file == nil {
		return nil
	}
	b := (&yaml.PathBuilder{}).Root()
	for _, el := range path {
		switch v := el.(type) {
		case string:
			b = b.Child(v)
		case int:
			b = b.Index(uint(v))
		}
	}
	n, err := b.Build().FilterFile(ps.file)
	if err != nil {
		return nil
	}
	return n
}

// key returns the position of the key of the mapping entry at path (the
// last element of path is that key), falling back to at(path).
func (ps positions) key(path ...any) (int, int) {
	if len(path) > 0 {
		if k, ok := path[len(path)-1].(string); ok {
			if m, ok := ps.node(path[:len(path)-1]...).(*ast.MappingNode); ok {
				for _, mv := range m.Values {
					if ks, ok := keyString(mv.Key); ok && ks == k {
						if tok := mv.Key.GetToken(); tok != nil && tok.Position != nil {
							return tok.Position.Line, tok.Position.Column
						}
					}
				}
			}
		}
	}
	return ps.at(path...)
}

// inText returns the position of byte offset off inside the text at path:
// the exact line and column, also inside a multi-line text (`nl: |`).
// Without a usable offset it falls back to at(path).
func (ps positions) inText(off int, path ...any) (int, int) {
	n := ps.node(path...)
	if n == nil || off < 0 {
		return ps.at(path...)
	}
	if l, c, ok := textPos(ps.src, n, off); ok {
		return l, c
	}
	return ps.at(path...)
}

// textPos maps byte offset off in the value of scalar node n to its line
// and column in src.
func textPos(src []byte, n ast.Node, off int) (int, int, bool) {
	tok := n.GetToken()
	if tok == nil || tok.Position == nil {
		return 0, 0, false
	}
	switch v := n.(type) {
	case *ast.LiteralNode:
		if v.Value == nil {
			return 0, 0, false
		}
		text := v.Value.Value
		before := text[:min(max(off, 0), len(text))]
		k := strings.Count(before, "\n")
		col := utf8.RuneCountInString(before[strings.LastIndexByte(before, '\n')+1:])
		lines := strings.Split(string(src), "\n")
		// The text starts on the line after the `|` or `>`; its
		// indentation is that of its first non-blank line.
		indent := -1
		for i := tok.Position.Line; i < len(lines); i++ {
			if t := strings.TrimLeft(lines[i], " "); t != "" {
				indent = len(lines[i]) - len(t)
				break
			}
		}
		if indent < 0 {
			return 0, 0, false
		}
		return tok.Position.Line + 1 + k, indent + col + 1, true
	case *ast.StringNode:
		text := v.Value
		before := text[:min(max(off, 0), len(text))]
		if strings.Contains(before, "\n") {
			return 0, 0, false // a plain text folded over lines: rare, use the start
		}
		col := tok.Position.Column
		if tok.Type == token.DoubleQuoteType || tok.Type == token.SingleQuoteType {
			col++
		}
		return tok.Position.Line, col + utf8.RuneCountInString(before), true
	}
	return 0, 0, false
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
	if len(src) > MaxFileBytes {
		add(1, 1, "file-too-large", fmt.Sprintf("the file is %d KB; a flow file may be at most %d KB", len(src)>>10, MaxFileBytes>>10),
			"split it into several flows")
		return nil, ds
	}
	if l, c, ok := tooDeep(src); ok {
		add(l, c, "too-deep", fmt.Sprintf("the file nests lists and mappings more than %d levels deep here", MaxDepth),
			"a flow needs at most 6 levels (steps, a step, replies, a route, a label, a text); check the brackets")
		return nil, ds
	}
	astFile, err := parser.ParseBytes(src, 0)
	if err != nil {
		line, col, msg := yamlErrorPos(err)
		what, hint := syntaxMessage(msg)
		if l, c, ok := unclosedQuote(src, line); ok && !strings.Contains(msg, "already defined") && !strings.Contains(msg, "\t") {
			line, col, what, hint = l, c, "a quoted text is not closed", "end the text with the same quote it starts with"
		}
		add(line, col, "yaml-syntax", what, hint)
		return nil, ds
	}
	if len(astFile.Docs) == 0 || astFile.Docs[0].Body == nil {
		add(1, 1, "empty-file", "the file is empty", "start from one of the shipped flows, e.g. flows/no-show.yaml")
		return nil, ds
	}
	if len(astFile.Docs) > 1 {
		add(docLine(astFile.Docs[1]), 1, "two-documents", "the file holds more than one flow (a line `---` starts a second one)",
			"put each flow in its own file")
		return nil, ds
	}
	sh := &shape{file: file}
	sh.walk(astFile.Docs[0].Body, reflect.TypeOf(Flow{}), "", 0)
	if len(sh.ds) > 0 {
		sh.ds.Sort()
		return nil, sh.ds
	}
	f := &Flow{}
	if err := yaml.NodeToValue(astFile.Docs[0].Body, f, yaml.DisallowUnknownField()); err != nil {
		// The shape pass knows every field, so this is not expected; still
		// never show the decoder's words.
		line, col, _ := yamlErrorPos(err)
		add(line, col, "bad-value", "this value does not fit here", "compare it with the same part of flows/no-show.yaml")
		return nil, ds
	}
	f.File = file
	f.Source = src
	sum := sha256.Sum256(src)
	f.Digest = hex.EncodeToString(sum[:])[:12]
	pos := positions{file: astFile, name: file, src: src}
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

// docLine is the line where a YAML document starts.
func docLine(d *ast.DocumentNode) int {
	if d.Start != nil && d.Start.Position != nil {
		return d.Start.Position.Line
	}
	if tok := d.GetToken(); tok != nil && tok.Position != nil {
		return tok.Position.Line
	}
	return 1
}

// tooDeep finds brackets nested deeper than MaxDepth (outside quotes and
// comments) before the YAML parser sees them, and returns where.
func tooDeep(src []byte) (line, col int, deep bool) {
	depth, line, col := 0, 1, 0
	var quote byte
	comment := false
	for _, b := range src {
		col++
		switch {
		case b == '\n':
			line, col, comment = line+1, 0, false
			if quote == '\'' || quote == '"' {
				continue // quoted texts may span lines
			}
		case comment:
		case quote != 0:
			if b == quote {
				quote = 0
			}
		case b == '#':
			comment = true
		case b == '"' || b == '\'':
			quote = b
		case b == '[' || b == '{':
			depth++
			if depth > MaxDepth {
				return line, col, true
			}
		case b == ']' || b == '}':
			if depth > 0 {
				depth--
			}
		}
	}
	return 0, 0, false
}

// unclosedQuote looks back from the line where the parser gave up for a
// line with a double quote that is never closed (the parser reads on to
// the next quote and fails later), and returns where that quote is.
func unclosedQuote(src []byte, errLine int) (int, int, bool) {
	lines := strings.Split(string(src), "\n")
	for l := min(errLine, len(lines)); l >= max(1, errLine-30); l-- {
		text := lines[l-1]
		if i := strings.Index(text, " #"); i >= 0 && strings.Count(text[:i], `"`)%2 == 0 {
			text = text[:i]
		}
		n, last := 0, -1
		for i := 0; i < len(text); i++ {
			switch text[i] {
			case '\\':
				i++
			case '"':
				n++
				last = i
			}
		}
		if n%2 == 1 {
			return l, utf8.RuneCountInString(text[:last]) + 1, true
		}
	}
	return 0, 0, false
}

// syntaxMessage turns the YAML parser's message into a coordinator's words
// and a fix.
func syntaxMessage(msg string) (string, string) {
	indent := "check the indentation: use spaces (not tabs) and line up the keys of one group"
	switch {
	case strings.Contains(msg, "already defined"):
		return "this key is written twice in the same group", "keep one of the two"
	case strings.Contains(msg, "cannot start any token") && strings.Contains(msg, "\t"):
		return "a tab is used for indentation", "indent with spaces only"
	case strings.Contains(msg, "double-quoted"), strings.Contains(msg, "single-quoted"):
		return "a quoted text is not closed", "end the text with the same quote it starts with"
	case strings.Contains(msg, "mapping value is not allowed"), strings.Contains(msg, "could not find expected ':'"):
		return "a `name: value` line is in the wrong place, or a text contains `: `", indent + "; put a text with a colon in quotes"
	case strings.Contains(msg, "']'"), strings.Contains(msg, "'}'"), strings.Contains(msg, "end token"):
		return "a list `[ ]` or group `{ }` is not closed", "close every `[` with `]` and every `{` with `}`"
	case strings.Contains(msg, "cannot start any token"):
		return "this character cannot start a value", "put the text in quotes"
	}
	return "the file's structure is broken here", indent + "; put texts with special characters (: # { } [ ] , & * !) in quotes"
}
