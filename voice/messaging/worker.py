"""The WhatsApp job worker: download -> decode -> transcribe -> agent -> TTS -> send, exactly once.

Runs inside `voice serve` (VOICE_MESSAGING_WORKER=true, the default) or as its own process
(`voice worker`); any number of workers may share one database. Each job moves through
received -> downloaded -> transcribed -> answered -> sent, every step committed before the next,
so a restarted worker resumes where the last one stopped:
- a job is worked on only under its lease (jobs.JobStore); a heartbeat renews the leases of live
  workers, a dead worker's leases lapse and another worker takes its jobs over;
- the agent's turn and the conversation history are committed in the same transaction as the
  `answered` state, so a retried step never adds a turn twice;
- each part of the reply (text, voice note; Meta: the upload too) is recorded with the provider's
  id as soon as the provider accepted it, and is never sent again once recorded;
- provider 5xx/429 and timeouts are retried with exponential backoff (next_attempt_at); anything
  permanent fails the job with a reason, counts in the metrics and, when the sender can still be
  reached, sends them a short apology in their language.
The reply itself is the turn every channel runs (`voice.conversation.TurnPipeline`): agent, then
each sentence synthesised on the shared lanes; this module keeps only what is WhatsApp's: job
states, leases, provider I/O, and the turn committed with the job's `answered` state. ASR runs on
the runtime's ASR lane, shared with phone calls.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import secrets
import socket
import threading
import time
from collections import defaultdict
from datetime import timedelta

from prometheus_client import Counter
from sqlalchemy import select

from voice.agent.session import Session
from voice.audio import Audio, encode_audio, load_audio
from voice.conversation.events import SpokenSentence, TurnDone, TurnFailed, TurnRecord
from voice.errors import AudioError, UnknownLanguageError
from voice.messaging import media
from voice.messaging.inbound import AUDIO, TEXT, e164
from voice.messaging.jobs import (
    ANSWERED,
    DOWNLOADED,
    FAILED,
    PENDING_NOTICE,
    RECEIVED,
    SENT,
    TRANSCRIBED,
    JobStore,
    LeaseLost,
    aware,
    ensure_schema,
    now,
)
from voice.messaging.language import LanguageChooser, default_language
from voice.messaging.providers import JobFailure, Provider, Transient, make_providers
from voice.metrics import HANDOFFS, MESSAGES, REGISTRY, STAGE_SECONDS
from voice.packs import find_pack
from voice.packs.phrases import phrase
from voice.store.models import Conversation, MediaBlob, MessageJob

log = logging.getLogger(__name__)

MESSAGE_FAILURES = Counter(
    "voice_message_failures_total",
    "WhatsApp jobs that failed for good, by provider and failure code",
    ["provider", "code"],
    registry=REGISTRY,
)
INBOUND_MEDIA_TTL_S = 2 * 24 * 3600  # a downloaded note waits at most this long for its transcription
# The phrase each failure is answered with (a pack may add the first key; else the fallback).
NOTICE_PHRASES: dict[str, tuple[str, str]] = {
    "unsupported_type": ("unsupported_message", "didnt_hear"),
    "corrupt_audio": ("didnt_hear", "apology"),
    "no_speech": ("didnt_hear", "apology"),
    "media_expired": ("media_expired", "didnt_hear"),
    "media_refused": ("apology", "apology"),
    "too_large": ("message_too_long", "apology"),
    "too_long": ("message_too_long", "apology"),
}


def probe_seconds(data: bytes, stop_after: float) -> float | None:
    """Duration from the container, by demuxing packets only (no decoding); None if unknown."""
    import av

    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.audio:
                return None
            stream = container.streams.audio[0]
            if stream.duration and stream.time_base:
                return float(stream.duration * stream.time_base)
            total = 0.0
            for packet in container.demux(stream):
                if packet.duration and packet.time_base:
                    total += float(packet.duration * packet.time_base)
                if total > stop_after:
                    break
            return total or None
    except Exception:  # corrupt or odd: load_audio reports it properly
        return None


class MessageWorker:
    def __init__(self, runtime, providers: dict[str, Provider] | None = None, name: str | None = None):
        """`runtime`: settings, db, recognizer(lang), lanes, pipeline (the gateway's Runtime)."""
        self.runtime = runtime
        self.settings = runtime.settings
        self.cfg = self.settings.messaging
        self.db = runtime.db
        ensure_schema(self.db)
        self.store = JobStore(self.db, self.cfg.lease_s)
        self.providers = providers or make_providers(self.settings)
        self.secret = media.media_secret(self.settings)
        self.chooser = LanguageChooser(self.settings, runtime.recognizer)
        self.name = name or f"{socket.gethostname()[:24]}:{os.getpid()}:{secrets.token_hex(3)}"
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []
        self._progress: dict[str, float] = {}  # owner -> last time it made progress
        self.max_stall_s = max(600.0, 10 * self.cfg.lease_s)

    # -- lifecycle ----------------------------------------------------------------------------------
    def start(self) -> MessageWorker:
        if self._threads:
            return self
        self._stop.clear()
        for i in range(max(1, self.cfg.concurrency)):
            owner = f"{self.name}:{i}"
            self._progress[owner] = time.monotonic()
            t = threading.Thread(target=self._loop, args=(owner,), daemon=True, name=f"whatsapp-{i}")
            self._threads.append(t)
        self._threads.append(
            threading.Thread(target=self._heartbeat, args=(self._stop,), daemon=True, name="whatsapp-lease")
        )
        for t in self._threads:
            t.start()
        log.info("WhatsApp worker %s started (%d thread(s))", self.name, max(1, self.cfg.concurrency))
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the current step; a job left mid-way is resumed when its lease lapses."""
        self._stop.set()
        self._wake.set()
        end = time.monotonic() + timeout
        for t in self._threads:
            t.join(timeout=max(0.0, end - time.monotonic()))
        self._threads = []
        for provider in self.providers.values():
            provider.close()

    def wake(self) -> None:
        """A job was just stored: look now instead of at the next poll."""
        self._wake.set()

    def run_once(self, owner: str | None = None, limit: int | None = None) -> int:
        """Work on every job that is due now, then return how many were taken (CLI --once, tests)."""
        owner = owner or f"{self.name}:once"
        self._progress[owner] = time.monotonic()
        done = threading.Event()
        heartbeat = threading.Thread(target=self._heartbeat, args=(done,), daemon=True, name="whatsapp-lease")
        heartbeat.start()
        taken = 0
        try:
            while limit is None or taken < limit:
                room = (
                    max(1, self.cfg.batch_size)
                    if limit is None
                    else min(max(1, self.cfg.batch_size), limit - taken)
                )
                ids = self.store.claim(owner, room)
                if not ids:
                    break
                taken += len(ids)
                self._work(ids, owner)
        finally:
            done.set()
            heartbeat.join(timeout=5)
            self._progress.pop(owner, None)
        return taken

    def _loop(self, owner: str) -> None:
        while not self._stop.is_set():
            try:
                ids = self.store.claim(owner, max(1, self.cfg.batch_size))
            except Exception as exc:  # the database is away: keep trying
                log.warning("claiming jobs failed: %s", type(exc).__name__)
                self._stop.wait(self.cfg.poll_interval_s)
                continue
            if not ids:
                self._wake.wait(self.cfg.poll_interval_s)
                self._wake.clear()
                continue
            self._work(ids, owner)

    def _work(self, ids: list[int], owner: str) -> None:
        self._progress[owner] = time.monotonic()
        if len(ids) > 1:
            try:
                self._prepare_batch(ids, owner)
            except Exception as exc:  # the one-by-one path below still does everything
                log.warning("batched transcription failed (%s); one by one instead", type(exc).__name__)
        for job_id in ids:
            if self._stop.is_set():
                self.store.release(job_id, owner)
                continue
            self.process(job_id, owner)

    def _heartbeat(self, stop: threading.Event) -> None:
        interval = max(0.2, self.cfg.lease_s / 3)
        last_cleanup = 0.0
        while not stop.wait(interval):
            live = [o for o, t in list(self._progress.items()) if time.monotonic() - t < self.max_stall_s]
            try:
                self.store.renew(live)
                if time.monotonic() - last_cleanup > 300:
                    last_cleanup = time.monotonic()
                    self.store.delete_expired_media()
            except Exception as exc:
                log.warning("renewing job leases failed: %s", type(exc).__name__)

    # -- one job ----------------------------------------------------------------------------------------
    def process(
        self, job_id: int, owner: str, until: tuple[str, ...] = (), release: bool = True
    ) -> str | None:
        """Work on a leased job until it is done, failed, waiting for a retry, or in one of `until`."""
        state = None
        try:
            while True:
                job = self.store.get(job_id)
                state = job.state
                if job.lease_owner != owner:
                    return None
                step = self._step_for(job)
                if step is None or state in until:
                    return state
                if self._stop.is_set():
                    return state
                try:
                    step(job, owner)
                except JobFailure as failure:
                    if job.state == FAILED:  # the apology itself was refused
                        self.store.set(job.id, owner, notice="failed")
                        log.warning("job %d: apology not sent: %s", job.id, failure.reason)
                    else:
                        self._fail(job, owner, failure)
                except Transient as exc:
                    self._retry(job, owner, str(exc))
                    return job.state
                self._progress[owner] = time.monotonic()
        except LeaseLost:
            log.warning("job %d: lease lost (another worker took it over); stopping here", job_id)
            return None
        except Exception as exc:
            if self._stop.is_set():  # shutting down (the model pool is closing): resume later, no strike
                return state
            log.error(
                "job %d: unexpected %s in state %s",
                job_id,
                type(exc).__name__,
                state,
                exc_info=log.isEnabledFor(logging.DEBUG),
            )
            with contextlib.suppress(Exception):
                self._retry(self.store.get(job_id), owner, f"internal error ({type(exc).__name__})")
            return state
        finally:
            if release:
                with contextlib.suppress(Exception):
                    self.store.release(job_id, owner)

    def _step_for(self, job: MessageJob):
        if job.state == RECEIVED:
            return {AUDIO: self._download, TEXT: self._read_text}.get(job.kind, self._unsupported)
        if job.state == DOWNLOADED:
            return self._transcribe
        if job.state == TRANSCRIBED:
            return self._answer
        if job.state == ANSWERED:
            return self._send
        if job.state == FAILED and job.notice == PENDING_NOTICE:
            return self._send_notice
        return None

    def _provider(self, job: MessageJob) -> Provider:
        return self.providers[job.provider]

    def _asr(self, fn, *args):
        """Run ASR work on the runtime's ASR lane (shared with phone calls, one decode at a time)."""
        return self.runtime.lanes.asr.submit(fn, *args).result()

    @staticmethod
    def _timings(job: MessageJob, **values: float) -> dict:
        timings = dict(job.timings or {})
        timings.update({k: round(v, 4) for k, v in values.items()})
        return timings

    def _since_received(self, job: MessageJob) -> float:
        return (now() - aware(job.created_at)).total_seconds()

    # -- steps ----------------------------------------------------------------------------------------
    def _unsupported(self, job: MessageJob, owner: str) -> None:
        kind = (job.payload or {}).get("type") or "unknown"
        mime = (job.payload or {}).get("media_type")
        raise JobFailure(
            "unsupported_type",
            f"unsupported message type '{kind}'"
            + (f" ({mime})" if mime else "")
            + ": only voice notes and text are answered",
        )

    def _download(self, job: MessageJob, owner: str) -> None:
        t0 = time.perf_counter()
        self.store.set(job.id, owner)  # renew the lease before a long download
        data, content_type = self._provider(job).download(job)
        t_download = time.perf_counter() - t0
        audio = self._decode(data)
        with self.db.session() as s:
            blob_id = media.INBOUND_PREFIX + secrets.token_urlsafe(18)
            self.store.update(
                s,
                job.id,
                owner,
                state=DOWNLOADED,
                inbound_media_id=blob_id,
                timings=self._timings(
                    job,
                    download_s=t_download,
                    decode_s=time.perf_counter() - t0 - t_download,
                    audio_s=audio.duration,
                    bytes=len(data),
                ),
            )
            s.add(
                MediaBlob(
                    id=blob_id,
                    content_type=content_type
                    or (job.payload or {}).get("media_type")
                    or "application/octet-stream",
                    data=data,
                    expires_at=now() + timedelta(seconds=INBOUND_MEDIA_TTL_S),
                )
            )
        log.info("job %d: downloaded %d bytes, %.1f s of audio", job.id, len(data), audio.duration)

    def _decode(self, data: bytes) -> Audio:
        limit = self.cfg.max_duration_s
        declared = probe_seconds(data, stop_after=limit)
        if declared is not None and declared > limit + 0.5:
            raise JobFailure(
                "too_long", f"the voice note lasts {declared:.0f} s, over the {limit:.0f} s limit"
            )
        try:
            audio = load_audio(data, 16000, name="voice note")
        except AudioError as exc:
            raise JobFailure("corrupt_audio", f"the voice note cannot be decoded: {exc.reason}") from exc
        if audio.duration > limit + 0.5:
            raise JobFailure(
                "too_long", f"the voice note lasts {audio.duration:.0f} s, over the {limit:.0f} s limit"
            )
        return audio

    def _last_language(self, job: MessageJob) -> str | None:
        with self.db.session() as s:
            row = s.scalar(
                select(Conversation).where(
                    Conversation.channel == job.provider, Conversation.sender == job.sender
                )
            )
            return row.language if row is not None else None

    @staticmethod
    def _our_number(job: MessageJob) -> str:
        p = job.payload or {}
        return e164(p.get("to") or p.get("display_phone_number") or "")

    def _read_text(self, job: MessageJob, owner: str) -> None:
        body = (job.payload or {}).get("body") or ""
        language, how = self.chooser.for_text(body, self._last_language(job), self._our_number(job))
        self.store.set(job.id, owner, state=TRANSCRIBED, transcript=body, language=language)
        log.info("job %d: text message, language %s (%s)", job.id, language, how)

    def _transcribe(self, job: MessageJob, owner: str) -> None:
        blob = media.load_blob(self.db, job.inbound_media_id) if job.inbound_media_id else None
        if blob is None:  # the stored note is gone (expired while the job waited): fetch it again
            self.store.set(job.id, owner, state=RECEIVED, inbound_media_id=None)
            return
        audio = self._decode(blob.data)
        t0 = time.perf_counter()
        self.store.set(job.id, owner)
        heard = self._asr(self.chooser.for_audio, audio, self._last_language(job), self._our_number(job))
        asr_s = time.perf_counter() - t0
        STAGE_SECONDS.labels("message_asr").observe(asr_s)
        log.info(
            "job %d: transcribed %.1f s in %.2f s, language %s (%s, %d pass(es))",
            job.id,
            audio.duration,
            asr_s,
            heard.language,
            heard.how,
            heard.passes,
        )
        if not heard.transcript.text:
            raise JobFailure(
                "no_speech", "no speech was recognised in the voice note", language=heard.language
            )
        self._store_transcript(job, owner, heard.language, heard.transcript.text, asr_s=asr_s)

    def _store_transcript(self, job: MessageJob, owner: str, language: str, text: str, **timings) -> None:
        with self.db.session() as s:
            self.store.update(
                s,
                job.id,
                owner,
                state=TRANSCRIBED,
                transcript=text,
                language=language,
                inbound_media_id=None,
                timings=self._timings(job, **timings),
            )
            if job.inbound_media_id:  # the note itself is not kept once transcribed
                blob = s.get(MediaBlob, job.inbound_media_id)
                if blob is not None:
                    s.delete(blob)

    def _synthesise(self, language: str, text: str) -> bytes | None:
        audio, _ = self.runtime.pipeline.synthesise(language, text).result()
        return encode_audio(audio, "ogg") if audio.duration >= 0.05 else None

    def _answer(self, job: MessageJob, owner: str) -> None:
        from voice.store.conversations import load_session

        language = job.language or default_language(self.settings, self._our_number(job))
        session = load_session(self.db, job.provider, job.sender, job.sender) or Session(language, job.sender)
        session.language = language
        t0 = time.perf_counter()
        self.store.set(job.id, owner)
        voice = job.kind == AUDIO or self.cfg.voice_reply_to_text
        record = TurnRecord(number=len(session.history) // 2 + 1)
        result, sentences = None, []
        for event in self.runtime.pipeline.run(session, record, text=job.transcript or ""):
            if isinstance(event, SpokenSentence):
                sentences.append(event.audio)
            elif isinstance(event, TurnDone):
                result = event.result
            elif isinstance(event, TurnFailed):
                log.warning("job %d: the agent failed; the sender gets the apology", job.id)
        reply = record.planned
        timings = record.timings
        agent_s = timings.get("agent_first_s", time.perf_counter() - t0)
        ogg = None
        if voice and sentences:
            ogg = encode_audio(Audio.concat(_with_pauses(sentences)), "ogg")
        tts_s = time.perf_counter() - t0 - agent_s
        route = result.route if result else record.route
        reply_language = result.language if result else language
        with self.db.session() as s:
            blob_id = None
            if ogg:
                blob_id = secrets.token_urlsafe(18)
                s.add(
                    MediaBlob(
                        id=blob_id,
                        content_type=media.OGG,
                        data=ogg,
                        expires_at=now() + timedelta(seconds=self.cfg.media_url_ttl_s),
                    )
                )
            ready_s = self._since_received(job)
            self.store.update(
                s,
                job.id,
                owner,
                state=ANSWERED,
                reply_text=reply,
                reply_media_id=blob_id,
                timings=self._timings(job, agent_s=agent_s, tts_s=tts_s, ready_s=ready_s),
            )
            row = s.scalar(
                select(Conversation).where(
                    Conversation.channel == job.provider, Conversation.sender == job.sender
                )
            )
            if row is None:
                row = Conversation(channel=job.provider, sender=job.sender)
                s.add(row)
            row.language = session.language
            row.state = session.to_json()
        STAGE_SECONDS.labels("message_reply_ready").observe(ready_s)
        if result is not None and result.handoff:
            HANDOFFS.labels("whatsapp").inc()
        log.info(
            "job %d: answered (route %s, lang %s), reply ready %.2f s after receipt",
            job.id,
            route,
            reply_language,
            ready_s,
        )

    def _send(self, job: MessageJob, owner: str) -> None:
        provider = self._provider(job)
        try:
            if job.sent_text_id is None and job.reply_text:
                self.store.set(job.id, owner)
                job.sent_text_id = provider.send_text(job, job.reply_text)
                self.store.set(job.id, owner, sent_text_id=job.sent_text_id)
            if job.reply_media_id and job.sent_audio_id is None:
                job.sent_audio_id = self._send_voice(job, owner, provider)
                self.store.set(job.id, owner, sent_audio_id=job.sent_audio_id)
        except JobFailure as failure:
            # The channel itself refused: an apology would go the same way; the text may have arrived.
            failure.notify = False
            raise
        self.store.set(
            job.id,
            owner,
            state=SENT,
            timings=self._timings(job, sent_s=self._since_received(job)),
            next_attempt_at=None,
            lease_owner=None,  # done: the lease goes with the last write
            lease_until=None,
        )
        MESSAGES.labels(job.provider, "sent").inc()
        log.info("job %d: reply sent (%s)", job.id, "text + voice note" if job.sent_audio_id else "text")

    def _send_voice(self, job: MessageJob, owner: str, provider: Provider) -> str:
        blob = media.load_blob(self.db, job.reply_media_id)
        if blob is None:  # expired while the job waited: speak the reply again
            ogg = self._synthesise(job.language, job.reply_text or "")
            if ogg is None:
                raise JobFailure("internal", "the reply could not be synthesised again", notify=False)
            new_id = media.store_blob(self.db, ogg, media.OGG, self.cfg.media_url_ttl_s)
            self.store.set(job.id, owner, reply_media_id=new_id)
            job.reply_media_id = new_id
            blob = media.load_blob(self.db, new_id)
        if job.provider == "meta":
            if job.provider_media_id is None:
                self.store.set(job.id, owner)
                job.provider_media_id = provider.upload_voice(job, blob.data)
                self.store.set(job.id, owner, provider_media_id=job.provider_media_id)
            ref = job.provider_media_id
        else:
            ttl = self.cfg.media_url_ttl_s
            media.keep_blob_until(self.db, blob.id, ttl + 60)
            ref = media.signed_url(self.settings, blob.id, ttl, self.secret)
        self.store.set(job.id, owner)
        return provider.send_voice(job, ref)

    def _send_notice(self, job: MessageJob, owner: str) -> None:
        if job.notice_id is None and job.notice_text:
            self.store.set(job.id, owner)
            job.notice_id = self._provider(job).send_text(job, job.notice_text)
        self.store.set(
            job.id,
            owner,
            notice="sent",
            notice_id=job.notice_id,
            next_attempt_at=None,
            lease_owner=None,
            lease_until=None,
        )
        log.info("job %d: apology sent", job.id)

    # -- failure and retry ------------------------------------------------------------------------------
    def _notice_text(self, job: MessageJob, code: str, language: str | None) -> tuple[str | None, str | None]:
        try:
            code_lang = language or job.language or self._last_language(job)
            pack = find_pack(code_lang) or find_pack(default_language(self.settings, self._our_number(job)))
        except UnknownLanguageError:
            return None, None
        if pack is None:
            return None, None
        key, fallback = NOTICE_PHRASES.get(code, ("apology", "apology"))
        return phrase(pack, key, fallback=fallback), pack.code

    def _fail(self, job: MessageJob, owner: str, failure: JobFailure) -> None:
        text, language = (
            self._notice_text(job, failure.code, failure.language) if failure.notify else (None, None)
        )
        self.store.set(
            job.id,
            owner,
            state=FAILED,
            failure=failure.code,
            reason=failure.reason,
            notice=PENDING_NOTICE if text else None,
            notice_text=text,
            language=job.language or language,
            attempts=0,  # the apology gets its own tries
            next_attempt_at=None,
            inbound_media_id=None,
        )
        if job.inbound_media_id:
            with self.db.session() as s:
                blob = s.get(MediaBlob, job.inbound_media_id)
                if blob is not None:
                    s.delete(blob)
        MESSAGES.labels(job.provider, "failed").inc()
        MESSAGE_FAILURES.labels(job.provider, failure.code).inc()
        log.warning("job %d (%s) failed [%s]: %s", job.id, job.provider, failure.code, failure.reason)

    def _retry(self, job: MessageJob, owner: str, why: str) -> None:
        attempts = (job.attempts or 0) + 1
        if attempts >= self.cfg.max_attempts:
            if job.state == FAILED:
                self.store.set(job.id, owner, notice="failed", attempts=attempts)
                log.warning("job %d: apology not sent after %d attempts: %s", job.id, attempts, why)
                return
            failure = JobFailure("gave_up", f"gave up after {attempts} attempts; last: {why}")
            failure.notify = job.sent_text_id is None
            self._fail(job, owner, failure)
            return
        delay = self.store.retry_later(
            job.id, owner, attempts, self.cfg.backoff_base_s, self.cfg.backoff_max_s
        )
        MESSAGES.labels(job.provider, "retried").inc()
        log.info(
            "job %d (%s, %s): %s; attempt %d again in %.1f s",
            job.id,
            job.provider,
            job.state,
            why,
            attempts + 1,
            delay,
        )

    # -- batched transcription of a backlog ---------------------------------------------------------------
    def _prepare_batch(self, ids: list[int], owner: str) -> None:
        """Download the claimed notes, then transcribe those whose language is known in batches."""
        from voice.messaging.batch import supports_batching, transcribe_batch, transcribe_packed

        for job_id in ids:
            self.process(job_id, owner, until=(DOWNLOADED, TRANSCRIBED, ANSWERED), release=False)
        groups: dict[str, list[MessageJob]] = defaultdict(list)
        for job_id in ids:
            job = self.store.get(job_id)
            if job.state == DOWNLOADED and job.lease_owner == owner:
                last = self._last_language(job)
                if last and find_pack(last):
                    groups[find_pack(last).code].append(job)
        for code, jobs in groups.items():
            recognizer = self.runtime.recognizer(code)
            if len(jobs) < 2 or not supports_batching(recognizer):
                continue
            audios, ready = [], []
            for job in jobs:
                blob = media.load_blob(self.db, job.inbound_media_id) if job.inbound_media_id else None
                try:
                    audios.append(self._decode(blob.data))
                    ready.append(job)
                except (JobFailure, AttributeError):
                    continue  # the one-by-one path reports it
            t0 = time.perf_counter()
            token = find_pack(code).whisper_language
            if self.cfg.batch_strategy == "pipeline":
                size = max(2, self.cfg.batch_size)
                transcripts = self._asr(transcribe_batch, recognizer, audios, code, token, size)
            else:
                transcripts = self._asr(transcribe_packed, recognizer, audios, code, token)
            per_note = (time.perf_counter() - t0) / max(1, len(ready))
            log.info(
                "batched ASR (%s): %d notes in %s in %.2f s",
                self.cfg.batch_strategy,
                len(ready),
                code,
                per_note * len(ready),
            )
            for job, transcript in zip(ready, transcripts, strict=True):
                if transcript is not None and transcript.text:  # else: the one-by-one path decides
                    self._store_transcript(job, owner, code, transcript.text, asr_s=per_note, batched=1)


def _with_pauses(parts: list[Audio], pause: float = 0.25) -> list[Audio]:
    """Sentences of a voice note, a short breath apart."""
    out: list[Audio] = []
    for part in parts:
        if out:
            out.append(Audio.silence(pause, part.sample_rate))
        out.append(part)
    return out


def start_worker(runtime) -> MessageWorker:
    return MessageWorker(runtime).start()
