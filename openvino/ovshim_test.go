package openvino

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/adapters"
	"github.com/fakbench/fakbench/gguf"
	"github.com/fakbench/fakbench/gguf/gguftest"
	"github.com/fakbench/fakbench/transport"
)

// emptySearch is a search environment with nothing in it: no executable
// folder, working directory or module root holding build/ovshim.
func emptySearch(t *testing.T) searchEnv {
	dir := t.TempDir()
	return searchEnv{
		getenv:     func(string) string { return "" },
		executable: func() (string, error) { return filepath.Join(dir, "bin", "fakbench"), nil },
		workdir:    func() (string, error) { return dir, nil },
	}
}

// TestShimMissing: without build/ovshim the stateful rows are unavailable,
// with the reason (run make setup) and every place looked at.
func TestShimMissing(t *testing.T) {
	se := emptySearch(t)
	_, err := findShim(se)
	ue, ok := errors.AsType[*transport.UnavailableError](err)
	require.True(t, ok, "%v", err)
	assert.Contains(t, ue.Reason, ShimPath)
	assert.Contains(t, ue.Reason, "make setup")
	wd, _ := se.workdir()
	assert.Contains(t, ue.Tried, filepath.Join(wd, ShimPath))
	assert.Contains(t, ue.Tried, filepath.Join("/", ShimPath), "the walk goes up to the root")
}

// TestShimFoundWalkingUp: the library is found under a parent of the
// working directory, as .venv is.
func TestShimFoundWalkingUp(t *testing.T) {
	se := emptySearch(t)
	root, _ := se.workdir()
	lib := filepath.Join(root, ShimPath)
	require.NoError(t, os.MkdirAll(filepath.Dir(lib), 0o755))
	require.NoError(t, os.WriteFile(lib, []byte("not a library"), 0o644))
	sub := filepath.Join(root, "a", "b")
	require.NoError(t, os.MkdirAll(sub, 0o755))
	se.workdir = func() (string, error) { return sub, nil }
	p, err := findShim(se)
	require.NoError(t, err)
	assert.Equal(t, lib, p)
}

// TestShimNotALibrary: a file in the library's place that dlopen refuses,
// or a library without fakov's functions, makes the rows unavailable with
// dlopen's message or the missing names; neither crashes.
func TestShimNotALibrary(t *testing.T) {
	requireRuntime(t)
	lib, err := loadRuntime(defaultSearchEnv())
	require.NoError(t, err)

	se := emptySearch(t)
	root, _ := se.workdir()
	bad := filepath.Join(root, ShimPath)
	require.NoError(t, os.MkdirAll(filepath.Dir(bad), 0o755))
	require.NoError(t, os.WriteFile(bad, []byte("not a library"), 0o644))
	_, err = loadShim(se, lib)
	ue, ok := errors.AsType[*transport.UnavailableError](err)
	require.True(t, ok, "%v", err)
	assert.Contains(t, ue.Reason, "dlopen "+bad)
	assert.Equal(t, []string{bad}, ue.Tried)

	// The C API library is a library, but not ours.
	_, err = openShim(lib.path)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "lacks [fakov_abi_version")
	assert.Contains(t, err.Error(), "run make setup")
}

// openedShim returns the real library, built by make setup.
func openedShim(t *testing.T) *shim {
	t.Helper()
	requireStateful(t)
	lib, err := loadRuntime(defaultSearchEnv())
	require.NoError(t, err)
	s, err := loadShim(defaultSearchEnv(), lib)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(lib.version, s.built), "built against %s, runs %s", s.built, lib.version)
	assert.Equal(t, lib.version, s.running, "the library shares the C library's runtime")
	return s
}

// TestShimErrorsAreStrings: what the C++ API throws comes back as an
// error naming the call, and the process goes on.
func TestShimErrorsAreStrings(t *testing.T) {
	s := openedShim(t)
	_, err := s.readIR("/nonexistent/model.xml", "/nonexistent/model.bin")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "read IR: ")
	assert.Contains(t, err.Error(), "libfakbench_ovshim.so")

	bad := filepath.Join(t.TempDir(), "bad.gguf")
	require.NoError(t, os.WriteFile(bad, []byte("GGUF but not really"), 0o644))
	_, err = s.convertGGUF(bad, true)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "GGUF frontend: ")

	_, err = s.deviceProperty("NO_SUCH_DEVICE", "FULL_DEVICE_NAME")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "device property: ")
}

// TestSetInputAllocations: a session binds four inputs per decode step, so
// binding one allocates only the shape array handed to C (cgo moves it to
// the heap), never the error message it gives for a bad rank.
func TestSetInputAllocations(t *testing.T) {
	b, _ := openTiny(t, gguf.TypeQ8_0, nil)
	e, err := b.newStatefulEngine()
	require.NoError(t, err)
	defer e.release()
	dims := []int64{1, 1}
	allocs := testing.AllocsPerRun(100, func() {
		if err := e.req.setInput("attention_mask", fakI64, dims, e.in.mask.p); err != nil {
			t.Fatal(err)
		}
	})
	assert.LessOrEqual(t, allocs, 1.0, "allocations per setInput")
}

