"""Short-utterance decoding: encode the utterance, not Whisper's whole 30 s window.

faster-whisper's `transcribe` runs the encoder over 30 s of mel frames however short the audio;
for a 2-5 s phone question most of that work encodes padding. CTranslate2's `Whisper.encode`
takes a shorter mel, so here the audio is padded with real silence (zero samples, whose log-mel
is the spectrogram's floor, not zero features) up to a short window, encoded, and decoded with
`Whisper.generate` directly, several utterances in one batch when asked.

Whisper only ever saw 30 s windows in training, and with a short encoder output its decoder
tends to say the sentence again (measured: "Hello. Hello. Hello." on a 0.9 s "Hello"). Decoding
is therefore bounded: a token budget from the duration, a mild repetition penalty, and a
post-check (`needs_full_window`) that sends anything still looking looped, too long or unsure
back to the full-window path, where faster-whisper's temperature fallback takes over as before.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from voice.asr.guards import compression_ratio, has_immediate_repeat

SAMPLE_RATE = 16000
HOP = 160  # samples per mel frame
MAX_WINDOW_S = 30.0  # Whisper's own window: longer audio takes the full path


@dataclass(frozen=True)
class WindowOptions:
    """How the short window is sized and its decoding bounded (from ASRSettings)."""

    step_s: float = 5.0  # the window is the utterance + margin, rounded up to a multiple of this
    margin_s: float = 0.5  # at least this much trailing silence: Whisper stops at a pause it can see
    beam_size: int = 5  # measured: greedy loses ~0.05 WER here, and beam 5 costs ~20% more time
    tokens_per_s: float = 10.0  # budget; espeak English ~3/s, French ~6/s
    extra_tokens: int = 10
    repetition_penalty: float = 1.1


@dataclass
class ShortDecode:
    """One utterance's decode in the short window, with what the guards and fallback need."""

    text: str
    tokens: list[int]
    no_speech_prob: float
    avg_logprob: float
    compression_ratio: float
    hit_limit: bool  # the token budget ran out: a loop, or speech faster than the budget


def window_samples(n_samples: int, options: WindowOptions) -> int:
    """The padded window length for `n_samples` of audio, capped at Whisper's 30 s."""
    seconds = math.ceil((n_samples / SAMPLE_RATE + options.margin_s) / options.step_s) * options.step_s
    return int(min(seconds, MAX_WINDOW_S) * SAMPLE_RATE)


def fits(n_samples: int) -> bool:
    return 0 < n_samples <= MAX_WINDOW_S * SAMPLE_RATE


def max_new_tokens(n_samples: int, options: WindowOptions, model_max: int = 448) -> int:
    budget = math.ceil(n_samples / SAMPLE_RATE * options.tokens_per_s) + options.extra_tokens
    return min(budget, model_max // 2 - 8)


def features(model, samples: np.ndarray, window: int) -> np.ndarray:
    """Log-mel of `samples` padded with silence to `window` samples: (n_mels, window // HOP)."""
    padded = np.zeros(window, dtype=np.float32)
    padded[: min(len(samples), window)] = samples[:window]
    return model.feature_extractor(padded, padding=0)[:, : window // HOP]


def decode_batch(
    model, tokenizers: list, batch: list[np.ndarray], window: int, options: WindowOptions
) -> list[ShortDecode]:
    """Decode utterances that share one window size in ONE encode + generate call.

    `model` is a faster_whisper.WhisperModel; `tokenizers[i]` is the faster-whisper Tokenizer set to
    utterance i's language (CTranslate2 takes one prompt per batch item, so languages may differ).
    """
    from faster_whisper.transcribe import get_ctranslate2_storage, get_suppressed_tokens

    mels = np.stack([features(model, s, window) for s in batch])
    encoded = model.model.encode(get_ctranslate2_storage(mels), to_cpu=False)
    prompts = [[*t.sot_sequence, t.no_timestamps] for t in tokenizers]
    budgets = [max_new_tokens(len(s), options, model.max_length) for s in batch]
    results = model.model.generate(
        encoded,
        prompts,
        beam_size=options.beam_size,
        repetition_penalty=options.repetition_penalty,
        # CTranslate2 4.x stops after max_length // 2 new tokens (measured); one extra token tells
        # a budget that ran out from an utterance that ended exactly at it.
        max_length=2 * (max(budgets) + 1),
        return_scores=True,
        return_no_speech_prob=True,
        suppress_blank=True,
        suppress_tokens=get_suppressed_tokens(tokenizers[0], [-1]),
    )
    out = []
    for result, tokenizer, budget in zip(results, tokenizers, budgets, strict=True):
        tokens = [t for t in result.sequences_ids[0] if t < tokenizer.eot]
        hit = len(tokens) > budget
        tokens = tokens[:budget]
        # faster-whisper's recovery of the mean log-probability from CTranslate2's length-normed score.
        avg_logprob = result.scores[0] * len(tokens) / (len(tokens) + 1)
        text = tokenizer.decode(tokens).strip()
        out.append(
            ShortDecode(text, tokens, result.no_speech_prob, avg_logprob, compression_ratio(text), hit)
        )
    return out


def needs_full_window(
    d: ShortDecode, no_speech_threshold: float, log_prob_threshold: float, compression_ratio_threshold: float
) -> str | None:
    """Why this short decode should be redone in the full window, or None to keep it.

    The same triggers as faster-whisper's temperature fallback (low log-probability, high
    compression ratio), except for silence, plus the short window's own failure: a loop.
    """
    if d.no_speech_prob > no_speech_threshold and d.avg_logprob < log_prob_threshold:
        return None  # silence: the guards drop it, as faster-whisper would skip it
    if d.hit_limit:
        return "token budget exhausted"
    if d.compression_ratio > compression_ratio_threshold:
        return f"compression ratio {d.compression_ratio:.2f}"
    if has_immediate_repeat(d.text):
        return "repeats itself"
    if d.avg_logprob < log_prob_threshold:
        return f"unsure (logprob {d.avg_logprob:.2f})"
    return None
