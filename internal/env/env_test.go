package env

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Variables of every kind for the accessor tests. They are built directly,
// not through declare, so they stay out of the package's list.
var (
	tStr  = &StringVar{Var{Name: "FAK_TEST_ENV_STRING", Kind: KindString}}
	tBool = &BoolVar{Var{Name: "FAK_TEST_ENV_BOOL", Kind: KindBool}}
	tInt  = &IntVar{Var{Name: "FAK_TEST_ENV_INT", Kind: KindInt}}
)

func TestStringVar(t *testing.T) {
	t.Setenv(tStr.Name, "")
	assert.Equal(t, "", tStr.Value())
	assert.True(t, tStr.IsSet(), "set to empty is still set")

	t.Setenv(tStr.Name, " a b ")
	assert.Equal(t, " a b ", tStr.Value(), "a string is returned exactly as set")

	unset(t, tStr.Name)
	assert.Equal(t, "", tStr.Value())
	assert.False(t, tStr.IsSet())
}

func TestBoolVar(t *testing.T) {
	for value, want := range map[string]bool{"1": true, " 1 ": true, "0": false, "": false} {
		t.Setenv(tBool.Name, value)
		got, err := tBool.Bool()
		require.NoError(t, err, "%q", value)
		assert.Equal(t, want, got, "%q", value)
	}
	unset(t, tBool.Name)
	got, err := tBool.Bool()
	require.NoError(t, err)
	assert.False(t, got, "unset is off")

	for _, bad := range []string{"true", "yes", "on", "2", "-1", "01"} {
		t.Setenv(tBool.Name, bad)
		got, err := tBool.Bool()
		var e *Error
		require.True(t, errors.As(err, &e), "%q: %v", bad, err)
		assert.False(t, got)
		assert.Equal(t, tBool.Name, e.Name)
		assert.Equal(t, bad, e.Value)
		assert.Contains(t, err.Error(), tBool.Name+"=\""+bad+"\"", "the message names the variable and its value")
		assert.Contains(t, err.Error(), "want 1 (on) or 0 (off)")
	}
}

// fakeTB records what SkipIfMissing asks of a test.
type fakeTB struct{ fatal, skip string }

var _ TB = testing.TB(nil) // what tests pass satisfies TB

func (f *fakeTB) Helper()                        {}
func (f *fakeTB) Fatalf(format string, a ...any) { f.fatal = fmt.Sprintf(format, a...) }
func (f *fakeTB) Skip(a ...any)                  { f.skip = fmt.Sprint(a...) }

// Something missing skips the test, or fails it when the switch is on or
// holds a bad value; nothing missing does neither.
func TestSkipIfMissing(t *testing.T) {
	missing := errors.New("backend x unavailable: no library")
	for value, want := range map[string]fakeTB{
		"":    {skip: "backend x unavailable: no library"},
		"0":   {skip: "backend x unavailable: no library"},
		"1":   {fatal: tBool.Name + "=1 but backend x unavailable: no library"},
		"yes": {fatal: `backend x unavailable: no library, and ` + tBool.Name + `="yes": want 1 (on) or 0 (off); unset is off`},
	} {
		t.Setenv(tBool.Name, value)
		var got fakeTB
		tBool.SkipIfMissing(&got, missing)
		assert.Equal(t, want, got, "%q", value)
		got = fakeTB{}
		tBool.SkipIfMissing(&got, nil)
		assert.Equal(t, fakeTB{}, got, "%q: nothing missing", value)
	}
}

func TestIntVar(t *testing.T) {
	unset(t, tInt.Name)
	n, err := tInt.Int(7)
	require.NoError(t, err)
	assert.Equal(t, 7, n, "unset gives the default")

	for value, want := range map[string]int{"": 7, "  ": 7, "0": 0, "256": 256, " 128 ": 128, "-3": -3} {
		t.Setenv(tInt.Name, value)
		n, err := tInt.Int(7)
		require.NoError(t, err, "%q", value)
		assert.Equal(t, want, n, "%q", value)
	}

	for _, bad := range []string{"abc", "1.5", "12x", "0x10", "1e3"} {
		t.Setenv(tInt.Name, bad)
		_, err := tInt.Int(7)
		var e *Error
		require.True(t, errors.As(err, &e), "%q: %v", bad, err)
		assert.Equal(t, tInt.Name, e.Name)
		assert.Equal(t, bad, e.Value)
		assert.Equal(t, "FAK_TEST_ENV_INT=\""+bad+"\": want a decimal integer", err.Error())
	}
}

func TestSet(t *testing.T) {
	t.Setenv(tInt.Name, "")
	require.NoError(t, tInt.Set("42"))
	n, err := tInt.Int(0)
	require.NoError(t, err)
	assert.Equal(t, 42, n)

	bad := &Var{Name: "FAK_BAD\x00NAME"}
	err = bad.Set("x")
	require.Error(t, err, "a name the OS refuses is an error")
	assert.Contains(t, err.Error(), "setting FAK_BAD")
}

func TestErrorMessage(t *testing.T) {
	e := &Error{Name: "FAK_X", Value: "a\"b", Want: "a number"}
	assert.Equal(t, `FAK_X="a\"b": want a number`, e.Error())
}

var nameRE = regexp.MustCompile(`^FAK_[A-Z0-9_]+$`)

// TestDeclarations checks each declaration is complete and the names are
// unique, and that All and Find see every one.
func TestDeclarations(t *testing.T) {
	all := All()
	require.Len(t, all, len(declared))
	require.NotEmpty(t, all)
	seen := map[string]bool{}
	kinds := map[Kind]bool{KindString: true, KindPath: true, KindBool: true, KindInt: true}
	for i, v := range all {
		assert.Regexp(t, nameRE, v.Name)
		assert.False(t, seen[v.Name], "%s is declared twice", v.Name)
		seen[v.Name] = true
		assert.True(t, kinds[v.Kind], "%s: kind %q", v.Name, v.Kind)
		assert.Contains(t, Scopes, v.Scope, v.Name)
		assert.NotEmpty(t, v.Default, "%s: say what applies when it is unset", v.Name)
		assert.NotEmpty(t, v.ReadBy, "%s: say who reads it", v.Name)
		assert.Regexp(t, `\.$`, v.Doc, "%s: the doc is one or two sentences", v.Name)
		if i > 0 {
			prev := all[i-1]
			if prev.Scope == v.Scope {
				assert.Less(t, prev.Name, v.Name, "sorted by name within a scope")
			}
		}
		got, ok := Find(v.Name)
		require.True(t, ok, v.Name)
		assert.Equal(t, v, got)
	}
	_, ok := Find("FAK_NOT_DECLARED")
	assert.False(t, ok)

	// All returns copies: changing one does not change the declaration.
	all[0].ReadBy[0] = "elsewhere"
	assert.NotEqual(t, "elsewhere", All()[0].ReadBy[0])
}

// unset removes name for the rest of the test and restores it afterwards.
func unset(t *testing.T, name string) {
	t.Helper()
	t.Setenv(name, "")
	require.NoError(t, os.Unsetenv(name))
}
