"""Wolof (wol, wo-SN) language pack for teranga-voice: CLAD orthography, Wolof numbers, content."""

from __future__ import annotations

from pathlib import Path

from voice.packs.base import LanguagePack
from voice_pack_wol import text as wolof_text
from voice_pack_wol.text import DEFAULT_MONEY_UNIT, MoneyUnit

__all__ = ["WolofPack", "load"]


class WolofPack(LanguagePack):
    # French abbreviations appear in Wolof text; a dot after them does not end a sentence.
    abbreviations = ("M.", "Mme.", "Mlle.", "Dr.", "Pr.", "St.", "Ste.", "av.", "bd.", "tél.", "n°.", "No.")
    money_unit: MoneyUnit = DEFAULT_MONEY_UNIT

    def normalise(self, text: str) -> str:
        return wolof_text.normalise(text)

    def verbalise(self, text: str, money_unit: MoneyUnit | None = None) -> str:
        return wolof_text.verbalise(text, money_unit or self.money_unit)

    def engine_text(self, spoken: str, engine: str) -> str:
        """For espeak-ng, verbalised text respelled for its `sw` voice (see README, TTS)."""
        return wolof_text.espeak_respell(spoken) if engine == "espeak-ng" else spoken


def load() -> WolofPack:
    return WolofPack(Path(__file__).parent)
