"""What every ASR engine returns."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class Segment:
    start: float
    end: float
    text: str
    no_speech_prob: float = 0.0
    avg_logprob: float = 0.0
    compression_ratio: float = 1.0


@dataclass
class Transcript:
    text: str
    language: str | None
    duration: float
    segments: list[Segment] = field(default_factory=list)
    no_speech_prob: float = 0.0
    language_probability: float | None = None
    engine: str = ""
    model: str = ""
    dropped: list[str] = field(default_factory=list)  # why segments were filtered out

    def to_json(self) -> dict:
        """The JSON shape of `voice transcribe --json` (keys are relied on outside)."""
        return {
            "text": self.text,
            "language": self.language,
            "duration": round(self.duration, 3),
            "engine": self.engine,
            "model": self.model,
            "segments": [
                {"start": round(s.start, 3), "end": round(s.end, 3), "text": s.text} for s in self.segments
            ],
            "no_speech_prob": round(self.no_speech_prob, 4),
        }

    def as_dict(self) -> dict:
        return asdict(self)
