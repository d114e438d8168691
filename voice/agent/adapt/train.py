"""`voice agent finetune`: a LoRA adapter for gpt-oss with the published recipe (TRL + PEFT).

The OpenAI cookbook's gpt-oss-20b recipe: load the MXFP4 checkpoint dequantized
(`Mxfp4Config(dequantize=True)`), bf16, eager attention, no KV cache; LoRA r=8 alpha=16 on all
linear layers plus the MoE expert weights of layers 7, 15 and 23 (`target_parameters`); lr 2e-4,
cosine with a 10 % floor, 1 epoch, effective batch 16. On CPU the same code runs in fp32 (the
tests train the tiny gpt-oss fixture with it).

Data: the records of `voice agent data`, one sequence per agent turn, the loss on the assistant's
actions in it only (TRL's completion mask): analysis, tool calls, final answer; never the prompt
or the tool results. With `sparse_logits` the loss is computed from the
logits of those positions alone: the same value as TRL's, without materialising a 201,088-wide
row for every prompt token (the prompts are ~1,700 tokens, the actions ~70).

Resumable: checkpoints under OUTPUT/checkpoints, `--resume` continues from the last one.
Writes OUTPUT/adapter (adapter weights + config, voice-adapter.json, README.md training card).
"""

from __future__ import annotations

import json
import logging
import math
import platform
import time
from collections.abc import Callable
from pathlib import Path

from voice.agent.adapt.config import AdaptConfig
from voice.agent.adapt.records import data_fingerprint, read_split, sequence
from voice.errors import BadInputError

log = logging.getLogger(__name__)
ADAPTER_INFO = "voice-adapter.json"
STATE = "voice-train-state.json"


def is_mxfp4(base_model: str) -> bool:
    """Whether the checkpoint's weights are MXFP4 (gpt-oss as published)."""
    from transformers import AutoConfig

    try:
        config = AutoConfig.from_pretrained(base_model)
    except OSError as exc:
        raise BadInputError(
            f"cannot read the model config of {base_model}: {exc}. Offline, download it on a connected "
            "machine (huggingface-cli download openai/gpt-oss-20b --local-dir DIR) and set base_model: DIR"
        ) from exc
    q = getattr(config, "quantization_config", None) or {}
    method = q.get("quant_method") if isinstance(q, dict) else getattr(q, "quant_method", None)
    return str(method).lower().endswith("mxfp4")


def device_and_dtype(precision: str):
    import torch

    cuda = torch.cuda.is_available()
    if precision == "auto":
        precision = ("bf16" if torch.cuda.is_bf16_supported() else "fp16") if cuda else "fp32"
    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]
    return ("cuda" if cuda else "cpu"), precision, dtype


def load_base(base_model: str, dtype, device: str, for_training: bool = True):
    """The base model, MXFP4 dequantized at load when the checkpoint is MXFP4 (the recipe)."""
    from transformers import AutoModelForCausalLM

    kwargs: dict = {"dtype": dtype, "attn_implementation": "eager"}
    mxfp4 = is_mxfp4(base_model)
    if mxfp4:
        from transformers import Mxfp4Config

        kwargs["quantization_config"] = Mxfp4Config(dequantize=True)
    if for_training:
        kwargs["use_cache"] = False
    if device == "cuda":
        kwargs["device_map"] = "auto"
    model = AutoModelForCausalLM.from_pretrained(base_model, **kwargs)
    if mxfp4:  # the experts come out of dequantization in bf16, whatever the rest was loaded as
        model = model.to(dtype)
    return model, mxfp4


