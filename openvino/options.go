package openvino

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/fakbench/fakbench/adapters"
)

// The adapters.Options.Extra keys this backend understands.
//
// The precision keys pin a setting the CPU plugin otherwise chooses per ISA.
// Left unset (the benchmark rows), the plugin's tuned defaults apply and the
// values it chose are recorded in Settings() as effective.<PROPERTY>. On the
// development nodes (OpenVINO 2026.4) those defaults were: on an AMX Xeon
// INFERENCE_PRECISION_HINT bf16, DYNAMIC_QUANTIZATION_GROUP_SIZE 32 and
// KV_CACHE_PRECISION u8. ExactExtra pins all of them for tests that compare
// logits with a reference.
const (
	// ExtraIRCacheDir is the folder that holds the converted IRs, one
	// folder per cache key (default: openvino-ir under the project's cache
	// folder, models.CacheDir(); ircache.go).
	ExtraIRCacheDir = "ir_cache_dir"
	// ExtraBatch is the number of prefill tokens per inference call
	// (default DefaultBatch).
	ExtraBatch = "batch"
	// ExtraKVCache is the form of the KV cache in fakbench's IR: stateful
	// (the default: variable state inside the plugin, through fakbench's
	// library) or explicit (past/present inputs and outputs bound through
	// the C API, the explicit-kv ablation). The GGUF frontend's row is
	// always stateful and does not take it.
	ExtraKVCache = "kv_cache"
	// ExtraPrecisionPolicy says who picks the precisions that no pin sets:
	// "consistent" (the stateful rows' default; consistentPins) or "plugin"
	// (the CPU plugin's per-ISA defaults; the explicit form's default).
	ExtraPrecisionPolicy = "precision_policy"
	// ExtraInferencePrecision sets INFERENCE_PRECISION_HINT: f32, bf16 or
	// f16. The plugin's default depends on the CPU: bf16 where it can use
	// AVX512-BF16 (read back on the AMX Xeon), f32 on AVX2-only CPUs.
	ExtraInferencePrecision = "inference_precision"
	// ExtraDynamicQuantGroupSize sets DYNAMIC_QUANTIZATION_GROUP_SIZE: the
	// plugin quantizes activations to int8 per group of that many values
	// before the compressed-weight (q8_0, q4) matrix products; 0 turns it
	// off.
	ExtraDynamicQuantGroupSize = "dynamic_quantization_group_size"
	// ExtraKVCachePrecision sets KV_CACHE_PRECISION: f32, f16, bf16, u8 or
	// u4. It applies to the plugin's own (stateful SDPA) caches; the
	// explicit past/present tensors of this backend's IR are f32 whatever it
	// says, so pinning it changes nothing here today and is done so that no
	// plugin-side cache can quantize behind an exactness test.
	ExtraKVCachePrecision = "kv_cache_precision"
	// ExtraExecutionMode sets EXECUTION_MODE_HINT: PERFORMANCE (the
	// plugin's default) or ACCURACY, under which the plugin itself turns
	// off every lossy optimization it knows of.
	ExtraExecutionMode = "execution_mode"
)

// extraKeys lists the Extra keys Open accepts, sorted.
var extraKeys = []string{ExtraBatch, ExtraDynamicQuantGroupSize, ExtraExecutionMode,
	ExtraInferencePrecision, ExtraIRCacheDir, ExtraKVCache, ExtraKVCachePrecision, ExtraPrecisionPolicy}

// frontendKeys are the Extra keys OpenGGUF accepts: no IR is written and
// its KV cache is always stateful.
var frontendKeys = []string{ExtraBatch, ExtraDynamicQuantGroupSize, ExtraExecutionMode,
	ExtraInferencePrecision, ExtraKVCachePrecision, ExtraPrecisionPolicy}

// ExactExtra returns the Extra settings under which the CPU plugin computes
// in f32 throughout, on any ISA: f32 inference precision (no bf16/f16
// down-conversion on AVX512-BF16, AMX or AVX512-FP16 CPUs), dynamic
// quantization of activations off, an f32 KV cache and the ACCURACY
// execution mode. Exactness and parity tests open the backend with it; the
// benchmark rows do not.
func ExactExtra() map[string]string {
	return map[string]string{
		ExtraInferencePrecision:    "f32",
		ExtraDynamicQuantGroupSize: "0",
		ExtraKVCachePrecision:      "f32",
		ExtraExecutionMode:         "ACCURACY",
	}
}

// config is the resolved backend options.
type config struct {
	batch int
	// policy is policyConsistent or policyPlugin ("" until resolved: the
	// form's default).
	policy string
	// kv is kvStateful or kvExplicit.
	kv         string
	irCacheDir string // "" for the default under the project's cache folder
	// pins are the precision properties set through Extra, in the order
	// of pinOrder; empty when the plugin's defaults apply.
	pins []property
}

// The precision policies (ExtraPrecisionPolicy).
const (
	// policyConsistent pins what the plugin would otherwise choose so that
	// a prefix reused from the cache gives the result of the same tokens
	// computed cold: f32 inference, no dynamic quantization, the KV cache
	// in bf16 where the CPU has BF16, else f32 (consistentPins).
	policyConsistent = "consistent"
	// policyPlugin leaves every unpinned precision to the CPU plugin.
	policyPlugin = "plugin"
)

