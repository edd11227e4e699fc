package flow

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"
)

// Limits that keep reading a flow file cheap whatever it contains, so no
// file can stall `flows check`, start-up or a hot reload (issue 8).
const (
	// MaxFileBytes is the largest flow file (the shipped ones are ~10 KB).
	MaxFileBytes = 256 << 10
	// MaxDepth is the deepest nesting of lists and mappings (a shipped
	// flow needs 6: steps → step → replies → route → label → text).
	MaxDepth = 12
	// MaxTextBytes is the longest text in one language (10 SMS segments
	// are about 1,530 characters).
	MaxTextBytes = 4000
	// MaxTemplateActions is the most {{ }} parts in one text.
	MaxTemplateActions = 40
)

var (
	durationType = reflect.TypeOf(Duration{})
	textType     = reflect.TypeOf(Text{})
)

// shape is the first pass over a parsed flow file, before it is decoded
// into a Flow: it checks every key and every value against the Go types
// (unknown keys with a "did you mean", numbers, whole numbers, true/false,
// durations, lists, texts per language) and refuses YAML anchors, aliases
// and tags and too deep nesting. Every problem gets its exact position and
// a coordinator's words; the decoder then never has to speak.
type shape struct {
	file string
	ds   Diagnostics
}

func (sh *shape) errAt(tok *token.Token, code, msg, hint string) {
	l, c := 1, 1
	if tok != nil && tok.Position != nil {
		l, c = tok.Position.Line, tok.Position.Column
	}
	sh.ds = append(sh.ds, Diagnostic{Severity: Error, File: sh.file, Line: l, Col: c, Code: code, Message: msg, Hint: hint})
}

// fieldName describes where a value is, for messages: "`version`".
func fieldName(key string) string {
	if key == "" {
		return "this value"
	}
	return "`" + key + "`"
}

// walk checks node n against type t. key is the mapping key that holds n.
func (sh *shape) walk(n ast.Node, t reflect.Type, key string, depth int) {
	if n == nil {
		return
	}
	if depth > MaxDepth {
		sh.errAt(n.GetToken(), "too-deep", fmt.Sprintf("the file nests lists and mappings more than %d levels deep here", MaxDepth),
			"a flow needs at most 6 levels (steps, a step, replies, a route, a label, a text); check the indentation")
		return
	}
	switch v := n.(type) {
	case *ast.AnchorNode, *ast.AliasNode:
		sh.errAt(n.GetToken(), "yaml-anchor", "`&name` and `*name` (reusing a part of the file) are not allowed in a flow file",
			"write the part out in full where it is needed")
		return
	case *ast.TagNode:
		sh.errAt(n.GetToken(), "yaml-tag", fmt.Sprintf("%q (a YAML tag) is not allowed in a flow file", v.Start.Value),
			"remove it; write the value as it is")
		return
	case *ast.NullNode:
		return // an empty value: the decoder leaves the field empty
	case *ast.CommentGroupNode, *ast.CommentNode:
		return
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == durationType:
		s, ok := scalarString(n)
		if !ok {
			sh.errAt(n.GetToken(), "bad-duration", fmt.Sprintf("%s must be a duration", fieldName(key)), "write a number with a unit: 30m, 48h, 2d or 1w")
			return
		}
		if _, err := ParseDuration(s); err != nil {
			sh.errAt(n.GetToken(), "bad-duration", fmt.Sprintf("%q is not a duration", s), "write a number with a unit: 30m, 48h, 2d or 1w (no spaces)")
		}
		return
	case t == textType:
		sh.text(n, key, depth)
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := n.(*ast.MappingNode)
		if !ok {
			sh.errAt(n.GetToken(), "not-a-mapping", fmt.Sprintf("%s must be a group of `name: value` lines, not %s", fieldName(key), describeNode(n)),
				"indent the lines that belong to it under "+fieldName(key))
			return
		}
		fields := yamlFields(t)
		seen := map[string]bool{}
		for _, mv := range m.Values {
			k, ok := keyString(mv.Key)
			if !ok {
				sh.errAt(mv.Key.GetToken(), "bad-key", "a key must be a plain word", "write e.g. `id: ask`")
				continue
			}
			if seen[k] {
				sh.errAt(mv.Key.GetToken(), "duplicate-key", fmt.Sprintf("`%s` is written twice here", k), "keep one of the two")
				continue
			}
			seen[k] = true
			ft, ok := fields[k]
			if !ok {
				sh.errAt(mv.Key.GetToken(), "unknown-key", unknownKeyMessage(k, fields, key), unknownKeyHint(k, fields))
				continue
			}
			sh.walk(mv.Value, ft, k, depth+1)
		}
	case reflect.Map:
		m, ok := n.(*ast.MappingNode)
		if !ok {
			sh.errAt(n.GetToken(), "not-a-mapping", fmt.Sprintf("%s must be a group of `name: value` lines, not %s", fieldName(key), describeNode(n)),
				"indent the lines that belong to it under "+fieldName(key))
			return
		}
		for _, mv := range m.Values {
			k, ok := keyString(mv.Key)
			if !ok {
				sh.errAt(mv.Key.GetToken(), "bad-key", "a key must be a plain word", "write e.g. `nl: ...`")
				continue
			}
			sh.walk(mv.Value, t.Elem(), k, depth+1)
		}
	case reflect.Slice:
		seq, ok := n.(*ast.SequenceNode)
		if !ok {
			example := "write each item on its own line starting with `- `"
			if t.Elem().Kind() == reflect.String {
				example = "write a list, e.g. [\"1\", \"ja\"]"
			}
			sh.errAt(n.GetToken(), "not-a-list", fmt.Sprintf("%s must be a list, not %s", fieldName(key), describeNode(n)), example)
			return
		}
		for _, el := range seq.Values {
			sh.walk(el, t.Elem(), key, depth+1)
		}
	case reflect.String:
		if _, ok := scalarString(n); !ok {
			sh.errAt(n.GetToken(), "not-a-word", fmt.Sprintf("%s must be a word or a text, not %s", fieldName(key), describeNode(n)),
				"write it on the same line, e.g. `"+exampleOr(key, "id")+": ask`")
		}
	case reflect.Int:
		sh.wholeNumber(n, key)
	case reflect.Float64:
		switch n.(type) {
		case *ast.IntegerNode, *ast.FloatNode:
			return
		}
		s, ok := scalarString(n)
		num := strings.TrimSpace(s)
		if t.Name() == "Points" {
			num = strings.TrimSpace(strings.TrimSuffix(num, "pp"))
		}
		if _, err := strconv.ParseFloat(num, 64); ok && err == nil && !strings.EqualFold(num, "nan") && !strings.Contains(strings.ToLower(num), "inf") {
			return
		}
		example := "50"
		if t.Name() == "Points" {
			example = "5pp"
		}
		sh.errAt(n.GetToken(), "not-a-number", fmt.Sprintf("%s must be a number, not %s", fieldName(key), quoteOr(s, ok, n)), "write a number, e.g. "+example)
	case reflect.Bool:
		if _, ok := n.(*ast.BoolNode); !ok {
			s, _ := scalarString(n)
			sh.errAt(n.GetToken(), "not-true-false", fmt.Sprintf("%s must be true or false, not %q", fieldName(key), s), "write true or false")
		}
	}
}

