"""Guards against Whisper's hallucinations.

Whisper invents text on silence and noise, and loops on repeated phrases. Before decoding, a
Silero VAD gate (the ONNX copy bundled with faster-whisper) skips audio without speech and mutes
the non-speech stretches; after decoding, segments are dropped when they look like no speech
(no-speech probability high and log-probability low) or like a loop (compression ratio, repeated
n-grams). Engines never condition on previous text (set in each engine).
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

import numpy as np
from faster_whisper.vad import VadOptions, get_speech_timestamps

from voice.asr.types import Segment

SAMPLE_RATE = 16000


@dataclass(frozen=True)
class GuardOptions:
    vad_gate: bool = True
    vad_threshold: float = 0.5
    min_speech_ms: int = 150
    speech_pad_ms: int = 300
    no_speech_threshold: float = 0.6
    log_prob_threshold: float = -1.0
    compression_ratio_threshold: float = 2.4
    max_repeat_ratio: float = 0.5


def speech_regions(samples: np.ndarray, options: GuardOptions) -> list[tuple[int, int]]:
    """Sample ranges that Silero VAD holds to be speech (16 kHz input)."""
    vad = VadOptions(
        threshold=options.vad_threshold,
        min_speech_duration_ms=options.min_speech_ms,
        min_silence_duration_ms=300,
        speech_pad_ms=options.speech_pad_ms,
    )
    return [(c["start"], c["end"]) for c in get_speech_timestamps(samples, vad, sampling_rate=SAMPLE_RATE)]


def mute_outside(samples: np.ndarray, regions: list[tuple[int, int]]) -> np.ndarray:
    """Zero the audio outside speech regions, keeping its length so timestamps stay true."""
    gated = np.zeros_like(samples)
    for start, end in regions:
        gated[start:end] = samples[start:end]
    return gated


def compression_ratio(text: str) -> float:
    data = text.encode("utf-8")
    return len(data) / max(1, len(zlib.compress(data))) if data else 1.0


def repeat_ratio(text: str, n: int = 3) -> float:
    """Share of word n-grams that repeat an earlier n-gram: 0 for fresh text, near 1 for a loop."""
    words = re.sub(r"[^\w\s']", " ", text.lower()).split()
    if len(words) < 2 * n:
        return 0.0
    grams = [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]
    return 1.0 - len(set(grams)) / len(grams)


def has_immediate_repeat(text: str) -> bool:
    """True when a sentence or clause, or a run of 2+ words, comes twice in a row.

    The short-window decoder's loop ("Hello. Hello.", "why, when I charge, why, when I charge") is
    shorter than `repeat_ratio` can see. A real "Hello? Hello?" also matches: the caller of this
    check then re-decodes in the full window, which costs time, not accuracy.
    """
    clauses = [c for c in (_words(p) for p in re.split(r"[.?!,;:]", text)) if c]
    if any(a == b for a, b in zip(clauses, clauses[1:], strict=False)):
        return True
    words = _words(text)
    return any(
        words[i : i + k] == words[i + k : i + 2 * k]
        for k in range(2, len(words) // 2 + 1)
        for i in range(len(words) - 2 * k + 1)
    )


def _words(text: str) -> list[str]:
    return re.sub(r"[^\w\s']", " ", text.lower()).split()


def filter_segments(segments: list[Segment], options: GuardOptions) -> tuple[list[Segment], list[str]]:
    kept: list[Segment] = []
    dropped: list[str] = []
    for seg in segments:
        text = seg.text.strip()
        reason = None
        if not text:
            reason = "empty"
        elif (
            seg.no_speech_prob > options.no_speech_threshold and seg.avg_logprob < options.log_prob_threshold
        ):
            reason = f"no speech (p={seg.no_speech_prob:.2f}, logprob={seg.avg_logprob:.2f})"
        elif max(seg.compression_ratio, compression_ratio(text)) > options.compression_ratio_threshold:
            reason = (
                f"repetitive (compression ratio {max(seg.compression_ratio, compression_ratio(text)):.2f})"
            )
        elif repeat_ratio(text) > options.max_repeat_ratio:
            reason = f"looping (repeat ratio {repeat_ratio(text):.2f})"
        elif kept and text == kept[-1].text.strip() and len(text.split()) > 2:
            reason = "duplicate of the previous segment"
        if reason:
            dropped.append(f"{seg.start:.2f}-{seg.end:.2f}s: {reason}")
        else:
            kept.append(seg)
    return kept, dropped
