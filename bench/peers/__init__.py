"""Other voice-bot frameworks run next to ours by the benchmarks, each in its own process and venv,
called over the same phone protocol so both are measured the same way."""
