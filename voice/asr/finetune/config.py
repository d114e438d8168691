"""The fine-tuning config (YAML), validated: a wrong key fails before any model loads.

See corpora/configs/*.yaml for complete examples and docs/asr-finetune.md for the choices.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from voice.errors import BadInputError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TokenConfig(_Strict):
    """The language token; every field defaults to what the language pack declares."""

    strategy: Literal["native", "reuse", "new"] | None = None
    code: str | None = None  # the Whisper code of the token: a new one (wo) or an existing one (fr)
    source: str | None = None  # new: whose embedding the token starts from


class LoraSettings(_Strict):
    r: int = 32
    alpha: int = 64
    dropout: float = 0.05
    target_modules: list[str] = ["q_proj", "k_proj", "v_proj", "out_proj", "fc1", "fc2"]


class SpecAugment(_Strict):
    """transformers' Whisper SpecAugment (applied to log-mel features in training mode only)."""

    enabled: bool = True
    mask_time_prob: float = 0.05
    mask_time_length: int = 10
    mask_time_min_masks: int = 2
    mask_feature_prob: float = 0.05
    mask_feature_length: int = 10
    mask_feature_min_masks: int = 0


class Augment(_Strict):
    telephone_prob: float = 0.3
    telephone_snr_db: tuple[float, float] = (10.0, 35.0)
    noise_prob: float = 0.2
    noise_snr_db: tuple[float, float] = (5.0, 30.0)
    gain_db: tuple[float, float] = (-6.0, 6.0)


class Training(_Strict):
    epochs: float = 5.0
    max_steps: int = -1  # > 0 overrides epochs
    batch_size: int = 16
    eval_batch_size: int | None = None
    grad_accum: int = 1
    learning_rate: float = 1e-5
    warmup_steps: int = 500
    weight_decay: float = 0.0
    lr_scheduler: str = "linear"
    max_grad_norm: float = 1.0
    precision: Literal["auto", "fp32", "fp16", "bf16"] = "auto"
    gradient_checkpointing: bool = True
    eval_steps: int = 500
    save_steps: int | None = None  # default: eval_steps
    save_total_limit: int = 3
    logging_steps: int = 25
    max_eval_samples: int | None = 500
    generation_max_length: int = 225
    num_workers: int = 2
    seed: int = 42


class FinetuneConfig(_Strict):
    base_model: str  # transformers dir, CTranslate2 dir, packaged name (whisper-base) or hub id
    language: str  # the pack code (its normaliser scores, its manifest gives the token plan)
    token: TokenConfig = TokenConfig()
    train_manifests: list[str] = Field(min_length=1)
    eval_manifests: list[str] = []  # default: the train manifests' eval split
    train_split: str = "train"
    eval_split: str = "dev"
    output_dir: str
    method: Literal["full", "lora", "frozen_encoder"] = "full"
    lora: LoraSettings = LoraSettings()
    target: Literal["text_norm", "text"] = "text_norm"
    timestamps_prob: float = Field(0.5, ge=0.0, le=1.0)  # share of labels with segment timestamps
    # share of utterances whose features are padded the faster-whisper way (0-padded log-mel)
    fw_padding_prob: float = Field(0.5, ge=0.0, le=1.0)
    max_label_tokens: int = 448
    spec_augment: SpecAugment = SpecAugment()
    augment: Augment = Augment()
    cache_features: bool = False  # keep log-mel features in memory (only without augmentation)
    training: Training = Training()
    name: str | None = None  # model name in the card; default: the output dir's name

    @model_validator(mode="after")
    def _check(self) -> FinetuneConfig:
        if self.cache_features and (self.augment.telephone_prob > 0 or self.augment.noise_prob > 0):
            raise ValueError("cache_features needs augmentation off (augmented audio differs every epoch)")
        return self

    def resolve_paths(self, base: Path | None = None) -> FinetuneConfig:
        """Relative manifest/output/base paths are made absolute (relative to `base`, default the
        current directory: configs are run from the repository root)."""
        base = base or Path.cwd()

        def fix(p: str) -> str:
            q = Path(p).expanduser()
            return str(q if q.is_absolute() else (base / q).resolve())

        data = self.model_dump()
        data["train_manifests"] = [fix(p) for p in self.train_manifests]
        data["eval_manifests"] = [fix(p) for p in self.eval_manifests]
        data["output_dir"] = fix(self.output_dir)
        if Path(self.base_model).expanduser().exists() or self.base_model.startswith((".", "/", "~")):
            data["base_model"] = fix(self.base_model)
        return FinetuneConfig.model_validate(data)


def load_config(path: str | Path, overrides: dict | None = None) -> FinetuneConfig:
    path = Path(path)
    if not path.exists():
        raise BadInputError(f"config {path} does not exist")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise BadInputError(f"{path}: not valid YAML ({exc})") from exc
    for dotted, value in (overrides or {}).items():
        node = data
        *parents, leaf = dotted.split(".")
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value
    try:
        return FinetuneConfig.model_validate(data).resolve_paths()
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        raise BadInputError(f"{path}: {where}: {first['msg']}") from None
