"""The turn every channel runs: recognise -> agent -> synthesise, yielding typed events.

`TurnPipeline.run` is a plain generator, run on a turn thread (a phone call bridges it to its
event loop with `stream_events`; a WhatsApp worker iterates it directly). Model work goes to the
lanes (`voice.conversation.lanes`): ASR to the batching ASR lane, each sentence's TTS to the fast
lane as soon as the agent has produced it, so the first sentence plays while the rest is made.
An agent failure is logged once here and becomes `TurnFailed`, after the pack's apology.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import CancelledError, Future

from voice.agent.loop import Agent, Sentence, TurnResult
from voice.agent.session import Session
from voice.asr.types import Transcript
from voice.audio import Audio
from voice.conversation.events import (
    SpokenSentence,
    Transcribed,
    TurnDone,
    TurnEvent,
    TurnFailed,
    TurnRecord,
)
from voice.conversation.lanes import ModelLanes
from voice.conversation.store import TurnStore
from voice.metrics import STAGE_SECONDS, TURN_FAILURES
from voice.packs import get_pack
from voice.packs.phrases import phrase

log = logging.getLogger(__name__)
Encoder = Callable[[Audio], bytes]


class TurnPipeline:
    def __init__(self, agent: Agent, lanes: ModelLanes, recognizer, synthesizer):
        """`recognizer(language)` -> Recognizer, `synthesizer(language)` -> Synthesizer."""
        self.agent = agent
        self.lanes = lanes
        self.recognizer = recognizer
        self.synthesizer = synthesizer

    # -- pieces a channel also uses on their own -------------------------------------------------------
    def transcribe(self, audio: Audio, language: str) -> Future:
        """Queue one utterance on the batching ASR lane (early ASR at a pause uses this too)."""
        future = self.lanes.asr.transcribe(self.recognizer(language), audio, language)
        future.submitted = time.monotonic()
        return future

    def synthesise(self, language: str, text: str, encode: Encoder | None = None) -> Future:
        """One piece of speech on the fast lane -> (Audio, encoded bytes or None)."""
        return self.lanes.fast.submit(self._speak, language, text, encode)

    def phrase(self, language: str, key: str, fallback: str = "dont_know") -> str:
        return phrase(get_pack(language), key, fallback)

    def _speak(self, language: str, text: str, encode: Encoder | None) -> tuple[Audio, bytes | None]:
        synth = self.synthesizer(language)
        audio = Audio.concat([c.audio for c in synth.synthesize(text)] or [Audio.silence(0.1)])
        return audio, (encode(audio) if encode else None)

    # -- the turn ----------------------------------------------------------------------------------
    def run(
        self,
        session: Session,
        record: TurnRecord,
        *,
        text: str | None = None,
        audio: Audio | None = None,
        transcript: Future | None = None,
        store: TurnStore | None = None,
        cancel: threading.Event | None = None,
        encode: Encoder | None = None,
    ) -> Iterator[TurnEvent]:
        """One turn from the caller's `text`, `audio`, or an ASR job already under way."""
        cancel = cancel or threading.Event()
        language = session.language
        record.language = language
        if text is None:
            try:
                heard = self._recognise(record, language, audio, transcript)
            except CancelledError:
                return
            except Exception as exc:  # a model that fails to load or decode: apologise, go on
                yield from self._failed(record, language, "speech recognition", exc, cancel, encode, None)
                return
            if cancel.is_set():
                return
            yield Transcribed(heard)
            text = heard.text
        record.caller_text = text
        if not text.strip():
            yield from self._prompt(record, language, "didnt_hear", encode)
            yield TurnDone(record, None)
            return
        if store is not None:  # stored now, so a turn cut off by a barge-in or hang-up has its row
            store.open(record)
        try:
            result = yield from self._answer(session, record, text, cancel, encode)
        except Exception as exc:
            yield from self._failed(record, language, "the agent", exc, cancel, encode, store)
            return
        if result is None:  # cancelled: the channel decides what was heard
            return
        record.planned, record.route = result.reply, result.route
        if store is not None:
            store.close(record)
        yield TurnDone(record, result)

    def _failed(self, record, language, stage, exc, cancel, encode, store) -> Iterator[TurnEvent]:
        """Logged once, here; the caller hears the pack's apology; the turn is stored as failed."""
        TURN_FAILURES.inc()
        log.error("turn %d: %s failed (%s: %s)", record.number, stage, type(exc).__name__, exc)
        record.route = "failed"
        if not cancel.is_set():
            yield from self._prompt(record, language, "apology", encode)
        if store is not None:
            if record.row_id is None:
                store.open(record)
            store.close(record)
        yield TurnFailed(record, f"{stage}: {type(exc).__name__}: {exc}")

    def _recognise(
        self, record: TurnRecord, language: str, audio: Audio | None, job: Future | None
    ) -> Transcript:
        t0 = time.monotonic()
        if job is None:
            if audio is None:
                raise ValueError("a turn needs text, audio or a transcription job")
            job = self.transcribe(audio, language)
        heard: Transcript = job.result()
        t = record.timings
        t["asr_s"] = time.monotonic() - t0  # what this turn waited for its words
        started, finished = getattr(job, "started", None), getattr(job, "finished", None)
        if started is not None and finished is not None:
            t["asr_wait_s"] = max(0.0, started - getattr(job, "submitted", started))
            t["asr_run_s"] = finished - started
            t["asr_batch"] = float(getattr(job, "batch", 1))
        STAGE_SECONDS.labels("asr").observe(t["asr_s"])
        return heard

    def _answer(
        self, session: Session, record: TurnRecord, text: str, cancel: threading.Event, encode
    ) -> Iterator[TurnEvent]:
        """The agent's sentences, each synthesised on the fast lane as soon as it exists."""
        t0 = time.monotonic()
        pending: list[tuple[int, str, float, Future]] = []
        result: TurnResult | None = None
        index = 0
        for event in self.agent.turn(session, text, cancel):
            if cancel.is_set():
                return None
            if isinstance(event, Sentence):
                if "agent_first_s" not in record.timings:
                    record.timings["agent_first_s"] = time.monotonic() - t0
                    STAGE_SECONDS.labels("agent_first_token").observe(record.timings["agent_first_s"])
                future = self.synthesise(session.language, event.text, encode)
                pending.append((index, event.text, time.monotonic(), future))
                record.planned = f"{record.planned} {event.text}".strip()
                index += 1
                yield from self._ready(record, pending, wait=False)
            elif isinstance(event, TurnResult):
                result = event
        yield from self._ready(record, pending, wait=True, cancel=cancel)
        return None if cancel.is_set() else result

    def _ready(self, record: TurnRecord, pending: list, wait: bool, cancel=None) -> Iterator[SpokenSentence]:
        """Yield synthesised sentences in order: those done now, or all of them when `wait`."""
        while pending and (wait or pending[0][3].done()):
            if cancel is not None and cancel.is_set():
                for *_, future in pending:
                    future.cancel()
                return
            index, text, t_submit, future = pending.pop(0)
            audio, encoded = future.result()
            if "tts_first_s" not in record.timings:
                record.timings["tts_first_s"] = time.monotonic() - t_submit
                STAGE_SECONDS.labels("tts_first_audio").observe(record.timings["tts_first_s"])
            yield SpokenSentence(index, text, audio, encoded)

    def _prompt(self, record: TurnRecord, language: str, key: str, encode) -> Iterator[SpokenSentence]:
        text = self.phrase(language, key, fallback="apology")
        audio, encoded = self.synthesise(language, text, encode).result()
        record.planned = text
        yield SpokenSentence(0, text, audio, encoded)


async def stream_events(
    events: Iterator[TurnEvent], lanes: ModelLanes, cancel: threading.Event
) -> AsyncIterator[TurnEvent]:
    """Run a turn's generator on a turn thread and hand its events to the event loop as they come.

    Closing the async iterator (a barge-in cancels the task reading it) sets `cancel`, so the
    turn thread stops at its next step and its lanes' queued jobs are dropped.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue = asyncio.Queue()
    done = object()

    def pump() -> None:
        try:
            for event in events:
                loop.call_soon_threadsafe(queue.put_nowait, event)
                if cancel.is_set():
                    break
        except BaseException as exc:  # surfaces in the reading task
            loop.call_soon_threadsafe(queue.put_nowait, exc)
        finally:
            loop.call_soon_threadsafe(queue.put_nowait, done)

    worker = loop.run_in_executor(lanes.turns, pump)
    try:
        while True:
            item = await queue.get()
            if item is done:
                break
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        cancel.set()
        if not worker.done():
            # The thread finishes its current step on its own; nobody needs to wait for it.
            worker.add_done_callback(lambda f: f.exception())
