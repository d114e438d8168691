"""Text to speech, sentence by sentence: pack verbaliser -> engine (VITS or espeak-ng) -> Audio."""

from voice.tts.base import SpeechChunk, TTSEngine
from voice.tts.pipeline import Synthesizer, get_synthesizer

__all__ = ["SpeechChunk", "Synthesizer", "TTSEngine", "get_synthesizer"]
