"""ASR cost proportional to the utterance: Whisper's full 30 s window vs a short window, and batches.

    .venv/bin/python bench/asr_window.py

Phone-call questions (2-5 s, English and French) are spoken by espeak-ng and passed through the
phone channel (16 kHz -> 8 kHz G.711 mu-law -> 16 kHz), then transcribed by the real whisper-base
(int8, 2 threads) through the Recognizer, guards included, in each mode:

- full b5: faster-whisper's transcribe, 30 s window, beam 5 (the behaviour before this change)
- utt b1 / utt b5: the short window (voice/asr/short.py), greedy or beam 5; the window is the
  utterance + >= 0.5 s of silence rounded up to 5 s (2 s and 10 s steps shown for the choice)
- batch 3 / batch 10: the short window, beam 5, `transcribe_iter` over 3 or 10 utterances of
  mixed languages; an utterance's s/utt is its share of the one batched model call, plus its
  redo in the full window if it had one; wait is the time from the call until its transcript
  came out (batching trades this latency for throughput)
"redos" counts short decodes redone in the full window (looped, too long or unsure).

WER is over all words of a language (jiwer; lower case, punctuation stripped). Target: English
WER no worse than full b5 + 0.03. French espeak is hard for whisper-base: its WER is high in
every mode and only shows that nothing broke. Single-utterance modes run interleaved per
utterance so the machine's load (shared CPUs) falls on all of them alike.
"""

from __future__ import annotations

import logging
import os
import statistics
import sys
import time
from pathlib import Path

import jiwer
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("COLUMNS", "140")  # the table's width when piped to a log

from bench.call_latency import PLAIN as CALL_QUESTIONS  # noqa: E402  (the phone bench's questions)
from bench.common import RESULTS, print_table, save_json  # noqa: E402
from tests.conftest import espeak  # noqa: E402
from voice.asr import Recognizer, create_engine  # noqa: E402
from voice.asr.models import resolve_model  # noqa: E402
from voice.audio import Audio, mulaw_decode, mulaw_encode, resample  # noqa: E402
from voice.config import ASRSettings  # noqa: E402
from voice.packs.text import basic_normalise  # noqa: E402

ENGLISH = CALL_QUESTIONS + [
    "Hello, can you hear me?",
    "I want to buy airtime.",
    "Is my internet package still active?",
    "Why was I charged twice today?",
    "How do I reset my PIN code?",
    "Please send me my last three transactions.",
    "Can I speak to a customer service agent?",
    "I sent money to the wrong number this morning.",
    "I would like to check the balance of my account.",
    "My phone cannot connect to the internet.",
    "How can I change my data plan?",
    "Block my card, please.",
    "Thank you, goodbye.",
    "Yes, please.",
]
FRENCH = [
    "Je voudrais connaître le solde de mon compte.",
    "Combien coûte le forfait internet de la semaine?",
    "Bonjour, je n'ai pas de réseau depuis ce matin.",
    "Je veux parler à un conseiller, s'il vous plaît.",
    "Mon téléphone ne capte plus internet.",
    "Merci, au revoir.",
]
VOICES = {"eng": ("en-us", 150), "fra": ("fr", 140)}
SINGLE = {  # mode -> ASRSettings changes
    "full b5 (today)": {"window": "full", "beam_size": 5},
    "utt b1": {"window": "utterance", "beam_size": 1},
    "utt b5": {"window": "utterance", "beam_size": 5},
    # The window choice: the utterance + >= 0.5 s of silence rounded up to 2 s or 10 s, not 5 s.
    "utt b5 2s-step": {"window": "utterance", "beam_size": 5, "window_step_s": 2.0},
    "utt b5 10s-step": {"window": "utterance", "beam_size": 5, "window_step_s": 10.0},
}
BATCHES = {"batch 3 (utt b5)": 3, "batch 10 (utt b5)": 10}
TODAY = "full b5 (today)"


