// Package deploy holds the tests of the repository's Dockerfile and
// .dockerignore (this file and rootfs_test.go); deploy/k8s holds the
// Kubernetes manifests and theirs. No Docker engine runs where these tests
// run: the Dockerfile is parsed and checked here, linted by hadolint, and its
// steps are run in a clean Debian 12 root made with debootstrap
// (TestDockerfileInDebootstrapRoot, opt-in).
package deploy

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// repoRoot is the repository root, relative to this package.
const repoRoot = ".."

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	Line  int
	Cmd   string            // upper case: RUN, COPY, ...
	Flags map[string]string // --from=go -> "from": "go"
	Args  string            // the rest, as written
}

// stage is one FROM and the instructions under it.
type stage struct {
	Image, Name string
	Line        int
	Ins         []instruction
}

// known are the instructions the Dockerfile may use: the ones the
// debootstrap test knows how to carry out. Anything else is refused, so
// the file cannot grow a step that nothing proves.
var known = map[string]bool{"FROM": true, "SHELL": true, "ENV": true, "RUN": true, "COPY": true,
	"WORKDIR": true, "USER": true, "VOLUME": true, "ENTRYPOINT": true, "CMD": true}

// parseDockerfile reads a Dockerfile into stages. Comments and blank lines
// are dropped (inside a continued instruction too, as Docker does); a line
// ending in a backslash continues on the next.
func parseDockerfile(text string) ([]stage, error) {
	var stages []stage
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		start := i + 1
		line := strings.TrimSpace(lines[i])
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		for strings.HasSuffix(line, "\\") && i+1 < len(lines) {
			i++
			next := strings.TrimSpace(lines[i])
			if next == "" || strings.HasPrefix(next, "#") {
				continue
			}
			line = strings.TrimSpace(strings.TrimSuffix(line, "\\")) + " " + next
		}
		if strings.HasSuffix(line, "\\") {
			return nil, fmt.Errorf("line %d: the last instruction ends in a continuation", start)
		}
		word, rest, _ := strings.Cut(line, " ")
		in := instruction{Line: start, Cmd: strings.ToUpper(word), Flags: map[string]string{}}
		if !known[in.Cmd] {
			return nil, fmt.Errorf("line %d: instruction %s is not one the debootstrap test can carry out", start, in.Cmd)
		}
		rest = strings.TrimSpace(rest)
		for strings.HasPrefix(rest, "--") {
			flag, tail, _ := strings.Cut(rest, " ")
			k, v, ok := strings.Cut(strings.TrimPrefix(flag, "--"), "=")
			if !ok {
				return nil, fmt.Errorf("line %d: flag %s has no value", start, flag)
			}
			in.Flags[k] = v
			rest = strings.TrimSpace(tail)
		}
		in.Args = strings.Join(strings.Fields(rest), " ")
		if in.Args == "" {
			return nil, fmt.Errorf("line %d: %s without arguments", start, in.Cmd)
		}
		if in.Cmd == "FROM" {
			f := strings.Fields(in.Args)
			st := stage{Image: f[0], Line: start}
			switch {
			case len(f) == 3 && strings.EqualFold(f[1], "AS"):
				st.Name = f[2]
			case len(f) != 1:
				return nil, fmt.Errorf("line %d: FROM IMAGE [AS NAME], got %q", start, in.Args)
			}
			stages = append(stages, st)
			continue
		}
		if len(stages) == 0 {
			return nil, fmt.Errorf("line %d: %s before the first FROM", start, in.Cmd)
		}
		if in.Cmd == "RUN" {
			in.Args = strings.TrimSpace(rest) // the shell sees the command as written
		}
		stages[len(stages)-1].Ins = append(stages[len(stages)-1].Ins, in)
	}
	if len(stages) == 0 {
		return nil, fmt.Errorf("no FROM")
	}
	return stages, nil
}

