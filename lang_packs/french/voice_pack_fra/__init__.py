"""French language pack for teranga-voice (Senegal customer service)."""

from __future__ import annotations

from pathlib import Path

from voice.packs.base import LanguagePack
from voice_pack_fra import text

__version__ = "0.1.0"
PACKAGE_DIR = Path(__file__).resolve().parent


class FrenchPack(LanguagePack):
    abbreviations = text.ABBREVIATIONS

    def normalise(self, text_in: str) -> str:
        return text.normalise(text_in)

    def verbalise(self, text_in: str) -> str:
        return text.verbalise(text_in)


def load() -> FrenchPack:
    return FrenchPack(PACKAGE_DIR)
