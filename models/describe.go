package models

import (
	"context"
	"io"

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
