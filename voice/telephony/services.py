"""What a call session needs from its host (the gateway's runtime satisfies this)."""

from __future__ import annotations

from concurrent.futures import Executor
from typing import Protocol

from voice.agent.loop import Agent
from voice.asr.recognizer import Recognizer
from voice.config import Settings
from voice.store.db import Database
from voice.telephony.rest import TwilioRest
from voice.tts.pipeline import Synthesizer


class CallServices(Protocol):
    settings: Settings
    db: Database
    agent: Agent
    twilio: TwilioRest
    model_executor: Executor

    def recognizer(self, language: str | None) -> Recognizer: ...

    def synthesizer(self, language: str) -> Synthesizer: ...
