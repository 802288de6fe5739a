package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/fakbench/fakbench/gguf"
)

// Memory is the resident memory of the process that ran the backend at the
// phases of a run, read from /proc/self/status (MiB, as peak_rss_mb), and
// the KV cache the backend holds, computed from its settings and checked
// against what the decode session measurably grew by.
type Memory struct {
	// Source says where the figures come from and whose they are.
	Source string `json:"source"`
	// RSSAfterLoadMB is VmRSS with the model loaded, before any session;
	// RSSAfterPrefillMB after the decode session's first prefill (stable
	// prefix and suffix resident); RSSEndOfDecodeMB after its last decode,
	// the session still open.
	RSSAfterLoadMB    float64 `json:"rss_after_load_mb"`
	RSSAfterPrefillMB float64 `json:"rss_after_prefill_mb"`
	RSSEndOfDecodeMB  float64 `json:"rss_end_of_decode_mb"`
	// The anonymous resident memory (RssAnon: heap and anonymous
	// mappings, not the model file's mapped pages) just before the decode
	// session opened, after its first prefill and after its last decode:
	// the KV check's evidence.
	AnonBeforeSessionMB float64 `json:"anon_before_session_mb"`
	AnonAfterPrefillMB  float64 `json:"anon_after_prefill_mb"`
	AnonEndOfDecodeMB   float64 `json:"anon_end_of_decode_mb"`
	// Positions is how many positions the decode session's cache held at
	// its end (stable prefix + suffix + decoded tokens).
	Positions int `json:"positions"`
	// KV is the KV cache computed from the backend's settings and checked
	// against the measured growth (nil when the harness alone ran, without
	// the model's shape).
	KV *KVCache `json:"kv_cache,omitempty"`
}

// KVCache is the KV cache a backend holds, computed from the model's
// shape and the backend's own settings, against the measured growth.
type KVCache struct {
	// Layers, KVHeads and HeadDim are the model's (llama.block_count,
	// llama.attention.head_count_kv, the key width per head).
	Layers  int `json:"layers"`
	KVHeads int `json:"kv_heads"`
	HeadDim int `json:"head_dim"`
	// Context is the positions one session holds, and ContextFrom the
	// setting it was read from.
	Context     int    `json:"context"`
	ContextFrom string `json:"context_from"`
	// TypeK and TypeV are the element types of keys and values as the
	// backend's settings state them (type_k, type_v).
	TypeK string `json:"type_k"`
	TypeV string `json:"type_v"`
	// BytesPerPosition = Layers x KVHeads x HeadDim x (bytes per K element
	// + bytes per V element).
	BytesPerPosition float64 `json:"bytes_per_position"`
	// BytesAtContext is the cache at Context positions (what a backend
	// that allocates up front holds); BytesFilled the positions the decode
	// session filled (Memory.Positions: what a backend whose pages are
	// touched as written holds).
	BytesAtContext int64 `json:"bytes_at_context"`
	BytesFilled    int64 `json:"bytes_filled"`
	// MeasuredGrowthBytes is RssAnon at the decode session's end minus
	// just before it opened.
	MeasuredGrowthBytes int64 `json:"measured_growth_bytes"`
	// Verdict is KVConsistent, KVMismatch or KVNotJudged; Check says why
	// in words, with the bounds.
	Verdict string `json:"verdict"`
	Check   string `json:"check"`
}

// The KV check's verdicts.
const (
	// KVConsistent: the session grew by at least the filled positions'
	// KV bytes and by no more than the cache at context plus the
	// allowance for the session's other buffers.
	KVConsistent = "consistent"
	// KVMismatch: the growth is outside those bounds.
	KVMismatch = "mismatch"
	// KVNotJudged: the cache is too small to see in resident memory, or a
	// figure is missing.
	KVNotJudged = "not_judged"
)

// The KV check's bounds: the growth may fall short of the filled
// positions' bytes by KVShortfall (page granularity, rounding) and exceed
// the cache at context by KVExtraFraction of it plus KVExtraBytes (the
// session's scratch and compute buffers); a cache under KVMinBytes at
// context is not judged (resident memory moves by that much for other
// reasons).
const (
	KVShortfall     = 0.10
	KVExtraFraction = 0.25
	KVExtraBytes    = 16 << 20
	KVMinBytes      = 4 << 20
)

// KVElemBytes returns the bytes one element of the named ggml type takes
// ("f16": 2, "q8_0": 34/32), and whether the name is known.
func KVElemBytes(name string) (float64, bool) {
	for id := range 64 {
		t := gguf.TensorType(id)
		if t.Known() && strings.EqualFold(t.String(), name) && t.BlockSize() > 0 {
			return float64(t.TypeSize()) / float64(t.BlockSize()), true
		}
	}
	return 0, false
}

