"""`voice corpus ingest|stats|card`: speech corpora -> manifests -> data cards."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from voice.cli.app import app
from voice.cli.common import console, err_console, fail, print_json

corpus_app = typer.Typer(
    help="Speech corpora: ingest sources into manifests, stats, data cards.", no_args_is_help=True
)
app.add_typer(corpus_app, name="corpus")

FORMATS = ("kaldi", "stm", "hf", "folder")
SPLIT_MODES = ("auto", "speaker", "keep", "train", "dev", "test")


@corpus_app.command("ingest")
def ingest_cmd(
    src: str = typer.Argument(
        ..., help="Source: a Kaldi data dir, STM file/dir, dataset dir or hub id, or folder."
    ),
    fmt: str = typer.Option(..., "--format", "-f", help="kaldi | stm | hf | folder"),
    out: Path = typer.Option(..., "-o", "--out", help="Manifest to write (JSON Lines)."),
    lang: str | None = typer.Option(
        None, "--lang", "-l", help="Language of the source (wol, fuc, fra, ...)."
    ),
    source: str | None = typer.Option(None, "--source", help="Source name (kallaama, fleurs, alffa, ...)."),
    licence: str | None = typer.Option(None, "--licence", help="Licence (default: known for the source)."),
    split: str = typer.Option("auto", "--split", help="auto | speaker | keep | train | dev | test"),
    dev: float = typer.Option(0.1, "--dev", help="Dev share of the duration (speaker split)."),
    test: float = typer.Option(0.1, "--test", help="Test share of the duration (speaker split)."),
    seed: int = typer.Option(0, "--seed"),
    group_by: str = typer.Option("speaker", "--group-by", help="speaker | recording"),
    min_duration: float = typer.Option(0.5, "--min-duration", help="Seconds."),
    max_duration: float = typer.Option(30.0, "--max-duration", help="Seconds (Whisper windows are 30 s)."),
    max_cps: float = typer.Option(25.0, "--max-cps", help="Most characters per second of speech."),
    keep_unintelligible: bool = typer.Option(
        False, "--keep-unintelligible", help="Keep utterances whose transcript marks unheard words (*)."
    ),
    no_dedup: bool = typer.Option(False, "--no-dedup", help="Keep duplicates."),
    audio_dir: list[Path] = typer.Option([], "--audio-dir", help="Where the audio files are (repeatable)."),
    audio_out: Path | None = typer.Option(None, "--audio-out", help="Where extracted/cut audio goes."),
    cut: bool = typer.Option(False, "--cut", help="Write each utterance as its own 16 kHz wav."),
    missing_audio: str = typer.Option("error", "--missing-audio", help="error | skip"),
    hf_config: str | None = typer.Option(None, "--hf-config", help="Dataset config (e.g. wo_sn)."),
    hf_split: list[str] = typer.Option([], "--hf-split", help="Only these dataset splits (repeatable)."),
    text_column: str | None = typer.Option(None, "--text-column"),
    speaker_column: str | None = typer.Option(None, "--speaker-column"),
    gender_column: str | None = typer.Option(None, "--gender-column"),
    as_json: bool = typer.Option(False, "--json", help="Print the ingest report as JSON."),
) -> None:
    """Read a source into a manifest: clean, normalise, filter, dedup, speaker-disjoint splits."""
    from corpora.ingest import IngestOptions, ingest

    if fmt not in FORMATS:
        raise fail(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if split not in SPLIT_MODES:
        raise fail(f"unknown split mode {split!r}; choose one of {', '.join(SPLIT_MODES)}")
    if group_by not in ("speaker", "recording"):
        raise fail("--group-by is speaker or recording")
    if missing_audio not in ("error", "skip"):
        raise fail("--missing-audio is error or skip")
    if not (0 <= dev < 1 and 0 <= test < 1 and dev + test < 1):
        raise fail("--dev and --test are shares between 0 and 1 that leave some training data")
    report = ingest(
        IngestOptions(
            fmt=fmt,
            src=src,
            out=str(out),
            language=lang,
            source=source,
            licence=licence,
            split=split,
            dev=dev,
            test=test,
            seed=seed,
            group_by=group_by,
            min_duration=min_duration,
            max_duration=max_duration,
            max_chars_per_second=max_cps,
            keep_unintelligible=keep_unintelligible,
            dedup=not no_dedup,
            audio_dirs=[str(d) for d in audio_dir],
            audio_out=str(audio_out) if audio_out else None,
            cut=cut,
            missing_audio=missing_audio,
            hf_config=hf_config,
            hf_splits=list(hf_split) or None,
            text_column=text_column,
            speaker_column=speaker_column,
            gender_column=gender_column,
        )
    )
    if as_json:
        print_json(report)
        return
    err_console.print(
        f"[dim]{report['written']} of {report['read']} utterances written to {report['manifest']} "
        f"(split: {report['split']['mode']})[/]",
        highlight=False,
    )
    for reason, n in sorted(report["dropped"].items(), key=lambda x: -x[1]):
        err_console.print(f"[dim]  dropped {n}: {reason}[/]", highlight=False)


@corpus_app.command("stats")
def stats_cmd(
    manifest: Path = typer.Argument(..., help="A manifest (JSON Lines)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Hours, speakers, gender balance, sources and licences of a manifest."""
    from corpora.manifest import read_manifest
    from corpora.stats import hms, manifest_stats

    stats = manifest_stats(read_manifest(manifest))
    if as_json:
        print_json(stats)
        return
    table = Table(title=f"{manifest.name}")
    for col in ("split", "utterances", "duration", "speakers", "female", "male", "unknown gender"):
        table.add_column(col)
    for name, b in [*stats["splits"].items(), ("total", stats["total"])]:
        g = b["gender"]
        table.add_row(
            name,
            str(b["utterances"]),
            hms(b["seconds"]),
            str(b["speakers"]),
            *(hms(g[k]["seconds"]) for k in ("female", "male", "unknown")),
        )
    console.print(table)
    sources = Table(title="sources")
    for col in ("source", "utterances", "duration", "speakers", "licence"):
        sources.add_column(col)
    for name, b in stats["sources"].items():
        sources.add_row(
            name, str(b["utterances"]), hms(b["seconds"]), str(b["speakers"]), ", ".join(b["licences"])
        )
    console.print(sources)
    c = stats["checks"]
    cs = stats["code_switching"]
    console.print(
        f"speaker-disjoint: {'yes' if c['speaker_disjoint'] else 'NO'} · test texts also in train: "
        f"{c['test_texts_also_in_train']} · tagged words: {cs['tagged_words']}/{cs['words']}",
        highlight=False,
    )


@corpus_app.command("card")
def card_cmd(
    manifest: Path = typer.Argument(..., help="A manifest (JSON Lines)."),
    out: Path | None = typer.Option(None, "-o", "--out", help="Card file (default: MANIFEST with .md)."),
    name: str | None = typer.Option(None, "--name", help="Dataset name in the card."),
) -> None:
    """Write the data card (README with Hugging Face front matter) of a manifest."""
    from corpora.card import write_card

    path = write_card(manifest, out, name)
    err_console.print(f"[dim]wrote {path}[/]", highlight=False)
