"""The engine interface and the unit the pipeline streams."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from voice.audio import Audio


@dataclass(frozen=True)
class SpeechChunk:
    """One sentence: the text as written (what the agent said), as spoken, and its audio."""

    text: str
    spoken: str
    audio: Audio


class TTSEngine(ABC):
    name: str = ""

    @abstractmethod
    def synthesize_sentence(self, text: str, voice: str | None = None) -> Audio:
        """Speak one sentence that is already verbalised (no digits or symbols left)."""
