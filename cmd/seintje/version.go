package main

import (
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"
)

// version is set at release time:
//
//	go build -ldflags "-X main.version=v1.2.3" ./cmd/seintje
//
// Without it, the module version from the build info is used (set by
// `go install github.com/seintje/seintje/cmd/seintje@v1.2.3`), or the VCS
// revision for a build from a checkout.
var version = ""

// buildVersion describes this binary in one line.
func buildVersion() string {
	v, rev, dirty, when := version, "", false, ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			case "vcs.time":
				when = s.Value
			}
		}
	}
	if v == "" {
		v = "devel"
	}
	var extra []string
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if dirty {
			rev += "-dirty"
		}
		extra = append(extra, "commit "+rev)
	}
	if when != "" {
		extra = append(extra, when)
	}
	extra = append(extra, runtime.Version(), runtime.GOOS+"/"+runtime.GOARCH)
	return fmt.Sprintf("seintje %s (%s)", v, strings.Join(extra, ", "))
}

func runVersion(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("version", "seintje version", "Prints the version, commit, Go version and platform of this binary.", stdout, stderr)
	if _, code, ok := parseArgs(fs, args, stdout, false); !ok {
		return code
	}
	fmt.Fprintln(stdout, buildVersion())
	return 0
}

// newFlagSet makes a flag set whose --help prints usage, a description
// and every flag to stdout (the command then exits 0); errors go to stderr.
func newFlagSet(name, usage, about string, stdout, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintln(w, "Usage:", usage)
		if about != "" {
			fmt.Fprintln(w, about)
		}
		n := 0
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprintln(w, "\nFlags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parseArgs parses flags (before or after positional arguments when
// interspersed is true). ok is false when the command should return code:
// 0 after --help (usage and flags printed to stdout), 2 after a wrong flag
// (the error and usage printed to stderr).
func parseArgs(fs *flag.FlagSet, args []string, stdout io.Writer, interspersed bool) (pos []string, code int, ok bool) {
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "-h" || a == "-help" || a == "--help" {
			errOut := fs.Output()
			fs.SetOutput(stdout)
			fs.Usage()
			fs.SetOutput(errOut)
			return nil, 0, false
		}
	}
	var err error
	if interspersed {
		pos, err = parseInterspersed(fs, args)
	} else {
		err = fs.Parse(args)
		pos = fs.Args()
	}
	if err != nil {
		return nil, 2, false
	}
	return pos, 0, true
}