// TestStatefulStepAllocations: a stateful session's decode step allocates
// only what its calls into the library need (the variables cgo hands to C
// move to the heap: each input's shape array, the output's type, rank,
// shape and data) and the output's shape and row list: 9, as the step did
// before it fed its inputs through batchBufs.run; the shapes run builds
// for its four inputs add none.
func TestStatefulStepAllocations(t *testing.T) {
	b, _ := openTiny(t, gguf.TypeQ8_0, nil)
	e, err := b.newStatefulEngine()
	require.NoError(t, err)
	defer e.release()
	_, err = e.Feed(bg, 0, []transport.Token{1, 2, 3}, true)
	require.NoError(t, err)
	P := 3
	allocs := testing.AllocsPerRun(20, func() {
		require.NoError(t, e.step(P, []transport.Token{7}))
		P++
	})
	assert.LessOrEqual(t, allocs, 9.0, "allocations per decode step")
}

// TestShimRequestErrors drives a real request with bad arguments: every
// one is an error naming what was wrong, and the request still works.
func TestShimRequestErrors(t *testing.T) {
	b, _ := openTiny(t, gguf.TypeQ8_0, nil)
	e, err := b.newStatefulEngine()
	require.NoError(t, err)
	defer e.release()
	r := e.req

	err = r.setInput("no_such_input", fakI64, []int64{1, 1}, e.in.ids.p)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "set input: ")
	assert.Contains(t, err.Error(), "no_such_input")
	err = r.setInput("input_ids", 77, []int64{1, 1}, e.in.ids.p)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "unknown element type code 77")
	assert.ErrorContains(t, r.setInput("input_ids", fakI64, make([]int64, 9), e.in.ids.p), "rank 9")
	_, _, err = r.outputF32(5)
	assert.ErrorContains(t, err, "output: ")

	n, err := r.stateCount()
	require.NoError(t, err)
	assert.Equal(t, 2*tiny.layers, n, "a key and a value variable per layer")
	_, err = r.stateTrim(7, 1)
	assert.ErrorContains(t, err, "axis 7 is outside state")
	_, err = r.stateTrim(b.tokenAxis, -1)
	assert.ErrorContains(t, err, "negative keep")
	_, err = r.stateGet(n, nil)
	assert.ErrorContains(t, err, "state index out of range")
	assert.ErrorContains(t, r.stateSet(0, []int64{1, 2}, []float32{1}), "holds 2 values, 1 given")
	assert.ErrorContains(t, r.stateSet(0, make([]int64, 9), nil), "state shape [0 0 0 0 0 0 0 0 0] has rank 9, above 8")

	// The request still computes, and its state is what was fed.
	_, err = e.Feed(bg, 0, []transport.Token{1, 2, 3}, true)
	require.NoError(t, err)
	held, err := r.stateLength(b.tokenAxis)
	require.NoError(t, err)
	assert.Equal(t, 3, held)
	_, err = r.stateLength(9)
	assert.ErrorContains(t, err, "axis out of the state's rank")
	desc, err := r.stateDescribe()
	require.NoError(t, err)
	assert.Contains(t, desc, "past_key.0\tf32\t[1,3,2,16]")
}

// TestShimStateCalls: the state read back is the state set, trimming keeps
// exactly the first positions, and a reset empties every variable.
func TestShimStateCalls(t *testing.T) {
	b, _ := openTiny(t, gguf.TypeF32, exact())
	e, err := b.newStatefulEngine()
	require.NoError(t, err)
	defer e.release()
	r := e.req
	_, err = e.Feed(bg, 0, []transport.Token{5, 6, 7, 8, 9}, true)
	require.NoError(t, err)

	kvd := tiny.kvHeads * (tiny.embd / tiny.heads)
	full := make([]float32, 5*kvd)
	shape, err := r.stateGet(0, full)
	require.NoError(t, err)
	assert.Equal(t, []int64{1, 5, int64(tiny.kvHeads), int64(tiny.embd / tiny.heads)}, shape)
	_, err = r.stateGet(0, make([]float32, 3))
	assert.ErrorContains(t, err, "room for 3")

	before, err := r.stateTrim(b.tokenAxis, 2)
	require.NoError(t, err)
	assert.Equal(t, 5, before)
	kept := make([]float32, 2*kvd)
	shape, err = r.stateGet(0, kept)
	require.NoError(t, err)
	assert.Equal(t, int64(2), shape[1])
	assert.Equal(t, full[:2*kvd], kept, "the first positions, unchanged")

	// Set: a state written is the state read.
	mine := make([]float32, 3*kvd)
	for i := range mine {
		mine[i] = float32(i%17) / 8
	}
	require.NoError(t, r.stateSet(0, []int64{1, 3, int64(tiny.kvHeads), int64(tiny.embd / tiny.heads)}, mine))
	back := make([]float32, 3*kvd)
	_, err = r.stateGet(0, back)
	require.NoError(t, err)
	assert.Equal(t, mine, back)

	require.NoError(t, r.stateReset())
	held, err := r.stateLength(b.tokenAxis)
	require.NoError(t, err)
	assert.Equal(t, 0, held)
}

