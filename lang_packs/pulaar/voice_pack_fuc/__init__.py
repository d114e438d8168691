"""Pulaar (Senegal, Fuuta Tooro) language pack for teranga-voice."""

from __future__ import annotations

from pathlib import Path

from voice.packs.base import LanguagePack
from voice_pack_fuc import text

__all__ = ["PulaarPack", "load"]


class PulaarPack(LanguagePack):
    abbreviations = text.ABBREVIATIONS

    def normalise(self, value: str) -> str:
        return text.normalise(value)

    def verbalise(self, value: str) -> str:
        return text.verbalise(value)

    def engine_text(self, spoken: str, engine: str) -> str:
        """For espeak-ng (no Pulaar voice exists): verbalised text respelled for the manifest's voice."""
        return text.espeak_spelling(spoken) if engine == "espeak-ng" else spoken


def load() -> PulaarPack:
    return PulaarPack(Path(__file__).parent)
