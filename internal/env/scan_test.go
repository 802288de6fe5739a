package env

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// repoFile is one scanned file: its path relative to the root, and text.
type repoFile struct {
	rel  string
	text string
}

// scan reads every file of the repository that can name a variable: Go
// sources, shell scripts, the Makefile, .ci/ and the Markdown docs. It
// skips git's directory, hidden directories (the virtualenv, caches),
// third_party/ (links into the module cache), experiments/ (artifacts),
// bin/ and out/.
func scan(t *testing.T) []repoFile {
	t.Helper()
	root := repoRoot(t)
	var files []repoFile
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			// Another engineer may move a file while the test walks.
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			name := d.Name()
			if rel != "." && rel != ".ci" && (strings.HasPrefix(name, ".") || name == "testdata") {
				return filepath.SkipDir
			}
			switch rel {
			case "third_party", "experiments", "bin", "out":
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		ext := filepath.Ext(rel)
		if ext != ".go" && ext != ".sh" && ext != ".md" && rel != "Makefile" && !strings.HasPrefix(rel, ".ci/") {
			return nil
		}
		data, err := os.ReadFile(p)
		if os.IsNotExist(err) {
			return nil
		}
		if err != nil {
			return err
		}
		files = append(files, repoFile{rel: rel, text: string(data)})
		return nil
	})
	require.NoError(t, err)
	require.NotEmpty(t, files)
	return files
}

// notVariables are FAK_ names that are no environment variables: C
// macros and a test's deliberately wrong define.
var notVariables = map[string]string{
	"FAK_CAP_MAX":           "C macro in llamacpp/native.go (log capture buffer size)",
	"FAK_BUILDISA_H":        "include guard of internal/buildisa/buildisa.h",
	"FAK_BUILDISA_STR":      "C macro in internal/buildisa/buildisa.h",
	"FAK_BUILDISA_STR_":     "C macro in internal/buildisa/buildisa.h",
	"FAK_CPU_FINGERPRINT_X": "internal/cpuid's test of a define that only starts like the fingerprint",
}

// anyName matches a FAK_ name; a trailing * (FAK_REQUIRE_*) is a family
// of names, not one.
var anyName = regexp.MustCompile(`FAK_[A-Z0-9_]+\*?`)

// TestEveryNameIsDeclared fails when code, a script or a doc names a
// FAK_ variable that vars.go does not declare.
func TestEveryNameIsDeclared(t *testing.T) {
	for _, f := range scan(t) {
		if strings.HasPrefix(f.rel, "internal/env/") {
			continue // its tests use made-up names on purpose
		}
		for _, name := range anyName.FindAllString(f.text, -1) {
			if strings.HasSuffix(name, "*") {
				continue
			}
			if _, ok := notVariables[name]; ok {
				continue
			}
			_, ok := Find(name)
			assert.True(t, ok, "%s names %s, which internal/env/vars.go does not declare", f.rel, name)
		}
	}
}

// directRead matches a Go read of a FAK_ variable that bypasses this
// package, and declaredName a Go constant or variable holding a FAK_ name
// (which invites one).
var (
	directRead   = regexp.MustCompile(`\b(Getenv|LookupEnv)\(\s*"FAK_`)
	declaredName = regexp.MustCompile(`^\s*(const\s+|var\s+)?\w+\s*(string\s*)?:?=\s*"FAK_[A-Z0-9_]+"\s*$`)
)

// TestNoDirectReads fails when Go code outside this package reads a FAK_
// variable with os.Getenv or os.LookupEnv, or keeps its name in a constant
// of its own. Build-level names are exempt: they are no environment
// variables.
func TestNoDirectReads(t *testing.T) {
	for _, f := range scan(t) {
		if filepath.Ext(f.rel) != ".go" || strings.HasPrefix(f.rel, "internal/env/") {
			continue
		}
		for i, line := range strings.Split(f.text, "\n") {
			at := fmt.Sprintf("%s:%d: %s", f.rel, i+1, strings.TrimSpace(line))
			assert.NotRegexp(t, directRead, line, "%s\nreads a FAK_ variable directly: use internal/env", at)
			if m := declaredName.FindString(line); m != "" {
				if v, ok := Find(anyName.FindString(m)); ok && v.Scope == Build {
					continue
				}
				assert.Fail(t, "a FAK_ name kept outside internal/env", "%s\nuse env.<Var>.Name", at)
			}
		}
	}
}

