"""`voice packs ...`: list, inspect, verify, profile (and build/new/index)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from voice.cli.common import console, fail, print_json

packs_app = typer.Typer(help="Language packs: list, info, verify, build, new, index.", no_args_is_help=True)


@packs_app.command("list")
def list_packs(as_json: bool = typer.Option(False, "--json")) -> None:
    """Installed packs: code, name, version, models, licences."""
    from voice.packs.registry import discover

    found = discover()
    rows = []
    for code, pack in found.packs.items():
        m = pack.manifest
        rows.append(
            {
                "code": code,
                "name": m.names.en,
                "native": m.names.native,
                "version": m.version,
                "distribution": found.distributions.get(code, ""),
                "asr": {tier: t.model for tier, t in m.asr.tiers.items()},
                "tts": m.tts.vits or f"espeak-ng:{m.tts.espeak_voice}",
                "licences": sorted({m.licence, *(a.licence for a in m.artifacts)}),
                "non_commercial": [a.name for a in m.non_commercial],
            }
        )
    if as_json:
        print_json({"packs": rows, "broken": found.broken})
        return
    table = Table(title="Installed language packs")
    for col in ("code", "name", "version", "ASR edge / server", "TTS", "licences"):
        table.add_column(col)
    for r in rows:
        lic = ", ".join(r["licences"]) + (" [red](non-commercial parts)[/]" if r["non_commercial"] else "")
        table.add_row(
            r["code"],
            f"{r['name']} ({r['native']})",
            r["version"],
            f"{r['asr'].get('edge', '-')} / {r['asr'].get('server', '-')}",
            r["tts"],
            lic,
        )
    console.print(table)
    for name, why in found.broken.items():
        console.print(f"[red]broken pack {name}:[/] {why}")


@packs_app.command("info")
def info(code: str, as_json: bool = typer.Option(False, "--json")) -> None:
    """Everything a pack declares: names, models, artifacts with licences, eval results."""
    from voice.packs.registry import discover, get_pack

    pack = get_pack(code)
    m = pack.manifest
    if as_json:
        print_json({**m.model_dump(), "distribution": discover().distributions.get(pack.code, "")})
        return
    console.print(
        f"[bold]{m.names.en}[/] ({m.names.native}; fr: {m.names.fr}) — {m.code} / {m.bcp47}, "
        f"pack {m.version}, core {m.core}, scripts {', '.join(m.scripts)}",
        highlight=False,
    )
    console.print(
        f"ASR: Whisper token <|{m.asr.whisper_language}|> ({m.asr.token_strategy}"
        + (f" from {m.asr.token_source}" if m.asr.token_source else "")
        + ")",
        highlight=False,
    )
    for tier, t in m.asr.tiers.items():
        console.print(
            f"  {tier}: {t.model} [{t.engine}]" + (f" — {t.note}" if t.note else ""), highlight=False
        )
    console.print(
        f"TTS: espeak-ng voice {m.tts.espeak_voice}" + (f", VITS {m.tts.vits}" if m.tts.vits else "")
    )
    console.print(
        f"LLM: {m.llm.model}" + (f" + adapter {m.llm.adapter}" if m.llm.adapter else ""), highlight=False
    )
    table = Table(title="artifacts")
    for col in ("name", "kind", "where", "size", "licence", "source"):
        table.add_column(col)
    for a in m.artifacts:
        lic = f"[bold red]{a.licence} (NON-COMMERCIAL)[/]" if a.non_commercial else a.licence
        table.add_row(a.name, a.kind, a.location, str(a.size or "-"), lic, a.source)
    console.print(table)
    if m.non_commercial:
        console.print(
            "[bold red]warning:[/] non-commercial licence on: "
            + ", ".join(a.name for a in m.non_commercial)
            + " — not for commercial deployments without another licence"
        )
    for e in m.eval:
        console.print(
            f"eval: {e.metric} {e.value} on {e.test_set} (normaliser v{e.normaliser_version})",
            highlight=False,
        )


@packs_app.command("verify")
def verify(
    target: str = typer.Argument(..., help="An installed pack's code, or a pack archive (.whl / .tar.gz)."),
    update: bool = typer.Option(
        False, "--update", help="Rewrite sha256/size in a source checkout's manifest."
    ),
) -> None:
    """Check every bundled artifact's sha256 and size; exit 1 naming the file on mismatch."""
    from voice.packs.registry import get_pack
    from voice.packs.verify import update_manifest, verify_pack

    if target.endswith((".whl", ".tar.gz")) or Path(target).is_file():
        from voice.packs.archive import inspect_archive

        report = inspect_archive(target)
        for p in report.problems:
            console.print(f"[red]FAIL[/] {p}", highlight=False)
        if report.problems:
            raise typer.Exit(1)
        console.print(f"[green]OK[/] {Path(target).name}: {report.manifest.code} {report.manifest.version}")
        return
    pack = get_pack(target)
    if update:
        changed = update_manifest(pack)
        console.print(f"updated: {', '.join(changed)}" if changed else "manifest already up to date")
        return
    problems = verify_pack(pack)
    for p in problems:
        console.print(f"[red]FAIL[/] {p}", highlight=False)
    if problems:
        raise typer.Exit(1)
    n = sum(1 for a in pack.manifest.artifacts if a.path)
    console.print(f"[green]OK[/] {pack.code} {pack.manifest.version}: {n} bundled artifacts verified")


