// ggml's AMX buffer type, compiled from the ollama module's copy (see amx.go).
#include "amx.cpp"
