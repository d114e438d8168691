"""gpt-oss in this process through llama-cpp-python (a GGUF file): harmony-rendered prompt tokens
in, generated tokens parsed with harmony into events. Needs the `llamacpp` extra."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from voice.agent import harmony
from voice.agent.backends.base import BackendError, GenerationOptions, LLMBackend
from voice.agent.backends.harmony_local import tool_names
from voice.agent.types import BackendEvent, Done, Message, TextDelta, Usage


class LlamaCppBackend(LLMBackend):
    name = "llamacpp"

    def __init__(self, model_path: str | Path, n_ctx: int = 8192, threads: int | None = None, seed: int = 0):
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise BackendError(
                "the llamacpp backend needs llama-cpp-python: pip install 'teranga-voice[llamacpp]'"
            ) from exc
        if not Path(model_path).is_file():
            raise BackendError(f"no GGUF model at {model_path}")
        threads = threads or min(4, os.cpu_count() or 1)
        try:
            self.llm = Llama(
                model_path=str(model_path),
                n_ctx=n_ctx,
                n_threads=threads,
                n_threads_batch=threads,
                seed=seed,
                verbose=False,
            )
        except (ValueError, RuntimeError) as exc:
            raise BackendError(f"llama.cpp cannot load {model_path}: {exc}") from exc
        self.model_path = str(model_path)
        self._lock = threading.Lock()  # a llama.cpp context serves one sequence at a time
        harmony.load_encoding()

    def stream(
        self,
        messages: list[Message],
        tools: list[dict],
        options: GenerationOptions,
        cancel: threading.Event | None = None,
    ) -> Iterator[BackendEvent]:
        start = time.perf_counter()
        prompt = harmony.render_prompt(messages, tools, options.reasoning_effort)
        if len(prompt) + options.max_tokens > self.llm.n_ctx():
            raise BackendError(
                f"prompt of {len(prompt)} tokens + {options.max_tokens} exceeds n_ctx {self.llm.n_ctx()}"
            )
        parser = harmony.HarmonyEventParser(tool_names(tools))
        first_token = first_text = None
        finish = "length"
        with self._lock:
            greedy = options.temperature <= 0
            tokens = self.llm.generate(
                prompt,
                temp=options.temperature,
                top_k=1 if greedy else 40,
                top_p=1.0 if greedy else 0.95,
                min_p=0.0,
                repeat_penalty=1.0,
            )
            try:
                for n, token in enumerate(tokens):
                    if cancel is not None and cancel.is_set():
                        finish = "cancelled"
                        break
                    if time.perf_counter() - start > options.timeout_s:
                        raise BackendError(f"generation took longer than {options.timeout_s:.0f} s")
                    first_token = first_token or time.perf_counter() - start
                    try:
                        events = parser.feed(token)
                    except harmony.HarmonyFormatError as exc:
                        raise BackendError(str(exc)) from exc
                    for event in events:
                        if isinstance(event, TextDelta) and first_text is None:
                            first_text = time.perf_counter() - start
                        yield event
                    if parser.done:
                        finish = "tool_calls" if token == harmony.token_id("<|call|>") else "stop"
                        break
                    if n + 1 >= options.max_tokens:
                        yield from parser.finish()
                        break
            finally:
                tokens.close()
        usage = Usage(prompt_tokens=len(prompt), completion_tokens=parser.tokens)
        yield Done(usage, first_token, first_text, time.perf_counter() - start, finish)
