package layers

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const module = "github.com/fakbench/fakbench/"

// imports maps each package of the tree at root (relative path) to the
// module packages its non-test files import.
func imports(t *testing.T, root string) map[string][]string {
	out := map[string][]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "third_party" || name == "vendor" || name == "build") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, filepath.Dir(path))
		if err != nil {
			return err
		}
		pkg := filepath.ToSlash(rel)
		if _, ok := out[pkg]; !ok {
			out[pkg] = nil
		}
		for _, im := range f.Imports {
			p, err := strconv.Unquote(im.Path.Value)
			if err != nil {
				return err
			}
			if strings.HasPrefix(p, module) {
				out[pkg] = append(out[pkg], strings.TrimPrefix(p, module))
			}
		}
		return nil
	})
	require.NoError(t, err)
	return out
}

func rank() map[string]int {
	r := map[string]int{}
	for i, layer := range Table {
		for _, p := range layer {
			r[p] = i
		}
	}
	return r
}

// No package imports one of its own layer or above, and every package is
// in the table.
func TestNoPackageImportsUpward(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(root, "go.mod"))
	require.NoError(t, err, "the module root")
	r := rank()
	pkgs := imports(t, root)
	require.Greater(t, len(pkgs), 20, "the walk found the module's packages")
	var names []string
	for p := range pkgs {
		names = append(names, p)
	}
	sort.Strings(names)
	for _, p := range names {
		rp, ok := r[p]
		if !assert.True(t, ok, "package %s is in no layer: add it to internal/layers.Table", p) {
			continue
		}
		for _, im := range pkgs[p] {
			ri, ok := r[im]
			if assert.True(t, ok, "%s imports %s, which is in no layer", p, im) {
				assert.Less(t, ri, rp, "%s (layer %d) imports %s (layer %d): a package imports only lower layers", p, rp, im, ri)
			}
		}
	}
	for p := range r {
		_, ok := pkgs[p]
		assert.True(t, ok, "internal/layers.Table names %s, which has no Go file", p)
	}
}

// The rule has power: an import from a package's own layer, or from above,
// is refused, and so is a package missing from the table.
func TestLayerRuleRefuses(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, src string) {
		require.NoError(t, os.MkdirAll(filepath.Join(dir, filepath.Dir(rel)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, rel), []byte(src), 0o644))
	}
	write("report/r.go", "package report\nimport _ \""+module+"bench\"\n")
	write("report/r_test.go", "package report\nimport _ \""+module+"cmd/fakbench\"\n")
	got := imports(t, dir)
	assert.Equal(t, []string{"bench"}, got["report"], "test files are not walked")
	r := rank()
	assert.Greater(t, r["bench"], r["report"], "report importing bench is upward")
	assert.Equal(t, r["harness"], r["models"], "one layer: neither may import the other")
}
