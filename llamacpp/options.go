package llamacpp

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/fakbench/fakbench/adapters"
)

// The settings profiles. ProfileTuned is the reference every headline is
// measured against; ProfileUntuned is llama.cpp as a naive caller of the C
// API gets it, kept as a separately labelled ablation row.
const (
	ProfileTuned   = "tuned"
	ProfileUntuned = "untuned"
)

// The opts.Extra keys this backend understands.
const (
	ExtraFlashAttn  = "flash_attn" // on | off | auto
	ExtraNBatch     = "n_batch"    // logical batch (tokens per llama_decode call)
	ExtraNUbatch    = "n_ubatch"   // physical batch (tokens per graph evaluation)
	ExtraTypeK      = "type_k"     // KV cache K type: f16, f32, bf16, q8_0, q4_0, ...
	ExtraTypeV      = "type_v"     // KV cache V type (quantized V needs flash attention)
	ExtraMmap       = "mmap"       // on | off
	ExtraThreadpool = "threadpool" // on | off: a persistent ggml thread pool per context
	ExtraPoll       = "poll"       // 0-100: how long the pool's idle threads spin before sleeping
	// ExtraExtraBufts is llama.cpp's use_extra_bufts (on | off): whether the
	// CPU backend may put weights in its extra buffer types, AMX (int8/bf16
	// tiles, on AMX CPUs) and CPU_REPACK (interleaved-row layouts for
	// q4_0, iq4_nl and the like). llama.cpp's default is on.
	ExtraExtraBufts = "extra_bufts"
)

// Tuned defaults, chosen by measurement on the development node (2-core
// AMD EPYC Zen 3, AVX2): see docs/llamacpp.md and docs/tuning.md. Flash
// attention is off: on a quiet node at the bench's 1024-token workspace
// context it lost every section but the 1-token suffix (cold prefill 161
// vs 242 tok/s, decode 38.2 vs 43.7 tok/s, 512-token suffix TTFT 5.6 vs
// 3.2 s; fakbench tune --grid flash_attn=off,on on synthetic:smol135m-untied:q8_0).
const (
	tunedNBatch     = 2048
	tunedNUbatch    = 512
	tunedFlashAttn  = flashOff
	tunedKVType     = "f16"
	tunedThreadpool = true
	// defaultPoll is ggml's default polling level (ggml_threadpool_params_default).
	defaultPoll = 50
)

// Flash attention modes, numbered as llama.h's enum llama_flash_attn_type.
const (
	flashAuto = -1
	flashOff  = 0
	flashOn   = 1
)

// defaultContextCap bounds the default session context (adapters.Options).
const defaultContextCap = 4096

// config is a resolved settings profile.
type config struct {
	profile      string
	threads      int
	threadsNote  string
	nBatch       int
	nUbatch      int
	flashAttn    int
	typeK, typeV string
	mmap         bool
	extraBufts   bool
	threadpool   bool
	poll         int
	// contextLength is opts.ContextLength (0: resolved against the model).
	contextLength int
}

// flashName is the string form of a flash attention mode.
func flashName(m int) string {
	switch m {
	case flashOn:
		return "on"
	case flashOff:
		return "off"
	default:
		return "auto"
	}
}

// resolveConfig turns adapter options into a profile. defaults are
// llama_context_default_params() (they seed the untuned profile) and
// physCores is the physical core count (the tuned thread count).
func resolveConfig(opts adapters.Options, defaults contextDefaults, physCores int) (config, error) {
	var c config
	if opts.Threads < 0 {
		return c, fmt.Errorf("llamacpp: threads %d is negative", opts.Threads)
	}
	if opts.ContextLength < 0 {
		return c, fmt.Errorf("llamacpp: context length %d is negative", opts.ContextLength)
	}
	c.contextLength = opts.ContextLength
	profile := opts.Profile
	if profile == "" {
		profile = ProfileTuned
	}
	switch profile {
	case ProfileTuned:
		c.profile = ProfileTuned
		c.threads = max(physCores, 1)
		c.threadsNote = "physical cores"
		if opts.Threads > 0 {
			c.threads = opts.Threads
			c.threadsNote = "requested"
		}
		c.nBatch, c.nUbatch = tunedNBatch, tunedNUbatch
		c.flashAttn = tunedFlashAttn
		c.typeK, c.typeV = tunedKVType, tunedKVType
		c.mmap = true
		c.extraBufts = true
		c.threadpool, c.poll = tunedThreadpool, defaultPoll
	case ProfileUntuned:
		// Everything as llama_context_default_params() and
		// llama_model_default_params() give it, the thread count included
		// (GGML_DEFAULT_N_THREADS, whatever the machine): a requested
		// thread count is deliberately not applied.
		c.profile = ProfileUntuned
		c.threads = defaults.threads
		c.threadsNote = "llama.cpp default (requested thread count not applied in this profile)"
		c.nBatch, c.nUbatch = defaults.nBatch, defaults.nUbatch
		c.flashAttn = defaults.flashAttn
		c.typeK, c.typeV = defaults.typeK, defaults.typeV
		c.mmap = true
		c.extraBufts = true // llama_model_default_params()
		// A caller of the C API gets no thread pool unless it makes one.
		c.threadpool, c.poll = false, defaultPoll
	default:
		return c, fmt.Errorf("llamacpp: unknown profile %q (known: %s, %s)", opts.Profile, ProfileTuned, ProfileUntuned)
	}
	if err := c.applyExtra(opts.Extra); err != nil {
		return c, err
	}
	return c, nil
}

