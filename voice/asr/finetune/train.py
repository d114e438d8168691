"""Fine-tune Whisper with transformers' Seq2SeqTrainer: full, frozen encoder or LoRA (peft).

    from voice.asr.finetune import finetune, load_config
    final_dir = finetune(load_config("corpora/configs/wolof-small.yaml"))

Steps: load the base (transformers dir, CTranslate2 dir converted back, or hub id) -> apply the
language-token plan (insert `<|wo|>` for a new token) and save it as `OUTPUT/prepared` (so a
resumed run starts from the same vocabulary) -> train with SpecAugment, audio augmentation,
gradient checkpointing, evaluation (WER/CER after the pack's normaliser) every `eval_steps`,
checkpoints every `save_steps` -> `OUTPUT/final`: a plain transformers Whisper (LoRA merged)
plus `voice-asr.json`, the record of the token choice that inference reads.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import shutil
import time
from pathlib import Path

from corpora.manifest import read_manifests
from corpora.text import normalise, normaliser_id
from voice.asr.augment import AugmentConfig
from voice.asr.finetune.config import FinetuneConfig
from voice.asr.finetune.data import PromptIds, SpeechCollator, SpeechDataset, select
from voice.asr.finetune.tokens import LanguageTokenPlan, apply_new_token, lang_token, plan_from_pack
from voice.errors import BadInputError, ModelError

log = logging.getLogger(__name__)
MODEL_INFO = "voice-asr.json"


def _require_training_stack() -> None:
    try:
        import peft  # noqa: F401
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError as exc:
        raise ModelError(
            f"fine-tuning needs `pip install torch==2.13.0 'teranga-voice[train]'` ({exc.name} is missing)"
        ) from exc


def resolve_base(spec: str, work_dir: Path) -> Path:
    """A transformers Whisper dir for the base: as given, converted from CTranslate2, or the hub's."""
    from voice.asr.models import CT2, HF, resolve_model

    resolved = resolve_model(spec)
    if resolved.format == HF:
        return resolved.path
    if resolved.format == CT2:
        from voice.asr.ct2_reader import ct2_to_transformers

        target = work_dir / "base-from-ct2"
        if not (target / "config.json").exists():
            log.info("converting the CTranslate2 model %s to transformers", resolved.path)
            ct2_to_transformers(resolved.path, target)
        return target
    raise BadInputError(f"{spec}: an openai-whisper .pt cannot be fine-tuned here; give a transformers dir")


def token_plan(config: FinetuneConfig) -> LanguageTokenPlan:
    t = config.token
    return plan_from_pack(config.language, t.strategy, t.code, t.source)


