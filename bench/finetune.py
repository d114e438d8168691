"""Whisper fine-tuning benchmark on this CPU: training samples/s and peak RSS.

    ./dev bench finetune            (or: .venv/bin/python bench/finetune.py --steps 6)

Two real Whisper architectures with random weights and the real multilingual tokenizer (the
`<|wo|>` token inserted, as a Wolof run does): tiny-size (d_model 64, 2+2 layers) and base-size
(d_model 512, 6+6 layers, 74 M parameters), each trained three ways: full fine-tuning, frozen
encoder, LoRA (r=32 on attention and MLP). The real training path runs (`voice.asr.finetune`:
Seq2SeqTrainer, gradient checkpointing, SpecAugment, telephone augmentation, feature
extraction in the loop) on espeak-ng utterances, batch 4. Step time is wall time from one
step's end to the next (data loading included); the first step is warm-up, samples/s is the batch
size over the median time of the other steps. Each run is its own process, so peak
RSS is its own. CPU numbers: what a GPU run costs is in docs/asr-finetune.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import emit_child_result, peak_rss_mb, print_table, save_bar_plot, save_json  # noqa: E402

ARCHS = ("tiny", "base")
METHODS = ("full", "frozen_encoder", "lora")
SENTENCES = [
    "naka nga def", "jërëjëf waaw", "ñaata la credit bi", "dama bëgg pass internet",
    "sama telefon dafa yàqu", "fan la boutique bi nekk", "xaalis bi agsiwul", "ma ngi lay nuyu",
]  # fmt: skip


def prepare(cache: Path) -> Path:
    """A small training manifest of espeak-ng utterances (cached)."""
    from corpora.ingest import IngestOptions, ingest
    from tests.conftest import espeak
    from voice.audio import write_audio

    manifest = cache / "train.jsonl"
    if manifest.exists():
        return manifest
    audio = cache / "audio"
    for i, text in enumerate(SENTENCES):
        path = audio / f"spk{i % 2}" / f"u{i}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_audio(path, espeak(text, voice="fr"))
        path.with_suffix(".txt").write_text(text)
    ingest(
        IngestOptions(
            fmt="folder",
            src=str(audio),
            out=str(manifest),
            language="wol",
            source="synthetic",
            licence="CC0-1.0",
            split="train",
            min_duration=0.3,
        )
    )
    return manifest


def base_model(cache: Path, arch: str) -> Path:
    from voice.testing.asr_models import BASE, TINY, build_random_whisper

    path = cache / f"random-{arch}"
    if not (path / "config.json").exists():
        build_random_whisper(path, dims=TINY if arch == "tiny" else BASE)
    return path


def child(a: argparse.Namespace) -> None:
    import torch
    from transformers import TrainerCallback

    from voice.asr.finetune import FinetuneConfig, finetune

    torch.set_num_threads(a.threads)
    cache = Path(a.cache)
    out = cache / "runs" / f"{a.arch}-{a.method}"
    import shutil

    shutil.rmtree(out, ignore_errors=True)
    cfg = FinetuneConfig.model_validate(
        {
            "base_model": str(base_model(cache, a.arch)),
            "language": "wol",
            "token": {"strategy": "new", "code": "wo", "source": "fr"},
            "train_manifests": [str(prepare(cache))],
            "output_dir": str(out),
            "method": a.method,
            "training": {
                "max_steps": a.steps,
                "batch_size": a.batch,
                "learning_rate": 1e-4,
                "warmup_steps": 0,
                "eval_steps": 10_000,
                "save_steps": 10_000,
                "logging_steps": 10_000,
                "num_workers": 0,
                "gradient_checkpointing": True,
            },
        }
    )

    class StepTimer(TrainerCallback):
        """Wall time from one step's end to the next: data loading (features, augmentation) included."""

        def __init__(self):
            self.times: list[float] = []
            self._t = 0.0

        def on_train_begin(self, args, state, control, **kw):
            self._t = time.perf_counter()

        def on_step_end(self, args, state, control, **kw):
            now = time.perf_counter()
            self.times.append(now - self._t)
            self._t = now

    timer = StepTimer()
    t0 = time.perf_counter()
    final = finetune(cfg, resume=False, callbacks=[timer])
    total = time.perf_counter() - t0
    info = json.loads((final / "voice-asr.json").read_text())
    from transformers import WhisperForConditionalGeneration

    params = sum(p.numel() for p in WhisperForConditionalGeneration.from_pretrained(str(final)).parameters())
    shutil.rmtree(out, ignore_errors=True)  # prepared + final weights: hundreds of MB per run
    step = statistics.median(timer.times[1:]) if len(timer.times) > 1 else timer.times[0]
    emit_child_result(
        {
            "arch": a.arch,
            "method": a.method,
            "batch": a.batch,
            "steps": len(timer.times),
            "step_times": timer.times,
            "median_step_s": step,
            "samples_per_s": a.batch / step,
            "best_samples_per_s": a.batch / min(timer.times[1:] or timer.times),
            "first_step_s": timer.times[0],
            "total_s": total,
            "peak_rss_mb": peak_rss_mb(),
            "params_m": params / 1e6,
            "threads": a.threads,
            "train_loss": info["training"]["train_loss"],
            "torch": torch.__version__,
        }
    )


