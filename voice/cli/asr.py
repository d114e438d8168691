"""`voice asr finetune|eval|export|token-cost`: fine-tune Whisper for a language pack."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from voice.cli.app import app
from voice.cli.common import console, err_console, fail, print_json

asr_app = typer.Typer(help="Whisper fine-tuning, evaluation and export.", no_args_is_help=True)
app.add_typer(asr_app, name="asr")


@asr_app.command("finetune")
def finetune_cmd(
    config: Path = typer.Argument(..., help="Fine-tuning config (YAML); see corpora/configs/."),
    resume: bool = typer.Option(True, "--resume/--no-resume", help="Continue from the last checkpoint."),
    max_steps: int | None = typer.Option(None, "--max-steps", help="Override training.max_steps."),
    output_dir: Path | None = typer.Option(None, "--output-dir", "-o", help="Override output_dir."),
) -> None:
    """Fine-tune Whisper (full, frozen encoder or LoRA) on manifests; writes OUTPUT/final."""
    from voice.asr.finetune import finetune, load_config

    overrides = {}
    if max_steps is not None:
        overrides["training.max_steps"] = max_steps
    if output_dir is not None:
        overrides["output_dir"] = str(output_dir.resolve())
    cfg = load_config(config, overrides)
    final = finetune(cfg, resume=resume)
    info = json.loads((final / "voice-asr.json").read_text())
    dev = info.get("dev_eval") or {}
    err_console.print(
        f"[dim]wrote {final} · {info['training']['steps']} steps · "
        + (f"dev WER {100 * dev['wer']:.1f} CER {100 * dev['cer']:.1f}" if "wer" in dev else "no dev set")
        + "[/]",
        highlight=False,
    )


@asr_app.command("eval")
def eval_cmd(
    model: str = typer.Argument(..., help="Model: export dir, transformers dir, packaged name or hub id."),
    manifests: list[Path] = typer.Argument(..., help="Manifest(s) to score."),
    split: str = typer.Option("test", "--split", help="train | dev | test | all"),
    lang: str | None = typer.Option(None, "--lang", "-l", help="Only this language's utterances."),
    engine: str = typer.Option(
        "auto", "--engine", "-e", help="auto | faster-whisper | transformers | openai-whisper"
    ),
    clean_only: bool = typer.Option(False, "--clean-only", help="Skip the telephone-channel pass."),
    snr: float = typer.Option(20.0, "--snr", help="Line noise of the telephone pass, dB SNR."),
    limit: int | None = typer.Option(None, "--limit", help="Only the first N utterances."),
    beam: int | None = typer.Option(None, "--beam", help="Beam size (default: settings)."),
    compute_type: str | None = typer.Option(
        None, "--compute-type", help="int8 | float32 | ... (faster-whisper)."
    ),
    out: Path = typer.Option(Path("eval"), "-o", "--out", help="Directory for eval.json and eval.md."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """WER/CER after the pack's normaliser, per source and speaker, clean and telephone."""
    from voice.asr.eval import evaluate, write_results
    from voice.config import get_settings

    settings = get_settings().asr
    changes = {k: v for k, v in (("beam_size", beam), ("compute_type", compute_type)) if v is not None}
    if changes:
        settings = settings.model_copy(update=changes)
    conditions = ("clean",) if clean_only else ("clean", "telephone")
    results = evaluate(
        model,
        [str(m) for m in manifests],
        split=None if split == "all" else split,
        language=lang,
        engine=engine,
        conditions=conditions,
        limit=limit,
        settings=settings,
        telephone_snr_db=snr,
    )
    j, m = write_results(results, out)
    if as_json:
        print_json({k: v for k, v in results.items() if k != "utterance_results"})
        return
    table = Table(title=f"{Path(model).name} on {', '.join(x.name for x in manifests)} ({split})")
    for col in ("condition", "source", "utterances", "WER %", "CER %"):
        table.add_column(col)
    for cond, c in results["conditions"].items():
        for source, s in [("all", c), *c["per_source"].items()]:
            table.add_row(
                cond,
                source,
                str(s["utterances"]),
                "-" if s["wer"] is None else f"{100 * s['wer']:.1f}",
                "-" if s["cer"] is None else f"{100 * s['cer']:.1f}",
            )
    console.print(table)
    err_console.print(f"[dim]wrote {j} and {m}[/]", highlight=False)


@asr_app.command("export")
def export_cmd(
    model: Path = typer.Argument(
        ..., help="A fine-tuned transformers dir (OUTPUT/final) or LoRA adapter dir."
    ),
    out: Path = typer.Option(..., "-o", "--out", help="Export dir (CTranslate2 + model card)."),
    quantization: str = typer.Option(
        "int8", "--quantization", "-q", help="int8 | int8_float16 | float16 | float32"
    ),
    eval_json: list[Path] = typer.Option([], "--eval", help="eval.json from `voice asr eval` (repeatable)."),
    name: str | None = typer.Option(None, "--name", help="Model name in the card."),
    licence: str | None = typer.Option(
        None, "--licence", help="Licence of the weights (default from the data)."
    ),
    fragment: bool = typer.Option(False, "--fragment", help="Print the pack manifest fragment as JSON."),
) -> None:
    """CTranslate2 export for faster-whisper, with README model card and voice-asr.json."""
    from voice.asr.export import QUANTIZATIONS, export_model, pack_fragment

    if quantization not in QUANTIZATIONS:
        raise fail(f"unknown quantization {quantization!r}; choose one of {', '.join(QUANTIZATIONS)}")
    path = export_model(model, out, quantization, [str(e) for e in eval_json], name, licence)
    if fragment:
        print_json(pack_fragment(path))
    err_console.print(f"[dim]wrote {path}[/]", highlight=False)


@asr_app.command("token-cost")
def token_cost_cmd(
    files: list[Path] = typer.Argument(
        ..., help="Text files (one utterance a line), .stm transcripts or manifests."
    ),
    model: str = typer.Option("whisper-base", "--model", "-m", help="Model whose tokenizer to measure."),
    lang: str | None = typer.Option(None, "--lang", "-l", help="Normalise lines with this pack first."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Tokens per character in Whisper's tokenizer, and what ñ ŋ ë ɓ ɗ ƴ add."""
    from corpora.text import normalise
    from voice.asr.finetune.tokens import load_tokenizer_json, token_cost
    from voice.asr.models import resolve_model

    tokenizer = load_tokenizer_json(resolve_model(model).path)
    rows = []
    for f in files:
        if f.suffix == ".jsonl":
            from corpora.manifest import iter_manifest

            lines = [e.text_norm for e in iter_manifest(f)]
        elif f.suffix == ".stm":
            from corpora.recipes import read_stm
            from corpora.text import clean_transcript, tagged

            lines = []
            for u in read_stm(f):
                c = clean_transcript(u.transcript)
                lines.append(tagged(c.text, c.foreign) if lang else c.text)
        else:
            lines = f.read_text(encoding="utf-8").splitlines()
        if lang:
            lines = [normalise(x, lang) for x in lines]
        rows.append(token_cost(lines, tokenizer, f.name).as_json())
    if as_json:
        print_json(rows)
        return
    table = Table(title=f"Whisper tokenizer cost ({model})")
    for col in ("text", "lines", "chars", "tokens/char", "tokens/word", "special-letter overhead"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r["name"],
            str(r["lines"]),
            str(r["chars"]),
            f"{r['tokens_per_char']:.3f}",
            f"{r['tokens_per_word']:.3f}",
            f"{100 * r['special_letter_overhead']:.1f} %",
        )
    console.print(table)