// wholeNumber checks an int field: a whole number, not a word, not a fraction.
func (sh *shape) wholeNumber(n ast.Node, key string) {
	switch v := n.(type) {
	case *ast.IntegerNode:
		big := false
		switch i := v.Value.(type) {
		case int64:
			big = i > math.MaxInt32 || i < math.MinInt32
		case uint64:
			big = i > math.MaxInt32
		}
		if big {
			sh.errAt(n.GetToken(), "bad-number", fmt.Sprintf("%s is far too large: %s", fieldName(key), v.GetToken().Value), "write a small whole number, e.g. "+wholeExample(key))
		}
		return
	case *ast.FloatNode:
		sh.errAt(n.GetToken(), "not-whole", fmt.Sprintf("%s must be a whole number, not %s", fieldName(key), v.GetToken().Value),
			"write a whole number without a decimal point, e.g. "+wholeExample(key))
		return
	}
	s, ok := scalarString(n)
	if ok {
		if _, err := strconv.Atoi(strings.TrimSpace(s)); err == nil {
			return // "3" in quotes: the decoder reads it as 3
		}
		sh.errAt(n.GetToken(), "not-a-number", fmt.Sprintf("%s must be a whole number, not %q", fieldName(key), s), "write a whole number, e.g. "+wholeExample(key))
		return
	}
	sh.errAt(n.GetToken(), "not-a-number", fmt.Sprintf("%s must be a whole number, not %s", fieldName(key), describeNode(n)), "write a whole number, e.g. "+wholeExample(key))
}

func quoteOr(s string, ok bool, n ast.Node) string {
	if ok {
		return strconv.Quote(s)
	}
	return describeNode(n)
}

func wholeExample(key string) string {
	switch key {
	case "version":
		return "`version: 3` (raise it by one on every change)"
	case "priority":
		return "`priority: 1` (1 high, 2, 3 low)"
	}
	return "3"
}

func exampleOr(key, def string) string {
	if key == "" {
		return def
	}
	return key
}

