"""Where model work runs: separate lanes so short jobs never queue behind long ones.

- `asr`: one worker that batches. Utterances of different calls that end together are decoded in
  one `Recognizer.transcribe_many` call (one encoder + one `generate` for all of them); other ASR
  jobs (a WhatsApp note's language passes) run there one at a time, in order.
- `fast`: the agent's FAQ route, a sentence's TTS, the end-of-turn model: milliseconds each, on
  their own threads, so a caller's reply is never stuck behind another caller's Whisper.
- `vad`: one thread for every stream's Silero VAD, so the event loop only moves bytes.

Every lane counts its unfinished jobs (`pending`): a test or a caller can see work still under way.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from voice.audio import Audio

log = logging.getLogger(__name__)


class CountingPool(ThreadPoolExecutor):
    """A thread pool that knows how many of its jobs are not finished yet."""

    def __init__(self, workers: int, name: str):
        super().__init__(max_workers=workers, thread_name_prefix=name)
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


@dataclass
class _Job:
    future: Future
    fn: Callable | None = None  # a plain job; else a transcription:
    args: tuple = ()
    recognizer: object | None = None
    audio: Audio | None = None
    language: str | None = None


class BatchingASR:
    """One ASR worker thread; transcriptions waiting together are decoded as one batch.

    CTranslate2 already uses every core for one decode, so more ASR threads only make each turn
    slower; batching is how several callers who finish together share the cost.
    """

    def __init__(self, max_batch: int = 8, name: str = "asr"):
        self.max_batch = max(1, max_batch)
        self._queue: deque[_Job] = deque()
        self._cond = threading.Condition()
        self._closed = False
        self._running = 0  # jobs taken off the queue and not finished yet
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    @property
    def pending(self) -> int:
        with self._cond:
            return len(self._queue) + self._running

    def transcribe(self, recognizer, audio: Audio, language: str | None) -> Future:
        """A batchable transcription; the future's result is a `Transcript`."""
        return self._put(_Job(Future(), recognizer=recognizer, audio=audio, language=language))

    def submit(self, fn, /, *args) -> Future:
        """Any other ASR-bound job, run on the ASR thread in order."""
        return self._put(_Job(Future(), fn=fn, args=args))

    def _put(self, job: _Job) -> Future:
        with self._cond:
            if self._closed:
                raise RuntimeError("the ASR lane is shut down")
            self._queue.append(job)
            self._cond.notify()
        return job.future

    def shutdown(self, wait: bool = False, cancel_futures: bool = True) -> None:
        with self._cond:
            self._closed = True
            if cancel_futures:
                for job in self._queue:
                    job.future.cancel()
                self._queue.clear()
            self._cond.notify_all()
        if wait:
            self._thread.join(timeout=30)

    def _take(self) -> list[_Job] | None:
        with self._cond:
            while not self._queue:
                if self._closed:
                    return None
                self._cond.wait()
            first = self._queue.popleft()
            if first.fn is not None:
                self._running = 1
                return [first]
            batch = [first]
            # Everything of the same recognizer that is already waiting joins this batch.
            for job in list(self._queue):
                if len(batch) >= self.max_batch:
                    break
                if job.fn is None and job.recognizer is first.recognizer:
                    self._queue.remove(job)
                    batch.append(job)
            self._running = len(batch)
            return batch

    def _run(self) -> None:
        while True:
            batch = self._take()
            if batch is None:
                return
            live = [job for job in batch if job.future.set_running_or_notify_cancel()]
            started = time.monotonic()
            for job in live:  # read by the turn's timings: queue wait, run time, batch size
                job.future.started, job.future.batch = started, len(live)
            try:
                if live:
                    self._execute(live)
            finally:
                with self._cond:
                    self._running = 0

    def _execute(self, jobs: list[_Job]) -> None:
        if jobs[0].fn is not None:
            job = jobs[0]
            try:
                result = job.fn(*job.args)
            except BaseException as exc:  # delivered to whoever waits on it
                _stamp(jobs)
                job.future.set_exception(exc)
                return
            _stamp(jobs)
            job.future.set_result(result)
            return
        recognizer = jobs[0].recognizer
        done: set[int] = set()
        try:
            many = getattr(recognizer, "transcribe_iter", None)
            if many is not None and len(jobs) > 1:
                # Each result as soon as it is final: a slow redo of one does not hold the others.
                for i, result in many([(j.audio, j.language) for j in jobs]):
                    _stamp([jobs[i]])
                    jobs[i].future.set_result(result)
                    done.add(i)
            else:
                for i, job in enumerate(jobs):
                    result = recognizer.transcribe(job.audio, job.language)
                    _stamp([job])
                    job.future.set_result(result)
                    done.add(i)
        except BaseException as exc:
            rest = [job for i, job in enumerate(jobs) if i not in done]
            _stamp(rest)
            if len(rest) == 1:
                rest[0].future.set_exception(exc)
                return
            log.warning("batched ASR failed (%s); one by one instead", type(exc).__name__)
            for job in rest:
                try:
                    job.future.set_result(recognizer.transcribe(job.audio, job.language))
                except BaseException as one:
                    job.future.set_exception(one)


def _stamp(jobs: list[_Job]) -> None:
    finished = time.monotonic()
    for job in jobs:
        job.future.finished = finished


class ModelLanes:
    """The lanes a gateway (or a worker process) runs its model work on."""

    def __init__(self, fast_workers: int = 2, asr_batch: int = 8):
        self.asr = BatchingASR(asr_batch)
        self.fast = CountingPool(max(1, fast_workers), "fast")
        self.vad = CountingPool(1, "vad")
        # Turn orchestration threads only wait on the lanes above (and run the agent's FAQ route,
        # a few milliseconds): many of them cost nothing but a little memory.
        self.turns = CountingPool(64, "turn")

    def shutdown(self) -> None:
        self.asr.shutdown(wait=False, cancel_futures=True)
        for pool in (self.fast, self.vad, self.turns):
            pool.shutdown(wait=False, cancel_futures=True)
