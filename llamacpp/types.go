package llamacpp

// modelMeta is what llama.cpp reports about a loaded model.
type modelMeta struct {
	nCtxTrain int
	nVocab    int
	nParams   int64
	size      int64
	desc      string
	name      string
	arch      string
}

// ctxParams are the context settings we set; the rest stay as
// llama_context_default_params() gives them.
type ctxParams struct {
	nCtx         int
	nSeqMax      int
	nBatch       int
	nUbatch      int
	threads      int
	threadsBatch int
	flashAttn    int // -1 auto, 0 off, 1 on
	typeK, typeV string
	// threadpool attaches a persistent ggml thread pool polling at poll
	// (0-100) instead of ggml's per-graph threads.
	threadpool bool
	poll       int
}

// contextDefaults are llama_context_default_params() as Go values.
type contextDefaults struct {
	nBatch, nUbatch, threads, threadsBatch, flashAttn int
	typeK, typeV                                      string
}