def lora_config(cfg: AdaptConfig, num_layers: int):
    from peft import LoraConfig

    layers = [n for n in cfg.lora.expert_layers if n < num_layers]
    skipped = [n for n in cfg.lora.expert_layers if n >= num_layers]
    if skipped:
        log.warning("the model has %d layers: no experts LoRA on layers %s", num_layers, skipped)
    params = [f"{n}.{p}" for n in layers for p in cfg.lora.expert_params]
    return LoraConfig(
        r=cfg.lora.r,
        lora_alpha=cfg.lora.alpha,
        lora_dropout=cfg.lora.dropout,
        target_modules=cfg.lora.target_modules,
        target_parameters=params or None,
        bias="none",
        task_type="CAUSAL_LM",
    )


def build_examples(
    data_dir: Path, split: str, max_length: int, limit: int | None
) -> tuple[list[dict], int, int]:
    """One token sequence per record, its turn's actions masked in: (rows, records, dropped for length)."""
    records = read_split(data_dir, split)
    rows, dropped = [], 0
    for r in records:
        seq = sequence(r)
        if len(seq.input_ids) > max_length:
            dropped += 1
            continue
        rows.append({"input_ids": seq.input_ids, "completion_mask": seq.completion_mask})
    if limit is not None and len(rows) > limit:
        import random

        rows = random.Random(0).sample(rows, limit)
    return rows, len(records), dropped


def _trainer_class():
    import torch
    from trl import SFTTrainer

    class AdapterTrainer(SFTTrainer):
        """SFTTrainer whose loss uses the logits of the completion positions only (optional)."""

        sparse_logits = True

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            if not self.sparse_logits:
                return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
            inputs.pop("_prediction_loss_only", None)
            labels = inputs["labels"]
            shifted = labels[:, 1:]
            keep = (shifted != -100).any(dim=0).nonzero().squeeze(-1)
            if keep.numel() == 0:
                keep = torch.tensor([labels.shape[1] - 2], device=labels.device)
            forward = {k: inputs[k] for k in ("input_ids", "attention_mask", "position_ids") if k in inputs}
            outputs = model(**forward, use_cache=False, logits_to_keep=keep)
            logits = outputs.logits.float()
            target = shifted[:, keep]
            loss = torch.nn.functional.cross_entropy(
                logits.reshape(-1, logits.shape[-1]), target.reshape(-1), ignore_index=-100, reduction="sum"
            )
            count = num_items_in_batch if num_items_in_batch is not None else (target != -100).sum()
            loss = loss / torch.clamp(torch.as_tensor(count, device=loss.device, dtype=loss.dtype), min=1)
            return (loss, outputs) if return_outputs else loss

    return AdapterTrainer


def _progress_callback(say: Callable[[str], None], state_path: Path):
    from transformers import TrainerCallback

    class Progress(TrainerCallback):
        def __init__(self):
            self.t0, self.step0 = time.perf_counter(), 0

        def on_train_begin(self, args, state, control, **kw):
            self.t0, self.step0 = time.perf_counter(), state.global_step

        def on_log(self, args, state, control, logs=None, **kw):
            logs = logs or {}
            if "eval_loss" in logs and not state.global_step:
                return
            done = state.global_step - self.step0
            elapsed = time.perf_counter() - self.t0
            eta = elapsed / done * (state.max_steps - state.global_step) if done else float("nan")
            parts = [f"step {state.global_step}/{state.max_steps}"]
            if "loss" in logs:
                parts.append(f"loss {logs['loss']:.4f}")
            if "eval_loss" in logs:
                parts.append(f"dev loss {logs['eval_loss']:.4f}")
            if "learning_rate" in logs:
                parts.append(f"lr {logs['learning_rate']:.2e}")
            parts.append(f"{elapsed:.0f} s" + (f", eta {eta:.0f} s" if done and math.isfinite(eta) else ""))
            say(" · ".join(parts))
            state_path.write_text(
                json.dumps({"step": state.global_step, "max_steps": state.max_steps, **logs})
            )

    return Progress()