// execForm decodes the JSON (exec) form of SHELL, ENTRYPOINT, CMD and
// VOLUME.
func execForm(in instruction) ([]string, error) {
	var out []string
	if err := json.Unmarshal([]byte(in.Args), &out); err != nil || len(out) == 0 {
		return nil, fmt.Errorf("line %d: %s wants the JSON form [\"...\"], got %s", in.Line, in.Cmd, in.Args)
	}
	return out, nil
}

// envPairs decodes ENV KEY=VALUE ... (values unquoted, or in double
// quotes without escapes), expanding $VAR and ${VAR} from vars.
func envPairs(in instruction, vars map[string]string) ([][2]string, error) {
	var out [][2]string
	rest := in.Args
	for rest != "" {
		k, v, ok := strings.Cut(rest, "=")
		if !ok || k == "" || strings.ContainsAny(k, " \"'") {
			return nil, fmt.Errorf("line %d: ENV wants KEY=VALUE pairs, got %q", in.Line, rest)
		}
		if strings.HasPrefix(v, `"`) {
			end := strings.Index(v[1:], `"`)
			if end < 0 {
				return nil, fmt.Errorf("line %d: ENV %s: unterminated quote", in.Line, k)
			}
			rest = strings.TrimSpace(v[end+2:])
			v = v[1 : end+1]
		} else {
			v, rest, _ = strings.Cut(v, " ")
		}
		v = os.Expand(v, func(name string) string { return vars[name] })
		vars[k] = v
		out = append(out, [2]string{k, v})
	}
	return out, nil
}

func readDockerfile(t *testing.T) []stage {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "Dockerfile"))
	require.NoError(t, err)
	stages, err := parseDockerfile(string(b))
	require.NoError(t, err, "Dockerfile")
	return stages
}

