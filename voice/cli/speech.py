"""`voice transcribe`, `voice say`, `voice models list`."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from voice.cli.app import app
from voice.cli.common import console, err_console, fail, print_json

models_app = typer.Typer(help="Speech models: what is installed and cached.", no_args_is_help=True)
app.add_typer(models_app, name="models")


@app.command()
def transcribe(
    audio: Path = typer.Argument(..., help="Audio file: wav, flac, ogg/opus, mp3, m4a, amr, ..."),
    lang: str = typer.Option("auto", "--lang", "-l", help="Language code (wol, fuc, fra, eng, ...) or auto."),
    model: str | None = typer.Option(
        None, "--model", "-m", help="Model spec: path, packaged name or hub id."
    ),
    engine: str | None = typer.Option(
        None, "--engine", "-e", help="faster-whisper | openai-whisper | transformers"
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the transcript as JSON."),
) -> None:
    """Transcribe an audio file."""
    from voice.asr import recognizer_for
    from voice.audio import load_audio

    samples = load_audio(audio)  # bad audio fails before any model loads
    recognizer = recognizer_for(lang, engine, model)
    transcript = recognizer.transcribe(samples, lang)
    if as_json:
        print_json(transcript.to_json())
        return
    console.print(transcript.text or "[dim](no speech)[/]", highlight=False)
    err_console.print(
        f"[dim]{transcript.language or '?'} · {transcript.duration:.1f} s · "
        f"{transcript.engine} · {transcript.model}[/]",
        highlight=False,
    )


@app.command()
def say(
    text: str = typer.Argument(..., help="Text to speak."),
    lang: str = typer.Option(..., "--lang", "-l", help="Language code (wol, fuc, fra, eng, ...)."),
    out: Path = typer.Option(..., "-o", "--out", help="Output file."),
    fmt: str | None = typer.Option(
        None, "--format", "-f", help="wav | ogg | mulaw (default: from the file name)"
    ),
) -> None:
    """Speak text in a language and write the audio to a file."""
    from voice.audio import FORMATS, write_audio
    from voice.tts import get_synthesizer

    if fmt is not None and fmt not in FORMATS:
        raise fail(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if not text.strip():
        raise fail("nothing to say: the text is empty")
    synth = get_synthesizer(lang)
    audio = synth.synthesize_all(text)
    path = write_audio(out, audio, fmt)
    err_console.print(f"[dim]wrote {path} ({audio.duration:.1f} s, {synth.engine.name})[/]", highlight=False)


@models_app.command("list")
def models_list(as_json: bool = typer.Option(False, "--json")) -> None:
    """Installed and cached models: name, format, size, where from."""
    from voice.asr.inventory import inventory

    rows = inventory()
    if as_json:
        print_json([r.as_json() for r in rows])
        return
    table = Table(title="Speech models")
    for col in ("name", "kind", "format", "size", "status", "source"):
        table.add_column(col)
    for r in rows:
        table.add_row(r.name, r.kind, r.format, r.size_text, r.status, r.source)
    console.print(table)
