"""gpt-oss in this process through transformers: harmony-rendered prompt in, tokens decoded one by
one (KV cache) and parsed with harmony into events. Optional PEFT LoRA adapters: one for every
language (`adapter_path`), or one per language (`adapters`, e.g. the ones language packs bundle),
switched per request by `GenerationOptions.language`; other languages get the base model."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
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
        adapters: Mapping[str, str | Path] | None = None,
    ):
        import torch
        from transformers import AutoModelForCausalLM

        if adapter_path and adapters:
            raise BackendError("give one adapter for every language or adapters per language, not both")
        if threads:
            torch.set_num_threads(threads)

        def load_base():
            try:
                return AutoModelForCausalLM.from_pretrained(str(model_path), dtype=dtype)
            except (OSError, ValueError) as exc:
                raise BackendError(f"cannot load a gpt-oss model from {model_path}: {exc}") from exc

        model = load_base()
        self.adapters: dict[str, str] = {}  # language -> adapter dir, those that loaded
        if adapter_path:
            model, _ = _load_adapters(model, {"default": adapter_path}, strict=True)
        elif adapters:
            model, loaded = _load_adapters(model, dict(adapters), strict=False, reload=load_base)
            self.adapters = {lang: str(adapters[lang]) for lang in loaded}
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
        with self._lock, torch.inference_mode(), self._adapter_for(options.language):
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

    def _adapter_for(self, language: str | None) -> contextlib.AbstractContextManager:
        """Per-language adapters: the language's own, or the bare base model for the others."""
        if not self.adapters:
            return contextlib.nullcontext()
        if language in self.adapters:
            self.model.set_adapter(language)
            return contextlib.nullcontext()
        return self.model.disable_adapter()


def _load_adapters(
    model, adapters: dict[str, str | Path], strict: bool, reload: Callable[[], object] | None = None
) -> tuple[object, list[str]]:
    """Load named LoRA adapters onto the model. `strict` (the operator's one adapter): a failure
    is an error. Otherwise (packs' adapters) an adapter that does not fit this base — trained on
    another model, other target layers — is skipped with a warning: its language gets the base
    model and the other languages keep theirs."""
    try:
        from peft import PeftModel
    except ImportError as exc:
        raise BackendError("a LoRA adapter needs peft: pip install 'teranga-voice[train]'") from exc
    peft_model, loaded = None, []
    for name, path in adapters.items():
        try:
            if peft_model is None:
                peft_model = PeftModel.from_pretrained(model, str(path), adapter_name=name)
            else:
                peft_model.load_adapter(str(path), adapter_name=name)
            loaded.append(name)
        except (OSError, ValueError, RuntimeError, KeyError) as exc:
            if strict:
                raise BackendError(f"cannot load LoRA adapter {name!r} from {path}: {exc}") from exc
            log.warning(
                "LoRA adapter for %s (%s) does not fit this model, base model serves it: %s", name, path, exc
            )
            if peft_model is None and reload is not None:
                model = reload()  # the failed first load may have left LoRA layers in the base
            elif peft_model is not None and name in peft_model.peft_config:
                peft_model.delete_adapter(name)
    return (peft_model if peft_model is not None else model), loaded


def _pick(logits, temperature: float, gen) -> int:
    import torch

    if temperature <= 0:
        return int(logits.argmax())
    probs = torch.softmax(logits.float() / temperature, dim=-1)
    return int(torch.multinomial(probs, 1, generator=gen))
