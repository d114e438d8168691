"""Agent adaptation benchmark on this CPU: LoRA training speed and memory, evaluation throughput.

    ./dev bench adapt            (or: .venv/bin/python bench/adapt.py --steps 8)

Training: the tiny gpt-oss fixture (2 layers, 26 M parameters, gpt-oss's real 201,088-token
vocabulary) fine-tuned with the real path (`voice.agent.adapt.train.finetune`: TRL SFTTrainer +
PEFT LoRA on all linear layers and both layers' experts) on Wolof records of `voice agent data`
(prompts ~1,700 tokens: the agent's own grounding prompt), batch 2, fp32. Twice: with the loss
from the completion positions' logits only (`sparse_logits`, the default) and with TRL's full
logits. Step time is the wall time between step ends; the first step is warm-up; samples/s is
the batch over the median step. Each run is its own process, so peak RSS is its own.

Evaluation: `voice agent eval` on the same held-out Wolof dialogues for each backend: the FAQ
route, the fixture in-process (transformers), the fixture + the adapter trained above, the
fixture's GGUF in llama.cpp, and a real llama-server when its binary is built. Dialogues/s is
the whole dialogue through the agent (tools, routing, scoring), generation capped at 96 tokens.
What a GPU run of gpt-oss-20b costs is in docs/agent-adaptation.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import emit_child_result, peak_rss_mb, print_table, save_bar_plot, save_json  # noqa: E402

TRAIN_MODES = ("sparse_logits", "full_logits")
BACKENDS = ("faq", "harmony", "harmony+adapter", "llamacpp", "llama-server")
HELDOUT = 8


def cache() -> Path:
    from tests.conftest import fixture_cache

    root = fixture_cache() / "bench-adapt"
    root.mkdir(parents=True, exist_ok=True)
    return root


def data_dir() -> Path:
    """Wolof dialogue data (built once): phrase and FAQ turns for training, held-out dialogues."""
    from voice.agent.adapt.builder import build_dataset
    from voice.agent.adapt.config import default_data_options
    from voice.agent.adapt.records import dialogues, read_split, write_jsonl
    from voice.packs import get_pack

    root = cache() / "data"
    if (root / "done").exists():
        return root
    full = cache() / "full"
    options, path = default_data_options("wol")
    build_dataset(get_pack("wol"), full, options, path)
    train = [r for r in read_split(full, "train") if r.kind in ("phrase", "faq")][:32]
    write_jsonl(root / "train.jsonl", train)
    held = [r for d in dialogues(read_split(full, "test"))[:HELDOUT] for r in d]
    write_jsonl(root / "test.jsonl", held)
    (root / "done").write_text("ok")
    return root


def train_child(mode: str, steps: int) -> None:
    from transformers import TrainerCallback

    from tests.agent_fixtures import tiny_gpt_oss_paths
    from voice.agent.adapt.config import AdaptConfig
    from voice.agent.adapt.records import examples, read_split
    from voice.agent.adapt.train import finetune

    ends: list[float] = []

    class Timer(TrainerCallback):
        def on_step_end(self, args, state, control, **kw):
            ends.append(time.perf_counter())

    base = tiny_gpt_oss_paths()["hf"]
    train = read_split(data_dir(), "train")
    out = cache() / f"run-{mode}"
    shutil.rmtree(out, ignore_errors=True)
    cfg = AdaptConfig.model_validate(
        {
            "language": "wol",
            "base_model": str(base),
            "data_dir": str(data_dir()),
            "output_dir": str(out),
            "lora": {"r": 32, "alpha": 64, "target_modules": "all-linear", "expert_layers": [0, 1]},
            "training": {
                "max_steps": steps,
                "batch_size": 2,
                "grad_accum": 1,
                "learning_rate": 2e-3,
                "gradient_checkpointing": False,
                "sparse_logits": mode == "sparse_logits",
                "save_steps": 10_000,
                "eval_steps": 10_000,
                "max_length": 2560,
            },
        }
    )
    t0 = time.perf_counter()
    adapter = finetune(cfg, progress=lambda _m: None, callbacks=[Timer()])
    total = time.perf_counter() - t0
    steps_s = [b - a for a, b in zip(ends, ends[1:], strict=False)]
    info = json.loads((adapter / "voice-adapter.json").read_text())
    if mode == "sparse_logits":
        shutil.copytree(adapter, cache() / "adapter", dirs_exist_ok=True)
    emit_child_result(
        {
            "mode": mode,
            "steps": steps,
            "batch": 2,
            "step_s": statistics.median(steps_s),
            "samples_per_s": 2 / statistics.median(steps_s),
            "tokens_per_example": round(
                statistics.mean(len(e.input_ids) for r in train for e in examples(r))
            ),
            "total_s": total,
            "peak_rss_mb": peak_rss_mb(),
            "loss_first": info["training"]["loss_first"],
            "loss_last": info["training"]["loss_last"],
        }
    )


def eval_child(backend: str) -> None:
    from tests.agent_fixtures import tiny_gpt_oss_paths
    from voice.agent.adapt.evaluate import EvalOptions, ModelSpec, evaluate
    from voice.packs import get_pack

    paths = tiny_gpt_oss_paths()
    server = None
    if backend == "faq":
        spec = ModelSpec("faq", "faq")
    elif backend == "harmony":
        spec = ModelSpec("tiny", "harmony", str(paths["hf"]))
    elif backend == "harmony+adapter":
        spec = ModelSpec("tiny+adapter", "harmony", str(paths["hf"]), str(cache() / "adapter"))
    elif backend == "llamacpp":
        spec = ModelSpec("tiny.gguf", "gguf", str(paths["gguf"]))
    else:
        from tests.agent_fixtures import start_llama_server
        from voice.testing.llama_server import build_llama_server

        server = start_llama_server(build_llama_server(), paths["gguf"], cache())
        spec = ModelSpec("llama-server", "openai", server.url, model_name="tiny")
    try:
        report = evaluate(get_pack("wol"), [spec], data_dir(), EvalOptions(max_tokens=96, threads=2))
    finally:
        if server is not None:
            server.stop()
    s = report["models"][0]["summary"]
    emit_child_result(
        {
            "backend": backend,
            "dialogues": s["dialogues"],
            "turns": s["turns"],
            "seconds": s["seconds"],
            "dialogues_per_s": s["dialogues_per_s"],
            "task_success": s["task_success"],
            "peak_rss_mb": peak_rss_mb(),
        }
    )


def run_child(args: list[str]) -> dict | None:
    proc = subprocess.run(
        [sys.executable, __file__, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    sys.stderr.write(proc.stderr[-3000:])
    return None


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--steps", type=int, default=8)
    p.add_argument("--child", choices=["train", "eval"])
    p.add_argument("--mode")
    p.add_argument("--backend")
    a = p.parse_args()
    if a.child == "train":
        return train_child(a.mode, a.steps)
    if a.child == "eval":
        return eval_child(a.backend)
    from voice.testing.llama_server import LlamaBuildError, build_llama_server

    data_dir()
    train_rows = [
        r for m in TRAIN_MODES if (r := run_child(["--child", "train", "--mode", m, "--steps", str(a.steps)]))
    ]
    backends = list(BACKENDS)
    try:
        build_llama_server()
    except LlamaBuildError as exc:
        print(f"llama-server skipped: {exc}")
        backends.remove("llama-server")
    eval_rows = [r for b in backends if (r := run_child(["--child", "eval", "--backend", b]))]
    print_table(
        "LoRA fine-tuning, tiny gpt-oss (2 layers, 201k vocabulary), Wolof prompts, batch 2, CPU fp32",
        ["loss from", "tokens/example", "s/step", "samples/s", "peak RSS MB", "loss first → last"],
        [
            [
                r["mode"],
                r["tokens_per_example"],
                r["step_s"],
                r["samples_per_s"],
                round(r["peak_rss_mb"]),
                f"{r['loss_first']:.2f} → {r['loss_last']:.2f}",
            ]
            for r in train_rows
        ],
    )
    print_table(
        f"voice agent eval throughput, {HELDOUT} held-out Wolof dialogues, max 96 tokens",
        ["backend", "dialogues", "turns", "seconds", "dialogues/s", "task success", "peak RSS MB"],
        [
            [
                r["backend"],
                r["dialogues"],
                r["turns"],
                r["seconds"],
                r["dialogues_per_s"],
                r["task_success"],
                round(r["peak_rss_mb"]),
            ]
            for r in eval_rows
        ],
    )
    path = save_json("adapt", {"train": train_rows, "eval": eval_rows, "cpu_count": os.cpu_count()})
    save_bar_plot(
        "adapt_eval",
        [r["backend"] for r in eval_rows],
        [r["dialogues_per_s"] for r in eval_rows],
        "dialogues / s",
        "voice agent eval throughput (this CPU)",
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
