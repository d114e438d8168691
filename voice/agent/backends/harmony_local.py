"""gpt-oss in this process through transformers: harmony-rendered prompt in, tokens decoded one by
one (KV cache) and parsed with harmony into events. Optional PEFT LoRA adapter (a language pack's)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from voice.agent import harmony
from voice.agent.backends.base import BackendError, GenerationOptions, LLMBackend
from voice.agent.types import BackendEvent, Done, Message, TextDelta, Usage

log = logging.getLogger(__name__)


def tool_names(tools: list[dict]) -> list[str]:
    return [t.get("function", t).get("name", "") for t in tools]


class HarmonyLocalBackend(LLMBackend):
    name = "harmony"

    def __init__(
        self,
        model_path: str | Path,
        adapter_path: str | Path | None = None,
        threads: int | None = None,
        dtype: str = "auto",
    ):
        import torch
        from transformers import AutoModelForCausalLM

        if threads:
            torch.set_num_threads(threads)
        try:
            model = AutoModelForCausalLM.from_pretrained(str(model_path), dtype=dtype)
        except (OSError, ValueError) as exc:
            raise BackendError(f"cannot load a gpt-oss model from {model_path}: {exc}") from exc
        if adapter_path:
            try:
                from peft import PeftModel
            except ImportError as exc:
                raise BackendError("a LoRA adapter needs peft: pip install 'teranga-voice[train]'") from exc
            model = PeftModel.from_pretrained(model, str(adapter_path))
        self.model = model.eval()
        self.model_path, self.adapter_path = str(model_path), adapter_path and str(adapter_path)
        self._lock = threading.Lock()  # one generation at a time: the CPU is the bottleneck anyway
        harmony.load_encoding()

    def stream(
        self,
        messages: list[Message],
        tools: list[dict],
        options: GenerationOptions,
        cancel: threading.Event | None = None,
    ) -> Iterator[BackendEvent]:
        import torch

        start = time.perf_counter()
        prompt = harmony.render_prompt(messages, tools, options.reasoning_effort)
        parser = harmony.HarmonyEventParser(tool_names(tools))
        gen = torch.Generator().manual_seed(0)
        first_token = first_text = None
        finish = "length"
        with self._lock, torch.inference_mode():
            ids, past = torch.tensor([prompt]), None
            for _ in range(options.max_tokens):
                if cancel is not None and cancel.is_set():
                    finish = "cancelled"
                    break
                if time.perf_counter() - start > options.timeout_s:
                    raise BackendError(f"generation took longer than {options.timeout_s:.0f} s")
                out = self.model(input_ids=ids, past_key_values=past, use_cache=True, logits_to_keep=1)
                past = out.past_key_values
                token = _pick(out.logits[0, -1], options.temperature, gen)
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
                ids = torch.tensor([[token]])
            else:
                yield from parser.finish()
        usage = Usage(prompt_tokens=len(prompt), completion_tokens=parser.tokens)
        yield Done(usage, first_token, first_text, time.perf_counter() - start, finish)


def _pick(logits, temperature: float, gen) -> int:
    import torch

    if temperature <= 0:
        return int(logits.argmax())
    probs = torch.softmax(logits.float() / temperature, dim=-1)
    return int(torch.multinomial(probs, 1, generator=gen))
