package llamacpp

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/adapters"
)

// libDefaults mirror llama_context_default_params() of the pinned commit;
// the native test TestContextDefaultsMatchLibrary checks them.
var libDefaults = contextDefaults{nBatch: 2048, nUbatch: 512, threads: 4, threadsBatch: 4, flashAttn: flashAuto, typeK: "f16", typeV: "f16"}

func TestResolveConfigTunedDefaults(t *testing.T) {
	c, err := resolveConfig(adapters.Options{}, libDefaults, 2)
	require.NoError(t, err)
	assert.Equal(t, ProfileTuned, c.profile)
	assert.Equal(t, 2, c.threads)
	assert.Equal(t, "physical cores", c.threadsNote)
	assert.Equal(t, tunedNBatch, c.nBatch)
	assert.Equal(t, tunedNUbatch, c.nUbatch)
	assert.Equal(t, tunedFlashAttn, c.flashAttn)
	assert.Equal(t, "f16", c.typeK)
	assert.Equal(t, "f16", c.typeV)
	assert.True(t, c.mmap)

	c, err = resolveConfig(adapters.Options{Threads: 3, Profile: ProfileTuned}, libDefaults, 2)
	require.NoError(t, err)
	assert.Equal(t, 3, c.threads)
	assert.Equal(t, "requested", c.threadsNote)
}

func TestResolveConfigUntunedIsLibraryDefaults(t *testing.T) {
	c, err := resolveConfig(adapters.Options{Profile: ProfileUntuned, Threads: 2}, libDefaults, 2)
	require.NoError(t, err)
	assert.Equal(t, ProfileUntuned, c.profile)
	assert.Equal(t, 4, c.threads, "the untuned profile keeps llama.cpp's default thread count")
	assert.Contains(t, c.threadsNote, "not applied")
	assert.Equal(t, flashAuto, c.flashAttn)
	assert.Equal(t, 2048, c.nBatch)
	assert.Equal(t, 512, c.nUbatch)
	assert.Equal(t, "f16", c.typeK)
}

func TestResolveConfigExtraOverrides(t *testing.T) {
	c, err := resolveConfig(adapters.Options{Extra: map[string]string{
		"flash_attn": "off", "n_batch": "256", "n_ubatch": "64", "type_k": "Q8_0", "type_v": "f32", "mmap": "off",
	}}, libDefaults, 2)
	require.NoError(t, err)
	assert.Equal(t, flashOff, c.flashAttn)
	assert.Equal(t, 256, c.nBatch)
	assert.Equal(t, 64, c.nUbatch)
	assert.Equal(t, "q8_0", c.typeK)
	assert.Equal(t, "f32", c.typeV)
	assert.False(t, c.mmap)

	c, err = resolveConfig(adapters.Options{Extra: map[string]string{"flash_attn": "auto", "type_v": "q8_0"}}, libDefaults, 2)
	require.NoError(t, err)
	assert.Equal(t, flashAuto, c.flashAttn)
	assert.Equal(t, "q8_0", c.typeV)

	// Extra weight buffer types (AMX, repacking): on by default, as in
	// llama.cpp, and switchable for the sweep.
	assert.True(t, c.extraBufts)
	c, err = resolveConfig(adapters.Options{Extra: map[string]string{"extra_bufts": "off"}}, libDefaults, 2)
	require.NoError(t, err)
	assert.False(t, c.extraBufts)
}

func TestResolveConfigErrors(t *testing.T) {
	cases := []struct {
		name string
		opts adapters.Options
		want string
	}{
		{"profile", adapters.Options{Profile: "fast"}, `unknown profile "fast"`},
		{"threads", adapters.Options{Threads: -1}, "threads -1 is negative"},
		{"ctx", adapters.Options{ContextLength: -5}, "context length -5 is negative"},
		{"flash", adapters.Options{Extra: map[string]string{"flash_attn": "maybe"}}, `flash_attn="maybe"`},
		{"batch", adapters.Options{Extra: map[string]string{"n_batch": "0"}}, `n_batch="0": want a positive integer`},
		{"ubatch", adapters.Options{Extra: map[string]string{"n_ubatch": "x"}}, `n_ubatch="x"`},
		{"ubatch>batch", adapters.Options{Extra: map[string]string{"n_batch": "64", "n_ubatch": "128"}}, "n_ubatch 128 is larger than n_batch 64"},
		{"type", adapters.Options{Extra: map[string]string{"type_k": "q3_k"}}, `type_k="q3_k": unknown KV cache type`},
		{"mmap", adapters.Options{Extra: map[string]string{"mmap": "sometimes"}}, `mmap="sometimes"`},
		{"extra_bufts", adapters.Options{Extra: map[string]string{"extra_bufts": "amx"}}, `extra_bufts="amx": want on or off`},
		{"unknown", adapters.Options{Extra: map[string]string{"n_threads": "2"}}, `unknown extra setting "n_threads"`},
		{"quantV", adapters.Options{Extra: map[string]string{"type_v": "q4_0", "flash_attn": "off"}}, "quantized V cache (type_v q4_0) needs flash_attn"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := resolveConfig(tc.opts, libDefaults, 2)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestContextLimit(t *testing.T) {
	c := config{}
	assert.Equal(t, 2048, c.contextLimit(2048))
	assert.Equal(t, defaultContextCap, c.contextLimit(131072))
	assert.Equal(t, defaultContextCap, c.contextLimit(0))
	c.contextLength = 300
	assert.Equal(t, 300, c.contextLimit(2048))
}

func TestFlashName(t *testing.T) {
	assert.Equal(t, "on", flashName(flashOn))
	assert.Equal(t, "off", flashName(flashOff))
	assert.Equal(t, "auto", flashName(flashAuto))
}
