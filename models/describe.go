package models

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/fakbench/fakbench/gguf"
)

// DescribeSpec resolves spec (Resolve: a synthetic model is generated on
// first use, with a line on progress) and writes Describe's account of the
// file to w: the engine of `fakbench model info`.
func DescribeSpec(ctx context.Context, w io.Writer, spec string, progress io.Writer) error {
	m, err := Resolve(ctx, spec, progress)
	if err != nil {
		return err
	}
	f, err := gguf.Open(m.Path)
	if err != nil {
		return err
	}
	defer f.Close()
	Describe(w, m, f)
	return nil
}

// GenSpec is the spec `fakbench model gen --preset NAME --type TYPE`
// writes: ParseSpec of synthetic:NAME:TYPE. When NAME is an old preset
// name, it writes AliasNote to notes.
func GenSpec(name, typ string, notes io.Writer) (Spec, error) {
	s, err := ParseSpec(SpecPrefix + name + ":" + typ)
	if err == nil {
		fmt.Fprint(notes, AliasNote(name))
	}
	return s, err
}

// specPreset is the preset name a synthetic spec gives, as given (an old
// name stays old); false for any other spec.
func specPreset(spec string) (string, bool) {
	rest, ok := strings.CutPrefix(spec, SpecPrefix)
	if !ok {
		return "", false
	}
	name, _, _ := strings.Cut(rest, ":")
	return name, name != ""
}
