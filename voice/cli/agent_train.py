"""`voice agent data|finetune|export|eval|distill`: adapt the agent's LLM to a language."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from voice.cli.app import app
from voice.cli.common import console, err_console, fail, print_json

agent_app = typer.Typer(
    help="Adapt the agent's LLM (gpt-oss) to a language: data, finetune, export, eval, distill.",
    no_args_is_help=True,
)
app.add_typer(agent_app, name="agent")


def _say(message: str) -> None:
    err_console.print(f"[dim]{message}[/]", highlight=False)


def _print_table(title: str, report: dict) -> None:
    from voice.agent.adapt.evaluate import table_rows

    header, rows = table_rows(report)
    table = Table(title=title)
    for col in header:
        table.add_column(col)
    for row in rows:
        table.add_row(*row)
    console.print(table)


def _data_options(lang: str, config: Path | None):
    from voice.agent.adapt.config import default_data_options, load_config

    if config is not None:
        cfg = load_config(config, resolve=False)
        if cfg.language != lang:
            raise fail(f"{config} is for language {cfg.language}, not {lang}")
        return cfg.data, config
    return default_data_options(lang)


@agent_app.command("data")
def data_cmd(
    lang: str = typer.Option(..., "--lang", "-l", help="Pack code (wol, fuc, ...)."),
    out: Path = typer.Option(..., "-o", "--out", help="Directory for train/dev/test.jsonl and card.md."),
    config: Path | None = typer.Option(
        None, "--config", "-c", help="Adaptation config (default corpora/configs/agent-<lang>.yaml if any)."
    ),
    stored_db: str | None = typer.Option(
        None, "--stored-db", help="Database URL with the operator's stored calls and conversations."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the counts as JSON."),
) -> None:
    """Supervised conversations in harmony form from the pack, tool templates and stored calls."""
    from voice.agent.adapt.builder import build_dataset
    from voice.packs import get_pack

    pack = get_pack(lang)
    options, path = _data_options(pack.code, config)
    result = build_dataset(pack, out, options, path, stored_db, progress=_say)
    if as_json:
        print_json({"out": str(out), "counts": result.counts})
        return
    c = result.counts
    table = Table(title=f"voice agent data: {pack.code} -> {out}")
    for col in ("split", "dialogues", "turns"):
        table.add_column(col)
    for split in ("train", "dev", "test"):
        table.add_row(
            split,
            str(c["dialogues_per_split"].get(split, 0)),
            str(c["splits"].get(split, {}).get("records", 0)),
        )
    console.print(table)
    _say(f"card: {result.card}")


@agent_app.command("finetune")
def finetune_cmd(
    config: Path = typer.Argument(..., help="Adaptation config (YAML); see corpora/configs/agent-*.yaml."),
    resume: bool = typer.Option(True, "--resume/--no-resume", help="Continue from the last checkpoint."),
    max_steps: int | None = typer.Option(None, "--max-steps", help="Override training.max_steps."),
    output_dir: Path | None = typer.Option(None, "--output-dir", "-o", help="Override output_dir."),
    data_dir: Path | None = typer.Option(None, "--data", help="Override data_dir."),
    base_model: str | None = typer.Option(None, "--base-model", help="Override base_model."),
) -> None:
    """LoRA fine-tuning of gpt-oss (TRL SFTTrainer + PEFT, the published recipe); writes OUTPUT/adapter."""
    from voice.agent.adapt.config import load_config
    from voice.agent.adapt.train import finetune, read_adapter_info

    overrides: dict = {}
    if max_steps is not None:
        overrides["training.max_steps"] = max_steps
    if output_dir is not None:
        overrides["output_dir"] = str(output_dir.resolve())
    if data_dir is not None:
        overrides["data_dir"] = str(data_dir.resolve())
    if base_model is not None:
        overrides["base_model"] = base_model
    cfg = load_config(config, overrides)
    adapter = finetune(cfg, resume=resume, progress=_say)
    info = read_adapter_info(adapter)
    ev = info["eval_loss"]
    _say(
        f"wrote {adapter} · {info['training']['steps']} steps"
        + (f" · dev loss {ev['before']:.3f} -> {ev['after']:.3f}" if ev.get("after") is not None else "")
    )


@agent_app.command("export")
def export_cmd(
    adapter: Path = typer.Argument(..., help="An adapter dir written by `voice agent finetune`."),
    out: Path = typer.Option(..., "-o", "--out", help="Directory for the merged checkpoint (and the GGUF)."),
    base_model: str | None = typer.Option(None, "--base-model", help="Base model (default: the adapter's)."),
    gguf: bool = typer.Option(True, "--gguf/--no-gguf", help="Also convert to GGUF for llama.cpp."),
    outtype: str = typer.Option("f16", "--outtype", help="GGUF tensor type: f32 | f16 | bf16 | q8_0."),
    fragment: bool = typer.Option(False, "--fragment", help="Print the pack manifest fragment as JSON."),
) -> None:
    """Merge the LoRA into its base (transformers) and convert to GGUF (llama.cpp's converter)."""
    from voice.agent.adapt.export import GGUF_TYPES, merge_adapter, pack_fragment
    from voice.agent.gguf import convert_hf_to_gguf

    if outtype not in GGUF_TYPES:
        raise fail(f"unknown GGUF type {outtype!r}; choose one of {', '.join(GGUF_TYPES)}")
    merged = merge_adapter(adapter, out / "merged", base_model)
    _say(f"merged into {merged}")
    if gguf:
        path = convert_hf_to_gguf(merged, out / f"model-{outtype}.gguf", outtype=outtype)
        _say(f"wrote {path}")
    if fragment:
        print_json(pack_fragment(adapter))


@agent_app.command("eval")
def eval_cmd(
    models: list[str] = typer.Argument(
        ...,
        help="faq | a gpt-oss dir | an adapter dir | a .gguf file | an OpenAI-compatible URL (several: one "
        "table).",
    ),
    lang: str = typer.Option(..., "--lang", "-l", help="Pack code."),
    adapter: Path | None = typer.Option(
        None, "--adapter", help="LoRA adapter for the gpt-oss dir(s): both base and adapted are scored."
    ),
    no_base: bool = typer.Option(False, "--no-base", help="With --adapter: skip the base model's row."),
    data: Path | None = typer.Option(
        None, "--data", help="A `voice agent data` dir (its test split); default: built from the pack."
    ),
    config: Path | None = typer.Option(
        None, "--config", "-c", help="Adaptation config for building the data."
    ),
    model_name: str | None = typer.Option(
        None, "--model-name", help="Model name for an OpenAI-compatible URL."
    ),
    limit: int | None = typer.Option(None, "--limit", help="Only the first N held-out dialogues."),
    max_tokens: int = typer.Option(400, "--max-tokens", help="Generation budget per model round."),
    threads: int | None = typer.Option(None, "--threads", help="CPU threads for in-process models."),
    out: Path = typer.Option(Path("eval/agent"), "-o", "--out", help="Directory for eval.json and eval.md."),
    write_manifest: bool = typer.Option(
        False, "--write-manifest", help="Write the results into the pack's manifest (source checkout)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the summaries as JSON."),
) -> None:
    """Held-out dialogues through the real agent: task success, language fidelity, orthography,
    speakability, hand-off and hallucination probes; one table for all models."""
    from voice.agent.adapt.evaluate import EvalOptions, eval_results, evaluate, parse_model, write_report
    from voice.agent.adapt.evaluate import write_manifest as write_pack_manifest
    from voice.packs import get_pack

    pack = get_pack(lang)
    specs = []
    for m in models:
        spec = parse_model(m, model_name=model_name)
        if adapter is not None and spec.kind == "harmony" and spec.adapter is None:
            if not no_base:
                specs.append(spec)
            specs.append(parse_model(m, str(adapter), model_name))
        else:
            specs.append(spec)
    if data is None:
        from voice.agent.adapt.builder import build_dataset

        data = out / "heldout-data"
        if not (data / "test.jsonl").exists():
            options, path = _data_options(pack.code, config)
            build_dataset(pack, data, options, path, progress=_say)
    options = EvalOptions(max_tokens=max_tokens, limit=limit, threads=threads)
    report = evaluate(pack, specs, data, options, progress=_say)
    j, md = write_report(report, out)
    if adapter is not None:
        from voice.agent.adapt.export import save_eval

        adapted = [s for s in specs if s.adapter]
        for s in adapted:
            save_eval(s.adapter, eval_results(report, s.label, pack.manifest.normaliser_version))
    if write_manifest:
        path = write_pack_manifest(pack, report)
        _say(f"wrote the eval section of {path}")
    if as_json:
        print_json(
            {"test_set": report["test_set"], "models": {m["label"]: m["summary"] for m in report["models"]}}
        )
        return
    _print_table(
        f"voice agent eval: {pack.code}, {report['dialogues']} dialogues ({report['test_set']})", report
    )
    _say(f"wrote {j} and {md}")


@agent_app.command("distill")
def distill_cmd(
    teacher: str = typer.Argument(
        ..., help="faq | gpt-oss dir | adapter dir | .gguf | OpenAI-compatible URL."
    ),
    student: str = typer.Option(..., "--student", help="The student: a local gpt-oss (transformers) dir."),
    lang: str = typer.Option(..., "--lang", "-l", help="Pack code."),
    data: Path = typer.Option(
        ..., "--data", help="A `voice agent data` dir: its prompts, and its test split."
    ),
    out: Path = typer.Option(..., "-o", "--out", help="Output: data/, student/, eval/."),
    config: Path | None = typer.Option(None, "--config", "-c", help="Adaptation config (LoRA and training)."),
    teacher_adapter: Path | None = typer.Option(
        None, "--teacher-adapter", help="LoRA adapter for the teacher."
    ),
    model_name: str | None = typer.Option(None, "--model-name", help="Model name for a teacher URL."),
    max_steps: int | None = typer.Option(None, "--max-steps", help="Override training.max_steps."),
    max_tokens: int = typer.Option(400, "--max-tokens", help="Generation budget per model round."),
    limit: int | None = typer.Option(None, "--limit", help="Only the first N dialogues per split."),
) -> None:
    """Teacher answers the data builder's prompts; the student learns them; both are evaluated."""
    from voice.agent.adapt.config import AdaptConfig, load_config
    from voice.agent.adapt.distill import distill
    from voice.agent.adapt.evaluate import EvalOptions, parse_model
    from voice.packs import get_pack

    pack = get_pack(lang)
    overrides = {"base_model": student}
    if max_steps is not None:
        overrides["training.max_steps"] = max_steps
    if config is not None:
        cfg = load_config(config, overrides)
    else:
        cfg = AdaptConfig.model_validate({"language": pack.code, "base_model": student}).resolve_paths()
        if max_steps is not None:
            cfg.training.max_steps = max_steps
    spec = parse_model(teacher, str(teacher_adapter) if teacher_adapter else None, model_name)
    report = distill(
        pack,
        spec,
        cfg,
        data,
        out,
        EvalOptions(max_tokens=max_tokens, limit=limit),
        progress=_say,
        limit=limit,
    )
    _print_table(f"voice agent distill: {pack.code}, {report['dialogues']} held-out dialogues", report)
    _say(json.dumps(report["distill"]["teacher_data"]))
