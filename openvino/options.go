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
	ExtraInferencePrecision, ExtraIRCacheDir, ExtraKVCachePrecision}

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
	batch      int
	irCacheDir string // "" for the default under the project's cache folder
	// pins are the precision properties set through Extra, in the order
	// of pinOrder; empty when the plugin's defaults apply.
	pins []property
}

// pinOrder maps the precision Extra keys to plugin property keys, in the
// order they are passed to the compile call.
var pinOrder = []struct{ extra, prop string }{
	{ExtraExecutionMode, "EXECUTION_MODE_HINT"},
	{ExtraInferencePrecision, "INFERENCE_PRECISION_HINT"},
	{ExtraDynamicQuantGroupSize, "DYNAMIC_QUANTIZATION_GROUP_SIZE"},
	{ExtraKVCachePrecision, "KV_CACHE_PRECISION"},
}

// resolveConfig checks o.Extra and turns it into a config. Unknown keys and
// bad values are errors naming the key; a known key with an empty value is
// left at its default.
func resolveConfig(o adapters.Options) (config, error) {
	c := config{batch: DefaultBatch}
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
		if v == "" && slices.Contains(extraKeys, k) {
			continue // an empty value leaves the default, as before these keys were checked
		}
		switch k {
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
		default:
			return c, fmt.Errorf("openvino: unknown option %q (known: %s)", k, strings.Join(extraKeys, ", "))
		}
	}
	for _, p := range pinOrder {
		if v, ok := pinned[p.extra]; ok {
			c.pins = append(c.pins, property{Key: p.prop, Value: v})
		}
	}
	return c, nil
}
