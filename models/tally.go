package models

import (
	"sort"

	"github.com/fakbench/fakbench/gguf"
)

// TypeTally is what the tensors of one type take in a model file.
type TypeTally struct {
	// Type is the tensor type's name (gguf's spelling, e.g. "q8_0").
	Type string
	// Tensors, Params and Bytes are the tensor count, their elements and
	// their data size.
	Tensors       int
	Params, Bytes int64
}

// Tally counts a model file's tensors by type, sorted by type name, and
// returns the total parameter count.
func Tally(f *gguf.File) (params int64, byType []TypeTally) {
	idx := map[string]int{}
	for _, t := range f.Tensors {
		name := t.Type.String()
		i, ok := idx[name]
		if !ok {
			i = len(byType)
			idx[name] = i
			byType = append(byType, TypeTally{Type: name})
		}
		byType[i].Tensors++
		byType[i].Bytes += t.Size
		byType[i].Params += t.Elements()
		params += t.Elements()
	}
	sort.Slice(byType, func(a, b int) bool { return byType[a].Type < byType[b].Type })
	return params, byType
}
