package openvino

import (
	"slices"
	"strings"

	"github.com/fakbench/fakbench/internal/host"
)

// The x86 features the CPU plugin's kernels can use, named as /proc/cpuinfo
// names them, each with the OPTIMIZATION_CAPABILITIES entry of the CPU
// device that says the plugin computes in the precision the feature serves
// ("" when the plugin uses it for every precision).
//
// The rule behind Settings()["isa"]: the plugin (through oneDNN and its own
// Xbyak kernels) JIT-compiles at run time for the widest ISA the CPU has,
// whatever the flags the binary was built with, so the features it can use
// are the node's, restricted to the precisions it reports:
//
//   - always (FP32): avx2, fma and f16c (the AVX2 kernels, f16 weight and
//     cache conversion), avx512f, avx512bw and avx512vl (oneDNN's
//     avx512_core kernels, chosen over AVX2 where present);
//   - INT8 (int8 matrix products: dynamic quantization of activations for
//     the compressed q8_0/q4 weights, u8 KV caches): avx512_vnni and
//     avx_vnni (VNNI dot products), amx_tile and amx_int8 (AMX);
//   - BF16 (bf16 inference precision): avx512_bf16, amx_tile and amx_bf16;
//   - FP16 (f16 inference precision): avx512_fp16.
//
// A row's list then keeps only the precisions the compiled model reports
// it runs with (rowCapabilities): BF16 with a bf16 inference precision,
// FP16 with f16, INT8 with dynamic quantization on or an int8 KV cache; so
// a row that pins f32 (ExactExtra) does not claim the bf16 or int8 units.
// It is what the plugin can use for that row, not a trace of what each
// kernel executed.
var pluginFeatures = []struct{ flag, capability string }{
	{"avx2", ""},
	{"fma", ""},
	{"f16c", ""},
	{"avx512f", ""},
	{"avx512bw", ""},
	{"avx512vl", ""},
	{"avx512_vnni", "INT8"},
	{"avx_vnni", "INT8"},
	{"avx512_bf16", "BF16"},
	{"avx512_fp16", "FP16"},
	{"amx_tile", "INT8,BF16"},
	{"amx_int8", "INT8"},
	{"amx_bf16", "BF16"},
}

// pluginISA returns the comma-separated features of pluginFeatures that the
// node has (cpuFlags, as /proc/cpuinfo lists them) and whose capability the
// plugin reports (capabilities, as OPTIMIZATION_CAPABILITIES lists them,
// separated by spaces or commas).
func pluginISA(cpuFlags []string, capabilities string) string {
	caps := strings.FieldsFunc(capabilities, func(r rune) bool { return r == ' ' || r == ',' })
	var out []string
	for _, f := range pluginFeatures {
		if !slices.Contains(cpuFlags, f.flag) {
			continue
		}
		ok := f.capability == ""
		for _, c := range strings.Split(f.capability, ",") {
			ok = ok || slices.Contains(caps, c)
		}
		if ok {
			out = append(out, f.flag)
		}
	}
	return strings.Join(out, ",")
}

// rowCapabilities narrows the device's OPTIMIZATION_CAPABILITIES to the
// precisions a compiled model runs with, from its effective settings
// (Settings keys "effective.<property>").
func rowCapabilities(deviceCaps string, settings map[string]string) string {
	prec := strings.ToLower(settings["effective.INFERENCE_PRECISION_HINT"])
	dq := settings["effective.DYNAMIC_QUANTIZATION_GROUP_SIZE"]
	kv := strings.ToLower(settings["effective.KV_CACHE_PRECISION"])
	int8 := (dq != "" && dq != "0") || kv == "u8" || kv == "i8"
	var out []string
	for _, c := range strings.FieldsFunc(deviceCaps, func(r rune) bool { return r == ' ' || r == ',' }) {
		switch {
		case c == "BF16" && prec != "bf16", c == "FP16" && prec != "f16", c == "INT8" && !int8:
			continue
		}
		out = append(out, c)
	}
	return strings.Join(out, " ")
}

// nodeCPUFlags are the flags every processor of the node lists
// (internal/host); nil where /proc/cpuinfo cannot be read (then no feature
// is claimed).
func nodeCPUFlags() []string {
	cpu, err := host.CPU()
	if err != nil {
		return nil
	}
	return cpu.Flags
}
