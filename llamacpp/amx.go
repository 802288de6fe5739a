package llamacpp

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/cpu"

	"github.com/fakbench/fakbench/gguf"
	"github.com/fakbench/fakbench/report"
)

// ggml's AMX path (ggml-cpu/amx/amx.cpp, extra_buffer_type::supports_op, in
// the llama.cpp this module vendors) takes a weight matrix only when it is
// multiplied as a plain 2-D matrix, its type has AMX kernels, its input
// dimension K (ne[0]) is a multiple of amxKMultiple (TILE_K * 2 * 32) and
// its output rows (ne[1]) a multiple of amxNMultiple (TILE_N * 2). Every
// other weight stays in the plain CPU buffer, whatever the CPU.
const (
	amxKMultiple = 32 * 2 * 32
	amxNMultiple = 16 * 2
)

// amxTypes are the weight types with AMX kernels there (qtype_has_amx_kernels
// plus F16).
var amxTypes = []string{"q4_0", "q4_1", "q8_0", "q4_K", "q5_K", "q6_K", "iq4_xs", "f16"}

// amxShapes is how a model's weight matrices fare against ggml's AMX rule.
type amxShapes struct {
	total, eligible int
	// badK and badN are the input dimensions and output row counts that
	// break the rule, sorted; badType the weight types without AMX kernels.
	badK, badN []uint64
	badType    []string
}

// analyzeAMX applies ggml's AMX rule to the weight matrices of a model: the
// 2-D tensors that are multiplied (the token embedding only when it is also
// the output head, i.e. there is no output.weight).
func analyzeAMX(ts []gguf.TensorInfo) amxShapes {
	tied := true
	for _, t := range ts {
		if t.Name == "output.weight" {
			tied = false
		}
	}
	var s amxShapes
	for _, t := range ts {
		if len(t.Dims) != 2 || (t.Name == "token_embd.weight" && !tied) {
			continue
		}
		s.total++
		k, n, typ := t.Dims[0], t.Dims[1], t.Type.String()
		ok := true
		if !slices.Contains(amxTypes, typ) {
			ok = false
			if !slices.Contains(s.badType, typ) {
				s.badType = append(s.badType, typ)
			}
		}
		if k%amxKMultiple != 0 {
			ok = false
			if !slices.Contains(s.badK, k) {
				s.badK = append(s.badK, k)
			}
		}
		if n%amxNMultiple != 0 {
			ok = false
			if !slices.Contains(s.badN, n) {
				s.badN = append(s.badN, n)
			}
		}
		if ok {
			s.eligible++
		}
	}
	slices.Sort(s.badK)
	slices.Sort(s.badN)
	slices.Sort(s.badType)
	return s
}

// bufferSizeRE matches llama.cpp's load log line for one weight buffer,
// e.g. "load_tensors:   CPU_REPACK model buffer size =   123.45 MiB".
var bufferSizeRE = regexp.MustCompile(`(?m)^load_tensors:\s+(\S+) model buffer size\s*=\s*([0-9.]+) MiB`)

// weightBuffers reads from llama.cpp's load log how many MiB of weights
// went to each buffer type (CPU_Mapped, CPU, AMX, CPU_REPACK, ...).
func weightBuffers(loadLog string) map[string]float64 {
	out := map[string]float64{}
	for _, m := range bufferSizeRE.FindAllStringSubmatch(loadLog, -1) {
		if v, err := strconv.ParseFloat(m[2], 64); err == nil {
			out[m[1]] += v
		}
	}
	return out
}

// formatBuffers prints weightBuffers in name order: "AMX 123.4 MiB, CPU_Mapped 5.0 MiB".
func formatBuffers(b map[string]float64) string {
	if len(b) == 0 {
		return "not reported by llama.cpp"
	}
	return report.JoinSorted(b, ", ", func(n string, mib float64) string { return fmt.Sprintf("%s %.2f MiB", n, mib) })
}

// amxFacts is what decides whether llama.cpp uses the node's AMX unit.
type amxFacts struct {
	cpuHasAMX  bool // the CPU has AMX-INT8 (and the OS enables tile data)
	compiled   bool // the build targeted AMX-INT8 with AVX-512 VNNI
	extraBufts bool // use_extra_bufts
	shapes     amxShapes
	buffers    map[string]float64
}

