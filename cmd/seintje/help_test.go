package main

import (
	"bytes"
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// Every command and subcommand answers --help with exit code 0 and lists
// its flags on stdout. A new command fails this test until it is listed here
// with its flags.
func TestHelpOnEveryCommand(t *testing.T) {
	flags := map[string][]string{
		"serve":                {"-demo", "-config"},
		"reply":                {"-url", "-token"},
		"flows":                {"check", "lint", "simulate", "test", "graph"},
		"flows check":          nil,
		"flows lint":           {"-price", "-tone-words", "-max-segments", "-min-ease", "-max-sentence-words", "-callback-number", "-texts", "-werror"},
		"flows simulate":       {"-dir", "-lang", "-name", "-caseworker", "-start", "-var"},
		"flows test":           {"-update", "-v"},
		"flows graph":          {"-dir", "-format"},
		"telegram":             {"set-webhook"},
		"telegram set-webhook": {"-config", "-max-connections", "-drop-pending"},
		"healthcheck":          {"-addr", "-ready", "-timeout"},
		"version":              nil,
	}
	var top []string
	for _, c := range commands() {
		top = append(top, c.name)
	}
	for cmd := range flags {
		if name, _, _ := strings.Cut(cmd, " "); !slices.Contains(top, name) {
			t.Errorf("%q is listed here but is not a command", name)
		}
	}
	for _, name := range top {
		if _, ok := flags[name]; !ok {
			t.Errorf("command %q: add it and its flags to this test", name)
		}
	}
	for cmd, want := range flags {
		for _, help := range []string{"--help", "-h"} {
			t.Run(cmd+" "+help, func(t *testing.T) {
				var out, errOut bytes.Buffer
				code := run(context.Background(), append(strings.Fields(cmd), help), &out, &errOut)
				if code != 0 {
					t.Fatalf("exit %d, stdout %q, stderr %q", code, out.String(), errOut.String())
				}
				if !strings.Contains(out.String(), "Usage") {
					t.Errorf("no usage on stdout: %q", out.String())
				}
				for _, f := range want {
					if !regexp.MustCompile(`(^|\s)-?` + regexp.QuoteMeta(f) + `\b`).MatchString(out.String()) {
						t.Errorf("help does not mention %s:\n%s", f, out.String())
					}
				}
			})
		}
	}
}

func TestTopLevelHelpListsCommands(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"--help"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, c := range commands() {
		if !strings.Contains(out.String(), "  "+c.name+" ") {
			t.Errorf("--help does not list %s:\n%s", c.name, out.String())
		}
	}
	if code := run(context.Background(), nil, &out, &errOut); code != 2 {
		t.Errorf("no arguments: exit %d, want 2", code)
	}
	if code := run(context.Background(), []string{"serve", "--no-such-flag"}, &out, &errOut); code != 2 {
		t.Errorf("unknown flag: exit %d, want 2", code)
	}
}

func TestVersion(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"version"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !regexp.MustCompile(`^seintje \S+ \(.*go1\.\d+.*\)\n$`).MatchString(out.String()) {
		t.Errorf("version output %q", out.String())
	}
}
