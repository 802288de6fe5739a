// Package env is the one place fakbench reads its FAK_* environment
// variables. Each variable is declared once in vars.go with its name, what
// it does, its default, its scope and who reads it; Go code reads it only
// through the typed accessors here (a bad value is an *Error naming the
// variable), and docs/env.md is generated from the declarations (see
// Markdown; a test fails when the two disagree).
//
// Tests may still set variables with t.Setenv(env.X.Name, ...): the
// accessors read the process environment every time they are called.
package env

import (
	"cmp"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
)

// Scope says which kind of program reads a variable.
type Scope string

// The scopes, in the order docs/env.md lists them.
const (
	// Program variables are read by the fakbench binary and the packages
	// it is built from.
	Program Scope = "program"
	// Test variables are read by tests and benchmarks only (go test).
	Test Scope = "test"
	// Script variables are read by scripts/ only; no Go code reads them.
	Script Scope = "script"
	// Build names are make variables and C preprocessor defines: they reach
	// the compilers through the build flags, not the environment of a
	// running program.
	Build Scope = "build"
)

// Scopes lists every scope in documentation order.
var Scopes = []Scope{Program, Test, Script, Build}

// Kind is the type of a variable's value.
type Kind string

// The kinds.
const (
	// KindString is free text (a name, a command line, a spec).
	KindString Kind = "string"
	// KindPath is a file or directory name.
	KindPath Kind = "path"
	// KindBool is 1 (on) or 0 (off); unset or empty is off.
	KindBool Kind = "bool"
	// KindInt is a decimal integer; surrounding blanks are ignored.
	KindInt Kind = "int"
)

// Var is the declaration of one variable. Program and Test variables are
// declared as a StringVar, BoolVar or IntVar, which add the accessor for
// their kind; Script and Build ones are a bare Var (documentation only).
type Var struct {
	// Name is the variable's name, FAK_ and upper-case letters, digits and
	// underscores.
	Name string
	// Kind is the type of its value.
	Kind Kind
	// Scope says which kind of program reads it.
	Scope Scope
	// Default says, in words, what applies when it is unset or empty.
	Default string
	// ReadBy lists who reads it, as repository paths: a package directory
	// for Go code (its tests included), a file for scripts and the Makefile.
	ReadBy []string
	// SetBy lists the files that set it for another program, if any.
	SetBy []string
	// Doc says what it does, in one or two sentences.
	Doc string
}

// IsSet reports whether the variable is present in the environment (even
// when empty).
func (v *Var) IsSet() bool {
	_, ok := os.LookupEnv(v.Name)
	return ok
}

// Set puts value into this process's environment, where child processes
// inherit it.
func (v *Var) Set(value string) error {
	if err := os.Setenv(v.Name, value); err != nil {
		return fmt.Errorf("setting %s: %w", v.Name, err)
	}
	return nil
}

// raw is the variable's value with surrounding blanks removed.
func (v *Var) raw() string { return strings.TrimSpace(os.Getenv(v.Name)) }

// Error is a variable holding a value its reader cannot use.
type Error struct {
	// Name is the variable.
	Name string
	// Value is what it holds.
	Value string
	// Want says what it should hold.
	Want string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s=%q: want %s", e.Name, e.Value, e.Want)
}

// StringVar is a variable whose value is text or a path.
type StringVar struct{ Var }

// Value returns the variable's value exactly as set, "" when unset.
func (v *StringVar) Value() string { return os.Getenv(v.Name) }

// BoolVar is a switch: 1 is on; 0, empty or unset is off.
type BoolVar struct{ Var }

// Bool returns true for 1 and false for 0, empty or unset (blanks around
// the value are ignored); any other value is an *Error.
func (v *BoolVar) Bool() (bool, error) {
	switch s := v.raw(); s {
	case "1":
		return true, nil
	case "", "0":
		return false, nil
	default:
		return false, &Error{Name: v.Name, Value: os.Getenv(v.Name), Want: "1 (on) or 0 (off); unset is off"}
	}
}

// TB is the part of testing.TB that SkipIfMissing uses (so that this
// package does not import testing).
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Skip(args ...any)
}

// SkipIfMissing is for a test that needs what this machine may lack (a
// backend, a browser): when missing (the reason it is not here) is not
// nil, it skips tb with that reason, or fails tb when v, a FAK_REQUIRE_*
// switch, is on (or holds a bad value). With missing nil it does nothing.
func (v *BoolVar) SkipIfMissing(tb TB, missing error) {
	if missing == nil {
		return
	}
	tb.Helper()
	switch must, err := v.Bool(); {
	case err != nil:
		tb.Fatalf("%v, and %v", missing, err)
	case must:
		tb.Fatalf("%s=1 but %v", v.Name, missing)
	default:
		tb.Skip(missing)
	}
}

// IntVar is a variable holding a decimal integer.
type IntVar struct{ Var }

// Int returns the variable's value, or def when it is unset or blank; a
// value that is not a decimal integer is an *Error.
func (v *IntVar) Int(def int) (int, error) {
	s := v.raw()
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, &Error{Name: v.Name, Value: os.Getenv(v.Name), Want: "a decimal integer"}
	}
	return n, nil
}

// declared holds every declaration, in declaration order.
var declared []*Var

// declare records the declaration v as a variable of kind and returns it.
func declare(v Var, kind Kind) *Var {
	v.Kind = kind
	declared = append(declared, &v)
	return &v
}

func str(v Var) *StringVar   { return &StringVar{*declare(v, KindString)} }
func path(v Var) *StringVar  { return &StringVar{*declare(v, KindPath)} }
func boolean(v Var) *BoolVar { return &BoolVar{*declare(v, KindBool)} }
func integer(v Var) *IntVar  { return &IntVar{*declare(v, KindInt)} }

// doc declares a Script or Build variable, which no Go code reads; its
// kind is KindString unless it names one.
func doc(v Var) *Var { return declare(v, cmp.Or(v.Kind, KindString)) }

// All returns a copy of every declaration, ordered by scope (as Scopes
// lists them) and then by name.
func All() []Var {
	rank := map[Scope]int{}
	for i, s := range Scopes {
		rank[s] = i
	}
	out := make([]Var, 0, len(declared))
	for _, v := range declared {
		c := *v
		c.ReadBy = append([]string(nil), v.ReadBy...)
		c.SetBy = append([]string(nil), v.SetBy...)
		out = append(out, c)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if rank[out[i].Scope] != rank[out[j].Scope] {
			return rank[out[i].Scope] < rank[out[j].Scope]
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// Find returns the declaration of the variable called name.
func Find(name string) (Var, bool) {
	for _, v := range All() {
		if v.Name == name {
			return v, true
		}
	}
	return Var{}, false
}
