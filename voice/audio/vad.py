"""Streaming voice activity detection with Silero VAD (the ONNX copy bundled in faster-whisper).

`SileroStream` turns audio into one speech probability per 32 ms chunk, carrying the model's
state between calls; `Endpointer` turns probabilities into speech-start / end-of-utterance
events with hysteresis, as a phone conversation needs (thresholds tuned for 8 kHz phone audio
upsampled to 16 kHz, and configurable).
"""

from __future__ import annotations

import os
from collections import deque
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

SAMPLE_RATE = 16000
CHUNK = 512  # 32 ms at 16 kHz, what Silero v5/v6 expects
CONTEXT = 64


@lru_cache(maxsize=1)
def _session():
    import onnxruntime
    from faster_whisper.utils import get_assets_path

    opts = onnxruntime.SessionOptions()
    opts.inter_op_num_threads = 1
    opts.intra_op_num_threads = 1
    opts.log_severity_level = 4
    path = os.path.join(get_assets_path(), "silero_vad_v6.onnx")
    # One session serves every call: run() is thread-safe and the state travels with each call.
    return onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"], sess_options=opts)


class SileroStream:
    def __init__(self, floor_dbfs: float | None = None) -> None:
        """`floor_dbfs`: chunks quieter than this (RMS) are silence without asking the model; an
        idle line then costs almost nothing (the model restarts from its initial state after)."""
        self.floor = None if floor_dbfs is None else 10 ** (floor_dbfs / 20)
        self.reset()

    def reset(self) -> None:
        self._h = np.zeros((1, 1, 128), dtype=np.float32)
        self._c = np.zeros((1, 1, 128), dtype=np.float32)
        self._context = np.zeros(CONTEXT, dtype=np.float32)
        self._pending = np.zeros(0, dtype=np.float32)

    def process(self, samples: np.ndarray) -> list[float]:
        """Speech probability of every complete 32 ms chunk now available."""
        self._pending = np.concatenate([self._pending, samples.astype(np.float32, copy=False)])
        probs = []
        session = _session()
        while len(self._pending) >= CHUNK:
            chunk, self._pending = self._pending[:CHUNK], self._pending[CHUNK:]
            if self.floor is not None and float(np.sqrt(np.mean(chunk * chunk))) < self.floor:
                self._h[:] = 0
                self._c[:] = 0
                self._context = chunk[-CONTEXT:]
                probs.append(0.0)
                continue
            x = np.concatenate([self._context, chunk])[None, :]
            out, self._h, self._c = session.run(None, {"input": x, "h": self._h, "c": self._c})
            self._context = chunk[-CONTEXT:]
            probs.append(float(np.asarray(out).reshape(-1)[0]))
        return probs


@dataclass(frozen=True)
class VadConfig:
    threshold: float = 0.5  # probability that opens speech
    neg_threshold: float = 0.35  # below this, a chunk counts as silence
    min_speech_ms: int = 160  # speech this long before it counts (coughs and clicks do not)
    min_silence_ms: int = 600  # silence this long ends an utterance
    pause_ms: int = 0  # silence this long raises SpeechPause (0: the first silent chunk)
    speech_pad_ms: int = 200  # audio kept before the detected start
    max_utterance_s: float = 20.0
    floor_dbfs: float | None = -60.0  # quieter chunks are silence without running Silero


@dataclass(frozen=True)
class SpeechStart:
    at_s: float  # stream time of the first speech chunk


@dataclass(frozen=True)
class SpeechPause:
    """`pause_ms` of silence after speech: the utterance may be over (or the caller breathes)."""

    at_s: float
    begin_s: float  # where the utterance's audio starts
    speech_end_s: float = 0.0  # end of the last speech chunk before the pause


@dataclass(frozen=True)
class SpeechResume:
    at_s: float


@dataclass(frozen=True)
class Utterance:
    start_s: float  # first speech chunk
    end_s: float  # end of the last speech chunk
    samples: np.ndarray  # 16 kHz, with padding before the start
    begin_s: float = 0.0  # stream time of samples[0] (speech start minus the padding)

    @property
    def finish_s(self) -> float:
        return self.begin_s + len(self.samples) / SAMPLE_RATE


