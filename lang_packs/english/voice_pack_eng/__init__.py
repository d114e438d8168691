"""English language pack for teranga-voice (The Gambia / Senegal customer service)."""

from __future__ import annotations

from pathlib import Path

from voice.packs.base import LanguagePack
from voice_pack_eng import text

__version__ = "0.1.0"
PACKAGE_DIR = Path(__file__).resolve().parent


class EnglishPack(LanguagePack):
    abbreviations = text.ABBREVIATIONS

    def normalise(self, text_in: str) -> str:
        return text.normalise(text_in)

    def verbalise(self, text_in: str) -> str:
        return text.verbalise(text_in)


def load() -> EnglishPack:
    return EnglishPack(PACKAGE_DIR)