// currentAMXFacts fills the CPU and build facts.
func currentAMXFacts(extraBufts bool, shapes amxShapes, buffers map[string]float64) amxFacts {
	return amxFacts{
		cpuHasAMX:  cpu.X86.HasAMXInt8 && cpu.X86.HasAMXTile,
		compiled:   amxCompiled(),
		extraBufts: extraBufts,
		shapes:     shapes,
		buffers:    buffers,
	}
}

// verdict says in words whether the AMX unit is used for this model, and
// when it is not, the measured reason.
func (f amxFacts) verdict() string {
	switch {
	case !f.cpuHasAMX:
		return "not available: this CPU has no AMX-INT8"
	case !f.compiled:
		return "not compiled: the build did not target AMX-INT8 with AVX-512 VNNI (-march=native on this CPU does)"
	case !f.extraBufts:
		return "off: extra_bufts=off keeps every weight in the plain CPU buffer"
	case f.buffers["AMX"] > 0:
		return fmt.Sprintf("engaged: %.2f MiB of weights in the AMX buffer (%d of %d weight matrices meet ggml's AMX shape rule)",
			f.buffers["AMX"], f.shapes.eligible, f.shapes.total)
	case f.shapes.eligible == 0:
		var why []string
		if len(f.shapes.badK) > 0 {
			why = append(why, fmt.Sprintf("input dimension K %s, not a multiple of %d", joinUints(f.shapes.badK), amxKMultiple))
		}
		if len(f.shapes.badN) > 0 {
			why = append(why, fmt.Sprintf("output rows %s, not a multiple of %d", joinUints(f.shapes.badN), amxNMultiple))
		}
		if len(f.shapes.badType) > 0 {
			why = append(why, fmt.Sprintf("types %s without AMX kernels", strings.Join(f.shapes.badType, ", ")))
		}
		return fmt.Sprintf("not engaged: none of the %d weight matrices meets ggml's AMX rule in this llama.cpp (%s): %s",
			f.shapes.total, amxRule(), strings.Join(why, "; "))
	default:
		return fmt.Sprintf("not engaged although %d of %d weight matrices meet ggml's AMX shape rule: llama.cpp put no weights in the AMX buffer (see FAK_LLAMA_LOG=1)",
			f.shapes.eligible, f.shapes.total)
	}
}

// amxRule states ggml's AMX rule in words.
func amxRule() string {
	return fmt.Sprintf("type %s, K %% %d == 0, output rows %% %d == 0", strings.Join(amxTypes, "/"), amxKMultiple, amxNMultiple)
}

func joinUints(v []uint64) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = strconv.FormatUint(x, 10)
	}
	return strings.Join(parts, ", ")
}

// onOff prints a switch as the Extra options spell it.
func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// systemInfoISA maps the features llama_print_system_info() reports as
// compiled in ("AVX2 = 1") to the names /proc/cpuinfo gives them.
var systemInfoISA = map[string][]string{
	"AVX2":        {"avx2"},
	"FMA":         {"fma"},
	"F16C":        {"f16c"},
	"AVX512":      {"avx512f"},
	"AVX512_VBMI": {"avx512vbmi"},
	"AVX512_VNNI": {"avx512_vnni"},
	"AVX512_BF16": {"avx512_bf16"},
	"AVX_VNNI":    {"avx_vnni"},
	"AMX_INT8":    {"amx_tile", "amx_int8"},
}

// isaFromSystemInfo lists, in cpuinfo names, the CPU features ggml's CPU
// backend was compiled to use (llama_print_system_info), less AMX when the
// AMX path does not take this model's weights (amxEngaged false): those
// are the features its kernels can execute for this model.
func isaFromSystemInfo(info string, amxEngaged bool) string {
	var out []string
	for _, part := range strings.Split(info, "|") {
		name, val, ok := strings.Cut(part, "=")
		if !ok || strings.TrimSpace(val) != "1" {
			continue
		}
		name = strings.TrimSpace(name)
		if i := strings.LastIndex(name, ":"); i >= 0 {
			name = strings.TrimSpace(name[i+1:])
		}
		if name == "AMX_INT8" && !amxEngaged {
			continue
		}
		out = append(out, systemInfoISA[name]...)
	}
	return strings.Join(out, ",")
}
