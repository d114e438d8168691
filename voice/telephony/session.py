"""One live phone call: what belongs to a call and nothing else.

Endpointing and turn-taking (`voice.telephony.turn_taking`), barge-in, playback accounting with
marks, DTMF, idle prompts and hand-off live here; the turn itself (recognise -> agent ->
synthesise, its timings, metrics and storage) is `voice.conversation.TurnPipeline`, shared with
WhatsApp. The provider's wire format is the call's `MediaCodec` (Twilio Media Streams first).

The event loop only moves bytes: VAD runs on the VAD lane, ASR on the batching ASR lane, the
agent and TTS on turn threads and the fast lane.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from concurrent.futures import CancelledError
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import select

from voice.agent.session import Session
from voice.audio import Audio
from voice.audio.resample import LineBuffer, StreamResampler, resample
from voice.audio.vad import Endpointer, SpeechPause, SpeechResume, SpeechStart, Utterance, VadConfig
from voice.conversation.events import SpokenSentence, TurnDone, TurnFailed, TurnRecord
from voice.conversation.pipeline import stream_events
from voice.conversation.store import CallTurnStore
from voice.metrics import BARGE_INS, CALLS, HANDOFFS, STAGE_SECONDS
from voice.packs import find_pack
from voice.store.models import Call, CallToken
from voice.telephony.playback import Player
from voice.telephony.rest import TwilioRestError
from voice.telephony.services import CallServices
from voice.telephony.transport import (
    AudioIn,
    KeyPressed,
    MarkPlayed,
    MediaCodec,
    Message,
    ProtocolError,
    StreamStarted,
    StreamStopped,
)
from voice.telephony.turn_taking import TurnTaker

log = logging.getLogger(__name__)
MAX_PROTOCOL_ERRORS = 50
VAD_RATE = 16000
QUIET_RMS = 10 ** (VadConfig.floor_dbfs / 20)  # the VAD's own silence floor
QUIET_BATCH = 5


class CallSession:
    def __init__(self, services: CallServices, codec: MediaCodec, send):
        """`send(message)`: an awaitable that writes one websocket message (text or bytes)."""
        self.services = services
        self.settings = services.settings.call
        self.codec = codec
        self._send = send
        self.start: StreamStarted | None = None
        self.session: Session | None = None
        self.call_id: int | None = None
        self.player: Player | None = None
        self.store: CallTurnStore | None = None
        self.outcome: str | None = None
        self.protocol_errors = 0
        self.closed = False
        rate = codec.sample_rate
        # The VAD hears a low-latency upsampling (soxr's HQ stream releases audio ~100 ms late);
        # ASR gets each utterance cut from the raw line and upsampled in one HQ pass.
        self._resampler = StreamResampler(rate, VAD_RATE, quality="QQ") if rate != VAD_RATE else None
        self._line = LineBuffer(rate, seconds=45)
        self._line_s = 0.0  # stream time of the end of what arrived
        self._line_wall = 0.0  # wall time it arrived
        self._endpointer: Endpointer | None = None
        self._quiet: list[np.ndarray] = []  # quiet frames waiting to go to the VAD together
        self._taker: TurnTaker | None = None
        self._turn_task: asyncio.Task | None = None
        self._idle_task: asyncio.Task | None = None
        self._side_tasks: set[asyncio.Task] = set()
        self._cancel = threading.Event()
        self._turns: list[TurnRecord] = []
        self._speaking_turn: int | None = None
        self._last_activity = time.monotonic()
        self._idle_prompts = 0

    # -- inbound messages ------------------------------------------------------------------------
    async def handle(self, raw: Message) -> bool:
        """Process one websocket message; False means: close this stream."""
        if self.closed:
            return False
        try:
            event = self.codec.parse(raw)
        except ProtocolError as exc:
            self.protocol_errors += 1
            log.warning("stream %s: ignoring bad message: %s", self._sid, exc)
            return self.protocol_errors < MAX_PROTOCOL_ERRORS
        if event is None:
            return True
        if isinstance(event, StreamStarted):
            if self.start is not None:
                log.warning("stream %s: second start ignored", self._sid)
                return True
            return await self._on_start(event)
        if self.start is None:
            log.warning("stream: %s before start ignored", type(event).__name__)
            return True
        if isinstance(event, AudioIn):
            await self._on_audio(event.samples)
        elif isinstance(event, MarkPlayed):
            self.player.on_mark(event.name)
        elif isinstance(event, KeyPressed):
            # In a task: a hand-off waits for playback, whose marks arrive through this very loop.
            self._spawn(self._on_dtmf(event.digit))
        elif isinstance(event, StreamStopped):
            return False
        return True

    @property
    def _sid(self) -> str:
        return self.start.stream_id if self.start else "-"

    @property
    def lanes(self):
        return self.services.lanes

    # -- start: token check, call row, greeting ---------------------------------------------------
    async def _on_start(self, start: StreamStarted) -> bool:
        token = start.parameters.get("token", "")
        claim = await asyncio.to_thread(self._claim_token, token, start.call_id)
        if claim is None:
            log.warning("stream %s: missing, wrong or reused token; closing", start.stream_id)
            return False
        language, caller = claim
        self.start = start
        self.session = Session(language, caller)
        self.player = Player(self._send, self.codec, start.stream_id, self.settings.playback_lead_ms)
        self.call_id = await asyncio.to_thread(self._create_call, start.call_id, language, caller)
        self.store = CallTurnStore(self.services.db, self.call_id)
        self._set_language(language)
        CALLS.labels(language).inc()
        greeting = self.services.agent.greeting(self.session)
        self._spawn(self._say([greeting], turn=0))
        # Load the ASR model while the greeting plays, not when the caller has finished speaking.
        self.lanes.asr.submit(self.services.recognizer, language)
        self._idle_task = asyncio.create_task(self._idle_watch(), name=f"idle-{start.stream_id}")
        return True

    def _set_language(self, language: str) -> None:
        """The pack's turn-taking policy: a new endpointer (a call starts, or DTMF switches)."""
        policy = self.services.endpointing(language)
        self._endpointer = Endpointer(
            VadConfig(
                threshold=self.settings.vad_threshold,
                neg_threshold=self.settings.vad_neg_threshold,
                min_speech_ms=self.settings.vad_min_speech_ms,
                min_silence_ms=policy.silence_ms,
                pause_ms=policy.pause_ms,
            ),
            # Same clock as the line: quiet frames not yet fed to the VAD will go to this one.
            start_s=self._line_s - sum(len(x) for x in self._quiet) / self.codec.sample_rate,
        )
        pipeline = self.services.pipeline
        self._taker = TurnTaker(
            policy,
            self.services.turn_model(language),
            lambda audio: pipeline.transcribe(audio, language),
            self.lanes.fast,
        )

    def _claim_token(self, token: str, call_sid: str) -> tuple[str, str] | None:
        if not token:
            return None
        ttl = timedelta(seconds=self.settings.token_ttl_s)
        with self.services.db.session() as s:
            row = s.get(CallToken, token, with_for_update=True)
            if row is None or row.used_at is not None or row.call_sid != call_sid:
                return None
            created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=UTC)
            if datetime.now(UTC) - created > ttl:
                return None
            row.used_at = datetime.now(UTC)
            return row.language, row.caller

    def _create_call(self, call_sid: str, language: str, caller: str) -> int:
        with self.services.db.session() as s:
            call = s.scalar(select(Call).where(Call.call_sid == call_sid))
            if call is None:
                call = Call(call_sid=call_sid, language=language, caller=caller)
                s.add(call)
                s.flush()
            return call.id

    # -- audio in: VAD off the loop, then turn-taking ------------------------------------------------
    async def _on_audio(self, samples: np.ndarray) -> None:
        self._line.append(samples)
        self._line_s += len(samples) / self.codec.sample_rate
        self._line_wall = time.time()
        endpointer, resampler = self._endpointer, self._resampler
        # A quiet line between turns goes to the VAD lane 100 ms at a time, not every 20 ms; speech
        # (and the silence that ends it) goes frame by frame, so no decision waits.
        self._quiet.append(samples)
        quiet = float(np.sqrt(np.mean(samples * samples))) < QUIET_RMS if samples.size else True
        if quiet and not endpointer.in_speech and len(self._quiet) < QUIET_BATCH:
            return
        samples = np.concatenate(self._quiet) if len(self._quiet) > 1 else samples
        self._quiet = []
        events = await asyncio.get_running_loop().run_in_executor(
            self.lanes.vad, _vad_step, endpointer, resampler, samples
        )
        if self.closed or endpointer is not self._endpointer:
            return  # hung up, or the language changed while the VAD ran
        for event in events:
            if isinstance(event, SpeechStart):
                self._last_activity = time.monotonic()
                self._taker.on_speech_start()
                if self.settings.barge_in and self._bot_busy():
                    await self._barge_in()
            elif isinstance(event, SpeechPause):
                self._taker.on_pause(event, self._utterance_audio, self._commit)
            elif isinstance(event, SpeechResume):
                if self._taker.on_resume() and self._bot_busy():
                    # The caller went on after the turn model said they were done: that reply
                    # was premature; stop it and answer the whole question at its end.
                    await self._barge_in()
            elif isinstance(event, Utterance):
                self._last_activity = time.monotonic()
                self._idle_prompts = 0
                job = self._taker.on_utterance(event, self._utterance_audio, self._commit)
                if job is not None:
                    await self._commit(event.begin_s, event.end_s, job)

    def _utterance_audio(self, begin_s: float, end_s: float) -> Audio:
        """The caller's speech cut from the raw line, upsampled in one high-quality pass."""
        line = self._line.slice(begin_s, end_s)
        return Audio(resample(line, self.codec.sample_rate, VAD_RATE), VAD_RATE)

    def _wall_at(self, stream_s: float) -> float:
        """Wall time at which stream time `stream_s` arrived (frames arrive in real time)."""
        return self._line_wall - (self._line_s - stream_s)

    async def _commit(self, begin_s: float, speech_end_s: float, job) -> None:
        """The caller's turn is over: answer it, from the ASR job already under way."""
        if self.closed:
            return
        decided = time.time()
        await self._cancel_turn()
        self._turn_task = asyncio.create_task(
            self._turn(job, speech_end_s, decided, early=getattr(job, "early", False)),
            name=f"turn-{self._sid}",
        )

    def _bot_busy(self) -> bool:
        running = self._turn_task is not None and not self._turn_task.done()
        return running or (self.player is not None and self.player.playing)

    async def _barge_in(self) -> None:
        t = time.monotonic()
        turn = self._speaking_turn
        await self.player.clear()
        await self._cancel_turn()
        BARGE_INS.inc()
        log.info("stream %s: barge-in (clear after %.0f ms)", self._sid, (time.monotonic() - t) * 1000)
        if turn is not None:
            heard = self.player.heard_text(turn)
            # Only the latest reply can have been cut: an earlier one was played out before a
            # newer turn began. Prompts outside turns (turn < 0) are not in the agent's history.
            latest = self._turns[-1].number if self._turns else 0
            if turn == latest:
                self.session.keep_heard(heard)
            record = next((r for r in self._turns if r.number == turn), None)
            if record is not None:
                await asyncio.to_thread(self.store.heard, record, heard, True)

    async def _cancel_turn(self) -> None:
        self._cancel.set()
        task, self._turn_task = self._turn_task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._cancel = threading.Event()

    # -- one turn ---------------------------------------------------------------------------------
    async def _turn(self, job, speech_end_s: float, decided: float, early: bool) -> None:
        record = TurnRecord(len(self._turns) + 1)
        self._turns.append(record)
        speech_end = self._wall_at(speech_end_s)
        record.timings["endpoint_s"] = max(0.0, decided - speech_end)
        record.timings["early_asr"] = 1.0 if early else 0.0
        cancel = self._cancel
        events = self.services.pipeline.run(
            self.session, record, transcript=job, store=self.store, cancel=cancel, encode=self.codec.encode
        )
        result = None
        try:
            async for event in stream_events(events, self.lanes, cancel):
                if isinstance(event, SpokenSentence):
                    self._speaking_turn = record.number
                    self.player.enqueue(record.number, event.index, event.text, event.encoded)
                elif isinstance(event, TurnDone):
                    result = event.result
                elif isinstance(event, TurnFailed):
                    log.warning(
                        "stream %s: turn %d failed; the caller heard the apology", self._sid, record.number
                    )
        except CancelledError:  # the early ASR job was dropped (the caller went on)
            return
        first = await self.player.wait_started(record.number)
        if first is not None:
            record.timings["voice_to_voice_s"] = first - speech_end
            STAGE_SECONDS.labels("voice_to_voice").observe(first - speech_end)
            if record.row_id is not None:
                await asyncio.to_thread(self.store.close, record)
        if result is None:
            return
        if result.handoff or result.end:
            await self.player.wait_played(timeout=30)
            if result.handoff:
                await self._hand_off()
            else:
                await self._hang_up("completed")

    # -- speaking outside a turn -------------------------------------------------------------------
    def _phrase(self, key: str) -> str:
        return self.services.pipeline.phrase(self.session.language, key)

    async def _say(self, texts: list[str], turn: int) -> None:
        pipeline = self.services.pipeline
        for i, text in enumerate(texts):
            future = pipeline.synthesise(self.session.language, text, self.codec.encode)
            _audio, encoded = await asyncio.wrap_future(future)
            self._speaking_turn = turn
            self.player.enqueue(turn, i, text, encoded)

    def _spawn(self, coro) -> None:
        task = asyncio.create_task(coro, name=f"call-{self._sid}")
        self._side_tasks.add(task)
        task.add_done_callback(self._side_tasks.discard)

    # -- DTMF, idle, hand-off, hang-up ----------------------------------------------------------------
    async def _on_dtmf(self, digit: str) -> None:
        self._last_activity = time.monotonic()
        if digit == "0":
            if self._bot_busy():
                await self._barge_in()
            await self._say([self._phrase("transferring")], turn=-1)
            await self.player.wait_played(timeout=15)
            await self._hand_off()
        elif digit == "*":
            await self._say([self._phrase("language_menu")], turn=-1)
        elif (code := self.services.language_digits().get(digit)) and find_pack(code):
            if self._bot_busy():
                await self._barge_in()
            self.session.language = find_pack(code).code
            self._set_language(self.session.language)
            log.info("stream %s: language switched by DTMF", self._sid)
            await self._say([self._phrase("greeting")], turn=-1)

    async def _idle_watch(self) -> None:
        while not self.closed:
            await asyncio.sleep(0.25)
            busy = self._bot_busy() or (self._endpointer is not None and self._endpointer.in_speech)
            if busy:
                self._last_activity = time.monotonic()
                continue
            if time.monotonic() - self._last_activity < self.settings.idle_timeout_s:
                continue
            self._idle_prompts += 1
            self._last_activity = time.monotonic()
            if self._idle_prompts == 1:
                await self._say([self._phrase("idle_prompt")], turn=-1)
            else:
                await self._say([self._phrase("goodbye")], turn=-1)
                await self.player.wait_played(timeout=15)
                await self._hang_up("abandoned")
                return

    async def _hand_off(self) -> None:
        self.outcome = "handed_off"
        HANDOFFS.labels("phone").inc()
        number = self.settings.handoff_number
        if not number:
            log.error("hand-off requested but VOICE_CALL_HANDOFF_NUMBER is not set")
            return
        try:
            await self.services.twilio.hand_off(self.start.call_id, number)
        except TwilioRestError as exc:
            log.error("hand-off failed: %s", exc)

    async def _hang_up(self, outcome: str) -> None:
        self.outcome = self.outcome or outcome
        try:
            await self.services.twilio.hang_up(self.start.call_id)
        except TwilioRestError as exc:
            log.error("hang-up failed: %s", exc)

    # -- teardown ----------------------------------------------------------------------------------
    async def close(self) -> None:
        """Stop everything this call started: tasks, playback, the turn thread; record the outcome."""
        if self.closed:
            return
        self.closed = True
        if self._turn_task is not None and not self._turn_task.done() and self._speaking_turn is not None:
            heard = self.player.heard_text(self._speaking_turn) if self.player else ""
            record = next((r for r in self._turns if r.number == self._speaking_turn), None)
            if record is not None and record.row_id is not None:
                await asyncio.to_thread(self.store.heard, record, heard, True)
        await self._cancel_turn()
        if self._taker is not None:
            self._taker.close()
        for task in [self._idle_task, *self._side_tasks]:
            if task is not None and not task.done():
                task.cancel()
        await asyncio.gather(*(t for t in [self._idle_task, *self._side_tasks] if t), return_exceptions=True)
        if self.player is not None:
            await self.player.close()
        if self.call_id is not None:
            outcome = self.outcome or ("completed" if any(r.planned for r in self._turns) else "abandoned")
            await asyncio.to_thread(self._finish_call, outcome)
        # Drop audio buffers now, not whenever the socket object is collected.
        self._endpointer = None
        self._line = None

    def _finish_call(self, outcome: str) -> None:
        with self.services.db.session() as s:
            call = s.get(Call, self.call_id)
            call.ended_at = datetime.now(UTC)
            call.outcome = call.outcome or outcome


def _vad_step(endpointer: Endpointer, resampler: StreamResampler | None, samples: np.ndarray) -> list:
    """On the VAD lane: upsample for Silero and feed the call's endpointer."""
    return endpointer.feed(resampler(samples) if resampler is not None else samples)
