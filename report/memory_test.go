package report

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestKVElemBytes(t *testing.T) {
	for name, want := range map[string]float64{"f16": 2, "F32": 4, "bf16": 2, "q8_0": 34.0 / 32, "q4_0": 18.0 / 32} {
		got, ok := KVElemBytes(name)
		require.True(t, ok, name)
		assert.InDelta(t, want, got, 1e-12, name)
	}
	for _, bad := range []string{"", "f12", "fp16"} {
		_, ok := KVElemBytes(bad)
		assert.False(t, ok, bad)
	}
}

// smolShape is SmolLM2-135M's attention: 30 layers, 3 KV heads of 64.
var smolShape = KVShape{Layers: 30, KVHeads: 3, HeadDim: 64}

// memAt is a decode session that held 1216 positions and grew from 200
// MiB of anonymous memory to end.
func memAt(end float64) *Memory {
	return &Memory{AnonBeforeSessionMB: 200, AnonEndOfDecodeMB: end, Positions: 1216}
}

func TestCheckKVComputesAndJudges(t *testing.T) {
	f16 := map[string]string{"type_k": "f16", "type_v": "f16", "n_ctx": "2048"}

	m := memAt(240)
	m.CheckKV(smolShape, f16, 4096)
	kv := m.KV
	require.NotNil(t, kv)
	assert.Equal(t, 2048, kv.Context, "the setting, not the fallback")
	assert.Equal(t, "settings.n_ctx", kv.ContextFrom)
	assert.Equal(t, 30*3*64*(2+2.0), kv.BytesPerPosition)
	assert.Equal(t, int64(23040*2048), kv.BytesAtContext)
	assert.Equal(t, int64(23040*1216), kv.BytesFilled)
	assert.Equal(t, int64(40<<20), kv.MeasuredGrowthBytes)
	assert.Equal(t, KVConsistent, kv.Verdict, kv.Check)
	assert.Contains(t, kv.Check, "grew by 40.0 MiB, between the 1216 filled positions' 26.7 MiB and the cache at context (45.0 MiB)")

	// Too little growth for the filled positions: a mismatch, said so.
	m = memAt(210)
	m.CheckKV(smolShape, f16, 2048)
	assert.Equal(t, KVMismatch, m.KV.Verdict)
	assert.Contains(t, m.KV.Check, "grew by 10.0 MiB, less than the 26.7 MiB its 1216 filled positions need")

	// Far more than the cache at context: f32 values where f16 is stated.
	m = memAt(320)
	m.CheckKV(smolShape, f16, 2048)
	assert.Equal(t, KVMismatch, m.KV.Verdict)
	assert.Contains(t, m.KV.Check, "grew by 120.0 MiB, more than the cache at context (45.0 MiB)")

	// OpenVINO states its context as context_length.
	m = memAt(300)
	m.CheckKV(smolShape, map[string]string{"type_k": "f32", "type_v": "f32", "context_length": "2048"}, 0)
	assert.Equal(t, "settings.context_length", m.KV.ContextFrom)
	assert.Equal(t, int64(46080*2048), m.KV.BytesAtContext)
	assert.Equal(t, KVConsistent, m.KV.Verdict, m.KV.Check)

	// Without a context setting, the backend's session limit.
	m = memAt(240)
	m.CheckKV(smolShape, map[string]string{"type_k": "f16", "type_v": "f16"}, 2048)
	assert.Equal(t, "model_info.context_length", m.KV.ContextFrom)
	assert.Equal(t, KVConsistent, m.KV.Verdict)
}

func TestCheckKVNotJudged(t *testing.T) {
	cases := []struct {
		name     string
		shape    KVShape
		settings map[string]string
		mem      *Memory
		want     string
	}{
		{"no element types", smolShape, map[string]string{"n_ctx": "2048"}, memAt(240),
			"the backend's settings do not state its KV element types (type_k, type_v), so the cache is not computed"},
		{"unknown type", smolShape, map[string]string{"type_k": "f12", "type_v": "f16"}, memAt(240),
			`unknown KV element type (type_k "f12", type_v "f16"), so the cache is not computed`},
		{"no shape", KVShape{}, map[string]string{"type_k": "f16", "type_v": "f16"}, memAt(240),
			"the model's shape or the context is unknown (layers 0, kv heads 0, head dim 0, context 2048), so the cache is not computed"},
		{"too small to see", KVShape{Layers: 2, KVHeads: 2, HeadDim: 16}, map[string]string{"type_k": "f16", "type_v": "f16", "n_ctx": "512"}, memAt(200.5),
			"the cache at context (128.0 KiB) is below 4.0 MiB"},
		{"decode not measured", smolShape, map[string]string{"type_k": "f16", "type_v": "f16"}, &Memory{AnonBeforeSessionMB: 200},
			"the decode session's resident memory was not measured"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.mem.CheckKV(c.shape, c.settings, 2048)
			require.NotNil(t, c.mem.KV)
			assert.Equal(t, KVNotJudged, c.mem.KV.Verdict)
			assert.Contains(t, c.mem.KV.Check, c.want)
		})
	}
}

func TestFormatBytes(t *testing.T) {
	assert.Equal(t, "512 B", FormatBytes(512))
	assert.Equal(t, "1.5 KiB", FormatBytes(1536))
	assert.Equal(t, "45.0 MiB", FormatBytes(23040*2048))
	assert.Equal(t, "-2.0 MiB", FormatBytes(-2<<20))
	assert.Equal(t, "3.0 GiB", FormatBytes(3<<30))
}
