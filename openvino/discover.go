package openvino

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"github.com/fakbench/fakbench/internal/env"
	"github.com/fakbench/fakbench/transport"
)

// libPattern matches the C API library names the wheel and the archive
// installs use: the versioned file name (libopenvino_c.so.2641) and, in
// archive installs, the plain development link.
const libPattern = "libopenvino_c.so*"

// searchEnv is what discovery reads from the process; tests replace it.
type searchEnv struct {
	// lib is FAK_OPENVINO_LIB (env.OpenVINOLib): the C API library file
	// (libopenvino_c.so.<version>) or a directory holding one. When it is
	// set, only that location is tried: a wrong value makes the backend
	// unavailable instead of silently falling back to another runtime.
	lib        string
	getenv     func(string) string // VIRTUAL_ENV, LD_LIBRARY_PATH
	executable func() (string, error)
	workdir    func() (string, error)
	moduleRoot string
	globRoots  []string // /opt/intel/openvino* style roots
}

func defaultSearchEnv() searchEnv {
	return searchEnv{
		lib:        env.OpenVINOLib.Value(),
		getenv:     os.Getenv,
		executable: os.Executable,
		workdir:    os.Getwd,
		moduleRoot: moduleRoot(),
		globRoots:  []string{"/opt/intel/openvino*"},
	}
}

// moduleRoot is the source directory of this module as recorded at build
// time (the file path of this source file, two levels up), or "" when the
// build trimmed paths or the directory no longer exists.
func moduleRoot() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok || !filepath.IsAbs(file) {
		return ""
	}
	root := filepath.Dir(filepath.Dir(file))
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		return ""
	}
	return root
}

// findLibrary returns the path of the C API library, or an
// *transport.UnavailableError listing every location tried.
func findLibrary(se searchEnv) (string, error) {
	var tried []string
	if v := se.lib; v != "" {
		tried = append(tried, env.OpenVINOLib.Name+"="+v)
		p, err := libIn(v)
		if err != nil {
			return "", &transport.UnavailableError{Backend: "openvino",
				Reason: fmt.Sprintf("%s=%s does not name a usable OpenVINO C API library: %v", env.OpenVINOLib.Name, v, err), Tried: tried}
		}
		return p, nil
	}
	// The project's virtualenv: .venv next to the executable, the working
	// directory, or one of their parents (so bin/fakbench and go test from a
	// package directory both find it), and under the module root.
	seen := map[string]bool{}
	if p := se.walkUp(".venv", seen, &tried, venvLib); p != "" {
		return p, nil
	}
	// An active virtualenv.
	if v := se.getenv("VIRTUAL_ENV"); v != "" && !seen[v] {
		tried = append(tried, v)
		if p := venvLib(v); p != "" {
			return p, nil
		}
	}
	// The loader path.
	for _, d := range filepath.SplitList(se.getenv("LD_LIBRARY_PATH")) {
		if d == "" {
			continue
		}
		tried = append(tried, d)
		if p, err := libIn(d); err == nil {
			return p, nil
		}
	}
	for _, d := range []string{"/usr/local/lib", "/usr/lib/x86_64-linux-gnu", "/usr/lib"} {
		tried = append(tried, d)
		if p, err := libIn(d); err == nil {
			return p, nil
		}
	}
	// Archive installs.
	for _, g := range se.globRoots {
		roots, _ := filepath.Glob(g)
		sort.Sort(sort.Reverse(sort.StringSlice(roots)))
		if len(roots) == 0 {
			tried = append(tried, g)
		}
		for _, r := range roots {
			d := filepath.Join(r, "runtime", "lib", "intel64")
			tried = append(tried, d)
			if p, err := libIn(d); err == nil {
				return p, nil
			}
		}
	}
	return "", &transport.UnavailableError{Backend: "openvino",
		Reason: "no OpenVINO C API library (libopenvino_c.so.*) found; run `make setup` to install the runtime into .venv, or set " + env.OpenVINOLib.Name,
		Tried:  tried}
}

// walkUp looks for rel under the folder of the executable (links
// resolved), the working directory and the module root, and under every
// parent of each: look gets each path once (seen holds those looked at,
// tried lists them) and returns what it found there, or "". walkUp returns
// the first thing found, or "".
func (se searchEnv) walkUp(rel string, seen map[string]bool, tried *[]string, look func(string) string) string {
	var starts []string
	if exe, err := se.executable(); err == nil {
		if r, err := filepath.EvalSymlinks(exe); err == nil {
			exe = r
		}
		starts = append(starts, filepath.Dir(exe))
	}
	if wd, err := se.workdir(); err == nil {
		starts = append(starts, wd)
	}
	if se.moduleRoot != "" {
		starts = append(starts, se.moduleRoot)
	}
	for _, s := range starts {
		for dir := s; ; dir = filepath.Dir(dir) {
			if p := filepath.Join(dir, rel); !seen[p] {
				seen[p] = true
				*tried = append(*tried, p)
				if found := look(p); found != "" {
					return found
				}
			}
			if filepath.Dir(dir) == dir {
				break
			}
		}
	}
	return ""
}