def run_child(arch: str, method: str, a: argparse.Namespace, cache: Path) -> dict:
    cmd = [
        sys.executable,
        __file__,
        "--child",
        "--arch",
        arch,
        "--method",
        method,
        "--steps",
        str(a.steps),
        "--batch",
        str(a.batch),
        "--threads",
        str(a.threads),
        "--cache",
        str(cache),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT ")), None)
    if line is None:
        raise SystemExit(f"{arch} {method} failed:\n{proc.stderr[-3000:]}")
    return json.loads(line[len("RESULT ") :])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=8, help="Training steps per run (the first is warm-up).")
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--archs", default=",".join(ARCHS))
    p.add_argument("--methods", default=",".join(METHODS))
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--arch")
    p.add_argument("--method")
    p.add_argument("--cache")
    a = p.parse_args()
    if a.child:
        child(a)
        return

    from tests.conftest import fixture_cache

    cache = fixture_cache() / "bench-finetune"
    cache.mkdir(parents=True, exist_ok=True)
    prepare(cache)
    print(f"load average at start: {os.getloadavg()} on {os.cpu_count()} CPUs (other work skews the numbers)")
    results = []
    for arch in a.archs.split(","):
        base_model(cache, arch)
        for method in a.methods.split(","):
            r = run_child(arch, method, a, cache)
            results.append(r)
            print(
                f"  {arch:5} {method:15} {r['samples_per_s']:.2f} samples/s  peak {r['peak_rss_mb']:.0f} MB",
                flush=True,
            )
    rows = [
        [
            r["arch"],
            r["method"],
            r["params_m"],
            r["batch"],
            r["median_step_s"],
            r["samples_per_s"],
            r["best_samples_per_s"],
            r["first_step_s"],
            r["peak_rss_mb"],
        ]
        for r in results
    ]
    cols = [
        "arch",
        "method",
        "params M",
        "batch",
        "median step s",
        "samples/s (median)",
        "samples/s (best step)",
        "first step s",
        "peak RSS MB",
    ]
    print_table(
        f"Whisper fine-tuning on CPU, {a.threads} threads, {a.steps} steps "
        "(gradient checkpointing, augmentation on)",
        cols,
        rows,
    )
    save_json(
        "finetune",
        {
            "results": results,
            "steps": a.steps,
            "batch": a.batch,
            "threads": a.threads,
            "load_average_at_end": os.getloadavg(),
            "cpu_count": os.cpu_count(),
        },
    )
    labels = [f"{r['arch']}\n{r['method']}" for r in results]
    plot = save_bar_plot(
        "finetune",
        labels,
        [r["samples_per_s"] for r in results],
        "training samples / s",
        f"Whisper fine-tuning on {a.threads} CPU threads (batch {a.batch})",
    )
    save_bar_plot(
        "finetune_rss",
        labels,
        [r["peak_rss_mb"] for r in results],
        "peak RSS (MB)",
        "Whisper fine-tuning: peak memory",
    )
    print(f"saved {plot}")


if __name__ == "__main__":
    main()
