"""Test fixtures that build real things for the test suite and the benchmarks, never for a caller.

- `asr_models`: real-architecture Whisper with random weights and the real tokenizer.
- `agent_models`: a tiny gpt-oss fine-tuned to three fixed turns (+ its GGUF).
- `tts_models`: a random-init VITS of MMS-TTS's architecture.
- `llama_server`: a `llama-server` binary built from llama-cpp-python's sdist.

Product code (everything else under voice/, and services/) never imports this package;
tests/test_layering.py checks that.
"""
