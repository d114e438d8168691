"""`voice call`: a simulated phone call over the real Twilio protocol."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path

import typer
from rich.table import Table

from voice.cli.app import app
from voice.cli.common import console, err_console, print_json


@app.command()
def call(
    audio: list[Path] = typer.Argument(..., help="What the caller says, one file per turn."),
    url: str | None = typer.Option(None, "--url", help="Gateway base URL (default: an in-process gateway)."),
    lang: str | None = typer.Option(None, "--lang", "-l", help="Language of the line (?lang=)."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Save the bot's audio (wav)."),
    caller: str = typer.Option("+221700000001", "--caller", help="The caller's number (From)."),
    as_json: bool = typer.Option(False, "--json", help="Print the call report as JSON."),
) -> None:
    """Call the hotline: webhook, media stream, 20 ms frames in real time, marks echoed like Twilio."""
    from voice.audio import load_audio, write_audio
    from voice.config import get_settings
    from voice.telephony.simulator import SimulatedCaller, Speak

    utterances = [load_audio(p) for p in audio]  # bad audio fails before any call is placed
    settings = get_settings()
    steps = [Speak(a) for a in utterances]
    if url:
        # TWILIO_AUTH_TOKEN signs for a deployment; a local `voice serve` shares its data-dir token.
        sid = settings.twilio_account_sid or "AC" + "0" * 32
        token = settings.signing_token()
        sim = SimulatedCaller(url, sid, token, lang, caller, api_token=settings.api_token or None)
        report = asyncio.run(sim.run(steps))
    else:
        report = _in_process(settings, steps, lang, caller)
    if out:
        write_audio(out, report.recording().to_rate(16000))
    data = report.to_json()
    if as_json:
        print_json(data)
        return
    table = Table(title=f"call {report.call_sid}")
    for col in ("turn", "caller said (as heard)", "bot said", "voice-to-voice"):
        table.add_column(col)
    for t in data["turns"]:
        v2v = f"{t['voice_to_voice_s']:.2f} s" if t["voice_to_voice_s"] is not None else "-"
        table.add_row(str(t["index"]), t["heard"] or "?", t["bot_text"] or "?", v2v)
    console.print(table)
    if out:
        err_console.print(f"[dim]bot audio saved to {out}[/]")


def _in_process(settings, steps, lang, caller):
    """Gateway + a local stand-in for Twilio's REST API, both on 127.0.0.1 ports of this process."""
    from services.gateway import create_app
    from voice.telephony.simulator import SimulatedCaller
    from voice.telephony.twilio_standin import BackgroundServer, TwilioStandIn, free_port

    sid, token = "AC" + secrets.token_hex(16), secrets.token_hex(16)
    standin = TwilioStandIn(sid, token)
    port = free_port()
    with BackgroundServer(standin.app()) as rest:
        local = settings.model_copy(
            update={
                "public_url": f"http://127.0.0.1:{port}",
                "twilio_account_sid": sid,
                "twilio_auth_token": token,
                "twilio_api_base_url": rest.url,
                "api_token": "",
                "call": settings.call.model_copy(
                    update={"handoff_number": settings.call.handoff_number or "+221338000000"}
                ),
            }
        )
        with BackgroundServer(create_app(local), port=port) as gateway:
            sim = SimulatedCaller(gateway.url, sid, token, lang, caller)
            standin.on_update = lambda _req: sim.ended_by_twilio.set()
            return asyncio.run(sim.run(steps))
