"""What a call session needs from its host (the gateway's runtime satisfies this)."""

from __future__ import annotations

from typing import Protocol

from voice.agent.loop import Agent
from voice.asr.recognizer import Recognizer
from voice.config import Settings
from voice.conversation.lanes import ModelLanes
from voice.conversation.pipeline import TurnPipeline
from voice.packs import EndpointingPolicy
from voice.store.db import Database
from voice.telephony.rest import TwilioRest


class CallServices(Protocol):
    settings: Settings
    db: Database
    agent: Agent
    twilio: TwilioRest
    lanes: ModelLanes
    pipeline: TurnPipeline

    def recognizer(self, language: str | None) -> Recognizer: ...

    def endpointing(self, language: str) -> EndpointingPolicy: ...

    def turn_model(self, language: str):
        """The end-of-turn model for a language whose pack asks for one (None: silence only)."""

    def language_digits(self) -> dict[str, str]: ...
