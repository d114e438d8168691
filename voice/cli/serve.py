"""`voice serve`: the gateway on embedded defaults (SQLite in the data dir, models in-process)."""

from __future__ import annotations

import typer

from voice.cli.app import app
from voice.cli.common import err_console


@app.command()
def serve(
    host: str | None = typer.Option(None, "--host", help="Bind address (default VOICE_HOST or 127.0.0.1)."),
    port: int | None = typer.Option(None, "--port", "-p", help="Port (default VOICE_PORT or 8080)."),
) -> None:
    """Start the gateway: Twilio voice and WhatsApp webhooks, media, packs and the /v1 API."""
    import uvicorn

    from services.gateway import create_app
    from voice.config import get_settings

    settings = get_settings()
    host, port = host or settings.host, port or settings.port
    if "public_url" not in settings.model_fields_set:  # embedded defaults: Twilio-style signing is local
        settings = settings.model_copy(update={"public_url": f"http://{host}:{port}"})
    err_console.print(
        f"[bold]teranga-voice gateway[/] on http://{host}:{port} (public URL {settings.public_url})"
    )
    uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")