// text checks a text: language codes with one text each, not too long.
func (sh *shape) text(n ast.Node, key string, depth int) {
	m, ok := n.(*ast.MappingNode)
	if !ok {
		s, isScalar := scalarString(n)
		msg := fmt.Sprintf("%s must be written per language, not %s", fieldName(key), describeNode(n))
		if isScalar {
			msg = fmt.Sprintf("%s must be written per language, not as one text %q", fieldName(key), clipText(s, 30))
		}
		sh.errAt(n.GetToken(), "text-not-per-language", msg, "write it under a language code, e.g. `"+exampleOr(key, "say")+": {nl: \"Hallo\", en: \"Hello\"}`")
		return
	}
	for _, mv := range m.Values {
		lang, ok := keyString(mv.Key)
		if !ok {
			sh.errAt(mv.Key.GetToken(), "bad-language", "a language code must be a short word like nl or en", "write e.g. `nl: Hallo`")
			continue
		}
		if depth+1 > MaxDepth {
			sh.walk(mv.Value, textType, lang, depth+1) // reports too-deep
			continue
		}
		switch mv.Value.(type) {
		case *ast.AnchorNode, *ast.AliasNode, *ast.TagNode:
			sh.walk(mv.Value, reflect.TypeOf(""), lang, depth+1)
			continue
		case *ast.NullNode:
			continue
		}
		s, ok := scalarString(mv.Value)
		if !ok {
			sh.errAt(mv.Value.GetToken(), "not-a-word", fmt.Sprintf("the %s text must be a text, not %s", lang, describeNode(mv.Value)),
				"write the text after `"+lang+": `, or on the next lines after `"+lang+": |`")
			continue
		}
		if len(s) > MaxTextBytes {
			sh.errAt(mv.Value.GetToken(), "text-too-long", fmt.Sprintf("the %s text has %d characters; a text may have at most %d", lang, utf8.RuneCountInString(s), MaxTextBytes),
				"shorten it: an SMS of 10 parts holds about 1,500 characters")
		}
	}
}

func clipText(s string, n int) string {
	r := []rune(strings.TrimSpace(s))
	if len(r) > n {
		return string(r[:n]) + "…"
	}
	return string(r)
}

// scalarString returns the text of a scalar node (a word, a number, a
// quoted or multi-line text).
func scalarString(n ast.Node) (string, bool) {
	switch v := n.(type) {
	case *ast.StringNode:
		return v.Value, true
	case *ast.LiteralNode:
		if v.Value == nil {
			return "", true
		}
		return v.Value.Value, true
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.InfinityNode, *ast.NanNode:
		return n.GetToken().Value, true
	}
	return "", false
}

func keyString(k ast.MapKeyNode) (string, bool) {
	if k == nil {
		return "", false
	}
	switch v := k.(type) {
	case *ast.StringNode:
		return v.Value, true
	case *ast.IntegerNode, *ast.BoolNode, *ast.FloatNode:
		return v.GetToken().Value, true
	}
	return "", false
}

// describeNode says what kind of value a coordinator wrote.
func describeNode(n ast.Node) string {
	switch n.(type) {
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a group of `name: value` lines"
	case *ast.SequenceNode:
		return "a list"
	case *ast.BoolNode:
		return "true/false"
	case *ast.IntegerNode, *ast.FloatNode:
		return "a number"
	case *ast.NullNode:
		return "empty"
	}
	return "a text"
}

// yamlFields maps the YAML keys of struct type t to their types.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := strings.Split(f.Tag.Get("yaml"), ",")[0]
		if !f.IsExported() || tag == "-" || tag == "" {
			continue
		}
		out[tag] = f.Type
	}
	return out
}

func unknownKeyMessage(k string, fields map[string]reflect.Type, parent string) string {
	where := "here"
	if parent != "" {
		where = "under `" + parent + "`"
	}
	return fmt.Sprintf("`%s` is not a known key %s", k, where)
}

func unknownKeyHint(k string, fields map[string]reflect.Type) string {
	names := make([]string, 0, len(fields))
	for n := range fields {
		names = append(names, n)
	}
	if s := closest(k, names); s != "" {
		return fmt.Sprintf("did you mean `%s`?", s)
	}
	return "remove it or correct the spelling (see docs/flows.md for the keys a flow file knows)"
}

// closest returns the name nearest to s by edit distance, when it is near
// enough to be a typo (at most a third of the letters differ), else "".
func closest(s string, names []string) string {
	best, bestD := "", math.MaxInt
	ls := strings.ToLower(s)
	if len(ls) > 64 {
		return "" // a key that long is not a typo of a known key
	}
	for _, n := range names {
		d := editDistance(ls, strings.ToLower(n))
		if d < bestD || (d == bestD && n < best) {
			best, bestD = n, d
		}
	}
	limit := max(1, (utf8.RuneCountInString(s)+2)/3)
	if bestD <= limit {
		return best
	}
	return ""
}
