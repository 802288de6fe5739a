package bench

import (
	"io"
	"os"
	"runtime/debug"
	"strings"

	"github.com/fakbench/fakbench/report"
)

// Stamp records in o what the reports say of how they were made (the
// command line of "fakbench <name> args", the build flags, the source
// revision, the executable the rows' child processes run) and sends
// progress and errors to w.
func (o *Options) Stamp(name string, args []string, w io.Writer) {
	o.Command = report.CommandLine(append([]string{"fakbench", name}, args...))
	o.BuildFlags, o.Revision = BuildFlags(), SourceRevision()
	o.Log, o.Errs = w, w
	o.Exe, _ = os.Executable()
}

// BuildFlags describes how the native code of this binary was compiled: the
// CGO_CFLAGS/CGO_CXXFLAGS recorded in the binary's build information (what
// cgo really used), else those of the environment at run time, plus
// GOAMD64 when set.
func BuildFlags() string {
	rec := map[string]string{}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			rec[s.Key] = s.Value
		}
	}
	var parts []string
	for _, k := range []string{"CGO_ENABLED", "CGO_CFLAGS", "CGO_CXXFLAGS", "GOAMD64"} {
		v, ok := rec[k]
		src := ""
		if !ok {
			v, ok = os.LookupEnv(k)
			src = " (environment)"
		}
		if ok {
			parts = append(parts, k+"="+quoteIfSpaced(v)+src)
		}
	}
	return strings.Join(parts, " ")
}

// SourceRevision returns the VCS revision the binary was built from, with
// "+dirty" when the tree was modified, or "" when unknown.
func SourceRevision() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	rev, dirty := "", false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev != "" && dirty {
		rev += "+dirty"
	}
	return rev
}

// quoteIfSpaced quotes a value that holds blanks.
func quoteIfSpaced(s string) string {
	if strings.ContainsAny(s, " \t") {
		return `"` + s + `"`
	}
	return s
}