def finetune(
    cfg: AdaptConfig,
    resume: bool = True,
    progress: Callable[[str], None] | None = None,
    callbacks: list | None = None,
) -> Path:
    """Train the adapter; returns OUTPUT/adapter."""
    import torch
    from datasets import Dataset
    from peft import get_peft_model
    from transformers import AutoTokenizer
    from transformers.trainer_utils import get_last_checkpoint
    from trl import SFTConfig

    say = progress or log.info
    t = cfg.training
    if not cfg.data_dir or not (Path(cfg.data_dir) / "train.jsonl").exists():
        raise BadInputError(
            f"no training data at {cfg.data_dir}/train.jsonl: run "
            f"`voice agent data --lang {cfg.language} -o DIR` and set data_dir: DIR"
        )
    data_dir = Path(cfg.data_dir)
    out = Path(cfg.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    train_rows, train_records, dropped = build_examples(data_dir, "train", t.max_length, t.max_train_examples)
    dev_rows, _, dev_dropped = build_examples(data_dir, "dev", t.max_length, t.max_eval_examples)
    if not train_rows:
        raise BadInputError(f"{data_dir}: no training example fits max_length {t.max_length}")
    say(f"{len(train_rows)} training examples ({dropped} too long), {len(dev_rows)} dev examples")
    device, precision, dtype = device_and_dtype(t.precision)
    try:
        tokenizer = AutoTokenizer.from_pretrained(cfg.base_model)
    except OSError as exc:
        raise BadInputError(f"cannot load the tokenizer of {cfg.base_model}: {exc}") from exc
    torch.manual_seed(t.seed)
    model, mxfp4 = load_base(cfg.base_model, dtype, device)
    lcfg = lora_config(cfg, model.config.num_hidden_layers)
    model = get_peft_model(model, lcfg)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())
    say(f"LoRA: {trainable:,} trainable of {total:,} parameters ({precision} on {device})")
    sched_kwargs = {"min_lr_rate": t.min_lr_rate} if t.lr_scheduler == "cosine_with_min_lr" else {}
    args = SFTConfig(
        output_dir=str(out / "checkpoints"),
        per_device_train_batch_size=t.batch_size,
        per_device_eval_batch_size=t.batch_size,
        gradient_accumulation_steps=t.grad_accum,
        learning_rate=t.learning_rate,
        lr_scheduler_type=t.lr_scheduler,
        lr_scheduler_kwargs=sched_kwargs,
        warmup_ratio=t.warmup_ratio,
        weight_decay=t.weight_decay,
        max_grad_norm=t.max_grad_norm,
        num_train_epochs=t.epochs,
        max_steps=t.max_steps,
        logging_steps=t.logging_steps,
        eval_strategy="steps" if dev_rows else "no",
        eval_steps=t.eval_steps,
        save_strategy="steps",
        save_steps=t.save_steps,
        save_total_limit=t.save_total_limit,
        bf16=precision == "bf16",
        fp16=precision == "fp16",
        use_cpu=device == "cpu",
        gradient_checkpointing=t.gradient_checkpointing,
        gradient_checkpointing_kwargs={"use_reentrant": False},
        max_length=t.max_length,
        packing=False,
        completion_only_loss=True,
        prediction_loss_only=True,
        report_to="none",
        seed=t.seed,
        data_seed=t.seed,
        dataloader_num_workers=0,
        disable_tqdm=True,
        save_safetensors=True,
    )
    trainer_cls = _trainer_class()
    trainer_cls.sparse_logits = t.sparse_logits
    state_path = out / STATE
    trainer = trainer_cls(
        model=model,
        args=args,
        train_dataset=Dataset.from_list(train_rows),
        eval_dataset=Dataset.from_list(dev_rows) if dev_rows else None,
        processing_class=tokenizer,
        callbacks=[_progress_callback(say, out / "progress.json"), *(callbacks or [])],
    )
    from transformers.trainer_callback import PrinterCallback

    trainer.remove_callback(PrinterCallback)  # our progress lines instead of raw dicts
    saved = json.loads(state_path.read_text()) if state_path.exists() else {}
    checkpoint = get_last_checkpoint(str(out / "checkpoints")) if (out / "checkpoints").is_dir() else None
    if checkpoint and not resume:
        raise BadInputError(f"{out} already has checkpoints; use --resume or another output_dir")
    before = saved.get("eval_loss_before")
    if dev_rows and before is None:
        before = trainer.evaluate()["eval_loss"]
        say(f"dev loss before training: {before:.4f}")
    state_path.write_text(json.dumps({"eval_loss_before": before, "started": time.time()}))
    t0 = time.perf_counter()
    if checkpoint:
        say(f"resuming from {checkpoint}")
    result = trainer.train(resume_from_checkpoint=checkpoint)
    train_s = time.perf_counter() - t0
    after = trainer.evaluate()["eval_loss"] if dev_rows else None
    if after is not None:
        say(f"dev loss after training: {after:.4f}")
    adapter = out / "adapter"
    model.save_pretrained(str(adapter), save_embedding_layers=False)  # LoRA weights only, never the base
    history = [h for h in trainer.state.log_history if "loss" in h]
    info = {
        "name": cfg.name or out.name,
        "language": cfg.language,
        "base_model": cfg.base_model,
        "base_model_id": cfg.base_model_id or (None if Path(cfg.base_model).exists() else cfg.base_model),
        "mxfp4": mxfp4,
        "licence": cfg.licence,
        "lora": {
            "r": cfg.lora.r,
            "alpha": cfg.lora.alpha,
            "dropout": cfg.lora.dropout,
            "target_modules": cfg.lora.target_modules,
            "target_parameters": list(lcfg.target_parameters or []),
        },
        "trainable_params": trainable,
        "total_params": total,
        "data": {
            "dir": str(data_dir),
            "fingerprint": data_fingerprint(data_dir),
            "train_records": train_records,
            "train_examples": len(train_rows),
            "train_tokens": sum(len(r["input_ids"]) for r in train_rows),
            "train_target_tokens": sum(sum(r["completion_mask"]) for r in train_rows),
            "dev_examples": len(dev_rows),
            "dev_dropped_too_long": dev_dropped,
        },
        "training": {
            "steps": trainer.state.global_step,
            "epochs": round(trainer.state.epoch or 0, 3),
            "effective_batch": t.batch_size * t.grad_accum,
            "learning_rate": t.learning_rate,
            "lr_scheduler": t.lr_scheduler,
            "max_length": t.max_length,
            "precision": precision,
            "device": device if device == "cpu" else torch.cuda.get_device_name(0),
            "dropped_too_long": dropped,
            "train_s": train_s,
            "samples_per_s": result.metrics.get("train_samples_per_second", 0.0),
            "loss_first": history[0]["loss"] if history else None,
            "loss_last": history[-1]["loss"] if history else None,
            "losses": [h["loss"] for h in history],
            "resumed_from": checkpoint,
            "host": platform.node(),
        },
        "eval_loss": {"before": before, "after": after},
        "versions": _versions(),
    }
    write_adapter_info(adapter, info)
    return adapter


def _versions() -> dict:
    import peft
    import torch
    import transformers
    import trl

    return {
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "peft": peft.__version__,
        "trl": trl.__version__,
    }


def write_adapter_info(adapter: Path, info: dict) -> None:
    from voice.agent.adapt.card import training_card

    (adapter / ADAPTER_INFO).write_text(json.dumps(info, indent=2, ensure_ascii=False), encoding="utf-8")
    (adapter / "README.md").write_text(training_card(info), encoding="utf-8")


def read_adapter_info(adapter: str | Path) -> dict:
    path = Path(adapter) / ADAPTER_INFO
    if not path.exists():
        raise BadInputError(f"{adapter}: not a `voice agent finetune` adapter ({ADAPTER_INFO} missing)")
    return json.loads(path.read_text(encoding="utf-8"))