def prepare_base(config: FinetuneConfig, plan: LanguageTokenPlan, out: Path) -> Path:
    """OUTPUT/prepared: the base with the token plan applied (built once, reused on resume)."""
    from transformers import WhisperForConditionalGeneration, WhisperProcessor

    prepared = out / "prepared"
    if (prepared / MODEL_INFO).exists():
        info = json.loads((prepared / MODEL_INFO).read_text())
        saved = {k: v for k, v in info["languages"][0].items() if k != "token_id"}
        if saved != plan.as_json():
            raise BadInputError(
                f"{prepared} was prepared for {saved}, the config now asks for {plan.as_json()}; "
                "use a new output_dir"
            )
        return prepared
    base = resolve_base(config.base_model, out)
    model = WhisperForConditionalGeneration.from_pretrained(str(base))
    processor = WhisperProcessor.from_pretrained(str(base))
    tokenizer = processor.tokenizer
    if plan.strategy == "new":
        tokenizer, insertion = apply_new_token(model, tokenizer, plan.code, plan.source)
        processor = WhisperProcessor(processor.feature_extractor, tokenizer)
        token_id = insertion.token_id
    else:
        token_id = tokenizer.convert_tokens_to_ids(plan.token)
        if token_id in (None, tokenizer.unk_token_id):
            raise BadInputError(f"{plan.token} is not in {config.base_model}'s vocabulary")
    tmp = prepared.with_name("prepared.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(str(tmp))
    processor.save_pretrained(str(tmp))
    info = {"languages": [plan.as_json() | {"token_id": token_id}], "base_model": config.base_model}
    (tmp / MODEL_INFO).write_text(json.dumps(info, indent=2))
    shutil.rmtree(prepared, ignore_errors=True)
    tmp.rename(prepared)
    return prepared


def _precision(config: FinetuneConfig) -> dict:
    import torch

    p = config.training.precision
    if p == "auto":
        if torch.cuda.is_available():
            return {"bf16": True} if torch.cuda.is_bf16_supported() else {"fp16": True}
        return {}
    return {"fp16": True} if p == "fp16" else {"bf16": True} if p == "bf16" else {}


def _data_summary(items) -> dict:
    sources: dict[str, dict] = {}
    for e, _ in items:
        s = sources.setdefault(e.source, {"utterances": 0, "hours": 0.0, "licence": e.licence})
        s["utterances"] += 1
        s["hours"] += e.duration / 3600
    for s in sources.values():
        s["hours"] = round(s["hours"], 4)
    return {
        "utterances": len(items),
        "hours": round(sum(e.duration for e, _ in items) / 3600, 4),
        "speakers": len({e.speaker for e, _ in items if e.speaker != "unknown"}),
        "sources": sources,
    }


def text_from_ids(tokenizer, ids, eot: int) -> str:
    """Text of generated/label ids: only text tokens (ids below <|endoftext|>) are decoded."""
    return tokenizer.decode([int(i) for i in ids if 0 <= int(i) < eot], skip_special_tokens=True).strip()


def make_compute_metrics(tokenizer, eot: int, language: str):
    from voice.asr.eval import error_rates

    def compute(pred) -> dict:
        preds = pred.predictions[0] if isinstance(pred.predictions, tuple) else pred.predictions
        hyps = [normalise(text_from_ids(tokenizer, p, eot), language) for p in preds]
        refs = [normalise(text_from_ids(tokenizer, lab, eot), language) for lab in pred.label_ids]
        rates = error_rates(refs, hyps)
        return {"wer": rates["wer"], "cer": rates["cer"]}

    return compute


class _ProgressCallback:
    """Drives voice.ui.progress_bar and keeps a JSONL log of every Trainer log line."""

    def __new__(cls, *args, **kwargs):
        from transformers import TrainerCallback

        class Callback(TrainerCallback):
            def __init__(self, log_file: Path):
                self.log_file = log_file
                self._cm = None
                self._bar = None

            def on_train_begin(self, args, state, control, **kw):
                from voice.ui import progress_bar

                self._cm = progress_bar("Fine-tuning", state.max_steps)
                self._bar = self._cm.__enter__()
                if state.global_step:
                    self._bar.advance(state.global_step)

            def on_step_end(self, args, state, control, **kw):
                if self._bar:
                    self._bar.advance()

            def on_log(self, args, state, control, logs=None, **kw):
                entry = {"step": state.global_step, "epoch": state.epoch, **(logs or {})}
                with self.log_file.open("a") as f:
                    f.write(json.dumps(entry) + "\n")
                if self._bar and "loss" in (logs or {}):
                    self._bar.update(description=f"Fine-tuning (loss {logs['loss']:.3f})")
                if "eval_wer" in (logs or {}):
                    log.info(
                        "step %d: eval WER %.3f CER %.3f",
                        state.global_step,
                        logs["eval_wer"],
                        logs["eval_cer"],
                    )

            def on_train_end(self, args, state, control, **kw):
                if self._cm is not None:
                    self._cm.__exit__(None, None, None)
                    self._cm = self._bar = None

        return Callback(*args, **kwargs)


def finetune(config: FinetuneConfig, resume: bool = True, callbacks: list | None = None) -> Path:
    """Train and write OUTPUT/final; returns that directory (`callbacks`: extra TrainerCallbacks)."""
    _require_training_stack()
    import torch
    from transformers import (
        PrinterCallback,
        Seq2SeqTrainer,
        Seq2SeqTrainingArguments,
        WhisperForConditionalGeneration,
        WhisperProcessor,
    )
    from transformers.trainer_utils import get_last_checkpoint

    out = Path(config.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "finetune.json").write_text(config.model_dump_json(indent=2))
    plan = token_plan(config)
    language = plan.language
    prepared = prepare_base(config, plan, out)
    torch.manual_seed(config.training.seed)
    model = WhisperForConditionalGeneration.from_pretrained(str(prepared))
    processor = WhisperProcessor.from_pretrained(str(prepared))
    tokenizer = processor.tokenizer
    ids = PromptIds.from_tokenizer(tokenizer, plan.code)

    sa = config.spec_augment
    model.config.apply_spec_augment = sa.enabled
    for name in (
        "mask_time_prob",
        "mask_time_length",
        "mask_time_min_masks",
        "mask_feature_prob",
        "mask_feature_length",
        "mask_feature_min_masks",
    ):
        setattr(model.config, name, getattr(sa, name))
    model.config.use_cache = False
    gen = model.generation_config
    gen.language, gen.task, gen.forced_decoder_ids = plan.token, "transcribe", None

    train_items = select(read_manifests(config.train_manifests), config.train_split, language)
    eval_source = read_manifests(config.eval_manifests or config.train_manifests)
    eval_items = select(eval_source, config.eval_split, language)
    if not train_items:
        raise BadInputError(
            f"no {config.train_split!r} utterances in {language} in {', '.join(config.train_manifests)}"
        )
    t = config.training
    if t.max_eval_samples and len(eval_items) > t.max_eval_samples:
        step = len(eval_items) / t.max_eval_samples
        eval_items = [eval_items[int(i * step)] for i in range(t.max_eval_samples)]
    a = config.augment
    augment_config = AugmentConfig(
        a.telephone_prob, a.telephone_snr_db, a.noise_prob, a.noise_snr_db, a.gain_db
    )
    common = {
        "feature_extractor": processor.feature_extractor,
        "tokenizer": tokenizer,
        "ids": ids,
        "target": config.target,
        "max_label_tokens": config.max_label_tokens,
        "cache_features": config.cache_features,
    }
    train_ds = SpeechDataset(
        train_items,
        train=True,
        timestamps_prob=config.timestamps_prob,
        augment_config=augment_config,
        fw_padding_prob=config.fw_padding_prob,
        **common,
    )
    eval_ds = SpeechDataset(eval_items, train=False, **common) if eval_items else None

    if config.method == "frozen_encoder":
        model.freeze_encoder()
    if config.method == "lora":
        from peft import LoraConfig, get_peft_model

        lc = config.lora
        extra = (
            {"trainable_token_indices": {"embed_tokens": [ids.language]}} if plan.strategy == "new" else {}
        )
        model = get_peft_model(
            model,
            LoraConfig(
                r=lc.r,
                lora_alpha=lc.alpha,
                lora_dropout=lc.dropout,
                target_modules=lc.target_modules,
                bias="none",
                **extra,
            ),
        )
    n_train = sum(p.numel() for p in model.parameters() if p.requires_grad)
    n_all = sum(p.numel() for p in model.parameters())
    log.info("trainable parameters: %d of %d (%.1f %%)", n_train, n_all, 100 * n_train / max(n_all, 1))

    use_cuda = torch.cuda.is_available()
    args = Seq2SeqTrainingArguments(
        output_dir=str(out),
        per_device_train_batch_size=t.batch_size,
        per_device_eval_batch_size=t.eval_batch_size or t.batch_size,
        gradient_accumulation_steps=t.grad_accum,
        learning_rate=t.learning_rate,
        warmup_steps=t.warmup_steps,
        weight_decay=t.weight_decay,
        lr_scheduler_type=t.lr_scheduler,
        max_grad_norm=t.max_grad_norm,
        num_train_epochs=t.epochs,
        max_steps=t.max_steps,
        gradient_checkpointing=t.gradient_checkpointing,
        gradient_checkpointing_kwargs={"use_reentrant": False} if t.gradient_checkpointing else None,
        eval_strategy="steps" if eval_ds is not None else "no",
        eval_steps=t.eval_steps,
        save_strategy="steps",
        save_steps=t.save_steps or t.eval_steps,
        save_total_limit=t.save_total_limit,
        logging_steps=t.logging_steps,
        predict_with_generate=True,
        generation_max_length=t.generation_max_length,
        generation_num_beams=1,
        dataloader_num_workers=t.num_workers,
        remove_unused_columns=False,
        label_names=["labels"],
        report_to=[],
        disable_tqdm=True,
        seed=t.seed,
        use_cpu=not use_cuda,
        load_best_model_at_end=False,
        **_precision(config),
    )
    trainer = Seq2SeqTrainer(
        model=model,
        args=args,
        train_dataset=train_ds,
        eval_dataset=eval_ds,
        data_collator=SpeechCollator(),
        compute_metrics=make_compute_metrics(tokenizer, ids.eot, language) if eval_ds is not None else None,
        callbacks=[_ProgressCallback(out / "train_log.jsonl"), *(callbacks or [])],
    )
    trainer.remove_callback(PrinterCallback)  # our callback logs; no raw dicts on stdout
    last = get_last_checkpoint(str(out)) if resume else None
    if last:
        log.info("resuming from %s", last)
    started = time.monotonic()
    result = trainer.train(resume_from_checkpoint=last)
    runtime = time.monotonic() - started
    metrics = trainer.evaluate() if eval_ds is not None else {}

    if config.method == "lora":
        trainer.model.save_pretrained(str(out / "adapter"))
        model = trainer.model.merge_and_unload()
    else:
        model = trainer.model
    model.config.use_cache = True
    model.config.apply_spec_augment = False
    final = out / "final"
    tmp = out / "final.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(str(tmp))
    processor.save_pretrained(str(tmp))
    info = {
        "format": 1,
        "name": config.name or out.name,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "languages": [plan.as_json() | {"token_id": ids.language}],
        "base_model": config.base_model,
        "method": config.method,
        "target": config.target,
        "normaliser": normaliser_id(language),
        "data": {"train": _data_summary(train_items), "eval": _data_summary(eval_items)},
        "training": {
            "steps": result.global_step,
            "epochs": round(float(trainer.state.epoch or 0), 3),
            "train_loss": round(float(result.training_loss), 4)
            if not math.isnan(result.training_loss)
            else None,
            "runtime_s": round(runtime, 1),
            "device": "cuda" if use_cuda else "cpu",
            "learning_rate": t.learning_rate,
            "batch_size": t.batch_size * t.grad_accum,
            "timestamps_prob": config.timestamps_prob,
            "fw_padding_prob": config.fw_padding_prob,
            "spec_augment": sa.model_dump(),
            "augment": a.model_dump(),
            "lora": config.lora.model_dump() if config.method == "lora" else None,
        },
        "dev_eval": {
            k.removeprefix("eval_"): v
            for k, v in metrics.items()
            if k in ("eval_wer", "eval_cer", "eval_loss")
        },
    }
    (tmp / MODEL_INFO).write_text(json.dumps(info, indent=2, ensure_ascii=False))
    shutil.rmtree(final, ignore_errors=True)
    tmp.rename(final)
    return final


def model_info(model_dir: str | Path) -> dict:
    path = Path(model_dir) / MODEL_INFO
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


__all__ = ["finetune", "lang_token", "model_info", "prepare_base", "resolve_base", "token_plan"]