// venvLib returns the C API library inside a virtualenv, or "".
func venvLib(venv string) string {
	dirs, _ := filepath.Glob(filepath.Join(venv, "lib", "python3*", "site-packages", "openvino", "libs"))
	for _, d := range dirs {
		if p, err := libIn(d); err == nil {
			return p
		}
	}
	return ""
}

// libIn resolves path to a library file: path itself when it is a file, or
// the best libopenvino_c.so* inside it when it is a directory.
func libIn(path string) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if !st.IsDir() {
		return path, nil
	}
	matches, _ := filepath.Glob(filepath.Join(path, libPattern))
	var files []string
	for _, m := range matches {
		if fi, err := os.Stat(m); err == nil && !fi.IsDir() {
			files = append(files, m)
		}
	}
	if len(files) == 0 {
		return "", fmt.Errorf("no %s in %s", libPattern, path)
	}
	// Prefer the versioned file (the wheel ships only that); among several,
	// the longest name is the most specific.
	sort.Slice(files, func(i, j int) bool {
		if len(files[i]) != len(files[j]) {
			return len(files[i]) > len(files[j])
		}
		return files[i] > files[j]
	})
	return files[0], nil
}

// loadRuntime finds and opens the C API library.
func loadRuntime(se searchEnv) (*capi, error) {
	p, err := findLibrary(se)
	if err != nil {
		return nil, err
	}
	l, err := openCAPI(p)
	if err != nil {
		return nil, &transport.UnavailableError{Backend: "openvino", Reason: err.Error(), Tried: []string{p}}
	}
	return l, nil
}

// Available reports whether the OpenVINO runtime can be found and loaded,
// with the reason and the paths tried when it cannot.
func Available() error {
	_, err := loadRuntime(defaultSearchEnv())
	return err
}

// ShimPath is where `make setup` (scripts/setup.d/35-ovshim.sh) builds
// fakbench's OpenVINO library from the top-level CMakeLists.txt, relative
// to the repository root.
const ShimPath = "build/ovshim/libfakbench_ovshim.so"

// findShim returns the path of fakbench's OpenVINO library: ShimPath under
// the folder of the executable, the working directory, the module root, or
// one of their parents (the same walk as the .venv search), or an
// *transport.UnavailableError listing every place looked at.
func findShim(se searchEnv) (string, error) {
	var tried []string
	regular := func(p string) string {
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p
		}
		return ""
	}
	if p := se.walkUp(ShimPath, map[string]bool{}, &tried, regular); p != "" {
		return p, nil
	}
	return "", &transport.UnavailableError{Backend: "openvino",
		Reason: "fakbench's OpenVINO library (" + ShimPath + ", built from CMakeLists.txt against the runtime's CMake package) was not found; run `make setup` to build it",
		Tried:  tried}
}

// loadShim finds and opens fakbench's OpenVINO library, and checks that it
// was built against the runtime lib is (the library shares the runtime the
// C library loaded, so the two must be one version).
func loadShim(se searchEnv, lib *capi) (*shim, error) {
	p, err := findShim(se)
	if err != nil {
		return nil, err
	}
	s, err := openShim(p)
	if err != nil {
		return nil, &transport.UnavailableError{Backend: "openvino", Reason: err.Error(), Tried: []string{p}}
	}
	if !strings.HasPrefix(lib.version, s.built) || s.running != lib.version {
		return nil, &transport.UnavailableError{Backend: "openvino", Tried: []string{p}, Reason: fmt.Sprintf(
			"%s was built against OpenVINO %s and runs on %s, but the C library %s is %s; run `make setup` to build it again",
			p, s.built, s.running, lib.path, lib.version)}
	}
	return s, nil
}

// AvailableStateful reports whether the runtime and fakbench's OpenVINO
// library (ShimPath) can both be loaded: what the stateful rows (openvino,
// openvino-gguf) need. It gives the reason when they cannot.
func AvailableStateful() error {
	se := defaultSearchEnv()
	lib, err := loadRuntime(se)
	if err != nil {
		return err
	}
	_, err = loadShim(se, lib)
	return err
}

// RuntimeVersion returns the loaded runtime's build number, e.g.
// "2026.4.1-22982-...", or an error saying why there is no runtime.
func RuntimeVersion() (string, error) {
	l, err := loadRuntime(defaultSearchEnv())
	if err != nil {
		return "", err
	}
	return l.version, nil
}