@packs_app.command("build")
def build(
    code: str,
    out: Path = typer.Option(Path("dist"), "-o", "--out", help="Where the wheel and sdist go."),
    bundle_models: bool = typer.Option(False, "--bundle-models", help="Put the pack's models inside."),
    asr_model: Path | None = typer.Option(
        None, "--asr-model", help="A `voice asr export` dir to bundle as the edge tier."
    ),
    tier: list[str] = typer.Option(
        None, "--tier", help="With --bundle-models: only these ASR tiers (repeatable; default all)."
    ),
    llm_adapter: Path | None = typer.Option(
        None, "--llm-adapter", help="A `voice agent finetune` adapter dir for the agent in this language."
    ),
) -> None:
    """Build the pack's wheel and sdist from its source checkout."""
    from voice.packs.build import build_pack
    from voice.packs.registry import get_pack

    for f in build_pack(get_pack(code), out, bundle_models, asr_model, tier or None, llm_adapter):
        console.print(f"built {f}")


@packs_app.command("new")
def new(
    code: str,
    dest: Path = typer.Option(Path("."), "-o", "--out", help="Parent dir for voice-pack-CODE/."),
    name: str = typer.Option(None, "--name", help="English name of the language."),
    native: str = typer.Option(None, "--native", help="The language's own name for itself."),
    espeak_voice: str = typer.Option("en", "--espeak-voice", help="Fallback TTS voice (espeak-ng --voices)."),
    whisper_language: str = typer.Option("en", "--whisper-language", help="Whisper token to decode with."),
) -> None:
    """Scaffold a new language pack that installs and passes verify."""
    from voice.packs.scaffold import new_pack

    root = new_pack(code, dest, name or code, native or name or code, espeak_voice, whisper_language)
    console.print(f"created {root}; next: pip install -e {root} && voice packs verify {code}")


@packs_app.command("index")
def index(directory: Path) -> None:
    """Write DIR/index.json for the pack archives in DIR (what the gateway serves at /packs/)."""
    from voice.packs.index import write_index

    if not directory.is_dir():
        raise fail(f"{directory}: not a directory")
    path = write_index(directory)
    console.print(f"wrote {path}")


@packs_app.command("install")
def install(archive: Path) -> None:
    """Check a downloaded pack archive (paths, digests), then pip-install it."""
    import subprocess
    import sys

    from voice.packs.archive import inspect_archive

    report = inspect_archive(archive)
    if report.problems:
        for p in report.problems:
            console.print(f"[red]FAIL[/] {p}", highlight=False)
        raise typer.Exit(1)
    proc = subprocess.run([sys.executable, "-m", "pip", "install", str(archive)], check=False)
    raise typer.Exit(proc.returncode)


@packs_app.command("profile")
def profile(
    code: str,
    texts: list[Path] = typer.Argument(..., help="UTF-8 text files, one sentence per line."),
    out: Path = typer.Option(..., "-o", "--out"),
    top_k: int = typer.Option(6000, help="n-grams kept per order"),
) -> None:
    """Build a character n-gram language-ID profile from text files."""
    from voice.packs.langid import build_profile, save_profile

    for t in texts:
        if not t.exists():
            raise fail(f"{t}: no such file")
    lines = (line for t in texts for line in t.read_text(encoding="utf-8").splitlines())
    prof = build_profile(code, lines, top_k=top_k)
    save_profile(prof, out)
    console.print(f"wrote {out} ({prof['lines']} lines)")