class Endpointer:
    def __init__(self, config: VadConfig = VadConfig(), start_s: float = 0.0):
        """`start_s`: stream time of the first sample it will be fed (a call that switches
        language mid-way gets a new endpointer on the same clock)."""
        self.config = config
        self.start_s = start_s
        self._vad = SileroStream(config.floor_dbfs)
        ms = 1000 * CHUNK / SAMPLE_RATE
        self._start_chunks = max(1, round(config.min_speech_ms / ms))
        self._end_chunks = max(1, round(config.min_silence_ms / ms))
        self._pause_chunks = min(self._end_chunks, max(1, round(config.pause_ms / ms)))
        self._pad = deque(maxlen=max(1, round(config.speech_pad_ms / ms)))
        self._max_chunks = int(config.max_utterance_s * 1000 / ms)
        self._buffer = np.zeros(0, dtype=np.float32)
        self._chunks_seen = 0
        self._speech_run = 0
        self._silence_run = 0
        self._in_speech = False
        self._utterance: list[np.ndarray] = []
        self._candidate: list[np.ndarray] = []
        self._start_chunk = 0
        self._begin_chunk = 0

    @property
    def in_speech(self) -> bool:
        return self._in_speech

    def feed(self, samples: np.ndarray) -> list[SpeechStart | SpeechPause | SpeechResume | Utterance]:
        self._buffer = np.concatenate([self._buffer, samples.astype(np.float32, copy=False)])
        n = len(self._buffer) // CHUNK * CHUNK
        chunks, self._buffer = self._buffer[:n], self._buffer[n:]
        events: list[SpeechStart | SpeechPause | SpeechResume | Utterance] = []
        for prob, chunk in zip(self._vad.process(chunks), chunks.reshape(-1, CHUNK), strict=True):
            events.extend(self._step(prob, chunk))
            self._chunks_seen += 1
        return events

    def _t(self, chunk_index: int) -> float:
        return self.start_s + chunk_index * CHUNK / SAMPLE_RATE

    def _step(
        self, prob: float, chunk: np.ndarray
    ) -> list[SpeechStart | SpeechPause | SpeechResume | Utterance]:
        c = self.config
        if not self._in_speech:
            if prob >= c.threshold:
                if self._speech_run == 0:
                    self._start_chunk = self._chunks_seen
                self._speech_run += 1
                self._candidate.append(chunk)
                if self._speech_run >= self._start_chunks:
                    self._in_speech = True
                    self._silence_run = 0
                    self._utterance = [*self._pad, *self._candidate]
                    self._begin_chunk = self._start_chunk - len(self._pad)
                    self._candidate = []
                    return [SpeechStart(self._t(self._start_chunk))]
            else:
                self._pad.extend(self._candidate)
                self._candidate = []
                self._speech_run = 0
                self._pad.append(chunk)
            return []
        self._utterance.append(chunk)
        events: list = []
        if prob < c.neg_threshold:
            self._silence_run += 1
            if self._silence_run == self._pause_chunks:
                speech_end = self._t(self._chunks_seen + 1 - self._silence_run)
                events.append(SpeechPause(self._t(self._chunks_seen), self._t(self._begin_chunk), speech_end))
        else:
            if self._silence_run >= self._pause_chunks:
                events.append(SpeechResume(self._t(self._chunks_seen)))
            self._silence_run = 0
        too_long = len(self._utterance) >= self._max_chunks
        if self._silence_run >= self._end_chunks or too_long:
            trailing = 0 if too_long else self._silence_run
            end = self._chunks_seen + 1 - trailing
            # Keep a little of the trailing silence (as much as the lead-in pad), drop the rest.
            keep = len(self._utterance) - trailing + min(trailing, self._pad.maxlen)
            samples = np.concatenate(self._utterance[:keep])
            self._in_speech, self._speech_run, self._utterance = False, 0, []
            self._pad.clear()
            return [Utterance(self._t(self._start_chunk), self._t(end), samples, self._t(self._begin_chunk))]
        return events
