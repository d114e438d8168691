"""Any OpenAI-compatible chat-completions server (vLLM, Ollama, llama-server, LM Studio) serving
gpt-oss: streamed text, reasoning and tool calls, robust to the servers' known quirks.

- reasoning arrives as `reasoning` (vLLM, Ollama) or `reasoning_content` (llama-server);
- `reasoning_effort` is sent as the standard parameter; `extra_body` (or VOICE_LLM_EXTRA_BODY,
  a JSON object) adds what a given server needs besides;
- tool calls are assembled from their streamed deltas by index (legacy `function_call` too);
  malformed names and non-JSON arguments are repaired (repair.py); an unknown name is reported
  as is, for the agent loop to answer "unknown tool";
- harmony markup leaked into `content` is filtered: only final-channel text is ever TextDelta;
- timeouts, HTTP errors and refused connections become BackendError with a clear message.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import openai

from voice.agent.backends.base import BackendError, GenerationOptions, LLMBackend
from voice.agent.backends.repair import ArgumentsError, MarkupFilter, normalize_tool_name, parse_arguments
from voice.agent.types import (
    BackendEvent,
    Done,
    Message,
    ReasoningDelta,
    TextDelta,
    ToolCall,
    ToolCallEvent,
    Usage,
)

log = logging.getLogger(__name__)
DEFAULT_MODEL = "openai/gpt-oss-20b"


@dataclass
class _PendingCall:
    id: str = ""
    name: str = ""
    arguments: str | dict = ""


@dataclass
class _StreamState:
    calls: dict[Any, _PendingCall] = field(default_factory=dict)
    usage: Usage | None = None
    finish: str | None = None
    chunks: int = 0
    first_token: float | None = None
    first_text: float | None = None


def wire_message(m: Message) -> dict:
    """One of our messages in the chat-completions request format (reasoning under both names)."""
    msg = m.to_openai()
    if m.role == "assistant" and m.reasoning:
        msg["reasoning"] = msg["reasoning_content"] = m.reasoning
    return msg


class OpenAICompatBackend(LLMBackend):
    name = "openai"

    def __init__(
        self,
        base_url: str | None = None,
        model: str | None = None,
        api_key: str | None = None,
        extra_body: dict | None = None,
        language_models: Mapping[str, str] | None = None,
    ):
        self.base_url = base_url or os.environ.get("VOICE_LLM_URL") or ""
        if not self.base_url:
            raise BackendError("no LLM server URL: set VOICE_LLM_URL (e.g. http://127.0.0.1:8000/v1)")
        self.model = model or os.environ.get("VOICE_LLM_MODEL") or DEFAULT_MODEL
        if extra_body is None and os.environ.get("VOICE_LLM_EXTRA_BODY"):
            extra_body = json.loads(os.environ["VOICE_LLM_EXTRA_BODY"])
        self.extra_body = extra_body or {}
        # e.g. {"wol": "wol-lora"}: a language pack's adapter served under its own model name
        self.language_models = dict(language_models or {})
        key = api_key or os.environ.get("VOICE_LLM_API_KEY") or "not-needed"  # local servers ignore it
        self.client = openai.OpenAI(base_url=self.base_url, api_key=key, max_retries=0)
        _ = self.client.chat.completions  # the client loads this lazily (seconds): not on the first turn

    def request(self, messages: list[Message], tools: list[dict], options: GenerationOptions) -> dict:
        body: dict[str, Any] = {
            "model": self.language_models.get(options.language or "", self.model),
            "messages": [wire_message(m) for m in messages],
            "stream": True,
            "stream_options": {"include_usage": True},
            "temperature": options.temperature,
            "max_tokens": options.max_tokens,
            "reasoning_effort": options.reasoning_effort,
        }
        if tools:
            body["tools"] = tools
            body["tool_choice"] = "auto"
        if self.extra_body:
            body["extra_body"] = self.extra_body
        return body

    def stream(
        self,
        messages: list[Message],
        tools: list[dict],
        options: GenerationOptions,
        cancel: threading.Event | None = None,
    ) -> Iterator[BackendEvent]:
        start = time.perf_counter()
        if cancel is not None and cancel.is_set():
            yield Done(Usage(), None, None, 0.0, "cancelled")
            return
        known = [t.get("function", t).get("name", "") for t in tools]
        timeout = httpx.Timeout(options.timeout_s, connect=min(options.timeout_s, 10.0))
        try:
            stream = self.client.with_options(timeout=timeout).chat.completions.create(
                **self.request(messages, tools, options)
            )
        except openai.APIError as exc:
            raise self._error(exc, options) from exc
        state = _StreamState()
        markup = MarkupFilter()
        finished = threading.Event()
        if cancel is not None:  # close the connection when cancelled, even while waiting for a chunk
            threading.Thread(target=_close_on_cancel, args=(cancel, finished, stream), daemon=True).start()
        try:
            for chunk in stream:
                if cancel is not None and cancel.is_set():
                    break
                if time.perf_counter() - start > options.timeout_s:
                    raise BackendError(f"the LLM server took longer than {options.timeout_s:.0f} s to answer")
                for kind, text in self._chunk(chunk, state, markup, start):
                    yield ReasoningDelta(text) if kind == "reasoning" else TextDelta(text)
        except (openai.APIError, httpx.HTTPError, json.JSONDecodeError) as exc:
            if not (cancel is not None and cancel.is_set()):
                raise self._error(exc, options) from exc
        finally:
            finished.set()
            stream.close()
        if cancel is not None and cancel.is_set():
            yield Done(
                state.usage or Usage(),
                state.first_token,
                state.first_text,
                time.perf_counter() - start,
                "cancelled",
            )
            return
        for kind, text in markup.flush():
            yield ReasoningDelta(text) if kind == "reasoning" else TextDelta(text)
        if state.finish == "length" and state.calls:  # cut off by max_tokens: never run half a call
            log.warning("dropping %d tool call(s) cut off by max_tokens", len(state.calls))
            state.calls.clear()
        for key in sorted(state.calls, key=lambda k: (isinstance(k, str), k if isinstance(k, int) else 0)):
            yield ToolCallEvent(_finish_call(state.calls[key], known))
        usage = state.usage or Usage(0, state.chunks)
        finish = state.finish or ("tool_calls" if state.calls else "stop")  # some servers omit it
        yield Done(usage, state.first_token, state.first_text, time.perf_counter() - start, finish)

    def _chunk(self, chunk, state: _StreamState, markup: MarkupFilter, start: float) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        if getattr(chunk, "usage", None):
            state.usage = Usage(chunk.usage.prompt_tokens or 0, chunk.usage.completion_tokens or 0)
        for choice in chunk.choices or []:
            if choice.index not in (0, None):
                continue
            delta = choice.delta
            if choice.finish_reason:
                state.finish = choice.finish_reason
            if delta is None:
                continue
            extra = delta.model_extra or {}
            reasoning = extra.get("reasoning")
            if reasoning is None:
                reasoning = extra.get("reasoning_content")
            if reasoning:
                out.append(("reasoning", reasoning))
            if delta.content:
                out.extend(markup.feed(delta.content))
            for n, tc in enumerate(delta.tool_calls or []):
                key = tc.index if tc.index is not None else n
                _add_call_delta(state.calls.setdefault(key, _PendingCall()), tc.id, tc.function)
            if delta.function_call is not None:  # the legacy single-call field
                _add_call_delta(
                    state.calls.setdefault("function_call", _PendingCall()), None, delta.function_call
                )
            if reasoning or delta.content or delta.tool_calls or delta.function_call:
                state.chunks += 1
                if state.first_token is None:
                    state.first_token = time.perf_counter() - start
        if state.first_text is None and any(kind == "text" for kind, _ in out):
            state.first_text = time.perf_counter() - start
        return out

    def _error(self, exc: Exception, options: GenerationOptions) -> BackendError:
        where = f"the LLM server at {self.base_url}"
        if isinstance(exc, openai.APITimeoutError | httpx.TimeoutException):
            return BackendError(f"{where} did not answer within {options.timeout_s:.0f} s")
        if isinstance(exc, openai.APIConnectionError | httpx.ConnectError):
            cause = exc.__cause__ or exc
            return BackendError(f"cannot reach {where}: {cause}")
        if isinstance(exc, openai.APIStatusError):
            body = exc.response.text[:300] if exc.response is not None else ""
            return BackendError(f"{where} answered HTTP {exc.status_code}: {body or exc.message}")
        if isinstance(exc, json.JSONDecodeError):
            return BackendError(f"{where} sent a stream chunk that is not JSON: {exc}")
        return BackendError(f"{where} failed mid-stream: {exc}")


def _add_call_delta(pending: _PendingCall, call_id: str | None, function: Any) -> None:
    if call_id and not pending.id:
        pending.id = call_id
    if function is None:
        return
    name = getattr(function, "name", None)
    if name and name != pending.name:  # pieces are appended; a server repeating the whole name is not
        pending.name += name
    args = getattr(function, "arguments", None)
    if isinstance(args, dict):
        pending.arguments = args
    elif args and isinstance(pending.arguments, str):
        pending.arguments += args


def _finish_call(pending: _PendingCall, known: list[str]) -> ToolCall:
    name = normalize_tool_name(pending.name, known)
    try:
        args = parse_arguments(pending.arguments)
    except ArgumentsError:
        log.warning("tool call %r: unreadable arguments %r", name, str(pending.arguments)[:200])
        args = {}
    return ToolCall(pending.id or f"call_{uuid.uuid4().hex[:16]}", name, args)


def _close_on_cancel(cancel: threading.Event, finished: threading.Event, stream) -> None:
    """Shut the socket down: that wakes a read blocked on a stalled server (closing alone does not)."""
    while not finished.is_set():
        if cancel.wait(0.05):
            network = stream.response.extensions.get("network_stream")
            sock = network.get_extra_info("socket") if network is not None else None
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            return