// find returns the instructions of st named cmd.
func (st stage) find(cmd string) []instruction {
	var out []instruction
	for _, in := range st.Ins {
		if in.Cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

func TestParseDockerfile(t *testing.T) {
	st, err := parseDockerfile("# syntax\nFROM a:1 AS x\n\nFROM debian:12-slim\nENV A=1 \\\n  # a comment\n  B=\"two words\" C=${A}/$B\nRUN echo a \\\n    && echo b\nCOPY --from=x --chown=1:2 /a /b\n")
	require.NoError(t, err)
	require.Len(t, st, 2)
	assert.Equal(t, stage{Image: "a:1", Name: "x", Line: 2}, st[0])
	assert.Equal(t, "debian:12-slim", st[1].Image)
	require.Len(t, st[1].Ins, 3)
	vars := map[string]string{}
	pairs, err := envPairs(st[1].Ins[0], vars)
	require.NoError(t, err)
	assert.Equal(t, [][2]string{{"A", "1"}, {"B", "two words"}, {"C", "1/two words"}}, pairs)
	assert.Equal(t, instruction{Line: 8, Cmd: "RUN", Flags: map[string]string{}, Args: "echo a && echo b"}, st[1].Ins[1])
	assert.Equal(t, map[string]string{"from": "x", "chown": "1:2"}, st[1].Ins[2].Flags)
	assert.Equal(t, "/a /b", st[1].Ins[2].Args)

	for text, want := range map[string]string{
		"":                          "no FROM",
		"RUN true\n":                "line 1: RUN before the first FROM",
		"FROM a\nADD x y\n":         "line 2: instruction ADD",
		"FROM a\nRUN true \\\n":     "ends in a continuation",
		"FROM a b\n":                "FROM IMAGE [AS NAME]",
		"FROM a\nCOPY --from x y\n": "flag --from has no value",
		"FROM a\nUSER\n":            "line 2: USER without arguments",
	} {
		_, err := parseDockerfile(text)
		if assert.Error(t, err, "%q", text) {
			assert.Contains(t, err.Error(), want)
		}
	}
	_, err = execForm(instruction{Line: 3, Cmd: "CMD", Args: "bin/fakbench help"})
	assert.ErrorContains(t, err, "line 3: CMD wants the JSON form")
	_, err = envPairs(instruction{Line: 4, Cmd: "ENV", Args: "A"}, map[string]string{})
	assert.ErrorContains(t, err, "line 4: ENV wants KEY=VALUE pairs")
	_, err = envPairs(instruction{Line: 5, Cmd: "ENV", Args: `A="x`}, map[string]string{})
	assert.ErrorContains(t, err, "unterminated quote")
}

// The image's design: Debian 12, setup.sh run at build time, no native
// code built into the image, the binary built at start by the entrypoint
// for the node's CPU, an unprivileged user.
func TestDockerfileDesign(t *testing.T) {
	stages := readDockerfile(t)
	final := stages[len(stages)-1]
	assert.True(t, strings.HasPrefix(final.Image, "debian:12"), "the image is Debian 12 (the README's machine), got %s", final.Image)

	var runs []string
	for _, in := range final.find("RUN") {
		runs = append(runs, in.Args)
	}
	all := strings.Join(runs, "\n")
	assert.Contains(t, all, "bash scripts/setup.sh", "the image installs what setup.sh installs, by running it")
	for _, build := range []string{"make build", "make test", "make bench", "go build", "go install", "go test", "go vet", "bin/fakbench"} {
		assert.NotContains(t, all, build, "a RUN step would compile native code into the image, for the CPU that builds it")
	}

	ep := final.find("ENTRYPOINT")
	require.Len(t, ep, 1)
	entry, err := execForm(ep[0])
	require.NoError(t, err)
	require.Len(t, final.find("WORKDIR"), 1)
	workdir := final.find("WORKDIR")[0].Args
	assert.Equal(t, []string{workdir + "/scripts/container_entrypoint.sh"}, entry, "the entrypoint, by its absolute path in the image")
	rel := strings.TrimPrefix(entry[0], workdir+"/")
	st, err := os.Stat(filepath.Join(repoRoot, rel))
	require.NoError(t, err)
	assert.NotZero(t, st.Mode()&0o111, "the entrypoint is executable")
	script, err := os.ReadFile(filepath.Join(repoRoot, rel))
	require.NoError(t, err)
	for _, want := range []string{"cpu_fingerprint.sh", `GOCACHE="$cache/$fp/go-build"`, "make build", "check_build_cpu.sh bin/fakbench", `exec "$@"`} {
		assert.Contains(t, string(script), want, "the entrypoint builds for this CPU with a cache keyed by its fingerprint")
	}

	users := final.find("USER")
	require.NotEmpty(t, users)
	last := users[len(users)-1].Args
	assert.NotContains(t, []string{"root", "0", "0:0"}, last, "the container does not run as root")

	vars := map[string]string{}
	for _, in := range final.find("ENV") {
		_, err := envPairs(in, vars)
		require.NoError(t, err)
	}
	assert.Equal(t, "off", vars["GOPROXY"], "nothing is fetched after the image is built")
	assert.Equal(t, "local", vars["GOTOOLCHAIN"])
	assert.Equal(t, "/cache", vars["FAK_BUILD_CACHE"])
	vols := final.find("VOLUME")
	require.Len(t, vols, 1)
	v, err := execForm(vols[0])
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"/cache", "/artifacts"}, v)

	// Every COPY --from names an earlier stage.
	names := map[string]bool{}
	for _, s := range stages[:len(stages)-1] {
		names[s.Name] = true
	}
	for _, in := range final.find("COPY") {
		if from, ok := in.Flags["from"]; ok {
			assert.True(t, names[from], "line %d: COPY --from=%s names no earlier stage", in.Line, from)
		}
	}
}

// dockerignore is a parsed .dockerignore: plain paths and * patterns,
// matched against the whole path from the context root (as Docker does),
// excluding a directory's whole subtree.
type dockerignore []string