// applyExtra applies the opts.Extra overrides, in key order so errors are
// deterministic.
func (c *config) applyExtra(extra map[string]string) error {
	keys := make([]string, 0, len(extra))
	for k := range extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := strings.TrimSpace(extra[k])
		switch k {
		case ExtraFlashAttn:
			switch strings.ToLower(v) {
			case "on", "1", "true":
				c.flashAttn = flashOn
			case "off", "0", "false":
				c.flashAttn = flashOff
			case "auto":
				c.flashAttn = flashAuto
			default:
				return fmt.Errorf("llamacpp: extra %s=%q: want on, off or auto", k, v)
			}
		case ExtraNBatch, ExtraNUbatch:
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return fmt.Errorf("llamacpp: extra %s=%q: want a positive integer", k, v)
			}
			if k == ExtraNBatch {
				c.nBatch = n
			} else {
				c.nUbatch = n
			}
		case ExtraTypeK, ExtraTypeV:
			t := strings.ToLower(v)
			if !kvTypeKnown(t) {
				return fmt.Errorf("llamacpp: extra %s=%q: unknown KV cache type (known: %s)", k, v, strings.Join(kvTypeList, ", "))
			}
			if k == ExtraTypeK {
				c.typeK = t
			} else {
				c.typeV = t
			}
		case ExtraMmap, ExtraThreadpool, ExtraExtraBufts:
			var on bool
			switch strings.ToLower(v) {
			case "on", "1", "true":
				on = true
			case "off", "0", "false":
				on = false
			default:
				return fmt.Errorf("llamacpp: extra %s=%q: want on or off", k, v)
			}
			switch k {
			case ExtraMmap:
				c.mmap = on
			case ExtraThreadpool:
				c.threadpool = on
			default:
				c.extraBufts = on
			}
		case ExtraPoll:
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > 100 {
				return fmt.Errorf("llamacpp: extra %s=%q: want an integer from 0 to 100", k, v)
			}
			c.poll = n
		default:
			return fmt.Errorf("llamacpp: unknown extra setting %q (known: %s)", k,
				strings.Join([]string{ExtraExtraBufts, ExtraFlashAttn, ExtraMmap, ExtraNBatch, ExtraNUbatch, ExtraPoll, ExtraThreadpool, ExtraTypeK, ExtraTypeV}, ", "))
		}
	}
	if c.nUbatch > c.nBatch {
		return fmt.Errorf("llamacpp: n_ubatch %d is larger than n_batch %d", c.nUbatch, c.nBatch)
	}
	if c.typeV != "f16" && c.typeV != "f32" && c.typeV != "bf16" && c.flashAttn == flashOff {
		return fmt.Errorf("llamacpp: a quantized V cache (type_v %s) needs flash_attn on or auto", c.typeV)
	}
	return nil
}

// kvTypeList is the KV cache types this backend accepts, in sorted order.
var kvTypeList = []string{"bf16", "f16", "f32", "q4_0", "q4_1", "q5_0", "q5_1", "q8_0"}

// kvTypeKnown reports whether name is an accepted KV cache type.
func kvTypeKnown(name string) bool {
	for _, t := range kvTypeList {
		if t == name {
			return true
		}
	}
	return false
}

// contextLimit is the number of positions one session holds: the requested
// length, else min(model context, defaultContextCap).
func (c config) contextLimit(nCtxTrain int) int {
	if c.contextLength > 0 {
		return c.contextLength
	}
	if nCtxTrain <= 0 {
		return defaultContextCap
	}
	return min(nCtxTrain, defaultContextCap)
}

// ctxParams are the native context parameters for nCtx positions over
// nSeq sequences.
func (c config) ctxParams(nCtx, nSeq int) ctxParams {
	return ctxParams{
		nCtx:         nCtx,
		nSeqMax:      nSeq,
		nBatch:       c.nBatch,
		nUbatch:      c.nUbatch,
		threads:      c.threads,
		threadsBatch: c.threads,
		flashAttn:    c.flashAttn,
		typeK:        c.typeK,
		typeV:        c.typeV,
		threadpool:   c.threadpool,
		poll:         c.poll,
	}
}
