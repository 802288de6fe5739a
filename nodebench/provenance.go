package nodebench

import (
	"context"
	"os"
	"os/exec"
	"runtime/debug"
	"strings"
	"time"
)

// GitInfo reads the commit and the dirty state of the git tree at dir. When
// git cannot answer, Error says why and the rest stays empty.
func GitInfo(ctx context.Context, dir string) Git {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	run := func(args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, "git", args...)
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil {
			if ee, ok := err.(*exec.ExitError); ok && len(ee.Stderr) > 0 {
				return "", &gitError{strings.TrimSpace(string(ee.Stderr))}
			}
			return "", err
		}
		return string(out), nil
	}
	var g Git
	out, err := run("rev-parse", "HEAD")
	if err != nil {
		g.Error = "git rev-parse HEAD: " + err.Error()
		return g
	}
	g.Commit = strings.TrimSpace(out)
	out, err = run("status", "--porcelain", "--untracked-files=normal")
	if err != nil {
		g.Error = "git status: " + err.Error()
		return g
	}
	for _, line := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		g.Dirty = true
		if len(g.DirtyFiles) < 50 {
			g.DirtyFiles = append(g.DirtyFiles, strings.TrimSpace(line))
		}
	}
	return g
}

type gitError struct{ msg string }

func (e *gitError) Error() string { return e.msg }

// BuildFlags returns the build settings recorded in this binary (Go's build
// info: CGO_ENABLED, CGO_CFLAGS, CGO_CXXFLAGS, GOAMD64, -tags, ...), which is
// how the native code linked into it was really compiled. It falls back to
// the environment when the binary carries no build info.
func BuildFlags() string {
	keys := []string{"CGO_ENABLED", "CGO_CFLAGS", "CGO_CXXFLAGS", "CGO_LDFLAGS", "GOAMD64", "-tags", "-gcflags", "-ldflags"}
	var parts []string
	if bi, ok := debug.ReadBuildInfo(); ok {
		got := map[string]string{}
		for _, s := range bi.Settings {
			got[s.Key] = s.Value
		}
		for _, k := range keys {
			if v, ok := got[k]; ok && v != "" {
				parts = append(parts, k+"="+v)
			}
		}
	}
	if len(parts) == 0 {
		for _, k := range keys[:5] {
			if v := os.Getenv(k); v != "" {
				parts = append(parts, k+"="+v+" (environment)")
			}
		}
	}
	return strings.Join(parts, " ")
}
