"""What a turn yields, in order: Transcribed?, SpokenSentence*, then TurnDone or TurnFailed."""

from __future__ import annotations

from dataclasses import dataclass, field

from voice.agent.loop import TurnResult
from voice.asr.types import Transcript
from voice.audio import Audio


@dataclass
class TurnRecord:
    """One turn as the channel stores it; the pipeline fills it in as the turn goes."""

    number: int
    caller_text: str = ""
    planned: str = ""  # everything the bot meant to say (what was heard is the channel's to know)
    route: str = ""
    language: str = ""
    row_id: int | None = None
    timings: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Transcribed:
    transcript: Transcript


@dataclass(frozen=True)
class SpokenSentence:
    """One sentence of the reply, synthesised (and encoded for the channel when it asked)."""

    index: int
    text: str
    audio: Audio
    encoded: bytes | None = None


@dataclass(frozen=True)
class TurnDone:
    """The reply is complete. `result` is None when nothing was heard (the caller got a prompt)."""

    record: TurnRecord
    result: TurnResult | None


@dataclass(frozen=True)
class TurnFailed:
    """The agent failed; the caller has been given the pack's apology (a SpokenSentence before)."""

    record: TurnRecord
    error: str


TurnEvent = Transcribed | SpokenSentence | TurnDone | TurnFailed
