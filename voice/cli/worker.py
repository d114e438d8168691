"""`voice worker`: the WhatsApp job worker as its own process (next to `voice serve` with
VOICE_MESSAGING_WORKER=false, or several of them sharing one PostgreSQL database)."""

from __future__ import annotations

import signal
import threading

import typer

from voice.cli.app import app
from voice.cli.common import err_console


@app.command()
def worker(
    concurrency: int | None = typer.Option(None, "--concurrency", "-c", help="Job threads (default 1)."),
    batch_size: int | None = typer.Option(
        None, "--batch-size", help="Transcribe up to N waiting notes together (batched Whisper)."
    ),
    once: bool = typer.Option(False, "--once", help="Work on the jobs that are due now, then exit."),
) -> None:
    """Process WhatsApp voice-note and text jobs: download, transcribe, answer, reply."""
    from services.gateway.runtime import Runtime
    from voice.config import get_settings
    from voice.messaging.worker import MessageWorker

    settings = get_settings()
    if concurrency is not None:
        settings.messaging.concurrency = concurrency
    if batch_size is not None:
        settings.messaging.batch_size = batch_size
    runtime = Runtime(settings)
    job_worker = MessageWorker(runtime)
    try:
        if once:
            n = job_worker.run_once()
            err_console.print(f"worked on {n} job(s)")
            return
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        job_worker.start()
        err_console.print(
            f"[bold]WhatsApp worker[/] {job_worker.name} on {runtime.db.engine.url.render_as_string()}"
        )
        stop.wait()
        err_console.print("stopping after the current step")
    finally:
        job_worker.stop()
        runtime.close()
