"""One phone call over a Twilio bidirectional Media Stream: the call's state machine.

inbound 8 kHz mu-law -> 16 kHz -> Silero endpointing -> (end of utterance) ASR -> agent turn ->
sentences -> TTS -> 8 kHz mu-law frames paced out, a mark after each sentence. Caller speech
during playback clears Twilio's buffer and cancels the turn (barge-in); what the caller heard is
what is stored and remembered. Model work runs on a shared, bounded thread pool so the event
loop (and every other call) keeps its 20 ms rhythm.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from voice.agent.loop import Sentence, TurnResult
from voice.agent.session import Session
from voice.audio import Audio, encode_audio, mulaw_decode
from voice.audio.resample import LineBuffer, StreamResampler, resample
from voice.audio.vad import Endpointer, SpeechPause, SpeechResume, SpeechStart, Utterance, VadConfig
from voice.metrics import BARGE_INS, CALLS, HANDOFFS, STAGE_SECONDS
from voice.packs import find_pack
from voice.store.models import Call, CallToken, Turn
from voice.telephony import twilio_media as tm
from voice.telephony.playback import Player
from voice.telephony.rest import TwilioRestError
from voice.telephony.services import CallServices

log = logging.getLogger(__name__)
MAX_PROTOCOL_ERRORS = 50
MIN_UTTERANCE_S = 0.3


@dataclass
class TurnRecord:
    number: int
    caller_text: str = ""
    planned: str = ""
    route: str = ""
    row_id: int | None = None
    timings: dict[str, float] = field(default_factory=dict)


class CallSession:
    def __init__(self, services: CallServices, send: Callable[[str], Awaitable[None]]):
        self.services = services
        self.settings = services.settings.call
        self._send = send
        self.start: tm.Start | None = None
        self.session: Session | None = None
        self.call_id: int | None = None
        self.player: Player | None = None
        self.outcome: str | None = None
        self.protocol_errors = 0
        self.closed = False
        # The VAD hears a low-latency upsampling (soxr's HQ stream releases audio ~100 ms late);
        # ASR gets each utterance cut from the raw 8 kHz line and upsampled in one HQ pass.
        self._resampler = StreamResampler(8000, 16000, quality="QQ")
        self._line = LineBuffer(8000, seconds=45)
        self._endpointer = Endpointer(
            VadConfig(
                threshold=self.settings.vad_threshold,
                neg_threshold=self.settings.vad_neg_threshold,
                min_speech_ms=self.settings.vad_min_speech_ms,
                min_silence_ms=self.settings.vad_min_silence_ms,
            )
        )
        self._turn_task: asyncio.Task | None = None
        self._producer: asyncio.Future | None = None  # the agent thread of the current turn
        self._speculative: tuple[float, asyncio.Future] | None = None  # (begin_s, ASR job) at a pause
        self._idle_task: asyncio.Task | None = None
        self._side_tasks: set[asyncio.Task] = set()
        self._cancel = threading.Event()
        self._turns: list[TurnRecord] = []
        self._speaking_turn: int | None = None
        self._last_activity = time.monotonic()
        self._idle_prompts = 0

    # -- inbound messages ------------------------------------------------------------------------
    async def handle(self, raw: str | bytes) -> bool:
        """Process one websocket message; False means: close this stream."""
        try:
            event = tm.parse(raw)
        except tm.ProtocolError as exc:
            self.protocol_errors += 1
            log.warning("stream %s: ignoring bad message: %s", self._sid, exc)
            return self.protocol_errors < MAX_PROTOCOL_ERRORS
        if event is None or isinstance(event, tm.Connected):
            return True
        if isinstance(event, tm.Start):
            if self.start is not None:
                log.warning("stream %s: second start ignored", self._sid)
                return True
            return await self._on_start(event)
        if self.start is None:
            log.warning("stream: %s before start ignored", type(event).__name__)
            return True
        if isinstance(event, tm.Media):
            await self._on_media(event)
        elif isinstance(event, tm.Mark):
            self.player.on_mark(event.name)
        elif isinstance(event, tm.Dtmf):
            # In a task: a hand-off waits for playback, whose marks arrive through this very loop.
            self._spawn(self._on_dtmf(event.digit))
        elif isinstance(event, tm.Stop):
            return False
        return True

    @property
    def _sid(self) -> str:
        return self.start.stream_sid if self.start else "-"

    # -- start: token check, call row, greeting ---------------------------------------------------
    async def _on_start(self, start: tm.Start) -> bool:
        token = start.custom_parameters.get("token", "")
        claim = await asyncio.to_thread(self._claim_token, token, start.call_sid)
        if claim is None:
            log.warning("stream %s: missing, wrong or reused token; closing", start.stream_sid)
            return False
        language, caller = claim
        self.start = start
        self.session = Session(language, caller)
        self.player = Player(self._send, start.stream_sid, self.settings.playback_lead_ms)
        self.call_id = await asyncio.to_thread(self._create_call, start.call_sid, language, caller)
        CALLS.labels(language).inc()
        greeting = self.services.agent.greeting(self.session)
        self._spawn(self._say([greeting], turn=0))
        # Load the ASR model while the greeting plays, not when the caller has finished speaking.
        asyncio.get_running_loop().run_in_executor(
            self.services.model_executor, self.services.recognizer, language
        )
        self._idle_task = asyncio.create_task(self._idle_watch(), name=f"idle-{start.stream_sid}")
        return True

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

    # -- audio in ---------------------------------------------------------------------------------
    async def _on_media(self, media: tm.Media) -> None:
        if media.track not in ("inbound", ""):
            return
        pcm = mulaw_decode(media.payload)
        self._line.append(pcm)
        for event in self._endpointer.feed(self._resampler(pcm)):
            if isinstance(event, SpeechStart):
                self._last_activity = time.monotonic()
                if self.settings.barge_in and self._bot_busy():
                    await self._barge_in()
            elif isinstance(event, SpeechPause) and self.settings.speculative_asr:
                self._start_speculative(event)
            elif isinstance(event, SpeechResume):
                self._speculative = None  # the caller went on: that guess is stale
            elif isinstance(event, Utterance):
                self._last_activity = time.monotonic()
                if len(event.samples) / 16000 >= MIN_UTTERANCE_S:
                    await self._cancel_turn()
                    self._turn_task = asyncio.create_task(
                        self._turn(event, time.time()), name=f"turn-{self._sid}"
                    )
                self._speculative = None

    def _utterance_audio(self, begin_s: float, end_s: float) -> Audio:
        """The caller's speech cut from the raw 8 kHz line, upsampled in one high-quality pass."""
        return Audio(resample(self._line.slice(begin_s, end_s), 8000, 16000), 16000)

    def _start_speculative(self, pause: SpeechPause) -> None:
        if pause.at_s - pause.begin_s < MIN_UTTERANCE_S or self.session is None:
            return
        if self.services.model_executor.pending > 0:
            return  # a guess would queue ahead of other calls' real turns; one model replica serves all
        audio = self._utterance_audio(pause.begin_s, pause.at_s + 0.1)
        language = self.session.language
        job = asyncio.get_running_loop().run_in_executor(
            self.services.model_executor, self.services.recognizer(language).transcribe, audio, language
        )
        self._speculative = (pause.begin_s, job)

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
                await asyncio.to_thread(self._update_heard, record, heard, True)

    async def _cancel_turn(self) -> None:
        self._cancel.set()
        task, self._turn_task = self._turn_task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._cancel = threading.Event()

    # -- one turn -----------------------------------------------------------------------------------
    async def _turn(self, utterance: Utterance, detected_at: float) -> None:
        """`detected_at`: wall-clock time the end of the caller's speech was detected."""
        loop = asyncio.get_running_loop()
        pool = self.services.model_executor
        record = TurnRecord(len(self._turns) + 1)
        self._turns.append(record)
        language = self.session.language
        t0 = time.monotonic()
        speculative = self._speculative
        if speculative is not None and speculative[0] == utterance.begin_s:
            transcript = await speculative[1]  # started at the pause: likely done by now
            record.timings["speculative_asr"] = 1.0
        else:
            audio = self._utterance_audio(utterance.begin_s, utterance.finish_s)
            recognizer = self.services.recognizer(language)
            transcript = await loop.run_in_executor(pool, recognizer.transcribe, audio, language)
        record.timings["asr_s"] = time.monotonic() - t0
        STAGE_SECONDS.labels("asr").observe(record.timings["asr_s"])
        record.caller_text = transcript.text
        if not transcript.text:
            await self._say([self._phrase("didnt_hear")], record.number)
            return
        # Stored now, so a turn cut off by a barge-in or a hang-up still has its row.
        record.row_id = await asyncio.to_thread(self._store_turn, record)
        cancel = self._cancel
        queue: asyncio.Queue = asyncio.Queue(maxsize=16)
        producer = loop.run_in_executor(pool, self._run_agent, transcript.text, cancel, queue, loop)
        self._producer = producer
        result: TurnResult | None = None
        synth = self.services.synthesizer(language)
        index = 0
        try:
            while True:
                event = await queue.get()
                if event is None:
                    break
                if isinstance(event, Sentence):
                    if "agent_first_s" not in record.timings:
                        record.timings["agent_first_s"] = time.monotonic() - t0 - record.timings["asr_s"]
                        STAGE_SECONDS.labels("agent_first_token").observe(record.timings["agent_first_s"])
                    t_tts = time.monotonic()
                    mulaw = await loop.run_in_executor(pool, self._tts, synth, event.text)
                    if "tts_first_s" not in record.timings:
                        record.timings["tts_first_s"] = time.monotonic() - t_tts
                        STAGE_SECONDS.labels("tts_first_audio").observe(record.timings["tts_first_s"])
                    self._speaking_turn = record.number
                    self.player.enqueue(record.number, index, event.text, mulaw)
                    record.planned = f"{record.planned} {event.text}".strip()
                    index += 1
                elif isinstance(event, TurnResult):
                    result = event
                elif isinstance(event, Exception):
                    raise event
        finally:
            cancel.set()
            await asyncio.shield(producer)
        if result is None:
            return
        record.planned, record.route = result.reply, result.route
        first = self.player.stats.first_frame_at.get(record.number)
        if first is not None:
            # From the detected end of speech; the caller also waited the endpointing silence.
            record.timings["voice_to_voice_s"] = first - detected_at
            record.timings["endpoint_silence_s"] = self.settings.vad_min_silence_ms / 1000
            STAGE_SECONDS.labels("voice_to_voice").observe(
                first - detected_at + self.settings.vad_min_silence_ms / 1000
            )
        await asyncio.to_thread(self._finish_turn, record)
        if result.handoff or result.end:
            await self.player.wait_played(timeout=30)
            if result.handoff:
                await self._hand_off()
            else:
                await self._hang_up("completed")

    def _run_agent(self, text: str, cancel: threading.Event, queue: asyncio.Queue, loop) -> None:
        """Runs in the model pool: stream the agent's events into the call's bounded queue."""

        def put(item) -> bool:
            while not cancel.is_set():
                fut = asyncio.run_coroutine_threadsafe(queue.put(item), loop)
                try:
                    fut.result(timeout=0.5)
                    return True
                except TimeoutError:
                    fut.cancel()
            return False

        try:
            for event in self.services.agent.turn(self.session, text, cancel):
                if cancel.is_set() or not put(event):
                    return
        except Exception as exc:  # surfaces in the turn task, which logs it
            put(exc)
        finally:
            put(None)

    @staticmethod
    def _tts(synth, text: str) -> bytes:
        audio = Audio.concat([c.audio for c in synth.synthesize(text)] or [Audio.silence(0.1)])
        return encode_audio(audio, "mulaw")

    def _store_turn(self, r: TurnRecord) -> int:
        with self.services.db.session() as s:
            row = Turn(
                call_id=self.call_id,
                index=r.number,
                caller_text=r.caller_text,
                bot_text=r.planned,
                bot_text_planned=r.planned,
                route=r.route,
                timings=r.timings,
            )
            s.add(row)
            s.flush()
            return row.id

    def _finish_turn(self, r: TurnRecord) -> None:
        with self.services.db.session() as s:
            row = s.get(Turn, r.row_id)
            row.bot_text = row.bot_text_planned = r.planned
            row.route, row.timings = r.route, dict(r.timings)

    def _update_heard(self, r: TurnRecord, heard: str, interrupted: bool) -> None:
        if r.row_id is None:
            return
        with self.services.db.session() as s:
            row = s.get(Turn, r.row_id)
            row.bot_text, row.interrupted = heard, interrupted
            row.bot_text_planned = r.planned or row.bot_text_planned  # as far as it was generated
            row.timings = dict(r.timings)

    # -- speaking outside a turn -------------------------------------------------------------------
    def _phrase(self, key: str) -> str:
        pack = find_pack(self.session.language)
        return pack.content.phrases.get(key) or pack.content.phrases["dont_know"]

    async def _say(self, texts: list[str], turn: int) -> None:
        loop = asyncio.get_running_loop()
        synth = self.services.synthesizer(self.session.language)
        for i, text in enumerate(texts):
            mulaw = await loop.run_in_executor(self.services.model_executor, self._tts, synth, text)
            self._speaking_turn = turn
            self.player.enqueue(turn, i, text, mulaw)

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
        elif (code := self.settings.digits.get(digit)) and find_pack(code):
            if self._bot_busy():
                await self._barge_in()
            self.session.language = find_pack(code).code
            log.info("stream %s: language switched by DTMF", self._sid)
            await self._say([self._phrase("greeting")], turn=-1)

    async def _idle_watch(self) -> None:
        while not self.closed:
            await asyncio.sleep(0.25)
            busy = self._bot_busy() or self._endpointer.in_speech
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
            await self.services.twilio.hand_off(self.start.call_sid, number)
        except TwilioRestError as exc:
            log.error("hand-off failed: %s", exc)

    async def _hang_up(self, outcome: str) -> None:
        self.outcome = self.outcome or outcome
        try:
            await self.services.twilio.hang_up(self.start.call_sid)
        except TwilioRestError as exc:
            log.error("hang-up failed: %s", exc)

    # -- teardown ----------------------------------------------------------------------------------
    async def close(self) -> None:
        """Stop everything this call started: tasks, playback, the agent thread; record the outcome."""
        if self.closed:
            return
        self.closed = True
        if self._turn_task is not None and not self._turn_task.done() and self._speaking_turn is not None:
            heard = self.player.heard_text(self._speaking_turn) if self.player else ""
            record = next((r for r in self._turns if r.number == self._speaking_turn), None)
            if record is not None and record.row_id is not None:
                await asyncio.to_thread(self._update_heard, record, heard, True)
        await self._cancel_turn()
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
