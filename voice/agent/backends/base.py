"""The interface every LLM backend implements."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass

from voice.agent.types import BackendEvent, Message


@dataclass(frozen=True)
class GenerationOptions:
    max_tokens: int = 512
    temperature: float = 0.0
    reasoning_effort: str = "low"  # gpt-oss: low | medium | high
    timeout_s: float = 30.0
    # The caller's language (pack code): picks a language pack's LoRA adapter or served model.
    language: str | None = None


class BackendError(Exception):
    """The backend failed (unreachable, HTTP error, timeout, unparseable output)."""


class LLMBackend(ABC):
    name: str = ""

    @abstractmethod
    def stream(
        self,
        messages: list[Message],
        tools: list[dict],
        options: GenerationOptions,
        cancel: threading.Event | None = None,
    ) -> Iterator[BackendEvent]:
        """Stream reasoning deltas, final-channel text deltas and tool calls, then one `Done`.

        `tools` are OpenAI function schemas ({"type": "function", "function": {...}}).
        Stops early (still ending with `Done(finish_reason="cancelled")`) when `cancel` is set.
        Raises `BackendError` on failure.
        """
