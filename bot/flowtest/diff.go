package flowtest

import (
	"fmt"
	"strings"
)

// maxDiffLines bounds the work of the line diff (LCS is quadratic); longer
// transcripts fall back to comparing line by line.
const maxDiffLines = 4000

// GoldenDiff explains how transcript got differs from the golden want, for
// a coordinator: every changed place, named by the test (### name), the
// step and the event that led there (the reply or the wait), with the
// changed words marked [-old-]{+new+}. At most maxHunks places are shown.
func GoldenDiff(want, got string) string {
	const maxHunks = 10
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	ops := lineDiff(w, g)
	var b strings.Builder
	hunks := 0
	for i := 0; i < len(ops); {
		if ops[i].kind == ' ' {
			i++
			continue
		}
		// One hunk: consecutive removed and added lines.
		j := i
		var del, add []string
		for j < len(ops) && ops[j].kind != ' ' {
			if ops[j].kind == '-' {
				del = append(del, ops[j].text)
			} else {
				add = append(add, ops[j].text)
			}
			j++
		}
		hunks++
		if hunks > maxHunks {
			fmt.Fprintf(&b, "… and more changes\n")
			break
		}
		test, step, event := placeOf(g, ops[i].gotLine)
		fmt.Fprintf(&b, "test %q, step %s, after %s (line %d):\n", test, step, event, ops[i].gotLine+1)
		for k := 0; k < max(len(del), len(add)); k++ {
			switch {
			case k < len(del) && k < len(add):
				fmt.Fprintf(&b, "  %s\n", WordDiff(del[k], add[k]))
			case k < len(del):
				fmt.Fprintf(&b, "  [-%s-]\n", del[k])
			default:
				fmt.Fprintf(&b, "  {+%s+}\n", add[k])
			}
		}
		i = j
	}
	return strings.TrimRight(b.String(), "\n")
}

// placeOf names the test, the step and the event at line i of a
// transcript: the nearest "### test", "== event" and "step X" above it.
func placeOf(lines []string, i int) (test, step, event string) {
	test, step, event = "(header)", "-", "the start"
	if i > len(lines) {
		i = len(lines)
	}
	for k := i; k >= 0; k-- {
		if k >= len(lines) {
			continue
		}
		l := lines[k]
		switch {
		case event == "the start" && strings.HasPrefix(l, "== "):
			event = strings.TrimPrefix(l, "== ")
		case step == "-" && strings.Contains(l, "step "):
			if s := wordAfter(l, "step "); s != "" {
				step = s
			}
		case step == "-" && strings.HasPrefix(l, "state: ") && strings.Contains(l, " at "):
			step = wordAfter(l, " at ")
		case strings.HasPrefix(l, "### "):
			return strings.TrimPrefix(l, "### "), step, event
		}
	}
	return test, step, event
}

func wordAfter(l, marker string) string {
	i := strings.LastIndex(l, marker)
	if i < 0 {
		return ""
	}
	f := strings.FieldsFunc(l[i+len(marker):], func(r rune) bool { return r == ' ' || r == ')' || r == ':' || r == ',' })
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// WordDiff marks the words that changed between two lines: removed words
// as [-word-], added words as {+word+}.
func WordDiff(old, new string) string {
	a, b := strings.Fields(old), strings.Fields(new)
	ops := lineDiff(a, b)
	var out []string
	for i := 0; i < len(ops); {
		if ops[i].kind == ' ' {
			out = append(out, ops[i].text)
			i++
			continue
		}
		var del, add []string
		for i < len(ops) && ops[i].kind != ' ' {
			if ops[i].kind == '-' {
				del = append(del, ops[i].text)
			} else {
				add = append(add, ops[i].text)
			}
			i++
		}
		if len(del) > 0 {
			out = append(out, "[-"+strings.Join(del, " ")+"-]")
		}
		if len(add) > 0 {
			out = append(out, "{+"+strings.Join(add, " ")+"+}")
		}
	}
	return strings.Join(out, " ")
}

type diffOp struct {
	kind    byte // ' ', '-', '+'
	text    string
	gotLine int // index in b of the line (or the next one, for '-')
}

// lineDiff is a longest-common-subsequence diff of a and b.
func lineDiff(a, b []string) []diffOp {
	if len(a) > maxDiffLines || len(b) > maxDiffLines {
		var ops []diffOp
		for i := 0; i < max(len(a), len(b)); i++ {
			switch {
			case i < len(a) && i < len(b) && a[i] == b[i]:
				ops = append(ops, diffOp{' ', a[i], i})
			default:
				if i < len(a) {
					ops = append(ops, diffOp{'-', a[i], i})
				}
				if i < len(b) {
					ops = append(ops, diffOp{'+', b[i], i})
				}
			}
		}
		return ops
	}
	// lcs[i][j] = length of the LCS of a[i:] and b[j:].
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var ops []diffOp
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			ops = append(ops, diffOp{' ', a[i], j})
			i, j = i+1, j+1
		case j < len(b) && (i == len(a) || lcs[i][j+1] >= lcs[i+1][j]):
			ops = append(ops, diffOp{'+', b[j], j})
			j++
		default:
			ops = append(ops, diffOp{'-', a[i], j})
			i++
		}
	}
	return ops
}