// consistentPins are the properties policyConsistent sets, for those the
// options do not pin; caps is the CPU device's OPTIMIZATION_CAPABILITIES.
//
// Why (measured on the AMX Xeon, OpenVINO 2026.4.1, SmolLM2-135M shape):
// the plugin's fused attention with a KV cache (the stateful forms) does
// not round a position alike in every chunking. Under its defaults (bf16
// inference, dynamic quantization of activations in groups of 32), tokens
// 1..300 computed in one call and the same tokens computed as 1..200 then
// 201..300 gave logits up to 0.09 apart, as far apart as a different
// input, and greedy tokens of a reused prefix diverged from cold at step 4;
// with either bf16 or dynamic quantization alone the same; with f32
// inference and no dynamic quantization 5e-6, with a bf16 cache too (a u8
// cache: 2.8e-3). Trimming the cache through the state calls is exact
// either way (0). The explicit form's attention (MatMul and SoftMax
// nodes) agreed bit for bit under the defaults, so its default stays
// policyPlugin.
func (c config) consistentPins(caps string) []property {
	var out []property
	add := func(key, value string) {
		if !c.pinned(key) {
			out = append(out, property{key, value})
		}
	}
	add("INFERENCE_PRECISION_HINT", "f32")
	add("DYNAMIC_QUANTIZATION_GROUP_SIZE", "0")
	kv := "f32"
	if slices.Contains(strings.Fields(caps), "BF16") {
		kv = "bf16"
	}
	add("KV_CACHE_PRECISION", kv)
	return out
}

// pinned says whether the plugin property prop is pinned.
func (c config) pinned(prop string) bool { return c.pin(prop) != "" }

// pin is the value prop is pinned to, "" when it is not.
func (c config) pin(prop string) string {
	for _, p := range c.pins {
		if p.Key == prop {
			return p.Value
		}
	}
	return ""
}

// pinOrder maps the precision Extra keys to plugin property keys, in the
// order they are passed to the compile call.
var pinOrder = []struct{ extra, prop string }{
	{ExtraExecutionMode, "EXECUTION_MODE_HINT"},
	{ExtraInferencePrecision, "INFERENCE_PRECISION_HINT"},
	{ExtraDynamicQuantGroupSize, "DYNAMIC_QUANTIZATION_GROUP_SIZE"},
	{ExtraKVCachePrecision, "KV_CACHE_PRECISION"},
}

// resolveConfig checks o.Extra and turns it into a config (for OpenGGUF's
// row when frontend is set). Unknown keys and bad values are errors naming
// the key; a known key with an empty value is left at its default.
func resolveConfig(o adapters.Options, frontend bool) (config, error) {
	c := config{batch: DefaultBatch, kv: kvStateful}
	known := extraKeys
	if frontend {
		known = frontendKeys
	}
	keys := make([]string, 0, len(o.Extra))
	for k := range o.Extra {
		keys = append(keys, k)
	}
	sort.Strings(keys) // deterministic errors
	pinned := map[string]string{}
	for _, k := range keys {
		v := strings.TrimSpace(o.Extra[k])
		bad := func(want string) error {
			return fmt.Errorf("openvino: option %s=%q: want %s", k, o.Extra[k], want)
		}
		if v == "" && slices.Contains(known, k) {
			continue // an empty value leaves the default, as before these keys were checked
		}
		if !slices.Contains(known, k) {
			what := "unknown option"
			if slices.Contains(extraKeys, k) {
				what = "option not taken by the GGUF frontend's row (it writes no IR and keeps its KV cache as state)"
			}
			return c, fmt.Errorf("openvino: %s %q (known: %s)", what, k, strings.Join(known, ", "))
		}
		switch k {
		case ExtraPrecisionPolicy:
			v = strings.ToLower(v)
			if v != policyConsistent && v != policyPlugin {
				return c, bad(policyConsistent + " or " + policyPlugin)
			}
			c.policy = v
		case ExtraKVCache:
			v = strings.ToLower(v)
			if v != kvStateful && v != kvExplicit {
				return c, bad(kvStateful + " or " + kvExplicit)
			}
			c.kv = v
		case ExtraIRCacheDir:
			c.irCacheDir = v
		case ExtraBatch:
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return c, bad("a positive integer")
			}
			c.batch = n
		case ExtraInferencePrecision:
			v = strings.ToLower(v)
			if !slices.Contains([]string{"f32", "bf16", "f16"}, v) {
				return c, bad("f32, bf16 or f16")
			}
			pinned[k] = v
		case ExtraDynamicQuantGroupSize:
			n, err := strconv.ParseUint(v, 10, 32)
			if err != nil {
				return c, bad("a non-negative integer (0 turns dynamic quantization off)")
			}
			pinned[k] = strconv.FormatUint(n, 10)
		case ExtraKVCachePrecision:
			v = strings.ToLower(v)
			if !slices.Contains([]string{"f32", "f16", "bf16", "u8", "u4"}, v) {
				return c, bad("f32, f16, bf16, u8 or u4")
			}
			pinned[k] = v
		case ExtraExecutionMode:
			v = strings.ToUpper(v)
			if v != "PERFORMANCE" && v != "ACCURACY" {
				return c, bad("PERFORMANCE or ACCURACY")
			}
			pinned[k] = v
		}
	}
	if c.policy == "" {
		c.policy = policyPlugin
		if c.kv == kvStateful {
			c.policy = policyConsistent
		}
	}
	for _, p := range pinOrder {
		if v, ok := pinned[p.extra]; ok {
			c.pins = append(c.pins, property{Key: p.prop, Value: v})
		}
	}
	return c, nil
}
