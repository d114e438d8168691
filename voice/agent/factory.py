"""Build the agent the configuration asks for: business backend + optional LLM backend."""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

from voice.agent.backends.base import LLMBackend
from voice.agent.loop import Agent
from voice.config import Settings, get_settings, parse_pairs
from voice.errors import BadInputError

log = logging.getLogger(__name__)


def make_llm(settings: Settings) -> LLMBackend | None:
    """`auto`: an OpenAI-compatible server when VOICE_LLM_URL is set, else no LLM (FAQ route only)."""
    a = settings.agent
    kind = a.backend
    if kind == "faq" or (kind == "auto" and not settings.llm_url):
        return None
    if kind in ("auto", "openai"):
        if not settings.llm_url:
            raise BadInputError(
                "VOICE_AGENT_BACKEND=openai needs VOICE_LLM_URL (e.g. http://127.0.0.1:8000/v1)"
            )
        from voice.agent.backends.openai_compat import OpenAICompatBackend

        return OpenAICompatBackend(
            settings.llm_url, settings.llm_model, language_models=parse_pairs(a.language_models)
        )
    if not a.model_path:
        raise BadInputError(f"VOICE_AGENT_BACKEND={kind} needs VOICE_AGENT_MODEL_PATH")
    if kind == "harmony":
        from voice.agent.backends.harmony_local import HarmonyLocalBackend

        adapters = pack_adapters() if a.pack_adapters and not a.adapter_path else {}
        return HarmonyLocalBackend(a.model_path, adapter_path=a.adapter_path, adapters=adapters)
    if kind == "llamacpp":
        from voice.agent.backends.llamacpp import LlamaCppBackend

        return LlamaCppBackend(a.model_path)
    raise BadInputError(f"unknown agent backend {kind!r}: auto | openai | harmony | llamacpp | faq")


def pack_adapters() -> dict[str, Path]:
    """language -> the LoRA adapter its installed pack bundles (manifest `llm.adapter`)."""
    from voice.packs.registry import installed_packs

    found = {}
    for code, pack in installed_packs().items():
        name = pack.manifest.llm.adapter
        if not name:
            continue
        path = pack.artifact_path(name)
        if path is None or not (path / "adapter_config.json").exists():
            # e.g. a pack built without --llm-adapter that only names its adapter
            log.warning(
                "pack %s names LLM adapter %s but does not bundle it: base model for %s", code, name, code
            )
            continue
        found[code] = path
        log.info("pack %s: LLM adapter %s", code, name)
    return found


def make_agent(settings: Settings | None = None, llm: LLMBackend | None = None) -> Agent:
    from voice.agent.demo_backend import DemoBackend
    from voice.store import get_database

    settings = settings or get_settings()
    business = DemoBackend(get_database(settings.database_url))
    return Agent(business, llm if llm is not None else make_llm(settings), settings.agent)


@lru_cache(maxsize=1)
def get_agent() -> Agent:
    return make_agent()
