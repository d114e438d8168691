"""What a call session needs from its host (the gateway's runtime satisfies this)."""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
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
    model_executor: ModelPool  # counts pending jobs: optional work stands aside when they queue

    def recognizer(self, language: str | None) -> Recognizer: ...

    def synthesizer(self, language: str) -> Synthesizer: ...


class ModelPool(ThreadPoolExecutor):
    """The bounded pool every call's model work runs on. It counts the jobs not yet finished, so
    optional work (ASR guessed at a pause) can stand aside when real turns are waiting."""

    def __init__(self, workers: int):
        super().__init__(max_workers=workers, thread_name_prefix="model")
        self._count_lock = threading.Lock()
        self.pending = 0

    def submit(self, fn, /, *args, **kwargs) -> Future:
        with self._count_lock:
            self.pending += 1
        try:
            future = super().submit(fn, *args, **kwargs)
        except BaseException:
            self._finished(None)
            raise
        future.add_done_callback(self._finished)
        return future

    def _finished(self, _future: Future | None) -> None:
        with self._count_lock:
            self.pending -= 1
