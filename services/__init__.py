"""FastAPI shells over the `voice` library (gateway; ASR/TTS workers come as separate apps)."""