// varUse is a reference to a declaration of this package, env.<Ident>,
// with what follows it. It counts as a read unless it only takes the name
// (.Name) or sets the variable (.Set); identifiers that are no variable
// (env.Error, env.IntVar) are ignored.
var varUse = regexp.MustCompile(`\benv\.([A-Z]\w*)(\.\w+)?`)

// goIdents maps each declared variable's Go identifier to its name, read
// from vars.go itself.
func goIdents(t *testing.T) map[string]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "vars.go", nil, 0)
	require.NoError(t, err)
	out := map[string]string{}
	ast.Inspect(f, func(n ast.Node) bool {
		spec, ok := n.(*ast.ValueSpec)
		if !ok || len(spec.Names) != 1 || len(spec.Values) != 1 {
			return true
		}
		call, ok := spec.Values[0].(*ast.CallExpr)
		if !ok || len(call.Args) != 1 {
			return true
		}
		lit, ok := call.Args[0].(*ast.CompositeLit)
		if !ok {
			return true
		}
		for _, e := range lit.Elts {
			kv, ok := e.(*ast.KeyValueExpr)
			if !ok {
				continue
			}
			if k, ok := kv.Key.(*ast.Ident); ok && k.Name == "Name" {
				if b, ok := kv.Value.(*ast.BasicLit); ok {
					name, err := strconv.Unquote(b.Value)
					require.NoError(t, err)
					out[spec.Names[0].Name] = name
				}
			}
		}
		return true
	})
	require.Len(t, out, len(declared), "every declaration in vars.go is a single `Ident = kind(Var{Name: \"FAK_...\", ...})`")
	return out
}

// TestReadersMatchTheCode checks ReadBy and SetBy against the repository:
// a package directory is listed exactly when its Go code (tests included)
// reads the variable through this package; a listed file names the
// variable. Build-level names are checked by name only.
func TestReadersMatchTheCode(t *testing.T) {
	root := repoRoot(t)
	idents := goIdents(t)
	files := scan(t)
	text := map[string]string{}
	goReaders := map[string]map[string]bool{} // name -> package dirs
	for _, f := range files {
		text[f.rel] = f.text
		if filepath.Ext(f.rel) != ".go" || strings.HasPrefix(f.rel, "internal/env/") {
			continue
		}
		for _, m := range varUse.FindAllStringSubmatch(f.text, -1) {
			name, ok := idents[m[1]]
			if !ok || m[2] == ".Name" || m[2] == ".Set" {
				continue
			}
			if goReaders[name] == nil {
				goReaders[name] = map[string]bool{}
			}
			goReaders[name][filepath.ToSlash(filepath.Dir(f.rel))] = true
		}
	}
	// dirNames reports whether a Go file directly in dir contains s.
	dirNames := func(dir, s string) bool {
		for rel, body := range text {
			if filepath.ToSlash(filepath.Dir(rel)) == dir && filepath.Ext(rel) == ".go" && strings.Contains(body, s) {
				return true
			}
		}
		return false
	}
	for _, v := range All() {
		listed := map[string]bool{}
		for _, r := range v.ReadBy {
			listed[r] = true
			st, err := os.Stat(filepath.Join(root, r))
			if !assert.NoError(t, err, "%s: ReadBy %s", v.Name, r) {
				continue
			}
			switch {
			case !st.IsDir():
				assert.Contains(t, text[r], v.Name, "%s: ReadBy lists %s, which does not name it", v.Name, r)
			case v.Scope == Build:
				assert.True(t, dirNames(r, v.Name), "%s: ReadBy lists %s, whose Go code does not name it", v.Name, r)
			default:
				assert.True(t, goReaders[v.Name][r], "%s: ReadBy lists %s, whose Go code does not read it through internal/env", v.Name, r)
			}
		}
		var extra []string
		for dir := range goReaders[v.Name] {
			if !listed[dir] {
				extra = append(extra, dir)
			}
		}
		sort.Strings(extra)
		assert.Empty(t, extra, "%s: read by packages its ReadBy does not list", v.Name)
		if v.Scope == Script || v.Scope == Build {
			assert.Empty(t, goReaders[v.Name], "%s: a %s-level name has no Go accessor", v.Name, v.Scope)
		}
		for _, s := range v.SetBy {
			assert.Contains(t, text[s], v.Name, "%s: SetBy lists %s, which does not name it", v.Name, s)
		}
	}
}