// writeTinyWithEmbed writes the tiny f32 model with token_embd.weight
// stored as typ (random bytes of the right size: the row is refused before
// any value is read).
func writeTinyWithEmbed(t *testing.T, typ gguf.TensorType) string {
	t.Helper()
	src := writeTinyGGUF(t, t.TempDir(), tiny, gguf.TypeF32, 3, false)
	path := filepath.Join(t.TempDir(), "tiny-embd-"+typ.String()+".gguf")
	gguftest.RewriteTensors(t, src, path, nil, nil, map[string]gguftest.Zeros{"token_embd.weight": {Type: typ}})
	return path
}

// TestRowsRefuseTypesTheyCannotRun: a type a row cannot run makes it
// unavailable with a typed error naming the type (not a bad-model failure:
// the file is fine), for the writer's rows and for the GGUF frontend's.
func TestRowsRefuseTypesTheyCannotRun(t *testing.T) {
	requireStateful(t)
	path := writeTinyWithEmbed(t, gguf.TypeIQ4_NL)
	for _, row := range []struct {
		name string
		open func() error
	}{
		{Name, func() error { _, err := Open(bg, adapters.Options{ModelPath: path, Threads: 1}); return err }},
		{NameGGUF, func() error { _, err := OpenGGUF(bg, adapters.Options{ModelPath: path, Threads: 1}); return err }},
	} {
		err := row.open()
		ue, ok := errors.AsType[*transport.UnavailableError](err)
		require.True(t, ok, "%s: %v", row.name, err)
		assert.Contains(t, ue.Reason, "token_embd.weight", row.name)
		assert.Contains(t, ue.Reason, "iq4_nl", row.name)
	}
}

// TestFrontendRefusalWording: the frontend's message is turned into the
// type's name; another failure keeps the frontend's words.
func TestFrontendRefusalWording(t *testing.T) {
	err := frontendRefusal("/m.gguf", errors.New("Check 'x' failed: [load_gguf] tensor 'blk.0.ffn_up.weight' has unsupported type 16\n"))
	ue, ok := errors.AsType[*transport.UnavailableError](err)
	require.True(t, ok)
	assert.Equal(t, NameGGUF, ue.Backend)
	assert.Contains(t, ue.Reason, "/m.gguf: tensor blk.0.ffn_up.weight has type iq2_xxs, which OpenVINO's GGUF frontend does not decode")
	err = frontendRefusal("/m.gguf", errors.New("something else"))
	assert.Contains(t, err.Error(), "OpenVINO's GGUF frontend cannot convert /m.gguf: something else")
}

// TestCheckFrontendIO: a converted model without the inputs the session
// feeds, without logits first or without state is refused, naming what is
// missing.
func TestCheckFrontendIO(t *testing.T) {
	good := "in\tbeam_idx\ti32\t[?]\nin\tinput_ids\ti64\t[?,?]\nin\tattention_mask\ti64\t[?,?]\nin\tposition_ids\ti64\t[?,?]\n" +
		"out\t0\tlogits\tf32\t[1,?,512]\nvar\tcache_k_l0\tf16\t[1,?,2,16]\nop\tAdd\t3\n"
	assert.NoError(t, checkFrontendIO("/m", good))
	err := checkFrontendIO("/m", strings.Replace(good, "position_ids", "inp_pos", 1))
	assert.ErrorContains(t, err, "without the inputs [position_ids]")
	err = checkFrontendIO("/m", strings.Replace(good, "\tlogits\t", "\tcache\t", 1))
	assert.ErrorContains(t, err, `first output "cache", not logits`)
	err = checkFrontendIO("/m", strings.Replace(good, "var\t", "xx\t", 1))
	assert.ErrorContains(t, err, "without variable state")
}

// TestLastRow: the logits of each sequence's last position, from an output
// sliced before the head ([B, 1, V]) or not ([B, T, V]); a shape that is
// neither is an error naming it.
func TestLastRow(t *testing.T) {
	lg := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	rows, err := lastRow([]int64{2, 3, 2}, lg, 2, 2)
	require.NoError(t, err)
	assert.Equal(t, [][]float32{{5, 6}, {11, 12}}, rows)
	rows, err = lastRow([]int64{1, 1, 12}, lg, 12, 1)
	require.NoError(t, err)
	assert.Equal(t, [][]float32{lg}, rows)
	_, err = lastRow([]int64{2, 3, 2}, lg, 3, 2)
	assert.ErrorContains(t, err, "logits output has shape [2 3 2], want [2, T, 3]")
	_, err = lastRow([]int64{1, 6, 2}, lg, 2, 2)
	assert.ErrorContains(t, err, "want [2, T, 2]")
}
