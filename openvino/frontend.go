package openvino

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/fakbench/fakbench/gguf"
	"github.com/fakbench/fakbench/transport"
)

// The openvino-gguf row: the GGUF file read by OpenVINO's own GGUF frontend,
// the way OpenVINO itself reads it. The frontend converts a llama.cpp GGUF
// into a graph with llama.cpp-style inputs (inp_tokens, inp_pos, inp_kv_idx,
// self_kq_mask, cache_k_l<i>, ...). With the frontend's own passes
// registered before convert (fakbench's library does it):
//
//   - GGUFMakeStateful turns each cache_k_l<i>/cache_v_l<i> Parameter/Result
//     pair into a variable: ReadValue -> Gather(beam_idx) -> Concat(past,
//     this call's rows) -> Assign, so inp_kv_idx (the llama.cpp write slots
//     of the stateless graph) is no longer an input: new rows are appended
//     after the positions held;
//   - AdaptToGenAI derives those inputs from OpenVINO GenAI's: input_ids,
//     attention_mask, position_ids [1, T] i64 and beam_idx [1] i32. Its
//     causal mask is "key slot j is visible from a query at position p when
//     j <= p", with as many slots as attention_mask has columns (its values
//     are not read), so positions must be the slots 0, 1, ...: one sequence,
//     no padding. That is what a session feeds.
//
// The variables are f16 [1, positions, kv_heads, head_dim]: the token axis
// is frontendTokenAxis. Prefix reuse keeps the first N positions of every
// variable through fakbench's library, as for the stateful writer.

// NameGGUF is the registry name of the GGUF frontend's row.
const NameGGUF = "openvino-gguf"

// frontendTokenAxis is the token axis of the GGUF frontend's cache variables.
const frontendTokenAxis = 1

// frontendInputs are the inputs the session feeds the frontend's model.
var frontendInputs = []string{"input_ids", "attention_mask", "position_ids", "beam_idx"}

// readFrontendSpec reads what the session and the report need from the
// GGUF (the Llama hyper-parameters, checked as for every backend); the
// tensor types are left to the frontend, which refuses what it cannot
// decode (frontendRefusal).
func readFrontendSpec(f *gguf.File) (llamaSpec, error) {
	s, _, err := paramsSpec(f)
	if err != nil {
		return s, err
	}
	for _, t := range f.Tensors {
		s.Params += t.Elements()
		s.WeightBytes += t.Size
	}
	return s, nil
}

// unsupportedType finds the frontend's "tensor 'X' has unsupported type N".
var unsupportedType = regexp.MustCompile(`tensor '([^']+)' has unsupported type (\d+)`)

// frontendRefusal turns a conversion failure into the row's error. The
// file has been read and checked (gguf.Open, ReadLlamaParams), so a
// failure is the frontend's limit, not a bad file: an
// *transport.UnavailableError naming the tensor type it refused (by its
// GGML name) and the types the file holds.
func frontendRefusal(path string, err error) error {
	msg := strings.Join(strings.Fields(err.Error()), " ")
	reason := fmt.Sprintf("OpenVINO's GGUF frontend cannot convert %s: %s", path, msg)
	if m := unsupportedType.FindStringSubmatch(msg); m != nil {
		if n, perr := strconv.Atoi(m[2]); perr == nil {
			reason = fmt.Sprintf("%s: tensor %s has type %s, which OpenVINO's GGUF frontend does not decode (%s)",
				path, m[1], gguf.TensorType(n), msg)
		}
	}
	if types := fileTypes(path); types != "" {
		reason += "; the file's tensor types: " + types
	}
	return &transport.UnavailableError{Backend: NameGGUF, Reason: reason}
}

// fileTypes lists the tensor types of the GGUF at path with their counts
// ("q4_1 x210, f32 x61"), or "" when it cannot be read.
func fileTypes(path string) string {
	f, err := gguf.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	count := map[string]int{}
	for _, t := range f.Tensors {
		count[t.Type.String()]++
	}
	names := make([]string, 0, len(count))
	for n := range count {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		if count[names[i]] != count[names[j]] {
			return count[names[i]] > count[names[j]]
		}
		return names[i] < names[j]
	})
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("%s x%d", n, count[n])
	}
	return strings.Join(parts, ", ")
}

// ioLine is one input, output or variable of a model description.
type ioLine struct {
	Kind, Name, Type, Shape string
}

// parseDescription reads fakov_model_describe's lines (in/out/var; op
// lines are skipped).
func parseDescription(desc string) []ioLine {
	var out []ioLine
	for _, line := range strings.Split(desc, "\n") {
		f := strings.Split(line, "\t")
		switch {
		case len(f) == 4 && (f[0] == "in" || f[0] == "var"):
			out = append(out, ioLine{Kind: f[0], Name: f[1], Type: f[2], Shape: f[3]})
		case len(f) == 5 && f[0] == "out":
			out = append(out, ioLine{Kind: "out", Name: f[2], Type: f[3], Shape: f[4]})
		}
	}
	return out
}

// checkFrontendIO checks that the frontend's model takes the inputs the
// session feeds and gives logits first, so a frontend whose contract moved
// fails the row with what it found rather than at the first inference.
func checkFrontendIO(path, desc string) error {
	have := map[string]bool{}
	var outs, vars int
	firstOut := ""
	for _, l := range parseDescription(desc) {
		switch l.Kind {
		case "in":
			have[l.Name] = true
		case "out":
			if outs == 0 {
				firstOut = l.Name
			}
			outs++
		case "var":
			vars++
		}
	}
	var missing []string
	for _, n := range frontendInputs {
		if !have[n] {
			missing = append(missing, n)
		}
	}
	switch {
	case len(missing) > 0:
		return &transport.UnavailableError{Backend: NameGGUF, Reason: fmt.Sprintf(
			"OpenVINO's GGUF frontend converted %s without the inputs %v that fakbench feeds (its model: %s)", path, missing, oneLine(desc))}
	case firstOut != "logits":
		return &transport.UnavailableError{Backend: NameGGUF, Reason: fmt.Sprintf(
			"OpenVINO's GGUF frontend converted %s with first output %q, not logits", path, firstOut)}
	case vars == 0:
		return &transport.UnavailableError{Backend: NameGGUF, Reason: fmt.Sprintf(
			"OpenVINO's GGUF frontend converted %s without variable state (GGUFMakeStateful did not apply)", path)}
	}
	return nil
}

// oneLine shortens a multi-line description for an error message.
func oneLine(s string) string {
	var parts []string
	for _, l := range parseDescription(s) {
		if l.Kind == "in" {
			parts = append(parts, l.Name+" "+l.Type+l.Shape)
		}
	}
	return "inputs " + strings.Join(parts, ", ")
}

// attentionOps picks from a runtime graph's layer types ("<type>\t<count>"
// lines) the attention nodes, e.g. "ScaledAttn x30": whether the plugin
// fused the KV cache into its attention node.
func attentionOps(ops string) string {
	var parts []string
	for _, line := range strings.Split(ops, "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 2 {
			continue
		}
		l := strings.ToLower(f[0])
		if strings.Contains(l, "attn") || strings.Contains(l, "attention") || strings.Contains(l, "sdpa") {
			parts = append(parts, f[0]+" x"+f[1])
		}
	}
	if len(parts) == 0 {
		return "none (attention runs as separate MatMul/SoftMax nodes)"
	}
	return strings.Join(parts, ", ")
}
