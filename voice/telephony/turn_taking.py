"""When has the caller finished? The pack's endpointing policy, early ASR and the turn model.

At a short pause (`pause_ms`) the utterance so far goes to ASR at once, and, where the pack uses
an end-of-turn model (Smart Turn), the turn is answered from that early ASR right away when both
agree it is over: the model on the sound (prosody), the words on the syntax (the transcript does
not stop on one of the pack's `continuation_words`, like "of" or "de"). Smart Turn alone calls a
sentence cut after "the balance of" complete on synthetic speech, hence the second check.
Otherwise the reply waits for `silence_ms` of silence and still uses the early ASR when the
caller did not resume. A caller who resumes after a premature decision gets that reply stopped,
and the whole question answered at its end.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from dataclasses import dataclass

import numpy as np

from voice.audio import Audio
from voice.audio.vad import SAMPLE_RATE, SpeechPause, Utterance

log = logging.getLogger(__name__)
MIN_UTTERANCE_S = 0.3
TRAILING_S = 0.2  # silence kept after the speech: Whisper ends a sentence better with some
TURN_MODEL_WINDOW_S = 8.0
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")

Cut = Callable[[float, float], Audio]
Commit = Callable[[float, float, Future], Awaitable[None]]


@dataclass
class _Early:
    begin_s: float
    speech_end_s: float
    job: Future


class TurnTaker:
    def __init__(self, policy, turn_model, transcribe: Callable[[Audio], Future], fast_pool):
        """`policy`: the pack's endpointing (pause_ms, silence_ms, turn_model, turn_threshold);
        `turn_model`: an object with `probability(samples_16k)`, or None (silence only)."""
        self.policy = policy
        self.turn_model = turn_model if getattr(policy, "turn_model", "none") != "none" else None
        self._transcribe = transcribe
        self._fast = fast_pool
        self._early: _Early | None = None
        self._committed_begin: float | None = None
        self._seq = 0  # bumps whenever the caller resumes: older decisions are void
        self._tasks: set[asyncio.Task] = set()
        self._continuation = frozenset(w.lower() for w in getattr(policy, "continuation_words", ()))
        self._held: tuple[float, asyncio.Task] | None = None  # (begin_s, timer) of a turn held open
        self._merge_from: float | None = None  # the held turn's start: the caller went on

    def _begin(self, begin_s: float) -> float:
        """Where the caller's turn began: earlier than the VAD's utterance when it continues a held one."""
        return self._merge_from if self._merge_from is not None else begin_s

    def on_pause(self, pause: SpeechPause, cut: Cut, commit: Commit) -> None:
        if pause.speech_end_s - pause.begin_s < MIN_UTTERANCE_S or self._committed_begin is not None:
            return
        begin = self._begin(pause.begin_s)
        audio = cut(begin, pause.speech_end_s + TRAILING_S)
        job = self._transcribe(audio)
        job.early = True
        self._early = _Early(begin, pause.speech_end_s, job)
        if self.turn_model is not None:
            samples = audio.samples[-int(TURN_MODEL_WINDOW_S * SAMPLE_RATE) :]
            task = asyncio.create_task(self._ask_model(samples, self._seq, self._early, commit))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _ask_model(self, samples: np.ndarray, seq: int, early: _Early, commit: Commit) -> None:
        """Answer now when the words so far can end a question and the turn model agrees."""
        probability = self._fast.submit(self.turn_model.probability, samples)
        try:
            heard = await asyncio.wrap_future(early.job)
            p = await asyncio.wrap_future(probability)
        except asyncio.CancelledError:
            if early.job.cancelled():
                return  # the caller went on and the early ASR was dropped
            raise
        except Exception as exc:  # the silence rule still ends the turn
            log.warning("early end-of-turn check failed (%s); waiting for the silence", type(exc).__name__)
            return
        text = heard.text.strip()
        log.debug("end-of-turn probability %.2f, %d words", p, len(text.split()))
        if seq != self._seq or self._early is not early:
            return  # the caller went on meanwhile
        if not text or self.continues(text):
            return  # nothing heard, or the words stop where a sentence cannot: wait for the silence
        if p >= self.policy.turn_threshold:
            self._committed_begin = early.begin_s
            await commit(early.begin_s, early.speech_end_s, early.job)

    def continues(self, text: str) -> bool:
        """True when the transcript stops where the pack says a sentence cannot end ("... of")."""
        if text.rstrip().endswith((",", "...", "…", "-")):
            return True
        words = _WORD.findall(text.lower())
        return bool(words) and words[-1] in self._continuation

    def on_resume(self) -> bool:
        """The caller speaks again. True when a turn was already answered early (premature)."""
        self._seq += 1
        if self._early is not None and self._committed_begin is None:
            self._early.job.cancel()  # dropped from the ASR queue if it has not started
        self._early = None
        premature = self._committed_begin is not None
        self._committed_begin = None
        return premature

    def on_speech_start(self) -> None:
        """Speech again after the silence rule: a turn held open for its words goes on."""
        if self._held is not None:
            begin_s, timer = self._held
            timer.cancel()
            self._held, self._merge_from = None, begin_s

    def on_utterance(self, utterance: Utterance, cut: Cut, commit: Commit) -> Future | None:
        """The silence rule ended the utterance: the ASR job to answer it now, or None.

        When the early transcript is already known and stops on a continuation word, the turn is
        held open for another `silence_ms`: if the caller goes on, the next utterance continues
        this one; if not, this one is answered when the hold ends."""
        early, self._early = self._early, None
        begin = self._begin(utterance.begin_s)
        self._merge_from = None
        if self._committed_begin is not None and self._committed_begin == begin:
            self._committed_begin = None
            return None  # the turn model already ended it; the caller stayed quiet
        self._committed_begin = None
        if (utterance.end_s - begin) < MIN_UTTERANCE_S:
            return None
        if early is not None and early.begin_s == begin and not early.job.cancelled():
            job = early.job
        else:
            job = self._transcribe(cut(begin, utterance.end_s + TRAILING_S))
            job.early = False
        heard = _finished_text(job) if self._continuation else None
        if heard is not None and self.continues(heard):
            hold = asyncio.create_task(self._hold(begin, utterance.end_s, job, commit))
            self._held = (begin, hold)
            return None
        return job

    async def _hold(self, begin_s: float, end_s: float, job: Future, commit: Commit) -> None:
        await asyncio.sleep(self.policy.silence_ms / 1000)
        if self._held is not None and self._held[0] == begin_s:
            self._held = None
            await commit(begin_s, end_s, job)

    def close(self) -> None:
        if self._early is not None:
            self._early.job.cancel()
        if self._held is not None:
            self._held[1].cancel()
        for task in list(self._tasks):
            task.cancel()


def _finished_text(job: Future) -> str | None:
    """The transcript of an ASR job that has already finished well; None otherwise."""
    if not job.done() or job.cancelled() or job.exception() is not None:
        return None
    return job.result().text
