"""Transcribing a backlog of voice notes together, two ways (the worker's batch_size > 1):

- `pipeline`: faster-whisper's BatchedInferencePipeline. Notes in one language are laid end to
  end; each note's speech (the recognizer's Silero VAD gate) is cut into clips of at most 30 s, and
  the clips of all notes are decoded together in batches through `clip_timestamps`. Each clip comes
  back as one segment at its own offset, which maps it back to its note. Batching pays on a GPU;
  on a 2-core CPU every clip still costs a full 30 s encoder window (bench/whatsapp.py).
- `pack`: several short notes share one 30 s window (see transcribe_packed): one encoder pass
  serves them all, which is what pays on a CPU.
The recognizer's hallucination guards filter the segments either way. Only faster-whisper has
these paths; other engines fall back to one note at a time.
"""

from __future__ import annotations

import numpy as np

from voice.asr import Recognizer, Transcript
from voice.asr.engine import SAMPLE_RATE
from voice.asr.guards import filter_segments, mute_outside, speech_regions
from voice.asr.types import Segment
from voice.audio import Audio

MAX_CLIP_S = 30.0
GAP_S = 0.5  # silence between notes laid end to end


def supports_batching(recognizer: Recognizer) -> bool:
    return hasattr(recognizer.engine, "whisper_model")


def _clips(regions: list[tuple[int, int]], limit: int) -> list[tuple[int, int]]:
    """Merge neighbouring speech regions into clips no longer than `limit` samples."""
    clips: list[tuple[int, int]] = []
    for start, end in regions:
        while end - start > limit:  # one long stretch of speech: cut it
            clips.append((start, start + limit))
            start += limit
        if clips and end - clips[-1][0] <= limit and start >= clips[-1][1]:
            clips[-1] = (clips[-1][0], end)
        else:
            clips.append((start, end))
    return clips


def transcribe_batch(
    recognizer: Recognizer, audios: list[Audio], language: str, whisper_token: str, batch_size: int = 8
) -> list[Transcript]:
    """Transcripts of `audios`, all spoken in `language` (a pack code; `whisper_token` decodes it)."""
    from faster_whisper import BatchedInferencePipeline

    engine = recognizer.engine
    guards, options = recognizer.guards, recognizer.options
    limit = int(MAX_CLIP_S * SAMPLE_RATE)
    gap = np.zeros(int(GAP_S * SAMPLE_RATE), dtype=np.float32)
    pieces: list[np.ndarray] = []
    clips: list[tuple[int, float, float]] = []  # (note index, start s, end s) in the laid-out audio
    offset = 0
    durations, starts_s = [], []
    for i, audio in enumerate(audios):
        samples = audio.to_rate(SAMPLE_RATE).samples
        durations.append(len(samples) / SAMPLE_RATE)
        starts_s.append(offset / SAMPLE_RATE)
        regions = speech_regions(samples, guards) if guards.vad_gate else [(0, len(samples))]
        for start, end in _clips(regions, limit):
            clips.append((i, (offset + start) / SAMPLE_RATE, (offset + end) / SAMPLE_RATE))
        pieces += [samples, gap]
        offset += len(samples) + len(gap)
    results: list[list[Segment]] = [[] for _ in audios]
    if clips:
        pipeline = BatchedInferencePipeline(engine.whisper_model)
        segments, _info = pipeline.transcribe(
            np.concatenate(pieces),
            language=whisper_token,
            clip_timestamps=[{"start": s, "end": e} for _, s, e in clips],
            batch_size=batch_size,
            beam_size=options.beam_size,
            temperature=options.temperatures[0],
            no_speech_threshold=options.no_speech_threshold,
            log_prob_threshold=options.log_prob_threshold,
            compression_ratio_threshold=options.compression_ratio_threshold,
            condition_on_previous_text=False,
            without_timestamps=True,
            vad_filter=False,
        )
        starts = [s for _, s, _ in clips]
        for seg in segments:
            k = int(np.searchsorted(starts, seg.start + 1e-3, side="right")) - 1
            k = min(max(k, 0), len(clips) - 1)
            note = clips[k][0]
            results[note].append(
                Segment(
                    seg.start - starts_s[note],
                    seg.end - starts_s[note],
                    seg.text.strip(),
                    seg.no_speech_prob,
                    seg.avg_logprob,
                    seg.compression_ratio,
                )
            )
    out = []
    for i, segs in enumerate(results):
        kept, dropped = filter_segments(segs, guards)
        out.append(
            Transcript(
                text=" ".join(s.text for s in kept).strip(),
                language=language,
                duration=durations[i],
                segments=kept,
                no_speech_prob=min((s.no_speech_prob for s in segs), default=1.0),
                engine=f"{engine.name} (batched)",
                model=engine.model.name,
                dropped=dropped,
            )
        )
    return out


