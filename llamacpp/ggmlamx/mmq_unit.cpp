// ggml's AMX int8 matrix kernels, compiled from the ollama module's copy (see amx.go).
#include "mmq.cpp"
