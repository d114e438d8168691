"""Top-level Typer app: sub-commands are registered from one module per area."""

from __future__ import annotations

import logging
import os
import sys

import typer

from voice.cli import common
from voice.cli.packs import packs_app

app = typer.Typer(
    name="voice",
    help="Voice customer service for West African languages (Wolof, Pulaar, French, English).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(packs_app, name="packs")


@app.callback()
def _root(verbose: bool = typer.Option(False, "--verbose", "-v", help="Log at DEBUG level.")) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else os.environ.get("VOICE_LOG_LEVEL", "WARNING").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def _register() -> None:
    # Imported here so `voice --help` stays fast and an optional area cannot break the others.
    from voice.cli import agent, agent_train, asr, call, corpus, serve, speech, worker  # noqa: F401  (registers their commands)


def main() -> None:
    _register()
    common.run(app)