// KVShape is the model's attention shape as the KV cache stores it.
type KVShape struct {
	Layers, KVHeads, HeadDim int
}

// CheckKV computes the KV cache m's backend holds from the model's shape
// and the backend's settings (the context from n_ctx or context_length,
// else contextLen; the element types from type_k and type_v) and judges
// it against the decode session's measured growth. A figure that cannot
// be computed leaves the verdict not_judged, saying which.
func (m *Memory) CheckKV(shape KVShape, settings map[string]string, contextLen int) {
	kv := &KVCache{Layers: shape.Layers, KVHeads: shape.KVHeads, HeadDim: shape.HeadDim,
		Context: contextLen, ContextFrom: "model_info.context_length", Verdict: KVNotJudged,
		TypeK: settings["type_k"], TypeV: settings["type_v"]}
	m.KV = kv
	for _, key := range []string{"n_ctx", "context_length"} {
		if n, err := strconv.Atoi(settings[key]); err == nil && n > 0 {
			kv.Context, kv.ContextFrom = n, "settings."+key
			break
		}
	}
	kb, okK := KVElemBytes(kv.TypeK)
	vb, okV := KVElemBytes(kv.TypeV)
	switch {
	case kv.TypeK == "" || kv.TypeV == "":
		kv.Check = "the backend's settings do not state its KV element types (type_k, type_v), so the cache is not computed"
		return
	case !okK || !okV:
		kv.Check = fmt.Sprintf("unknown KV element type (type_k %q, type_v %q), so the cache is not computed", kv.TypeK, kv.TypeV)
		return
	case shape.Layers <= 0 || shape.KVHeads <= 0 || shape.HeadDim <= 0 || kv.Context <= 0:
		kv.Check = fmt.Sprintf("the model's shape or the context is unknown (layers %d, kv heads %d, head dim %d, context %d), so the cache is not computed",
			shape.Layers, shape.KVHeads, shape.HeadDim, kv.Context)
		return
	}
	kv.BytesPerPosition = float64(shape.Layers*shape.KVHeads*shape.HeadDim) * (kb + vb)
	kv.BytesAtContext = int64(math.Round(kv.BytesPerPosition * float64(kv.Context)))
	kv.BytesFilled = int64(math.Round(kv.BytesPerPosition * float64(m.Positions)))
	kv.MeasuredGrowthBytes = int64(math.Round((m.AnonEndOfDecodeMB - m.AnonBeforeSessionMB) * (1 << 20)))
	lo := int64(float64(kv.BytesFilled) * (1 - KVShortfall))
	hi := kv.BytesAtContext + int64(float64(kv.BytesAtContext)*KVExtraFraction) + KVExtraBytes
	growth := kv.MeasuredGrowthBytes
	switch {
	case m.AnonEndOfDecodeMB == 0 || m.Positions == 0:
		kv.Check = "the decode session's resident memory was not measured"
	case kv.BytesAtContext < KVMinBytes:
		kv.Check = fmt.Sprintf("the cache at context (%s) is below %s, less than resident memory moves by for other reasons; measured growth %s",
			FormatBytes(kv.BytesAtContext), FormatBytes(KVMinBytes), FormatBytes(growth))
	case growth < lo:
		kv.Verdict = KVMismatch
		kv.Check = fmt.Sprintf("the session grew by %s, less than the %s its %d filled positions need (bound %s): memory freed by an earlier session reused, or a smaller cache than the settings say",
			FormatBytes(growth), FormatBytes(kv.BytesFilled), m.Positions, FormatBytes(lo))
	case growth > hi:
		kv.Verdict = KVMismatch
		kv.Check = fmt.Sprintf("the session grew by %s, more than the cache at context (%s) plus %.0f %% and %s for its other buffers (bound %s): a larger cache than the settings say, or large scratch buffers",
			FormatBytes(growth), FormatBytes(kv.BytesAtContext), KVExtraFraction*100, FormatBytes(KVExtraBytes), FormatBytes(hi))
	default:
		kv.Verdict = KVConsistent
		kv.Check = fmt.Sprintf("the session grew by %s, between the %d filled positions' %s and the cache at context (%s) plus its allowance (%s)",
			FormatBytes(growth), m.Positions, FormatBytes(kv.BytesFilled), FormatBytes(kv.BytesAtContext), FormatBytes(hi))
	}
}

// FormatBytes prints a byte count in binary units ("47.2 MiB").
func FormatBytes(n int64) string {
	v, unit := math.Abs(float64(n)), "B"
	for _, u := range []string{"KiB", "MiB", "GiB"} {
		if v < 1024 {
			break
		}
		v, unit = v/1024, u
	}
	sign := ""
	if n < 0 {
		sign = "-"
	}
	if unit == "B" {
		return fmt.Sprintf("%s%.0f B", sign, v)
	}
	return fmt.Sprintf("%s%.1f %s", sign, v, unit)
}