def phone_channel(audio: Audio) -> Audio:
    """16 kHz -> 8 kHz mu-law bytes -> 16 kHz, as a Twilio call delivers it."""
    narrow = resample(audio.samples, audio.sample_rate, 8000)
    return Audio(resample(mulaw_decode(mulaw_encode(narrow)), 8000, 16000), 16000)


def utterances() -> list[tuple[str, str, Audio]]:
    """(language, reference, phone audio), languages interleaved so every batch mixes them."""
    french = [("fra", s) for s in FRENCH]
    mixed = []
    for i, text in enumerate(ENGLISH):
        mixed.append(("eng", text))
        if i % 3 == 2 and french:
            mixed.append(french.pop(0))
    mixed += french
    return [(lang, text, phone_channel(espeak(text, *VOICES[lang]))) for lang, text in mixed]


class FullWindowCount(logging.Handler):
    """Counts short decodes that the engine redid in the full window (its debug log line)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += "full window" in record.getMessage()


def burst_costs(yields: list[tuple[int, float]], gap_s: float = 0.005) -> dict[int, float]:
    """Each utterance's ASR seconds in a batch, from when `transcribe_iter` yielded it.

    Utterances come out in bursts: first all those answered by the one batched call (every
    utterance took part in it, so its time is shared by all), then one burst per utterance redone
    in the full window (its time is charged to that utterance). Assumes one window size in the
    batch and speech in every utterance, as in this benchmark (2-4.5 s questions: one 5 s window).
    """
    bursts: list[list[int]] = []
    ends: list[float] = []
    for i, t in yields:
        if not ends or t - ends[-1] >= gap_s:
            bursts.append([])
            ends.append(t)
        bursts[-1].append(i)
        ends[-1] = t
    n = len(yields)
    costs = dict.fromkeys((i for i, _ in yields), ends[0] / n)
    for burst, start, end in zip(bursts[1:], ends[:-1], ends[1:], strict=True):
        for i in burst:
            costs[i] += (end - start) / len(burst)
    return costs


def wer(refs: list[str], hyps: list[str]) -> float:
    return jiwer.wer([basic_normalise(r) for r in refs], [basic_normalise(h) or "<empty>" for h in hyps])


def main() -> None:
    items = utterances()
    durations = [a.duration for _, _, a in items]
    print(f"{len(items)} utterances, {min(durations):.1f}-{max(durations):.1f} s over the phone channel")
    base = ASRSettings()
    engine = create_engine("faster-whisper", resolve_model("whisper-base"), base)
    recognizers = {m: Recognizer(engine, base.model_copy(update=u)) for m, u in SINGLE.items()}
    counter = FullWindowCount()
    fw_log = logging.getLogger("voice.asr.faster")
    fw_log.addHandler(counter)
    fw_log.setLevel(logging.DEBUG)

    for r in recognizers.values():  # warm-up: first-call allocations are not the mode's cost
        r.transcribe(items[0][2], items[0][0])
    texts: dict[str, list[str]] = {m: [] for m in [*SINGLE, *BATCHES]}
    times: dict[str, list[float]] = {m: [] for m in texts}  # ASR seconds per utterance
    waits: dict[str, list[float]] = {m: [] for m in texts}  # from the call to this utterance's text
    fallbacks = dict.fromkeys(texts, 0)
    for lang, _, audio in items:
        for mode, r in recognizers.items():
            before = counter.count
            t0 = time.perf_counter()
            texts[mode].append(r.transcribe(audio, lang).text)
            times[mode].append(time.perf_counter() - t0)
            waits[mode].append(times[mode][-1])
            fallbacks[mode] += counter.count - before
    batched = recognizers["utt b5"]
    for mode, size in BATCHES.items():
        for k in range(0, len(items), size):
            chunk = [(audio, lang) for lang, _, audio in items[k : k + size]]
            before = counter.count
            got: list[tuple[int, str, float]] = []
            t0 = time.perf_counter()
            for i, t in batched.transcribe_iter(chunk):
                got.append((i, t.text, time.perf_counter() - t0))
            costs = burst_costs([(i, t) for i, _, t in got])
            texts[mode] += [text for _, text, _ in sorted(got)]
            times[mode] += [costs[i] for i in range(len(chunk))]
            waits[mode] += [wait for _, _, wait in got]
            fallbacks[mode] += counter.count - before

    refs = {lang: [t for lg, t, _ in items if lg == lang] for lang in VOICES}
    today = statistics.median(times[TODAY])
    rows, results = [], {}
    for mode in texts:
        hyps = {
            lang: [h for (lg, _, _), h in zip(items, texts[mode], strict=True) if lg == lang]
            for lang in VOICES
        }
        med = statistics.median(times[mode])
        res = {
            "wer_eng": wer(refs["eng"], hyps["eng"]),
            "wer_fra": wer(refs["fra"], hyps["fra"]),
            "median_s": med,
            "mean_s": float(np.mean(times[mode])),
            "median_wait_s": statistics.median(waits[mode]),
            "speedup": today / med,
            "full_window_redos": fallbacks[mode],
            "texts": texts[mode],
        }
        results[mode] = res
        rows.append(
            [
                mode,
                res["wer_eng"],
                res["wer_eng"] - results[TODAY]["wer_eng"],
                res["wer_fra"],
                med,
                res["mean_s"],
                f"{res['speedup']:.1f}x",
                res["median_wait_s"],
                f"{fallbacks[mode]}/{len(items)}" if mode != TODAY else "-",
            ]
        )
    print_table(
        f"whisper-base int8, {len(items)} espeak questions over the phone channel",
        ["mode", "WER eng", "Δ eng", "WER fra", "med s/utt", "mean s/utt", "speed-up", "med wait s", "redos"],
        rows,
    )
    references = [t for _, t, _ in items]
    path = save_json(
        "asr_window",
        {
            "utterances": [{"language": lg, "text": t, "duration_s": a.duration} for lg, t, a in items],
            "references": references,
            "settings": {
                k: v for k, v in base.model_dump().items() if k.startswith(("window", "max_tok", "rep"))
            },
            "modes": results,
        },
    )
    plot(results)
    print(f"saved {path} and {RESULTS / 'asr_window.png'}")


def plot(results: dict[str, dict]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    modes = list(results)
    fig, (ax_t, ax_w) = plt.subplots(1, 2, figsize=(12, 4.5))
    med = [results[m]["median_s"] for m in modes]
    ax_t.bar(modes, med, color="#3b7dd8")
    ax_t.set_ylabel("median ASR seconds per utterance")
    for i, m in enumerate(modes):
        ax_t.text(
            i, med[i], f"{med[i]:.2f}s\n{results[m]['speedup']:.1f}x", ha="center", va="bottom", fontsize=8
        )
    x = np.arange(len(modes))
    ax_w.bar(x - 0.2, [results[m]["wer_eng"] for m in modes], 0.4, label="English", color="#3b7dd8")
    ax_w.bar(x + 0.2, [results[m]["wer_fra"] for m in modes], 0.4, label="French (espeak)", color="#d8893b")
    ax_w.axhline(results[TODAY]["wer_eng"] + 0.03, color="k", ls="--", lw=1, label="English target")
    ax_w.set_xticks(x, modes)
    ax_w.set_ylabel("WER")
    top = max(max(results[m]["wer_eng"], results[m]["wer_fra"]) for m in modes)
    ax_w.set_ylim(0, top * 1.3)
    ax_w.legend(loc="upper center", ncol=3, fontsize=8)
    for ax in (ax_t, ax_w):
        ax.tick_params(axis="x", labelrotation=20)
    fig.suptitle("whisper-base over the phone channel: 30 s window vs the utterance's window")
    fig.tight_layout()
    RESULTS.mkdir(parents=True, exist_ok=True)
    fig.savefig(RESULTS / "asr_window.png", dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    main()