func parseDockerignore(text string) (dockerignore, error) {
	var out dockerignore
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "!") || strings.Contains(line, "**") || strings.ContainsAny(line, "[?\\") {
			return nil, fmt.Errorf(".dockerignore line %d: %q uses syntax beyond plain paths and *", i+1, line)
		}
		p := path.Clean(strings.TrimPrefix(line, "/"))
		if _, err := path.Match(p, ""); err != nil {
			return nil, fmt.Errorf(".dockerignore line %d: %w", i+1, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// Excluded reports whether rel (slash-separated, relative to the context)
// or a directory above it matches a pattern.
func (d dockerignore) Excluded(rel string) bool {
	for p := rel; p != "." && p != "/" && p != ""; p = path.Dir(p) {
		for _, pat := range d {
			if ok, _ := path.Match(pat, p); ok {
				return true
			}
		}
	}
	return false
}

func readDockerignore(t *testing.T) dockerignore {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, ".dockerignore"))
	require.NoError(t, err)
	d, err := parseDockerignore(string(b))
	require.NoError(t, err)
	return d
}

func TestDockerignore(t *testing.T) {
	d, err := parseDockerignore("# c\nbin\n/out/\n*.test\nthird_party/llama\n")
	require.NoError(t, err)
	assert.True(t, d.Excluded("bin/fakbench"))
	assert.True(t, d.Excluded("out"))
	assert.True(t, d.Excluded("x.test"))
	assert.False(t, d.Excluded("cmd/x.test"), "patterns are anchored at the context root")
	assert.False(t, d.Excluded("cmd/fakbench/bin.go"))
	assert.True(t, d.Excluded("third_party/llama/include/llama.h"))
	assert.False(t, d.Excluded("third_party/README.md"))
	for _, bad := range []string{"!keep", "**/x", "a?b", "[ab]"} {
		_, err := parseDockerignore(bad)
		assert.ErrorContains(t, err, "beyond plain paths", bad)
	}

	// The real file keeps out what is built or fetched here, and keeps in
	// every file git tracks.
	d = readDockerignore(t)
	for _, p := range []string{"bin/fakbench", ".venv/bin/python", ".cache/models/m.gguf", "third_party/llama", "third_party/ggml",
		"experiments/fleet-nodes/a/production-readiness-manifest.json", "out/bench/report.md", "fakbench", "x.test"} {
		assert.True(t, d.Excluded(p), "%s stays out of the image", p)
	}
	assert.False(t, d.Excluded(".git/HEAD"), "the manifest records the commit from .git")
	out, err := exec.Command("git", "-C", repoRoot, "ls-files").Output()
	if err != nil {
		t.Logf("git ls-files: %v; the tracked files are not checked", err)
		return
	}
	for _, f := range strings.Fields(string(out)) {
		assert.False(t, d.Excluded(f), "%s is tracked but .dockerignore keeps it out of the image", f)
	}
}

// hadolintPath finds hadolint: the project's .venv (scripts/setup.d/60-hadolint.sh
// installs it there), else PATH.
func hadolintPath() (string, error) {
	p := filepath.Join(repoRoot, ".venv", "bin", "hadolint")
	if st, err := os.Stat(p); err == nil && st.Mode()&0o111 != 0 {
		return filepath.Abs(p)
	}
	return exec.LookPath("hadolint")
}

// hadolint passes the Dockerfile and catches the faults it exists for (make
// test also runs it as lint-dockerfile, which fails without it).
func TestHadolint(t *testing.T) {
	bin, err := hadolintPath()
	if err != nil {
		t.Skip("hadolint not installed (make setup puts it in .venv): ", err)
	}
	out, err := exec.Command(bin, filepath.Join(repoRoot, "Dockerfile")).CombinedOutput()
	assert.NoError(t, err, "hadolint Dockerfile:\n%s", out)
	assert.Empty(t, strings.TrimSpace(string(out)))

	bad := filepath.Join(t.TempDir(), "Dockerfile")
	require.NoError(t, os.WriteFile(bad, []byte("FROM debian:latest\nRUN apt-get update && apt-get install -y curl\nUSER root\n"), 0o644))
	out, err = exec.Command(bin, bad).CombinedOutput()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee, "hadolint must fail a bad Dockerfile:\n%s", out)
	for _, rule := range []string{"DL3007", "DL3008", "DL3009", "DL3015", "DL3002"} {
		assert.Contains(t, string(out), rule)
	}
}
