"""`voice ask`: one agent turn from the command line."""

from __future__ import annotations

import typer

from voice.cli.app import app
from voice.cli.common import console, err_console, print_json


@app.command()
def ask(
    text: str = typer.Argument(..., help="What the caller says."),
    lang: str = typer.Option(..., "--lang", "-l", help="Language code (wol, fuc, fra, eng, ...)."),
    caller: str | None = typer.Option(
        None, "--caller", help="Caller's phone number (default: the demo customer)."
    ),
    as_json: bool = typer.Option(False, "--json", help="JSON: reply, language, route, tool_calls."),
) -> None:
    """Ask the agent one question, as a caller would."""
    from voice.agent import Session
    from voice.agent.factory import make_agent
    from voice.config import get_settings
    from voice.packs import get_pack

    settings = get_settings()
    pack = get_pack(lang)
    agent = make_agent(settings)
    session = Session(pack.code, caller or settings.agent.demo_caller)
    result = agent.respond(session, text)
    if as_json:
        print_json(result.to_json())
        return
    console.print(result.reply, highlight=False)
    tools = ", ".join(c["name"] for c in result.tool_calls) or "no tools"
    err_console.print(f"[dim]{result.language} · route {result.route} · {tools}[/]", highlight=False)
