"""The adaptation config (YAML): data options for `voice agent data`, the LoRA recipe and training
settings for `voice agent finetune`. Validated up front: a wrong key fails before any model loads.

One file per language (corpora/configs/agent-<code>.yaml). `voice agent data` reads only its
`data` section (and works without any config); `voice agent finetune` reads the rest.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from voice.errors import BadInputError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DataOptions(_Strict):
    """How `voice agent data` assembles the conversations."""

    # The assistant's reasoning (analysis channel), per situation, in the pack's language.
    # Keys: see voice.agent.adapt.analysis.DEFAULT_ANALYSIS; missing keys fall back to English.
    analysis: dict[str, str] = {}
    analysis_language: str | None = None  # the language the templates are written in (pack code)
    # Questions neither the knowledge base nor a tool can answer (hallucination probes), in the
    # language; the gold answer is the pack's dont_know phrase (I don't know + offer a human).
    probes: list[str] = []
    code_switch: bool = True  # add a French code-switched variant of each utterance (glossary)
    greeting_prefix_share: float = Field(0.25, ge=0.0, le=1.0)  # dialogues opened by a greeting first
    dev_share: float = Field(0.1, ge=0.0, lt=0.5)
    test_share: float = Field(0.15, ge=0.0, lt=0.5)
    probe_test_share: float = Field(0.5, ge=0.0, le=1.0)
    kb_entries: int = 3  # as AgentSettings.kb_entries: what the agent retrieves into its prompt
    reasoning_effort: Literal["low", "medium", "high"] = "low"
    seed: int = 13
    stored_db: str | None = None  # a database URL with the operator's calls/conversations
    stored_max_dialogues: int | None = None
    # a stored turn becomes a target only when the FAQ route understood it at least this well
    stored_min_confidence: float = Field(0.5, ge=0.0, le=1.0)
    extra_names: list[str] = []  # names the anonymiser must mask besides the built-in list


class LoraSettings(_Strict):
    """The published gpt-oss recipe: r=8, alpha=16, all linear layers + the experts of 7/15/23."""

    r: int = 8
    alpha: int = 16
    dropout: float = 0.0
    target_modules: str | list[str] = "all-linear"
    expert_layers: list[int] = [7, 15, 23]  # layers whose MoE expert weights get LoRA too
    expert_params: list[str] = ["mlp.experts.gate_up_proj", "mlp.experts.down_proj"]


class Training(_Strict):
    epochs: float = 1.0
    max_steps: int = -1  # > 0 overrides epochs
    batch_size: int = 4
    grad_accum: int = 4  # effective batch 16, as in the recipe
    learning_rate: float = 2e-4
    lr_scheduler: str = "cosine_with_min_lr"
    min_lr_rate: float = 0.1
    warmup_ratio: float = 0.03
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    max_length: int = 2048  # examples longer than this are dropped (counted), never truncated
    precision: Literal["auto", "fp32", "bf16", "fp16"] = "auto"  # auto: bf16 on GPU, fp32 on CPU
    gradient_checkpointing: bool = True
    sparse_logits: bool = True  # logits only where a loss is taken (201k-wide vocabulary)
    logging_steps: int = 1
    eval_steps: int = 50
    save_steps: int = 50
    save_total_limit: int = 2
    max_eval_examples: int | None = 200
    max_train_examples: int | None = None
    seed: int = 42


class AdaptConfig(_Strict):
    name: str | None = None  # the adapter's name in its card; default: the output dir's name
    language: str  # pack code
    base_model: str = "openai/gpt-oss-20b"  # a local transformers dir or a hub id
    base_model_id: str | None = None  # the hub id a local base_model is a copy of (for pack manifests)
    data_dir: str | None = None  # the output of `voice agent data` (train.jsonl, dev.jsonl)
    output_dir: str = "runs/agent"
    licence: str = "Apache-2.0"  # gpt-oss-20b's licence; the adapter inherits it plus the data's
    data: DataOptions = DataOptions()
    lora: LoraSettings = LoraSettings()
    training: Training = Training()

    def resolve_paths(self, base: Path | None = None) -> AdaptConfig:
        base = base or Path.cwd()

        def fix(p: str) -> str:
            q = Path(p).expanduser()
            return str(q if q.is_absolute() else (base / q).resolve())

        data = self.model_dump()
        data["output_dir"] = fix(self.output_dir)
        if self.data_dir:
            data["data_dir"] = fix(self.data_dir)
        if Path(self.base_model).expanduser().exists() or self.base_model.startswith((".", "/", "~")):
            data["base_model"] = fix(self.base_model)
        return AdaptConfig.model_validate(data)


def _apply_overrides(data: dict, overrides: dict | None) -> dict:
    for dotted, value in (overrides or {}).items():
        node = data
        *parents, leaf = dotted.split(".")
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value
    return data


def load_config(path: str | Path, overrides: dict | None = None, resolve: bool = True) -> AdaptConfig:
    path = Path(path)
    if not path.exists():
        raise BadInputError(f"config {path} does not exist")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise BadInputError(f"{path}: not valid YAML ({exc})") from exc
    data = _apply_overrides(data, overrides)
    try:
        cfg = AdaptConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        raise BadInputError(f"{path}: {where}: {first['msg']}") from None
    return cfg.resolve_paths() if resolve else cfg


def config_dirs() -> list[Path]:
    """Where `agent-<code>.yaml` is looked for: ./corpora/configs, then the source checkout's."""
    here = Path(__file__).resolve().parents[3] / "corpora" / "configs"
    out = [Path.cwd() / "corpora" / "configs"]
    if here not in out:
        out.append(here)
    return out


def default_data_options(code: str) -> tuple[DataOptions, Path | None]:
    """The data section of corpora/configs/agent-<code>.yaml when there is one, else defaults."""
    for d in config_dirs():
        path = d / f"agent-{code}.yaml"
        if path.is_file():
            return load_config(path, resolve=False).data, path
    return DataOptions(), None
