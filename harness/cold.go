package harness

// ColdNote is the note every report carries on what "cold" means in
// cold_full_prefill and the cold references (docs/methodology.md, Part 2).
const ColdNote = "cold means an empty KV cache only: each cold session starts with no cached positions, " +
	"but the backend is already loaded and everything below the session is warm (the model file in the page cache, " +
	"the weights resident, OpenVINO's cached IR, its model compiled at load and its compiled shapes reused, " +
	"any warm-up repetitions discarded), so the first request after a model load or a process start is not measured"
