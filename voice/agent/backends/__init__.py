"""LLM backends: each streams `BackendEvent`s for a list of messages and tool schemas."""
