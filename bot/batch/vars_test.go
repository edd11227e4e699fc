package batch

import (
	"encoding/json"
	"reflect"
	"testing"
)

// Vars are stored as the map they replace was: the same JSON, both ways.
func TestVarsJSONAsMap(t *testing.T) {
	for _, m := range []map[string]string{
		nil,
		{"appointment_at": "2026-11-20T09:00:00Z"},
		{"b": "tw\"ee <&>", "a": "één", "c": ""},
		{"same": "same"},
	} {
		want, _ := json.Marshal(m)
		if m == nil {
			want = []byte("{}")
		}
		got, err := json.Marshal(varsOf(m))
		if err != nil {
			t.Fatal(err)
		}
		if m != nil && string(got) != string(want) {
			t.Errorf("Vars %v encode as %s, the map as %s", m, got, want)
		}
		var back Vars
		if err := json.Unmarshal(want, &back); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back, varsOf(m)) {
			t.Errorf("%s decodes to %v, want %v", want, back, varsOf(m))
		}
	}
}

// A table row's cells stand for the same map as a JSON item's Vars, so
// the same people give the same batch digest however they came in.
func TestTableRowVarsAndDigest(t *testing.T) {
	table := Item{Row: 2, Ref: "Z-1", cells: []Var{{"appointment_at", "2026-11-20T09:00:00Z"}}}
	js := Item{Row: 2, Ref: "Z-1", Vars: map[string]any{"appointment_at": "2026-11-20T09:00:00Z"}}
	if !reflect.DeepEqual(table.vars(), js.vars()) {
		t.Fatalf("table row vars %v, JSON item vars %v", table.vars(), js.vars())
	}
	if a, b := digest(NewRequest{Items: []Item{table}}), digest(NewRequest{Items: []Item{js}}); a != b {
		t.Errorf("digests differ: %s and %s", a, b)
	}
	other := Item{Row: 2, Ref: "Z-1", cells: []Var{{"appointment_at", "2026-11-21T09:00:00Z"}}}
	if digest(NewRequest{Items: []Item{table}}) == digest(NewRequest{Items: []Item{other}}) {
		t.Error("rows with other variables give the same digest")
	}
	empty := Item{Row: 2, cells: []Var{}}
	if v := empty.vars(); v == nil || len(v) != 0 {
		t.Errorf("a table row without variables has vars %#v, want an empty map", v)
	}
}
