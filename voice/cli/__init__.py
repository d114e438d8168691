"""The `voice` command line (Typer + Rich).

Exit codes: 0 ok, 2 bad input (a clear one-line message, never a traceback), 1 internal error.
"""

from voice.cli.app import app, main

__all__ = ["app", "main"]
