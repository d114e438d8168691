"""Speech recognition: one interface, three Whisper engines, hallucination guards."""

from voice.asr.recognizer import ENGINES, Recognizer, create_engine, get_recognizer, recognizer_for
from voice.asr.types import Segment, Transcript

__all__ = [
    "ENGINES",
    "Recognizer",
    "Segment",
    "Transcript",
    "create_engine",
    "get_recognizer",
    "recognizer_for",
]