def transcribe_packed(
    recognizer: Recognizer,
    audios: list[Audio],
    language: str,
    whisper_token: str,
    gap_s: float = 1.5,
    max_note_s: float = 12.0,
) -> list[Transcript | None]:
    """Short notes packed into shared 30 s windows: one encoder pass serves several notes.

    On a CPU the encoder's fixed 30 s window dominates the cost of a short note; laying several
    notes (each muted outside its speech, `gap_s` of silence between them) into one window and
    decoding it with word timestamps cuts that cost per note. Each word goes to the note whose time
    span holds its midpoint; words in a gap are dropped, so no word crosses from one note to
    another. Notes longer than `max_note_s`, or with no speech, come back as None: transcribe
    those one at a time.
    """
    engine = recognizer.engine
    guards, options = recognizer.guards, recognizer.options
    gap = np.zeros(int(gap_s * SAMPLE_RATE), dtype=np.float32)
    window_limit = (MAX_CLIP_S - 1.0) * SAMPLE_RATE
    prepared: list[tuple[int, np.ndarray]] = []
    for i, audio in enumerate(audios):
        samples = audio.to_rate(SAMPLE_RATE).samples
        if len(samples) > max_note_s * SAMPLE_RATE:
            continue
        if guards.vad_gate:
            regions = speech_regions(samples, guards)
            if not regions:
                continue
            samples = mute_outside(samples, regions)
        prepared.append((i, samples))
    windows: list[list[tuple[int, np.ndarray]]] = []
    size = 0
    for item in prepared:
        n = len(item[1]) + len(gap)
        if windows and size + n <= window_limit:
            windows[-1].append(item)
            size += n
        else:
            windows.append([item])
            size = n
    words: dict[int, list] = {i: [] for i, _ in prepared}
    raw: dict[int, list[Segment]] = {i: [] for i, _ in prepared}
    for window in windows:
        spans, pieces, offset = [], [], 0
        for i, samples in window:
            spans.append((i, offset / SAMPLE_RATE, (offset + len(samples)) / SAMPLE_RATE))
            pieces += [samples, gap]
            offset += len(samples) + len(gap)
        segments, _info = engine.whisper_model.transcribe(
            np.concatenate(pieces),
            language=whisper_token,
            beam_size=options.beam_size,
            temperature=list(options.temperatures),
            no_speech_threshold=options.no_speech_threshold,
            log_prob_threshold=options.log_prob_threshold,
            compression_ratio_threshold=options.compression_ratio_threshold,
            condition_on_previous_text=False,
            vad_filter=False,
            word_timestamps=True,
        )
        tolerance = min(0.3, gap_s / 3)
        for seg in segments:
            segment = Segment(
                seg.start,
                seg.end,
                seg.text.strip(),
                seg.no_speech_prob,
                seg.avg_logprob,
                seg.compression_ratio,
            )
            if not filter_segments([segment], guards)[0]:
                continue  # a hallucination guard dropped it
            for word in seg.words or []:
                mid = (word.start + word.end) / 2
                for i, start, end in spans:
                    if start - tolerance <= mid <= end + tolerance:
                        words[i].append((word.start - start, word.end - start, word.word))
                        raw[i].append(segment)
                        break
    out: list[Transcript | None] = [None] * len(audios)
    for i, _samples in prepared:
        if not words[i]:
            continue  # nothing heard in the pack: let the one-by-one path decide
        text = "".join(w for _, _, w in words[i]).strip()
        kept = [Segment(words[i][0][0], words[i][-1][1], text)]
        out[i] = Transcript(
            text=text,
            language=language,
            duration=audios[i].duration,
            segments=kept,
            no_speech_prob=min((s.no_speech_prob for s in raw[i]), default=1.0),
            engine=f"{engine.name} (packed)",
            model=engine.model.name,
        )
    return out
